"""Two real `skillcoach serve` processes on one PostgreSQL database and one fake Slack Web API.

`cluster` (module scope) empties the database at SKILLCOACH_TEST_DATABASE_URL, writes an organisation
file, starts the fake Slack API in the test process and two server processes (`A` and `B`, each with
its own bot token so the fake can tell who sent what), and waits for their /healthz. Tests send them
Slack requests signed as Slack signs them, and look at the shared database through a `PostgresStore`.

Without SKILLCOACH_TEST_DATABASE_URL the tests are skipped (in CI, with CI=true, they fail instead),
as in tests/store/conftest.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio

from bot.store.postgres import PostgresStore
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import SECRET, command_form, dm_event, sign
from tests.store.conftest import make_postgres

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {"A": "xoxb-process-a", "B": "xoxb-process-b"}
NUDGE_LEASE = 6.0      # seconds (production: 120); must exceed one worker batch at 4 messages/s (2.5 s)
SCHEDULE_POLL = 0.5    # seconds between schedule ticks (production: 30)

# The organisation: Manager K with 30 reports (fan-out), Manager S with 5 (schedule), all with Slack ids.
MANAGER_K, MANAGER_S = "U0MANAGERK", "U0MANAGERS"
TEAM_K = [f"U0RPTK{n:02d}" for n in range(1, 31)]
TEAM_S = [f"U0RPTS{n:02d}" for n in range(1, 6)]


def org_people() -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = [
        {"email": "manager-k@example.com", "name": "Manager K", "role": "Engineering manager",
         "slack_id": MANAGER_K},
        {"email": "manager-s@example.com", "name": "Manager S", "role": "Engineering manager",
         "slack_id": MANAGER_S},
    ]
    for team, manager, letter in ((TEAM_K, "manager-k@example.com", "k"), (TEAM_S, "manager-s@example.com", "s")):
        for n, user in enumerate(team, 1):
            people.append({"email": f"report-{letter}{n:02d}@example.com", "name": f"Report {letter.upper()}{n:02d}",
                           "role": "Software developer", "manager": manager, "slack_id": user})
    return people


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `skillcoach serve` subprocess."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.env = env
        self.log_path = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.multiproc.serve", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, cwd=str(self.log_path.parent), stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"process {self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                async with session.get(self.url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"process {self.name} did not answer /healthz:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, leases stay with the dead worker until they expire."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    """The two servers, the fake Slack API, a store on the shared database, and Slack-signed requests."""

    def __init__(self, slack: FakeSlack, store: PostgresStore, servers: dict[str, Server],
                 session: aiohttp.ClientSession) -> None:
        self.slack = slack
        self.store = store
        self.servers = servers
        self.session = session

    async def post(self, to: str, raw: bytes, content_type: str, headers: dict[str, str] | None = None) -> int:
        ts = str(int(time.time()))
        all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": sign(raw, ts, SECRET)}
        all_headers.update(headers or {})
        async with self.session.post(self.servers[to].url + "/slack/events", data=raw, headers=all_headers) as r:
            await r.read()
            return r.status

    async def event(self, to: str, payload: dict[str, Any], *, retry: int | None = None) -> int:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(to, json.dumps(payload).encode(), "application/json", headers)

    async def dm(self, to: str, user: str, text: str) -> int:
        return await self.event(to, dm_event(user, text))

    async def command(self, to: str, user: str, command: str, text: str = "") -> int:
        body = urlencode(command_form(command, text, user=user)).encode()
        return await self.post(to, body, "application/x-www-form-urlencoded")

    def posts_to(self, user: str) -> list[dict[str, Any]]:
        return self.slack.posts(dm_of(user))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    import yaml

    folder = tmp_path_factory.mktemp("multiproc")
    # skipped without SKILLCOACH_TEST_DATABASE_URL (failed under CI=true); opened with its tables emptied
    store = await make_postgres(folder)
    assert isinstance(store, PostgresStore)
    url = store.url
    org = folder / "org.yaml"
    org.write_text(yaml.safe_dump({"people": org_people()}, sort_keys=False))
    users = {p["slack_id"]: {"email": p["email"], "name": p["name"]} for p in org_people()}

    async with FakeSlack(users=users) as slack:
        servers: dict[str, Server] = {}
        for name, token in TOKENS.items():
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "SKILLCOACH_"))}
            env.update(
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
                DATABASE_URL=url, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET=SECRET,
                MicrosoftAppId="", SKILLCOACH_TEAMS="false", SKILLCOACH_ORG=str(org),
                SKILLCOACH_DB=str(folder / f"unused-{name}.db"), SKILLCOACH_LOG_LEVEL="INFO",
                # no frequency cap: each nudge must be sent once because of the queue, not because of the cap
                SKILLCOACH_NUDGE_PERIOD_DAYS="0",
                SKILLCOACH_TEST_NUDGE_LEASE=str(NUDGE_LEASE), SKILLCOACH_TEST_SCHEDULE_POLL=str(SCHEDULE_POLL),
            )
            servers[name] = Server(name, env, folder / f"server-{name}.log")
        async with aiohttp.ClientSession() as session:
            try:
                for server in servers.values():
                    server.start()
                for server in servers.values():
                    await server.ready(session)
                yield Cluster(slack, store, servers, session)
            finally:
                for server in servers.values():
                    server.stop()
                await store.close()
