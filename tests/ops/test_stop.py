"""Stopping the background work: the tasks that only start new work (the schedule, the org watcher, the
expiry and snapshot tasks, the outbox worker) stop at once; only the nudge worker is given time to finish
what it holds. An idle server therefore stops without waiting out the nudge worker's share of the budget."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.background import BACKGROUND, stop_background
from bot.server import COACH, create_app
from bot.settings import Settings


async def test_an_idle_server_stops_its_background_work_without_waiting_out_the_budget(tmp_path):
    settings = Settings(database_url="memory:", teams_enabled=False, db_path=tmp_path / "db")
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()                 # start-up: the background tasks run
    try:
        tasks = app[BACKGROUND]
        assert sorted(tasks.values()) == sorted([
            "bot.org.watch.watch_org_file", "bot.nudges.service.worker_task", "bot.nudges.service.schedule_task",
            "bot.intros.answers.expiry_task", "bot.snapshot.snapshot_task", "bot.outbox.worker_task"])
        await asyncio.sleep(0.1)         # every loop has started and is idle
        # a budget of ten minutes: the nudge worker's share of it is seven; an idle stop must not use it
        report = await asyncio.wait_for(stop_background(app, app[COACH], 600.0), timeout=60)
        assert report == {"in_hand": 0, "released": 0}
        assert all(task.done() for task in tasks)
    finally:
        await runner.cleanup()
