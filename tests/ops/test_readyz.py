"""GET /readyz over HTTP on the real server: 200 only when the store, the catalog, the organisation file and
every mounted platform are ready; else 503 naming what is missing. /healthz stays the liveness check."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import make_store, settings_for, start_server, stop_server
from tests.teams.conftest import Server as TeamsServer
from tests.teams.conftest import store_settings


async def readyz(session: aiohttp.ClientSession, base: str) -> tuple[int, dict[str, Any]]:
    async with session.get(base.rstrip("/") + "/readyz") as response:
        return response.status, await response.json()


async def until_ready(session: aiohttp.ClientSession, base: str, timeout: float = 15.0) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    while True:
        status, body = await readyz(session, base)
        if status == 200 or time.monotonic() > deadline:
            return status, body
        await asyncio.sleep(0.05)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/api/"


async def test_ready_once_slack_auth_test_passed(tmp_path: Path, catalog) -> None:
    async with FakeSlack() as slack:
        server, session = await start_server(settings_for(slack, tmp_path / "db"), make_store(tmp_path / "db"),
                                             catalog)
        try:
            base = str(server.test_server.make_url("/"))
            assert await until_ready(session, base) == (200, {"ready": True})
            assert slack.of("auth.test")
            async with session.get(base + "healthz") as r:
                assert r.status == 200 and (await r.json())["ok"] is True
        finally:
            await stop_server(server)


async def test_not_ready_while_slack_cannot_be_reached(tmp_path: Path, catalog) -> None:
    async with FakeSlack() as slack:
        settings = settings_for(slack, tmp_path / "db", slack_api_url=closed_port_url())
        server, session = await start_server(settings, make_store(tmp_path / "db"), catalog)
        try:
            base = str(server.test_server.make_url("/"))
            deadline = time.monotonic() + 10
            while True:  # "not done yet" until the first attempt has failed
                status, body = await readyz(session, base)
                if "failed" in body["missing"].get("slack", "") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert status == 503
            assert body["ready"] is False
            assert list(body["missing"]) == ["slack"]
            assert body["missing"]["slack"].startswith("auth.test failed: ")
            async with session.get(base + "healthz") as r:  # alive all the same
                assert r.status == 200
        finally:
            await stop_server(server)


async def test_socket_mode_is_ready_when_connected(tmp_path: Path, catalog) -> None:
    async with FakeSlack() as slack:
        settings = settings_for(slack, tmp_path / "db", slack_app_token="xapp-1-test", slack_signing_secret="")
        server, session = await start_server(settings, make_store(tmp_path / "db"), catalog)
        try:
            base = str(server.test_server.make_url("/"))
            assert await until_ready(session, base) == (200, {"ready": True})
            assert slack.connected
        finally:
            await stop_server(server)


async def test_a_broken_organisation_file_is_not_ready(tmp_path: Path, catalog) -> None:
    org = tmp_path / "org.yaml"
    org.write_text("people: [this is not, a list of people\n")
    async with FakeSlack() as slack:
        server, session = await start_server(settings_for(slack, tmp_path / "db", org_file=org),
                                             make_store(tmp_path / "db"), catalog)
        try:
            base = str(server.test_server.make_url("/"))
            await until_ready(session, base, timeout=3)  # let auth.test pass: only the file is missing then
            status, body = await readyz(session, base)
            assert status == 503
            assert list(body["missing"]) == ["organisation"]
            assert str(org) in body["missing"]["organisation"]
        finally:
            await stop_server(server)


async def test_teams_local_mode_is_ready_and_an_app_id_without_password_is_not(tmp_path: Path, catalog) -> None:
    local = await TeamsServer(store_settings(tmp_path / "local"), catalog=catalog).start()
    try:
        async with aiohttp.ClientSession() as session:
            assert await readyz(session, local.url) == (200, {"ready": True})
    finally:
        await local.stop()
    prod = await TeamsServer(store_settings(tmp_path / "prod", microsoft_app_id="00000000-0000-0000-0000-0000000000aa",
                                            microsoft_app_password=""), catalog=catalog).start()
    try:
        async with aiohttp.ClientSession() as session:
            status, body = await readyz(session, prod.url)
        assert status == 503
        assert body == {"ready": False, "missing": {"teams": "MicrosoftAppPassword is empty"}}
    finally:
        await prod.stop()
