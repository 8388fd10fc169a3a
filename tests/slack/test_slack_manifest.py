"""The manifests name exactly what the code registers, and the code handles everything rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack import blocks as B
from adapters.slack.app import ROUTE, SlackAdapter
from adapters.slack.listeners import ACTIONS, COMMANDS, EVENTS
from bot.settings import Settings
from bot.types import Choice, Reply

MANIFESTS = Path(__file__).resolve().parents[2] / "manifest" / "slack"
HTTP = MANIFESTS / "manifest.yaml"
SOCKET = MANIFESTS / "manifest.socket-mode.yaml"
# scopes each feature needs; the manifest may ask for nothing else
NEEDED_SCOPES = {
    "message.im": {"im:history"}, "app_mention": {"app_mentions:read"}, "app_home_opened": set(),
    "commands": {"commands"}, "posting": {"chat:write"}, "opening DMs": {"im:write"},
    "users.info / lookupByEmail": {"users:read", "users:read.email"},
    "files_upload_v2 (my data as a file)": {"files:write"},
}


class _Coach:
    def register_messenger(self, m):
        self.messenger = m

    def on_change(self, listener):
        pass


# Slack event types to probe with; the listeners must answer exactly the ones in EVENTS
PROBE_EVENTS = set(EVENTS) | {"reaction_added", "member_joined_channel", "app_uninstalled", "tokens_revoked",
                              "team_join", "channel_created", "file_shared", "user_change", "pin_added"}
PROBE_COMMANDS = set(COMMANDS) | {"/grow-team", "/skills", "/help"}


async def _matching(adapter: SlackAdapter, body: dict) -> list:
    """The listeners whose matchers accept this body (what bolt would run for it)."""
    request = AsyncBoltRequest(body=json.dumps(body), headers={"content-type": "application/json"})
    response = BoltResponse(status=200)
    return [listener for listener in adapter.bolt._async_listeners
            if await listener.async_matches(req=request, resp=response)]


async def registered(adapter: SlackAdapter) -> tuple[set[str], set[str]]:
    """The event types and commands bolt really has listeners for, found by asking its matchers."""
    events, commands = set(), set()
    for event_type in PROBE_EVENTS:
        event = {"type": event_type, "user": "U1", "channel": "D1", "channel_type": "im", "text": "x"}
        if await _matching(adapter, {"type": "event_callback", "event_id": "Ev1", "event": event}):
            events.add(event_type)
    for command in PROBE_COMMANDS:
        if await _matching(adapter, {"command": command, "user_id": "U1", "text": ""}):
            commands.add(command)
    return events, commands


@pytest.fixture(scope="module")
def adapter() -> SlackAdapter:
    settings = Settings(_env_file=None, slack_bot_token="xoxb-1", slack_signing_secret="s")
    return SlackAdapter(_Coach(), settings)


@pytest.fixture(scope="module", params=[HTTP, SOCKET], ids=["http", "socket-mode"])
def manifest(request) -> dict:
    return yaml.safe_load(request.param.read_text(encoding="utf-8"))


async def test_the_registration_tables_are_what_bolt_listens_to(adapter):
    events, commands = await registered(adapter)
    assert events == set(EVENTS)
    assert commands == set(COMMANDS)


async def test_every_rendered_action_has_its_own_listener_and_others_reach_the_catch_all(adapter):
    catch_all = adapter.bolt._async_listeners[-1]
    for action_id, own in (("choose:3", True), (B.CHOOSE_SELECT, True), (B.PICK_MANY, True),
                           (B.SUBMIT_MANY, True), ("home_start", True), ("launch", False)):
        body = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": action_id}]}
        matched = await _matching(adapter, body)
        assert matched, action_id
        assert (matched[0] is not catch_all) == own, action_id


def test_every_subscribed_event_has_a_listener_and_every_listener_is_subscribed(manifest):
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(EVENTS.values())


def test_every_command_is_in_the_manifest_with_a_description_and_nothing_else(manifest):
    declared = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(declared) == set(COMMANDS)
    for command in declared.values():
        assert command["description"].strip()
    assert declared["/grow"]["usage_hint"]


def test_interactivity_is_on_because_actions_are_registered(manifest):
    assert ACTIONS
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_app_home_with_a_writable_messages_tab_and_a_bot_user(manifest):
    home = manifest["features"]["app_home"]
    assert home == {"home_tab_enabled": True, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False}
    assert manifest["features"]["bot_user"]["display_name"]


def test_scopes_are_exactly_what_the_features_need(manifest):
    needed = set().union(*NEEDED_SCOPES.values())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_http_manifest_points_everything_at_one_url_and_socket_mode_at_none():
    http = yaml.safe_load(HTTP.read_text(encoding="utf-8"))
    urls = {http["settings"]["event_subscriptions"]["request_url"], http["settings"]["interactivity"]["request_url"]}
    urls |= {c["url"] for c in http["features"]["slash_commands"]}
    assert urls == {f"https://YOUR-HOST{ROUTE}"}
    assert http["settings"]["socket_mode_enabled"] is False
    socket = yaml.safe_load(SOCKET.read_text(encoding="utf-8"))
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "YOUR-HOST" not in SOCKET.read_text(encoding="utf-8")


def _matches(pattern, action_id: str) -> bool:
    if isinstance(pattern, re.Pattern):
        return bool(pattern.search(action_id))
    return pattern == action_id


def test_every_action_id_we_render_has_its_own_listener():
    rendered: set[str] = set()
    replies = [Reply("q", choices=tuple(Choice(str(i), str(i)) for i in range(n)), multi=multi, prompt_id="p")
               for n in (2, 5, 6, 12) for multi in (False, True)]
    for reply in replies:
        for message in B.render(reply):
            for block in message["blocks"]:
                rendered |= {e["action_id"] for e in block.get("elements", []) if "action_id" in e}

    class Summary:
        has_profile, in_interview, plan_title, path = True, True, "Plan", "upskill"
        progress_done, progress_total, reminders, sharing, plan_card = 1, 4, True, False, None

    for reminders, sharing in ((True, True), (False, False)):
        Summary.reminders, Summary.sharing = reminders, sharing
        for block in B.home_view(Summary)["blocks"]:
            rendered |= {e["action_id"] for e in block.get("elements", []) if "action_id" in e}
            if "accessory" in block:
                rendered.add(block["accessory"]["action_id"])
    assert rendered >= {"choose:0", B.CHOOSE_SELECT, B.PICK_MANY, B.SUBMIT_MANY, "home_start", "home_plan"}
    for action_id in rendered:
        assert any(_matches(p, action_id) for p in ACTIONS.values()), action_id
        if action_id.startswith("home_"):
            assert action_id in B.HOME_ACTIONS, action_id
