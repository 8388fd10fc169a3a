"""Two `skillcoach serve` processes on one PostgreSQL database: nothing lost, nothing done twice.

The processes (A and B, see conftest.py) are shared by the tests of this module, in this order; the
last test kills A.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from adapters.slack.blocks import prompt_of
from bot import nudges
from bot.nudges.state import FANOUTS, SCHEDULES
from bot.store import CONVERSATIONS, update
from tests.fakes.slack_api import dm_of
from tests.slack.conftest import dm_event

from .conftest import MANAGER_K, MANAGER_S, TEAM_K, TEAM_S, TOKENS, Cluster

pytestmark = pytest.mark.asyncio(loop_scope="module")


def prompt_ids(posts: list[dict[str, Any]]) -> list[str | None]:
    """The question id each posted answer carries (the block id of its buttons)."""
    out = []
    for post in posts:
        ids = [prompt_of(b.get("block_id")) for b in post.get("blocks") or [] if b.get("type") == "actions"]
        out.append(next((i for i in ids if i), None))
    return out


def nudges_to(cluster: Cluster, users: list[str]) -> dict[str, int]:
    return {u: sum("asked me to check in" in p.get("text", "") for p in cluster.posts_to(u)) for u in users}


def summaries(cluster: Cluster, manager: str, head: str) -> list[str]:
    return [p["text"] for p in cluster.posts_to(manager) if p.get("text", "").startswith(head)]


async def test_interleaved_turns_of_many_users_lose_nothing(cluster: Cluster) -> None:
    """12 users, 4 rounds, each turn to the other process than the last; then each user's next two
    turns arrive at both processes at the same moment."""
    users = [f"U0MP{n:04d}" for n in range(1, 13)]
    rounds = 4
    for r in range(rounds):
        statuses = await asyncio.gather(*(cluster.dm("AB"[(i + r) % 2], user, "hi") for i, user in enumerate(users)))
        assert set(statuses) == {200}
        await cluster.slack.wait_for(lambda s, n=r + 1: all(len(cluster.posts_to(u)) >= n for u in users), timeout=20)

    # the same user's two turns at once, one to each process
    statuses = await asyncio.gather(*(cluster.dm(to, user, "hi") for user in users for to in "AB"))
    assert set(statuses) == {200}
    turns = rounds + 2
    await cluster.slack.wait_for(lambda s: all(len(cluster.posts_to(u)) >= turns for u in users), timeout=20)

    for user in users:
        posts = cluster.posts_to(user)
        # one answer per turn, and each turn saw the state the one before it left: the welcome question
        # was asked again with the next number each time (a lost update would repeat a number)
        assert len(posts) == turns, (user, [p.get("text", "")[:40] for p in posts])
        assert sorted(prompt_ids(posts)) == sorted(f"welcome.{k}" for k in range(1, turns + 1)), user
        convo = await cluster.store.get(CONVERSATIONS, f"slack:{user}")
        assert convo is not None and convo.data["seq"] == turns and convo.data["state"] == "welcome"
    # both processes answered, and both answered the concurrent pairs
    tokens = {c.token for c in cluster.slack.of("chat.postMessage")}
    assert tokens == set(TOKENS.values())


async def test_a_slack_retry_at_the_other_process_is_processed_once(cluster: Cluster) -> None:
    user = "U0MPRETRY1"
    event = dm_event(user, "hi")
    assert await cluster.event("A", event) == 200
    await cluster.slack.wait_for(lambda s: cluster.posts_to(user), timeout=10)
    # Slack retries seconds later; by then A has recorded the event id in the shared store
    await wait_until(lambda: event_recorded(cluster, event["event_id"]))

    assert await cluster.event("B", event, retry=1) == 200
    assert await cluster.event("A", event, retry=2) == 200
    # a later turn of the same user at B: once it is answered, the retries have been dealt with
    assert await cluster.dm("B", user, "hi") == 200
    await cluster.slack.wait_for(lambda s: len(cluster.posts_to(user)) >= 2, timeout=10)
    assert await cluster.dm("A", user, "hi") == 200
    await cluster.slack.wait_for(lambda s: len(cluster.posts_to(user)) >= 3, timeout=10)

    posts = cluster.posts_to(user)
    assert prompt_ids(posts) == ["welcome.1", "welcome.2", "welcome.3"], "the retried event was answered again"
    convo = await cluster.store.get(CONVERSATIONS, f"slack:{user}")
    assert convo is not None and convo.data["seq"] == 3


async def test_a_retry_at_the_other_process_while_the_first_is_still_working(cluster: Cluster) -> None:
    user = "U0MPRETRY2"
    event = dm_event(user, "hi")
    cluster.slack.slow("users.info", 1.0)   # A's turn takes a second: Slack's retry arrives meanwhile
    try:
        assert await cluster.event("A", event) == 200
        assert await cluster.event("B", event, retry=1) == 200
        await cluster.slack.wait_for(lambda s: cluster.posts_to(user), timeout=10)
        # a second answer, if there is one, follows within milliseconds; when the gap is closed none
        # comes, and this wait ends after 5 s
        with contextlib.suppress(asyncio.TimeoutError):
            await cluster.slack.wait_for(lambda s: len(cluster.posts_to(user)) >= 2, timeout=5)
    finally:
        cluster.slack.slow("users.info", 0)
    assert prompt_ids(cluster.posts_to(user)) == ["welcome.1"], "the retried event was answered twice"


async def test_a_schedule_fires_once_per_period_across_both_processes(cluster: Cluster) -> None:
    assert await cluster.command("B", MANAGER_S, "/nudge-team", "every 1 week") == 200
    await cluster.slack.wait_for(lambda s: summaries(cluster, MANAGER_S, "Nudge finished"), timeout=20)
    assert nudges_to(cluster, TEAM_S) == {u: 1 for u in TEAM_S}
    schedule = await cluster.store.get(SCHEDULES, "manager-s@example.com")
    assert schedule is not None and schedule.data["next_at"] > time.time() + 6 * 86400

    for period in (1, 2):
        # the period is over: both processes' schedule ticks (every 0.5 s) see the schedule due
        await update(cluster.store, SCHEDULES, "manager-s@example.com",
                     lambda data: {**data, "next_at": time.time() - 1})
        await cluster.slack.wait_for(
            lambda s, n=period: len(summaries(cluster, MANAGER_S, "Scheduled nudge finished")) >= n, timeout=20)
        schedule = await cluster.store.get(SCHEDULES, "manager-s@example.com")
        assert schedule is not None and schedule.data["next_at"] > time.time() + 6 * 86400
        # a few more ticks of both processes: nothing fires twice for this period
        await asyncio.sleep(4 * 0.5)
        assert len(summaries(cluster, MANAGER_S, "Scheduled nudge finished")) == period
        assert nudges_to(cluster, TEAM_S) == {u: 1 + period for u in TEAM_S}
        fired = [r async for r in cluster.store.scan(FANOUTS)
                 if r.data.get("scheduled") and r.data.get("manager") == "manager-s@example.com"]
        assert len(fired) == period

    assert await cluster.command("A", MANAGER_S, "/nudge-team", "stop") == 200
    await cluster.slack.wait_for(lambda s: [p for p in cluster.posts_to(MANAGER_S)
                                            if "scheduled nudges are stopped" in p.get("text", "")], timeout=10)


async def test_a_process_killed_mid_fanout_the_other_finishes_it(cluster: Cluster) -> None:
    slack, a = cluster.slack, cluster.servers["A"]
    slack.slow("chat.postMessage", 0.3)
    try:
        assert await cluster.command("A", MANAGER_K, "/nudge-team", "Please take 10 minutes this week") == 200

        team = set(TEAM_K) | {dm_of(u) for u in TEAM_K}   # posted to the user id or to the DM id

        def sent_by_a(s) -> int:
            return sum(1 for c in s.of("chat.postMessage") if c.token == TOKENS["A"] and c.args.get("channel") in team)

        # kill A while its third nudge is still waiting for Slack's (slow) answer, with more claimed
        await slack.wait_for(lambda s: sent_by_a(s) >= 3, timeout=20)
        a.kill()
        killed_after = sent_by_a(slack)

        await slack.wait_for(lambda s: summaries(cluster, MANAGER_K, "Nudge finished"), timeout=40)
    finally:
        slack.slow("chat.postMessage", 0)

    assert sent_by_a(slack) == killed_after
    got = nudges_to(cluster, TEAM_K)
    assert got == {u: 1 for u in TEAM_K}, "every report gets the nudge exactly once"
    summary = summaries(cluster, MANAGER_K, "Nudge finished")
    assert len(summary) == 1 and "*30 sent*" in summary[0]
    # B took over jobs A had claimed: their lease ran out and they were claimed a second time
    fanout = next(r for r in [r async for r in cluster.store.scan(FANOUTS)]
                  if r.data.get("manager") == "manager-k@example.com")
    jobs = [await cluster.store.job(nudges.NUDGE_QUEUE, f"{fanout.key}:{email}") for email in fanout.data["targets"]]
    assert all(job and job["done"] for job in jobs)
    assert any(job["attempts"] >= 2 for job in jobs), "no job was taken over from the killed process"


async def event_recorded(cluster: Cluster, event_id: str) -> bool:
    async with cluster.store._conn() as conn:
        return bool(await conn.fetchval("SELECT true FROM dedupe WHERE namespace = 'events:slack' AND key = $1",
                                        event_id))


async def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
