"""Background work that runs inside the server: org file reloads, nudge delivery, schedules,
introduction expiry, the outbox of waiting proactive messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import outbox
from bot.intros import expiry_task
from bot.nudges import schedule_task, worker_task
from bot.org import watch_org_file

log = logging.getLogger("skillcoach.background")

# Each task factory takes the coach and returns a coroutine that runs until cancelled.
TASKS: list[Callable[..., Awaitable[None]]] = [watch_org_file, worker_task, schedule_task, expiry_task,
                                               outbox.worker_task]


def attach_background(app: web.Application, coach) -> None:
    async def ctx(app: web.Application):
        tasks = [asyncio.create_task(factory(coach), name=getattr(factory, "__name__", "task")) for factory in TASKS]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    app.cleanup_ctx.append(ctx)
