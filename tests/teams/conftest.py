"""The real server on 127.0.0.1 and a fake Bot Framework connector, for Teams scenario tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.teams import TEAMS
from bot.server import COACH, create_app
from bot.settings import Settings
from tests.fakes.bf_connector import FakeConnector, member


def store_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings on the embedded TinyDB store when it exists, else the in-memory store."""
    try:
        import bot.store.tinydb_store  # noqa: F401

        base: dict[str, Any] = {"db_path": tmp_path / "skillcoach.db", "database_url": ""}
    except ImportError:
        base = {"database_url": "memory:"}
    base.update({"microsoft_app_id": "", "teams_enabled": True, "slack_bot_token": "",
                 "slack_signing_secret": "", "slack_app_token": "", "org_file": None})
    base.update(overrides)
    return Settings(_env_file=None, **base)


class Server:
    """`create_app(settings)` served on 127.0.0.1 (a random port), with a client to post to it."""

    def __init__(self, settings: Settings, *, coach=None, catalog=None, on_app=None) -> None:
        self.settings = settings
        if coach is None and catalog is not None:  # the session's catalog: loading it takes a while
            from bot.server import build_coach

            coach = build_coach(settings, catalog=catalog)
        self.coach = coach
        self.on_app = on_app  # called with the app before it starts (to mount Teams with test options)
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.app: web.Application | None = None

    async def start(self) -> Server:
        self.app = create_app(self.settings, coach=self.coach)
        if self.on_app is not None:
            self.on_app(self.app)
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        loader = self.app.get(TEAMS)
        if loader is not None:  # botbuilder loads in the background; the tests start once it is there
            await loader.wait()
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def the_coach(self):
        assert self.app is not None
        return self.app[COACH]

    async def post(self, activity: Any, *, headers: dict[str, str] | None = None, raw: bytes | None = None
                   ) -> tuple[int, str]:
        assert self._session is not None
        body = raw if raw is not None else json.dumps(activity).encode()
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        async with self._session.post(f"{self.url}/api/messages", data=body, headers=hdrs) as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def connector():
    fake = FakeConnector(roster=[member(n) for n in range(1, 6)])
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return store_settings(tmp_path)


@pytest.fixture
async def server(settings: Settings, catalog):
    srv = await Server(settings, catalog=catalog).start()
    yield srv
    await srv.stop()
