"""Fixtures for the Slack scenarios: the real server on 127.0.0.1 and a fake Slack Web API.

`slack` is the fake API (tests/fakes/slack_api.py). `server` is the whole skillcoach server built by
`bot.server.create_app` on the embedded store, with Slack pointed at the fake; it sends requests
signed exactly as Slack signs them (see `SlackServer`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.slack import SLACK_ADAPTER
from bot.server import COACH, build_coach, create_app
from bot.settings import Settings
from bot.store.base import Store
from tests.fakes.slack_api import BOT_USER, TEAM, FakeSlack, dm_of

SECRET = "test-signing-secret-0123456789"
TOKEN = "xoxb-test-token"
USER = "U0REPORT07"
OTHER = "U0REPORT08"
CHANNEL = "C0GENERAL"


def sign(body: bytes, ts: str, secret: str = SECRET) -> str:
    base = b"v0:" + ts.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def make_store(path: Path) -> Store:
    try:
        from bot.store.tinydb_store import TinyDBStore
    except ImportError:  # the embedded store not there yet: the reference store keeps the tests running
        from bot.store.memory import MemoryStore

        return MemoryStore()
    return TinyDBStore(path)


def settings_for(slack: FakeSlack, db: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.api_url, db_path=db,
        teams_enabled=False, microsoft_app_id="", org_file=None,
    )
    values.update(extra)
    return Settings(_env_file=None, **values)


_ids = itertools.count(1)


def next_id(prefix: str = "Ev") -> str:
    return f"{prefix}{next(_ids):08d}"


def dm_event(user: str, text: str, *, event_id: str | None = None, **extra: Any) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel": dm_of(user), "channel_type": "im", "user": user, "text": text,
             "ts": ts, "event_ts": ts, "team": TEAM}
    event.update(extra)
    return envelope(event, event_id=event_id)


def envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy", "team_id": TEAM, "api_app_id": "A0SKILL", "type": "event_callback",
        "event_id": event_id or next_id(), "event_time": int(time.time()), "event_context": "4-abc",
        "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event": event,
    }


def command_form(command: str, text: str = "", *, user: str = USER, channel: str | None = None) -> dict[str, str]:
    return {
        "token": "legacy", "team_id": TEAM, "team_domain": "example", "channel_id": channel or dm_of(user),
        "channel_name": "directmessage", "user_id": user, "user_name": "report.07", "command": command,
        "text": text, "api_app_id": "A0SKILL", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.invalid/commands/T/1/x", "trigger_id": next_id("trig."),
    }


def action_payload(user: str, message: dict[str, Any] | None, channel: str, action: dict[str, Any],
                   state: dict[str, Any] | None = None, container: dict[str, Any] | None = None) -> dict[str, Any]:
    action = {"action_ts": f"{time.time():.6f}", **action}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "report.07", "name": "report.07", "team_id": TEAM},
        "api_app_id": "A0SKILL", "token": "legacy", "trigger_id": next_id("trig."),
        "team": {"id": TEAM, "domain": "example"}, "enterprise": None, "is_enterprise_install": False,
        "response_url": "https://hooks.slack.invalid/actions/T/1/x",
        "state": {"values": state or {}}, "actions": [action],
    }
    if container is not None:
        payload["container"] = container
    else:
        payload["container"] = {"type": "message", "message_ts": (message or {}).get("ts", "1.0"),
                                "channel_id": channel, "is_ephemeral": False}
        payload["channel"] = {"id": channel, "name": "directmessage"}
    if message is not None:
        payload["message"] = message
    return payload


class SlackServer:
    """The running server plus helpers that talk to it as Slack does."""

    def __init__(self, app: Any, test_server: TestServer, session: aiohttp.ClientSession) -> None:
        self.app = app
        self.test_server = test_server
        self.session = session
        self.url = str(test_server.make_url("/slack/events"))

    @property
    def adapter(self) -> Any:
        return self.app[SLACK_ADAPTER]

    @property
    def coach(self) -> Any:
        return self.app[COACH]

    async def idle(self) -> None:
        await self.adapter.drain()

    async def post(self, body: bytes | str, content_type: str, *, ts: str | None = None,
                   secret: str = SECRET, headers: dict[str, str] | None = None,
                   signature: str | None = None) -> tuple[int, str]:
        raw = body.encode() if isinstance(body, str) else body
        ts = ts if ts is not None else str(int(time.time()))
        all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": signature if signature is not None else sign(raw, ts, secret),
                       "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        all_headers.update(headers or {})
        async with self.session.post(self.url, data=raw, headers=all_headers) as response:
            return response.status, await response.text()

    async def event(self, payload: dict[str, Any], *, retry: int | None = None) -> tuple[int, str]:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(json.dumps(payload), "application/json", headers=headers)

    async def command(self, command: str, text: str = "", **kw: Any) -> tuple[int, str]:
        return await self.post(urlencode(command_form(command, text, **kw)), "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


async def start_server(settings: Settings, store: Store, catalog: Any) -> tuple[SlackServer, aiohttp.ClientSession]:
    coach = build_coach(settings, store=store, catalog=catalog)
    app = create_app(settings, coach=coach)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    session = aiohttp.ClientSession()
    return SlackServer(app, test_server, session), session


async def stop_server(server: SlackServer) -> None:
    await server.session.close()
    await server.test_server.close()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "skillcoach.db"


@pytest.fixture
async def server(slack: FakeSlack, db_path: Path, catalog: Any) -> AsyncIterator[SlackServer]:
    srv, _ = await start_server(settings_for(slack, db_path), make_store(db_path), catalog)
    try:
        yield srv
    finally:
        await stop_server(srv)
