"""SIGKILL at random moments during a fan-out to 50 reports: every report gets its nudge exactly once.

A fake Slack API that answers `chat.postMessage` 0.4 s late, so several posts are always in flight
(reserved, received by Slack, not yet answered). Each run: a manager's `/nudge-team` with a note naming
the run, the process doing the sending killed with SIGKILL after a random number of posts (and a
random fraction of a second more), then —

* PostgreSQL (10 runs): the other `skillcoach serve` finishes the fan-out;
* TinyDB (3 runs): one `skillcoach serve`, restarted on the same folder, finishes it.

Checked at the fake after each run: each of the 50 reports received that run's nudge exactly once, and
the manager exactly one summary saying 50 sent.

Introductions (PostgreSQL, 6 runs): a report asks a helper to mentor them; the process is killed after
the request reached the fake Slack API (and a random fraction of a second more, so the kill lands during
the call or just after its answer); the outbox worker of a live process finishes it: the helper gets the
request exactly once. The counts of each run (posts before the kill, posts in
flight at the kill, history reads by the process that took over) are printed (`-s`) and written to
`kill-runs.json` in the test's folder.

Without SKILLCOACH_TEST_DATABASE_URL the PostgreSQL runs are skipped (tests/store/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.fakes.slack_api import Call, FakeSlack, dm_of
from tests.slack.conftest import SECRET
from tests.store.conftest import make_postgres

from .conftest import ROOT, Cluster, Server

pytestmark = pytest.mark.asyncio(loop_scope="module")

MANAGER = "U0MANAGERF"
HELPER = "U0HELPERF"
TEAM = [f"U0RPTF{n:02d}" for n in range(1, 51)]
LEASE = 3.0            # SKILLCOACH_NUDGE_LEASE: how soon a dead process's work is taken over
POST_DELAY = 0.4       # seconds the fake Slack API takes to answer chat.postMessage
RATE = "slack=20"      # SKILLCOACH_NUDGE_RATE: 50 nudges in 2.5 s
SEED = int(os.environ.get("SKILLCOACH_TEST_KILL_SEED", "0")) or int(time.time())


def people() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"email": "manager-f@example.com", "name": "Manager F",
                                  "role": "Engineering manager", "slack_id": MANAGER}]
    for n, user in enumerate(TEAM, 1):
        out.append({"email": f"report-f{n:02d}@example.com", "name": f"Report F{n:02d}",
                    "role": "Software developer", "manager": "manager-f@example.com", "slack_id": user})
    out.append({"email": "helper-f@example.com", "name": "Helper F", "role": "Staff engineer", "slack_id": HELPER,
                "offers": ["mentoring"], "capacity": 20, "skills": ["python", "sql"]})
    return out


def server_env(folder: Path, slack: FakeSlack, name: str, token: str, *, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "SKILLCOACH_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET=SECRET,
        MicrosoftAppId="", SKILLCOACH_TEAMS="false", SKILLCOACH_ORG=str(folder / "org.yaml"),
        SKILLCOACH_DB=str(folder / f"store-{name}.db"), SKILLCOACH_LOG_LEVEL="INFO",
        SKILLCOACH_NUDGE_PERIOD_DAYS="0",   # every run nudges everyone again
        SKILLCOACH_NUDGE_LEASE=str(LEASE), SKILLCOACH_NUDGE_RATE=RATE,
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


class Runs:
    def __init__(self, slack: FakeSlack, folder: Path, session: aiohttp.ClientSession) -> None:
        self.slack = slack
        self.folder = folder
        self.session = session
        self.rng = random.Random(SEED)
        self.records: list[dict[str, Any]] = []

    def cluster(self, servers: dict[str, Server]) -> Cluster:
        return Cluster(self.slack, None, servers, self.session)  # type: ignore[arg-type]

    def nudge_posts(self, note: str) -> list[Call]:
        return [c for c in self.slack.of("chat.postMessage") if note in str(c.args.get("text", ""))]

    def manager_posts(self, head: str, since: int) -> list[str]:
        return [p["text"] for p in self.slack.posts(dm_of(MANAGER))[since:] if p.get("text", "").startswith(head)]

    async def run(self, backend: str, number: int, servers: dict[str, Server], *, survivor_restarts: bool) -> None:
        """One fan-out with one kill; `survivor_restarts`: the killed process is started again to finish
        (TinyDB), else the other process finishes (PostgreSQL) and the killed one is started afterwards."""
        slack, cluster = self.slack, self.cluster(servers)
        note = f"Kill run {backend}-{number}: please take 10 minutes"
        manager_seen = len(slack.posts(dm_of(MANAGER)))
        histories = len(slack.of("conversations.history"))
        to = self.rng.choice(sorted(servers))
        assert await cluster.command(to, MANAGER, "/nudge-team", note) == 200
        await slack.wait_for(lambda s: self.manager_posts("I'll nudge *50* people", manager_seen), timeout=30)

        after, extra = self.rng.randint(0, 49), self.rng.choice([0.0, self.rng.uniform(0.0, POST_DELAY)])
        await slack.wait_for(lambda s: len(self.nudge_posts(note)) >= after, timeout=30)
        await asyncio.sleep(extra)
        posts = self.nudge_posts(note)
        tokens = {server.env["SLACK_BOT_TOKEN"]: name for name, server in servers.items()}
        in_flight = {name: sum(1 for c in posts if tokens.get(c.token) == name and not c.answered) for name in servers}
        sent = {name: sum(1 for c in posts if tokens.get(c.token) == name) for name in servers}
        victim = max(servers, key=lambda name: (in_flight[name], sent[name], name == to))
        servers[victim].kill()
        record = {"backend": backend, "run": number, "killed": victim, "after_posts": len(posts),
                  "posted_by_killed": sent[victim], "in_flight_at_kill": in_flight[victim]}
        if survivor_restarts:
            servers[victim].start()
            await servers[victim].ready(self.session)

        await slack.wait_for(lambda s: self.manager_posts("Nudge finished", manager_seen), timeout=90)
        await asyncio.sleep(1.0)   # a copy, if one were sent, would follow within this second
        got = {user: sum(1 for p in slack.posts(dm_of(user)) if note in p.get("text", "")) for user in TEAM}
        record.update(delivered=sum(got.values()), reports_with_one=sum(1 for n in got.values() if n == 1),
                      history_reads=len(slack.of("conversations.history")) - histories)
        self.records.append(record)
        print(json.dumps(record))
        (self.folder / "kill-runs.json").write_text(json.dumps(self.records, indent=1))

        assert got == {user: 1 for user in TEAM}, record
        summaries = self.manager_posts("Nudge finished", manager_seen)
        assert summaries == ["Nudge finished: *50 sent*.\nSkipped: none.\nFailed: 0."], record
        progress = self.manager_posts("Nudging your team", manager_seen)
        assert len(progress) == len(set(progress)), progress   # no progress message twice
        if not survivor_restarts:
            servers[victim].start()
            await servers[victim].ready(self.session)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runs(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Runs]:
    import yaml

    folder = tmp_path_factory.mktemp("kill")
    (folder / "org.yaml").write_text(yaml.safe_dump({"people": people()}, sort_keys=False))
    users = {p["slack_id"]: {"email": p["email"], "name": p["name"]} for p in people()}
    async with FakeSlack(users=users) as slack, aiohttp.ClientSession() as session:
        slack.slow("chat.postMessage", POST_DELAY)
        print(f"kill test seed: {SEED} (SKILLCOACH_TEST_KILL_SEED={SEED} repeats these runs)")
        yield Runs(slack, folder, session)


async def test_killed_at_random_moments_on_postgres_the_other_process_sends_each_nudge_once(runs: Runs) -> None:
    store = await make_postgres(runs.folder)   # skipped without SKILLCOACH_TEST_DATABASE_URL
    url = store.url
    await store.close()
    servers = {name: Server(name, server_env(runs.folder, runs.slack, name, f"xoxb-kill-{name.lower()}",
                                             database_url=url), runs.folder / f"server-{name}.log")
               for name in ("A", "B")}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            await server.ready(runs.session)
        for number in range(1, 11):
            await runs.run("postgres", number, servers, survivor_restarts=False)
    finally:
        for server in servers.values():
            server.stop()
    mine = [r for r in runs.records if r["backend"] == "postgres"]
    assert len(mine) == 10
    assert sum(r["in_flight_at_kill"] for r in mine) > 0, "no kill landed during a platform call"


async def test_killed_at_random_moments_on_tinydb_a_restart_sends_each_nudge_once(runs: Runs) -> None:
    server = Server("T", server_env(runs.folder, runs.slack, "T", "xoxb-kill-t", database_url=None),
                    runs.folder / "server-T.log")
    try:
        server.start()
        await server.ready(runs.session)
        for number in range(1, 4):
            await runs.run("tinydb", number, {"T": server}, survivor_restarts=True)
    finally:
        server.stop()
    mine = [r for r in runs.records if r["backend"] == "tinydb"]
    assert sum(r["in_flight_at_kill"] for r in mine) > 0, "no kill landed during a platform call"


def plan_with_helper(n: int) -> dict[str, Any]:
    user = TEAM[n - 1]
    return {"email": f"report-f{n:02d}@example.com", "name": f"Report F{n:02d}", "platform": "slack", "user_id": user,
            "role": {"id": "software-developer", "title": "Software developer", "family": "engineering"},
            "plan": {"path": "upskill", "skills": [{"id": "python", "name": "Python", "done": False}],
                     "people": [{"email": "helper-f@example.com", "name": "Helper F", "offer": "mentoring",
                                 "skills": ["python"]}]}}


async def test_killed_while_sending_an_introduction_a_live_process_sends_it_once(runs: Runs) -> None:
    from bot import intros, outbox
    from bot.store import PROFILES

    store = await make_postgres(runs.folder)   # skipped without SKILLCOACH_TEST_DATABASE_URL
    slack = runs.slack
    servers = {name: Server(name, server_env(runs.folder, slack, name, f"xoxb-intro-{name.lower()}",
                                             database_url=store.url), runs.folder / f"intro-{name}.log")
               for name in ("A", "B")}
    cluster = runs.cluster(servers)
    records = []
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            await server.ready(runs.session)
        for n in range(1, 7):
            user = TEAM[n - 1]
            await store.put(PROFILES, f"slack:{user}", plan_with_helper(n))
            asks = f"*Report F{n:02d}*"

            def requests() -> list[Call]:
                return [c for c in slack.of("chat.postMessage")
                        if c.args.get("channel") in (HELPER, dm_of(HELPER)) and asks in str(c.args.get("text", ""))]

            to = runs.rng.choice(sorted(servers))
            assert await cluster.dm(to, user, "Ask Helper F to mentor me") == 200
            await slack.wait_for(lambda s: requests(), timeout=30)
            await asyncio.sleep(runs.rng.uniform(0.0, 1.2 * POST_DELAY))
            in_flight = sum(1 for c in requests() if not c.answered)
            servers[to].kill()
            servers[to].start()   # back at once; the other process's outbox worker may be first to finish
            intro = [r async for r in store.scan(intros.INTROS) if r.data["requester"]["user_key"] == f"slack:{user}"]
            assert len(intro) == 1
            item = f"intro:{intro[0].key}:request"
            deadline = time.monotonic() + 60
            while not ((await store.job(outbox.QUEUE, item)) or {}).get("done"):
                assert time.monotonic() < deadline, f"the outbox never finished {item}"
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            record = {"backend": "postgres", "intro": n, "killed": to, "in_flight_at_kill": in_flight,
                      "requests_at_fake": len(requests()),
                      "outcome": ((await store.job(outbox.QUEUE, item)) or {}).get("result")}
            records.append(record)
            print(json.dumps(record))
            assert len(requests()) == 1, record
            await servers[to].ready(runs.session)
    finally:
        for server in servers.values():
            server.stop()
        await store.close()
        (runs.folder / "kill-intros.json").write_text(json.dumps(records, indent=1))
    assert sum(r["in_flight_at_kill"] for r in records) > 0, "no kill landed during a platform call"
