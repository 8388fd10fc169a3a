"""Bad requests at POST /slack/events: a clear 4xx, never a 500, and nothing stored or sent."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.gate import MAX_BODY
from bot.store import ADDRESSES, CONVERSATIONS, PROFILES
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import USER, SlackServer, command_form, dm_event, sign


async def _nothing_happened(server: SlackServer, slack: FakeSlack, event_ids: list[str] = ()) -> None:
    await server.idle()
    # auth.test is the server's own start-up check (readiness), not something a request caused
    assert [c.method for c in slack.calls if c.method != "auth.test"] == []
    for collection in (ADDRESSES, CONVERSATIONS, PROFILES):
        assert await server.coach.store.get(collection, f"slack:{USER}") is None
    for event_id in event_ids:  # never marked as seen: the real event would still be processed
        assert await server.coach.first_time("slack", event_id)


async def test_a_wrong_signature_is_401(server: SlackServer, slack: FakeSlack):
    payload = dm_event(USER, "help")
    body = json.dumps(payload)
    status, text = await server.post(body, "application/json", secret="not-the-secret")
    assert status == 401 and json.loads(text)["ok"] is False
    status, _ = await server.post(body, "application/json", signature="v0=" + "0" * 64)
    assert status == 401
    await _nothing_happened(server, slack, [payload["event_id"]])


async def test_missing_or_garbled_signature_headers_are_401(server: SlackServer, slack: FakeSlack):
    body = json.dumps(dm_event(USER, "help"))
    assert (await server.post(body, "application/json", signature=""))[0] == 401
    assert (await server.post(body, "application/json", ts="yesterday"))[0] == 401
    assert (await server.post(body, "application/json", ts="-5"))[0] == 401
    assert (await server.post(body, "application/json", ts="١٢٣"))[0] == 401  # non-ASCII digits
    await _nothing_happened(server, slack)


async def test_a_stale_timestamp_is_401_even_when_correctly_signed(server: SlackServer, slack: FakeSlack):
    payload = dm_event(USER, "help")
    old = str(int(time.time()) - 6 * 60)
    status, text = await server.post(json.dumps(payload), "application/json", ts=old)
    assert status == 401 and "stale" in json.loads(text)["error"]
    future = str(int(time.time()) + 6 * 60)
    assert (await server.post(json.dumps(payload), "application/json", ts=future))[0] == 401
    await _nothing_happened(server, slack, [payload["event_id"]])


async def test_a_body_over_the_limit_is_413(server: SlackServer, slack: FakeSlack):
    big = json.dumps(dm_event(USER, "x" * (MAX_BODY + 10)))
    status, text = await server.post(big, "application/json")
    assert status == 413 and json.loads(text)["ok"] is False
    await _nothing_happened(server, slack)


async def test_a_chunked_body_over_the_limit_is_413_too(server: SlackServer, slack: FakeSlack):
    async def chunks():
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"x" * 65536

    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": "v0=" + "0" * 64}
    async with server.session.post(server.url, data=chunks(), headers=headers) as response:
        assert response.status == 413
    await _nothing_happened(server, slack)


async def test_malformed_bodies_are_400_with_a_short_json_error(server: SlackServer, slack: FakeSlack):
    form = "application/x-www-form-urlencoded"
    cases = [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("{}", "application/json"),
        (json.dumps({"type": "event_callback", "event_id": "Ev1"}), "application/json"),         # no event
        (json.dumps({"type": "event_callback", "event": {"type": "message"}}), "application/json"),  # no id
        (json.dumps({"type": "event_callback", "event_id": "Ev2", "event": "message"}), "application/json"),
        (json.dumps({"type": "something_else"}), "application/json"),
        (json.dumps({"type": "event_callback", "event_id": "Ev3", "event": {"type": "message"},
                     "authorizations": "everyone"}), "application/json"),
        (json.dumps({"type": "url_verification"}), "application/json"),                              # no challenge
        ("payload=%7Bbroken", form),
        ("payload=" + json.dumps([1]), form),
        (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": USER}})}), form),  # no actions
        (urlencode({"payload": json.dumps({"type": "block_actions", "user": "U1",
                                           "actions": [{"action_id": "choose:0"}]})}), form),
        (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": USER},
                                           "actions": ["choose:0"]})}), form),
        (urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": USER}})}), form),
        ("command=/grow", form),                                                                       # no user
        ("a=1&a=2&command=/grow&user_id=U1", form),
        ("just some words", form),
        ("=&&==", form),
        (b"\xff\xfe\x00garbage", "application/json"),
        ("<xml/>", "text/xml"),
    ]
    for body, content_type in cases:
        status, text = await server.post(body, content_type)
        assert status == 400, (body, status, text)
        error = json.loads(text)
        assert error["ok"] is False and 0 < len(error["error"]) < 80, text
    await _nothing_happened(server, slack)


async def test_a_command_whose_text_says_payload_still_works(server: SlackServer, slack: FakeSlack):
    # bolt alone reads any form containing "payload" as interactivity and loses the command
    status, text = await server.command("/grow", "payload please")
    assert status == 200
    assert "`/grow plan`" in text   # the usage, as for any unknown subcommand


async def test_url_verification_and_ssl_check_are_answered(server: SlackServer, slack: FakeSlack):
    status, text = await server.post(json.dumps({"type": "url_verification", "challenge": "c-123",
                                                 "token": "legacy"}), "application/json")
    assert status == 200 and "c-123" in text
    status, _ = await server.post("ssl_check=1&token=legacy", "application/x-www-form-urlencoded")
    assert status == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(["type", "event", "event_id", "team_id", "team", "user", "channel", "authorizations",
                        "enterprise", "actions", "container", "message", "view", "state", "token",
                        "api_app_id", "is_ext_shared_channel", "enterprise_id", "challenge"])
event_keys = st.sampled_from(["type", "user", "channel", "channel_type", "text", "subtype", "bot_id", "tab",
                              "ts", "thread_ts", "team", "message", "previous_message", "bot_profile"])


def _maybe(draw, good, strategy=json_values):
    """Mostly the right value, sometimes anything."""
    return draw(strategy) if draw(st.integers(0, 4)) == 4 else good


@st.composite
def slack_like(draw):
    """Bodies shaped almost like Slack's: mostly right at the top, any field of any type inside."""
    kind = draw(st.sampled_from(["event_callback", "event_callback", "block_actions", "block_actions",
                                 "url_verification", "other"]))
    body = draw(st.dictionaries(keys, json_values, max_size=2)) if draw(st.integers(0, 3)) == 3 else {}
    if kind == "event_callback":
        body.update(type="event_callback", event_id=_maybe(draw, "Ev" + draw(st.text(min_size=1, max_size=6))),
                    team_id=_maybe(draw, "T0TEAM001"))
        event = draw(st.dictionaries(event_keys, json_values, max_size=5))
        event["type"] = draw(st.sampled_from(["message", "app_mention", "app_home_opened", "reaction_added"]))
        for key, good in (("user", "U0FUZZ"), ("channel", "D0FUZZ"), ("channel_type", "im"), ("text", "hi")):
            if draw(st.booleans()):
                event[key] = _maybe(draw, good)
        body["event"] = event
    elif kind == "url_verification":
        body.update(type="url_verification", challenge=_maybe(draw, "c-" + draw(st.text(max_size=5))))
    elif kind == "block_actions":
        body["type"] = "block_actions"
        body["user"] = _maybe(draw, {"id": "U0FUZZ", "team_id": "T0TEAM001"})
        body["actions"] = draw(st.lists(
            st.dictionaries(st.sampled_from(["action_id", "block_id", "value", "type", "selected_option",
                                             "selected_options", "text"]), json_values, max_size=4),
            min_size=1, max_size=2))
        for action in body["actions"]:
            if draw(st.integers(0, 4)) < 4:
                action["action_id"] = draw(st.sampled_from(["choose:0", "choose_select", "submit_many",
                                                            "pick_many", "home_start", "home_zzz", "x"]))
        for key in ("container", "message", "state", "channel"):
            if draw(st.booleans()):
                body[key] = draw(st.dictionaries(
                    st.sampled_from(["type", "channel_id", "message_ts", "id", "blocks", "values", "ts",
                                     "text"]), json_values, max_size=4))
    return body


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=slack_like(), swap=st.integers(0, 9))
async def test_no_signed_body_of_any_shape_gets_a_500_or_breaks_a_listener(
    server: SlackServer, slack: FakeSlack, caplog, body, swap
):
    caplog.clear()
    as_form = (body.get("type") == "block_actions") != (swap == 0)  # mostly sent the way Slack sends it
    if as_form:
        status, text = await server.post(urlencode({"payload": json.dumps(body)}),
                                         "application/x-www-form-urlencoded")
    else:
        status, text = await server.post(json.dumps(body), "application/json")
    assert status in (200, 400, 404), (status, text, body)
    if status == 400:
        assert json.loads(text)["ok"] is False
    await server.idle()
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not errors, (body, [r.getMessage() for r in errors])


async def test_signature_is_checked_on_the_exact_bytes(server: SlackServer, slack: FakeSlack):
    body = urlencode(command_form("/grow", "help"))
    ts = str(int(time.time()))
    tampered = body.replace("help", "forget+me")
    status, _ = await server.post(tampered, "application/x-www-form-urlencoded", ts=ts,
                                  signature=sign(body.encode(), ts))
    assert status == 401
    await _nothing_happened(server, slack)
