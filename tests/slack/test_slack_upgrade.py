"""Upgrading from the version whose Slack adapter kept rate-limited answers in its own queue
("slack-outbox"): what still waits there at start goes out once, through the outbox, and never again."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from adapters.slack import SLACK_ADAPTER
from adapters.slack import blocks as B
from bot.server import build_coach, create_app
from bot.store.tinydb_store import TinyDBStore
from bot.types import Choice, Reply, numbered_text
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import OTHER, USER, settings_for

OLD_QUEUE = "slack-outbox"


def old_payload(channel: str, replies: list[Reply]) -> dict[str, Any]:
    """What the older version queued: the rendered messages left to post, each with its plain text."""
    return {"channel": channel,
            "messages": [{"message": m, "plain": numbered_text(r)} for r in replies for m in B.render(r)]}


async def seed(db: Path) -> dict[str, dict[str, Any]]:
    """The old queue as an older version left it when it stopped: two answers, one due only in a moment."""
    store = TinyDBStore(db)
    await store.open()
    question = Reply("Which skill next?", choices=(Choice("Python", "py"), Choice("SQL", "sql")), prompt_id="p1")
    jobs = {
        f"{dm_of(USER)}:a1": old_payload(dm_of(USER), [Reply("Here is your plan, part two."), question]),
        f"{dm_of(OTHER)}:b2": old_payload(dm_of(OTHER), [Reply("Welcome back to skillcoach.")]),
    }
    now = time.time()
    await store.enqueue(OLD_QUEUE, f"{dm_of(USER)}:a1", jobs[f"{dm_of(USER)}:a1"], due=now - 5)
    await store.enqueue(OLD_QUEUE, f"{dm_of(OTHER)}:b2", jobs[f"{dm_of(OTHER)}:b2"], due=now + 1.0)
    await store.close()
    return jobs


async def run(slack: FakeSlack, db: Path, catalog: Any) -> tuple[TestServer, Any]:
    settings = settings_for(slack, db)
    coach = build_coach(settings, store=TinyDBStore(db), catalog=catalog)
    app = create_app(settings, coach=coach)
    app[SLACK_ADAPTER].old_outbox_poll = 0.1
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, app


def texts(slack: FakeSlack, channel: str) -> list[str]:
    return [p["text"] for p in slack.posts(channel)]


async def test_answers_left_in_the_old_queue_go_out_once_after_an_upgrade(slack: FakeSlack, tmp_path: Path,
                                                                          catalog: Any, caplog):
    db = tmp_path / "skillcoach.db"
    jobs = await seed(db)
    expected = {job["channel"]: [m["message"]["text"] for m in job["messages"]] for job in jobs.values()}
    assert [len(v) for v in expected.values()] == [2, 1]

    caplog.set_level(logging.INFO, logger="skillcoach.slack")
    server, app = await run(slack, db, catalog)
    try:
        adapter = app[SLACK_ADAPTER]
        await slack.wait_for(lambda s: all(len(s.posts(c)) >= len(t) for c, t in expected.items()))
        await asyncio.wait_for(asyncio.shield(adapter.old_outbox_moved), 10)
        await asyncio.sleep(0.5)   # a second copy, if there were one, would be out now
        for channel, sent in expected.items():
            assert texts(slack, channel) == sent
        # as rendered then: the question keeps its buttons
        question = slack.posts(dm_of(USER))[1]
        assert question["blocks"] == jobs[f"{dm_of(USER)}:a1"]["messages"][1]["message"]["blocks"]
        # each carries the outbox item's id (what lets the outbox ask Slack after a crash)
        assert [p["metadata"]["event_payload"]["id"] for p in slack.posts(dm_of(USER))] == [
            f"slack-outbox:{dm_of(USER)}:a1/0", f"slack-outbox:{dm_of(USER)}:a1/1"]
        store = app[SLACK_ADAPTER].coach.store
        for key in jobs:
            assert (await store.job(OLD_QUEUE, key))["done"] is True
        moved = [r.getMessage() for r in caplog.records if "old Slack outbox" in r.getMessage()]
        assert moved == ["moved 2 answer(s) (3 message(s)) from the old Slack outbox 'slack-outbox' into the outbox"]
    finally:
        await server.close()

    posted = len(slack.of("chat.postMessage"))
    caplog.clear()
    server, app = await run(slack, db, catalog)
    try:
        await asyncio.wait_for(asyncio.shield(app[SLACK_ADAPTER].old_outbox_moved), 10)
        await asyncio.sleep(1.5)   # longer than the outbox worker's idle poll
        assert len(slack.of("chat.postMessage")) == posted
        for channel, sent in expected.items():
            assert texts(slack, channel) == sent
        assert not [r for r in caplog.records if "old Slack outbox" in r.getMessage()]
    finally:
        await server.close()
