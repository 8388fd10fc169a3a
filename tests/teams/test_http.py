"""Bad requests to POST /api/messages: clear statuses, never a 500, nothing stored, nothing sent."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from bot.store import ADDRESSES, CONVERSATIONS, PROFILES
from tests.fakes.bf_connector import member
from tests.teams import activities as A
from tests.teams.conftest import Server, store_settings


async def nothing_stored(server: Server, activity: dict) -> bool:
    store = server.the_coach.store
    for collection in (ADDRESSES, PROFILES, CONVERSATIONS):
        async for _ in store.scan(collection):
            return False
    # the event was not even recorded as seen
    return await server.the_coach.first_time("teams", A.event_key(activity))


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def unsigned_jwt(claims: dict) -> str:
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'unknown'})}.{_b64(claims)}.{_b64({'sig': 1})}"


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"{}", "text/plain", 415),
        (b"type=message", "application/x-www-form-urlencoded", 415),
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"message"', "application/json", 400),
        (b"{}", "application/json", 400),
        (b'{"type": "message"}', "application/json", 400),
        (b'{"type": 5, "serviceUrl": "http://x/", "channelId": "msteams"}', "application/json", 400),
    ],
)
async def test_malformed_requests(server, connector, raw, content_type, status):
    got, body = await server.post(None, raw=raw, headers={"Content-Type": content_type})
    assert got == status
    assert "error" in json.loads(body)
    assert connector.calls == []


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.update(serviceUrl="not a url"),
        lambda a: a.update(conversation="a:1"),
        lambda a: a.update(conversation={}),
        lambda a: a.pop("from"),
        lambda a: a.update(text=["list"]),
        lambda a: a.update(entities="mention"),
        lambda a: a.update(channelData=[1]),
        lambda a: a.pop("recipient"),
        lambda a: a.update(timestamp={"not": "a date"}),
    ],
)
async def test_activities_of_the_wrong_shape_get_400_and_store_nothing(server, connector, change):
    original = A.message(connector.url, member(1), "hello")
    activity = copy.deepcopy(original)
    change(activity)
    status, _ = await server.post(activity)
    assert status == 400
    assert connector.calls == []
    assert await nothing_stored(server, original)


async def test_oversized_body_gets_413(server, connector):
    activity = A.message(connector.url, member(1), "x" * 300_000)
    status, _ = await server.post(activity)
    assert status == 413
    assert connector.calls == []
    assert await nothing_stored(server, activity)


async def test_long_text_within_the_limit_is_answered(server, connector):
    status, _ = await server.post(A.message(connector.url, member(1), "word " * 20_000))
    assert status == 201
    assert connector.messages()


@pytest.fixture
async def secured(tmp_path, catalog):
    settings = store_settings(tmp_path, microsoft_app_id="00000000-0000-0000-0000-000000000001",
                              microsoft_app_password="not-a-real-secret")
    srv = await Server(settings, catalog=catalog).start()
    yield srv
    await srv.stop()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer not.base64!.token",
        "Basic dXNlcjpwYXNz",
        "bearer " + unsigned_jwt({"iss": "https://api.botframework.com"}),
        "Bearer " + unsigned_jwt({"aud": "x"}),  # no issuer
        "Bearer " + unsigned_jwt({"iss": "https://issuer.example.com", "aud": "x"}),  # an issuer nobody trusts
        "Bearer " + unsigned_jwt({"iss": "https://sts.windows.net/x/", "aud": "x"}) + " extra",
    ],
)
async def test_with_an_app_id_requests_without_a_valid_token_get_401(secured, connector, header):
    activity = A.message(connector.url, member(1), "hello")
    headers = {} if header is None else {"Authorization": header}
    status, body = await secured.post(activity, headers=headers)
    assert status == 401, body
    assert connector.calls == []
    assert await nothing_stored(secured, activity)


async def test_with_an_app_id_malformed_input_is_still_400_not_401(secured, connector):
    status, _ = await secured.post(None, raw=b"{oops", headers={"Authorization": "Bearer x"})
    assert status == 400


async def test_not_mounted_without_app_id_when_disabled(tmp_path, catalog):
    srv = await Server(store_settings(tmp_path, teams_enabled=False), catalog=catalog).start()
    try:
        status, _ = await srv.post(A.message("http://127.0.0.1:9/", member(1), "hello"))
        assert status in (404, 405)
        assert "teams" not in srv.the_coach.messengers
    finally:
        await srv.stop()


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.update(entities=[{"type": None}, {"text": "x"}, {"type": "mention"},
                                     {"type": "mention", "mentioned": "bot"}]),
        lambda a: a.update(value="a string"),
        lambda a: a.update(value={"_values": [1, 2], "selection": "0"}),
        lambda a: a.update(value={"choice": {"nested": True}, "prompt_id": ["x"]}),
        lambda a: a.update(text="<at>skillcoach</at>"),
        lambda a: a.update(text="\u0000\u202e" + "é" * 5000),
        lambda a: a["from"].pop("aadObjectId"),
        lambda a: a.update(type="messageReaction", reactionsAdded=[{"type": "like"}]),
        lambda a: a.update(type="typing"),
        lambda a: a.update(type="invoke", name="adaptiveCard/action", value={"action": {}}),
        lambda a: a.update(type="conversationUpdate", membersAdded=[{"id": "29:unknown"}]),
        lambda a: a.update(type="installationUpdate", action="remove"),
        lambda a: a.update(type="somethingNew"),
    ],
)
async def test_odd_but_well_formed_activities_never_fail_the_turn(server, connector, caplog, change):
    activity = A.message(connector.url, member(1), "hello")
    change(activity)
    status, body = await server.post(activity)
    if activity["type"] == "invoke":  # an invoke is answered with an invoke response, never an empty body
        assert status == 400
        assert json.loads(body)["type"] == "application/vnd.microsoft.error"
    else:
        assert status == 201
    assert "Teams turn failed" not in caplog.text


async def test_incomplete_single_tenant_configuration_is_a_clear_error(tmp_path, catalog):
    from bot.errors import ConfigError

    settings = store_settings(tmp_path, microsoft_app_id="00000000-0000-0000-0000-000000000001",
                              microsoft_app_type="SingleTenant", microsoft_app_password="x")
    with pytest.raises(ConfigError, match="APP_TENANTID"):
        await Server(settings, catalog=catalog).start()


async def test_local_development_mode_answers_only_a_local_service_url(server, connector):
    # no app id: nothing is authenticated, so the bot must not post to a serviceUrl anywhere else
    activity = A.message("https://smba.example.net/teams/", text="hi")
    got, body = await server.post(activity)
    assert got == 403 and "local serviceUrl" in json.loads(body)["error"]
    assert connector.calls == []
    assert await nothing_stored(server, activity)
    got, _ = await server.post(A.message(connector.url, text="hi"))
    assert got == 201


async def test_no_documented_payload_gets_a_5xx(server, connector):
    """Every documented Teams payload shape the tests use, and the odd variants of each, answered below 500."""
    user = member(2)
    url = connector.url
    payloads = [
        A.message(url, user, "hi"), A.emulator_chat(url, user), A.group_chat_mention(url, user),
        A.channel_message(url, user), A.channel_message(url, user, mention=False), A.mentions_sample(url, user),
        A.channel_thread_without_type(url, user), A.bot_installed_personal(url, user),
        A.installation_update(url, user), A.team_members_added(url, [A.BOT]), A.team_members_added(url, [user]),
        A.execute(url, {"command": "grow"}, user), A.execute(url, {"choice": "x", "prompt_id": "stale"}, user),
        A.invoke(url, "composeExtension/query", {"commandId": "x"}), A.invoke(url, None, {"x": 1}),
        A.invoke(url, "adaptiveCard/action", None), A.invoke(url, "adaptiveCard/action", {"action": None}),
    ]
    variants = []
    for payload in payloads:
        variants.append(payload)
        for change in (lambda a: a.pop("channelData", None), lambda a: a.update(entities=[]),
                       lambda a: a["conversation"].pop("conversationType", None),
                       lambda a: a["conversation"].update(conversationType="somethingNew"),
                       lambda a: a.update(value={"action": {"type": "Action.Execute", "data": None}})):
            odd = copy.deepcopy(payload)
            odd["id"] = f"{odd.get('id', 'x')}-{len(variants)}"
            change(odd)
            variants.append(odd)
    statuses = [(await server.post(p))[0] for p in variants]
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) <= {200, 201, 400}
