"""When Teams is mounted: with an app id always; without one only when asked (`SKILLCOACH_TEAMS=local`) or
when the server listens on a loopback address. Plus the noise bounds: one warning line for an unreachable
serviceUrl, one for signing keys that cannot be fetched."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from adapters.teams import LISTEN_HOST, TEAMS, is_loopback_host, mount
from bot.server import COACH
from bot.settings import Settings
from tests.fakes.bf_connector import FakeBotFrameworkAuth, member
from tests.teams import activities as A
from tests.teams.conftest import Server, store_settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("LOCALHOST", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("coach.example.com", False),
     ("", False), (None, False)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(("value", "expected"), [("local", True), ("LOCAL", True), ("true", True),
                                                 ("false", False), ("0", False), ("", None), ("auto", None)])
def test_skillcoach_teams_values(monkeypatch, value, expected):
    monkeypatch.setenv("SKILLCOACH_TEAMS", value)
    assert Settings(_env_file=None).teams_enabled is expected


def test_skillcoach_teams_unset_is_none(monkeypatch):
    monkeypatch.delenv("SKILLCOACH_TEAMS", raising=False)
    assert Settings(_env_file=None).teams_enabled is None


def listening_on(host: str | None):
    def on_app(app):
        if host is not None:
            app[LISTEN_HOST] = host
    return on_app


async def start(tmp_path, catalog, host, **settings):
    return await Server(store_settings(tmp_path, **settings), catalog=catalog, on_app=listening_on(host)).start()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
async def test_without_app_id_a_loopback_server_mounts_teams(tmp_path, catalog, connector, host):
    srv = await start(tmp_path, catalog, host, teams_enabled=None)
    try:
        status, _ = await srv.post(A.message(connector.url, member(1), "hi"))
        assert status == 201
        assert "teams" in srv.the_coach.messengers and TEAMS in srv.app
        assert connector.messages()
    finally:
        await srv.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", None])
async def test_without_app_id_a_public_server_does_not_mount_teams(tmp_path, catalog, connector, caplog, host):
    caplog.set_level(logging.INFO, logger="skillcoach.teams")
    srv = await start(tmp_path, catalog, host, teams_enabled=None)
    try:
        status, _ = await srv.post(A.message(connector.url, member(1), "hi"))
        assert status == 404
        assert "teams" not in srv.the_coach.messengers
        assert connector.calls == []
        lines = [r.getMessage() for r in caplog.records if r.name == "skillcoach.teams"]
        assert len(lines) == 1 and lines[0].startswith("Teams not mounted")
        assert "SKILLCOACH_TEAMS=local" in lines[0] and "MicrosoftAppId" in lines[0]
    finally:
        await srv.stop()


async def test_skillcoach_teams_local_mounts_on_any_address(tmp_path, catalog, connector, monkeypatch):
    monkeypatch.setenv("SKILLCOACH_TEAMS", "local")
    settings = Settings(_env_file=None, **{k: v for k, v in store_settings(tmp_path).model_dump().items()
                                           if k != "teams_enabled"})
    assert settings.teams_enabled is True
    srv = await Server(settings, catalog=catalog, on_app=listening_on("0.0.0.0")).start()
    try:
        status, _ = await srv.post(A.message(connector.url, member(1), "hi"))
        assert status == 201
    finally:
        await srv.stop()


async def test_skillcoach_teams_false_never_mounts_without_app_id(tmp_path, catalog, connector):
    srv = await start(tmp_path, catalog, "127.0.0.1", teams_enabled=False)
    try:
        status, _ = await srv.post(A.message(connector.url, member(1), "hi"))
        assert status == 404
    finally:
        await srv.stop()


async def test_with_an_app_id_teams_is_mounted_on_a_public_address(tmp_path, catalog, connector):
    srv = await start(tmp_path, catalog, "0.0.0.0", teams_enabled=None,
                      microsoft_app_id="00000000-0000-0000-0000-000000000001", microsoft_app_password="x")
    try:
        status, _ = await srv.post(A.message(connector.url, member(1), "hi"))
        assert status == 401, "mounted, and the request has no token"
    finally:
        await srv.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_unreachable_service_url_is_one_warning_line(server, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{closed_port()}/"
    started = time.monotonic()
    status, _ = await server.post(A.message(url, member(1), "hello"))
    elapsed = time.monotonic() - started
    assert status == 201
    assert elapsed < 3.0, f"no retry loop (took {elapsed:.1f} s)"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["skillcoach.teams"], [r.getMessage() for r in warnings]
    assert url in warnings[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("skillcoach"))


async def test_unreachable_signing_keys_answer_503_and_are_logged_once(tmp_path, catalog, connector, caplog):
    app_id = "11111111-2222-3333-4444-555555555555"
    dead = f"http://127.0.0.1:{closed_port()}"
    secured = store_settings(tmp_path, microsoft_app_id=app_id, microsoft_app_password="p")

    def mount_teams(app):
        mount(app, app[COACH], secured, auth_overrides={
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": f"{dead}/v1/.well-known/openidconfiguration",
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": f"{dead}/v1/.well-known/openidconfiguration",
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": FakeBotFrameworkAuth.ISSUER})

    srv = await Server(store_settings(tmp_path, teams_enabled=False), catalog=catalog, on_app=mount_teams).start()
    caplog.set_level(logging.INFO, logger="skillcoach.teams")
    try:
        now = int(time.time())
        token = FakeBotFrameworkAuth().sign({"iss": FakeBotFrameworkAuth.ISSUER, "aud": app_id,
                                             "serviceurl": connector.url, "nbf": now - 10, "exp": now + 600})
        statuses = []
        for _ in range(3):
            status, _ = await srv.post(A.message(connector.url, member(1), "hello"),
                                       headers={"Authorization": f"Bearer {token}"})
            statuses.append(status)
        assert statuses == [503, 503, 503]
        warnings = [r for r in caplog.records if r.name == "skillcoach.teams" and r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "signing keys" in warnings[0].getMessage()
        assert connector.calls == []
    finally:
        await srv.stop()
