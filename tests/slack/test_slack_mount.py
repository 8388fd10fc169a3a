"""Mounting (credentials present or not), proactive delivery through the Messenger, Socket Mode."""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError

from adapters.slack import SLACK_ADAPTER
from adapters.slack.client import delivery_error
from bot.delivery import DeliveryError
from bot.server import COACH, build_coach, create_app
from bot.settings import Settings
from bot.store import ADDRESSES
from bot.types import Choice, Reply
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import (
    USER, SlackServer, action_payload, dm_event, make_store, next_id, settings_for, start_server, stop_server,
)


@pytest.mark.parametrize(
    ("values", "named", "not_named"),
    [
        ({}, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"], []),
        ({"slack_bot_token": "xoxb-1"}, ["SLACK_SIGNING_SECRET"], ["SLACK_BOT_TOKEN"]),
        ({"slack_signing_secret": "s"}, ["SLACK_BOT_TOKEN"], []),
    ],
)
def test_missing_credentials_mean_not_mounted_with_one_clear_line(tmp_path, catalog, caplog, values, named,
                                                                  not_named):
    settings = Settings(_env_file=None, db_path=tmp_path / "db", teams_enabled=False, **values)
    caplog.set_level(logging.INFO, logger="skillcoach.slack")
    app = create_app(settings, coach=build_coach(settings, store=make_store(tmp_path / "db"), catalog=catalog))
    lines = [r.getMessage() for r in caplog.records if r.name == "skillcoach.slack"]
    assert len(lines) == 1 and lines[0].startswith("Slack not mounted")
    for name in named:
        assert name in lines[0]
    for name in not_named:
        assert f"{name} " not in lines[0] + " "
    assert SLACK_ADAPTER not in app
    assert "/slack/events" not in [r.canonical for r in app.router.resources()]
    assert "slack" not in app[COACH].messengers


async def test_healthz_lists_slack_when_mounted(server: SlackServer):
    async with server.session.get(server.test_server.make_url("/healthz")) as response:
        assert response.status == 200
        assert "slack" in (await response.json())["platforms"]


async def test_proactive_messages_go_to_the_stored_dm(server: SlackServer, slack: FakeSlack):
    await server.event(dm_event(USER, "help"))        # first contact stores the DM channel
    await server.idle()
    stored = await server.coach.store.get(ADDRESSES, f"slack:{USER}")
    assert stored.data["address"] == {"channel": dm_of(USER)}
    before = len(slack.posts())
    await server.coach.send_to("slack", USER, [Reply("Time to look at your plan?",
                                                     choices=(Choice("yes", "Yes"),), prompt_id="nudge")])
    [post] = slack.posts()[before:]
    assert post["channel"] == dm_of(USER) and post["text"] == "Time to look at your plan?"
    assert post["blocks"][-1]["block_id"] == "prompt|nudge"


async def test_proactive_messages_reach_the_dm_by_user_id_without_conversations_open(
        server: SlackServer, slack: FakeSlack):
    # chat.postMessage to a user id lands in the app's DM: no Tier 3 conversations.open per person
    await server.coach.send_to("slack", "U0NEWPERSON", [Reply("Hello from your manager's nudge."),
                                                         Reply("And a second message.")])
    assert slack.of("conversations.open") == []
    first, second = [c.args for c in slack.of("chat.postMessage")][-2:]
    assert first["channel"] == "U0NEWPERSON"
    assert second["channel"] == dm_of("U0NEWPERSON")  # the DM id Slack answered with is used from then on
    assert [p["channel"] for p in slack.posts()[-2:]] == [dm_of("U0NEWPERSON")] * 2


async def test_an_unreachable_user_is_a_permanent_delivery_error(server: SlackServer, slack: FakeSlack):
    slack.gone_channels.add("D0GONE")
    with pytest.raises(DeliveryError) as info:
        await server.adapter.send("U0GONE", {"channel": "D0GONE"}, [Reply("hi")])
    assert info.value.permanent


def test_rate_limits_become_retryable_delivery_errors():
    response = SimpleNamespace(data={"ok": False, "error": "ratelimited"}, status_code=429,
                               headers={"Retry-After": "7"})
    error = delivery_error(SlackApiError("rate limited", response))
    assert error.retry_after == 7.0 and not error.permanent
    response = SimpleNamespace(data={"ok": False, "error": "internal_error"}, status_code=200, headers={})
    error = delivery_error(SlackApiError("oops", response))
    assert error.retry_after is None and not error.permanent


async def test_lookup_email(server: SlackServer, slack: FakeSlack):
    slack.users["U0MENTOR1"] = {"email": "mentor-1@example.com", "name": "Mentor One"}
    assert await server.adapter.lookup_email("mentor-1@example.com") == "U0MENTOR1"
    assert await server.adapter.lookup_email("nobody@example.com") is None


async def test_socket_mode_receives_an_event_acks_it_and_answers(slack: FakeSlack, db_path, catalog):
    settings = settings_for(slack, db_path, slack_app_token="xapp-1-test", slack_signing_secret="")
    srv, _ = await start_server(settings, make_store(db_path), catalog)
    try:
        await slack.wait_for(lambda s: s.connected)
        assert slack.of("apps.connections.open")
        # no public URL in Socket Mode
        status, _ = await srv.event(dm_event(USER, "help"))
        assert status in (404, 405)

        envelope_id = next_id("env-")
        event = dm_event(USER, "help")
        await slack.send_envelope("events_api", event, envelope_id)
        acks = await slack.wait_for(lambda s: [a for a in s.socket_acks if a.get("envelope_id") == envelope_id])
        assert acks == [{"envelope_id": envelope_id}]
        await slack.wait_for(lambda s: s.posts(dm_of(USER)))
        await srv.idle()
        answered = len(slack.posts())

        # Slack redelivers the same event as a retry: acknowledged, not answered again
        retry_id = next_id("env-")
        await slack.send_envelope("events_api", event, retry_id, retry_attempt=1)
        await slack.wait_for(lambda s: [a for a in s.socket_acks if a.get("envelope_id") == retry_id])
        await srv.idle()
        assert len(slack.posts()) == answered

        # a button press over the socket: acknowledged, the message updated, the core answers
        button = {"type": "button", "action_id": "choose:0", "block_id": "prompt|welcome", "value": "start",
                  "text": {"type": "plain_text", "text": "Let's start"}}
        message = {"type": "message", "text": "Welcome", "ts": "1700000000.000009",
                   "blocks": [{"type": "actions", "block_id": "prompt|welcome", "elements": [button]}]}
        before = len(slack.posts())
        press_id = next_id("env-")
        await slack.send_envelope("interactive", action_payload(USER, message, dm_of(USER), button), press_id)
        await slack.wait_for(lambda s: [a for a in s.socket_acks if a.get("envelope_id") == press_id])
        await slack.wait_for(lambda s: s.of("chat.update") and len(s.posts()) > before)
        await srv.idle()

        # a slash command over the socket: acknowledged with the usage for an unknown subcommand
        form = {"command": "/grow", "text": "juggle", "user_id": USER, "channel_id": dm_of(USER),
                "trigger_id": next_id("trig."), "team_id": "T0TEAM001"}
        command_id = next_id("env-")
        await slack.send_envelope("slash_commands", form, command_id)
        [ack] = await slack.wait_for(lambda s: [a for a in s.socket_acks if a.get("envelope_id") == command_id])
        assert "/grow plan" in json.dumps(ack["payload"])
    finally:
        await stop_server(srv)
    # closed with the server
    await asyncio.wait_for(slack.wait_for(lambda s: not s.connected), 10)
