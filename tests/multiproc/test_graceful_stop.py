"""SIGTERM during a nudge fan-out, on a real `skillcoach serve` process (embedded store, fake Slack API).

The process stops taking work (503 while it drains), finishes or gives back the nudges it holds, exits 0
within SKILLCOACH_STOP_TIMEOUT; after the next start every report has had its nudge exactly once.
With a short stop timeout the worker cannot finish what it holds: those jobs must be given back (not left
leased for the 120 s lease, which would keep them from the next process for the whole test)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml

from bot.nudges import NUDGE_QUEUE
from bot.store.tinydb_store import TinyDBStore
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import SECRET, command_form, dm_event, sign

from .conftest import ROOT, Server

MANAGER = "U0STOPMGR1"
TEAM = [f"U0STOPR{n:03d}" for n in range(1, 13)]


def people() -> list[dict[str, Any]]:
    out = [{"email": "stop-manager@example.com", "name": "Stop Manager", "role": "Engineering manager",
            "slack_id": MANAGER}]
    out += [{"email": f"stop-report-{n}@example.com", "name": f"Stop Report {n}", "role": "Software developer",
             "manager": "stop-manager@example.com", "slack_id": user} for n, user in enumerate(TEAM, 1)]
    return out


def nudges_to(slack: FakeSlack) -> dict[str, int]:
    return {u: sum("asked me to check in" in p.get("text", "") for p in slack.posts(dm_of(u))) for u in TEAM}


async def signed_post(session: aiohttp.ClientSession, url: str, raw: bytes, content_type: str) -> int:
    ts = str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(raw, ts)}
    async with session.post(url + "/slack/events", data=raw, headers=headers) as response:
        await response.read()
        return response.status


async def stop_and_wait(server: Server, bound: float) -> tuple[int, float]:
    """SIGTERM; the exit status and how long it took (the test allows `bound` plus interpreter exit)."""
    assert server.proc is not None
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(server.proc.wait, bound + 5)
    return code, time.monotonic() - started


@pytest.mark.parametrize("stop_timeout", [10.0, 1.5], ids=["finishes-in-flight", "gives-back-in-flight"])
async def test_sigterm_during_a_fanout_loses_and_doubles_nothing(tmp_path: Path, stop_timeout: float) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(yaml.safe_dump({"people": people()}, sort_keys=False))
    users = {p["slack_id"]: {"email": p["email"], "name": p["name"]} for p in people()}
    db = tmp_path / "skillcoach.db"
    async with FakeSlack(users=users) as slack, aiohttp.ClientSession() as session:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "SKILLCOACH_"))}
        env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
            SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN="xoxb-stop-test", SLACK_SIGNING_SECRET=SECRET,
            MicrosoftAppId="", SKILLCOACH_TEAMS="false", SKILLCOACH_ORG=str(org), SKILLCOACH_DB=str(db),
            SKILLCOACH_LOG_LEVEL="INFO", SKILLCOACH_LOG_FORMAT="json", SKILLCOACH_STOP_TIMEOUT=str(stop_timeout),
            # no frequency cap: a nudge sent twice would show as two messages
            SKILLCOACH_NUDGE_PERIOD_DAYS="0", SKILLCOACH_NUDGE_RATE="slack=4",
        )
        first = Server("first", env, tmp_path / "first.log")
        first.start()
        try:
            await first.ready(session)
            body = urlencode(command_form("/nudge-team", "", user=MANAGER)).encode()
            assert await signed_post(session, first.url, body, "application/x-www-form-urlencoded") == 200
            await slack.wait_for(lambda s: sum(nudges_to(s).values()) >= 2, timeout=20)

            first.proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            await asyncio.sleep(0.2)
            # draining: not ready, and new work is turned away with 503 (Slack retries it later)
            async with session.get(first.url + "/readyz") as response:
                assert response.status == 503
                assert (await response.json())["missing"]["server"] == "stopping"
            dm = json.dumps(dm_event(TEAM[0], "hi")).encode()
            assert await signed_post(session, first.url, dm, "application/json") == 503
            code = await asyncio.to_thread(first.proc.wait, stop_timeout + 5)
            took = time.monotonic() - started
        finally:
            first.kill()
        log = first.log_tail(200_000)
        assert code == 0, log[-3000:]
        assert took < stop_timeout + 5
        sent_before = nudges_to(slack)
        assert max(sent_before.values()) == 1, sent_before
        assert sum(sent_before.values()) < len(TEAM), "the fan-out had finished before SIGTERM: nothing tested"

        # nothing of the nudge queue was left leased by the stopped process
        store = TinyDBStore(db)
        await store.open()
        try:
            stats = await store.queue_stats(NUDGE_QUEUE)
        finally:
            await store.close()
        assert stats.leased == 0
        # a job for every report not yet nudged (the manager's summary is queued once every result is in);
        # with a short timeout also those sent but not yet recorded: the next process finds them marked
        # "sending" and records them without sending again
        assert stats.waiting >= len(TEAM) - sum(sent_before.values())
        if stop_timeout >= 5:
            assert stats.waiting == len(TEAM) - sum(sent_before.values())
        if stop_timeout < 2:
            assert "given back to the queue" in log

        second = Server("second", env, tmp_path / "second.log")
        second.start()
        try:
            await second.ready(session)
            await slack.wait_for(lambda s: sum(nudges_to(s).values()) >= len(TEAM), timeout=30)
            await slack.wait_for(lambda s: any(p.get("text", "").startswith("Nudge finished")
                                               for p in s.posts(dm_of(MANAGER))), timeout=15)
            await asyncio.sleep(0.5)  # a duplicate, if there were one, would arrive now
            assert nudges_to(slack) == {u: 1 for u in TEAM}
            summaries = [p for p in slack.posts(dm_of(MANAGER)) if p.get("text", "").startswith("Nudge finished")]
            assert len(summaries) == 1 and "*12 sent*" in summaries[0]["text"]
            code, _ = await stop_and_wait(second, stop_timeout)
            assert code == 0, second.log_tail()
        finally:
            second.kill()
