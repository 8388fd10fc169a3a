"""`skillcoach serve` opens its port before the matching indexes are in memory and before botbuilder is
loaded: /healthz answers at once, /readyz says what it still loads until they are in, and a Teams message
that arrives meanwhile waits for the Teams adapter and is answered."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bot.messages import HELP
from tests.fakes.bf_connector import FakeConnector, member
from tests.teams import activities as A

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, teams: str = "false") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "DATABASE_URL", "SKILLCOACH_"))}
    env.update({"XDG_CACHE_HOME": str(tmp_path / "cache"), "SKILLCOACH_DB": str(tmp_path / "db"),
                "PYTHONPATH": str(ROOT), "SKILLCOACH_LOG_LEVEL": "INFO", "SKILLCOACH_TEAMS": teams})
    return env


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _alive(session: aiohttp.ClientSession, base: str, proc: subprocess.Popen, log: Path,
                 deadline: float) -> None:
    """Poll /healthz until it answers 200 (the process must stay up meanwhile)."""
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            async with session.get(base + "/healthz") as r:
                assert r.status == 200
                return
        except aiohttp.ClientConnectionError:
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.01)


async def _ready(session: aiohttp.ClientSession, base: str, log: Path, deadline: float) -> list[dict]:
    """Poll /readyz until it answers 200 {"ready": true}; the 503 bodies seen before that."""
    not_ready: list[dict] = []
    while True:
        async with session.get(base + "/readyz") as r:
            body = await r.json()
            if r.status == 200:
                assert body == {"ready": True}
                return not_ready
            assert r.status == 503
            not_ready.append(body)
        assert time.monotonic() < deadline, log.read_text()
        await asyncio.sleep(0.01)


async def test_alive_before_the_indexes_are_loaded_and_ready_once_they_are(tmp_path: Path) -> None:
    port = _port()
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 60
            await _alive(session, base, proc, log, deadline)
            not_ready = await _ready(session, base, log, deadline)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    text = log.read_text()
    assert code == 0, text
    assert all(b == {"ready": False, "missing": {"catalog": "matching indexes loading"}} for b in not_ready), not_ready
    assert "matching indexes ready in" in text
    assert text.index("listening on") < text.index("matching indexes ready in")
    assert "Traceback" not in text


async def test_a_teams_message_sent_as_soon_as_the_port_opens_waits_for_botbuilder_and_is_answered(
        tmp_path: Path) -> None:
    port = _port()
    log = tmp_path / "serve.log"
    connector = FakeConnector(roster=[member(1)])
    await connector.start()
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=_env(tmp_path, teams="local"), cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=err)
    base = f"http://127.0.0.1:{port}"
    loading = {"catalog": "matching indexes loading", "teams": "loading the Teams adapter"}
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 60
            await _alive(session, base, proc, log, deadline)
            async with session.get(base + "/readyz") as r:
                first = (r.status, await r.json())
            activity = A.message(connector.url, member(1), "help")
            async with session.post(base + "/api/messages", data=json.dumps(activity).encode(),
                                    headers={"Content-Type": "application/json"}) as r:
                status = r.status
            not_ready = await _ready(session, base, log, deadline)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        await connector.stop()
    text = log.read_text()
    assert code == 0, text
    assert first[0] == 503 and first[1]["missing"]["teams"] == "loading the Teams adapter", first
    assert status == 201, text
    replies = connector.messages()
    assert len(replies) == 1, replies
    assert replies[0].texts[0].startswith(HELP.split("\n")[0][:40]), replies[0].texts
    assert all(b["ready"] is False and b["missing"].items() <= loading.items() for b in not_ready), not_ready
    assert text.index("listening on") < text.index("Teams adapter loaded")
    assert "Traceback" not in text


def test_building_the_server_loads_neither_numpy_nor_the_indexes(tmp_path: Path) -> None:
    code = ("import sys\nfrom bot.server import create_app\nfrom bot.settings import Settings\n"
            "app = create_app(Settings())\n"
            "print(__import__('json').dumps({m: m in sys.modules for m in ('numpy', 'bm25s')}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(tmp_path),
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"numpy": False, "bm25s": False}
