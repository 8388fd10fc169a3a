"""Background work that runs inside the server: org file reloads, nudge delivery, schedules,
introduction expiry, team report snapshots, the outbox of waiting proactive messages.

Stopping (`stop_background`, called by bot/lifecycle.py on SIGTERM before the server's cleanup): the
schedule, the org watcher, the expiry and snapshot tasks and the outbox worker are cancelled at once (they
only start new work; an outbox send already running is awaited, as are the nudges'); the nudge
worker claims nothing more and finishes the nudges in flight for up to the time it is given, then is
cancelled; a reserve-and-send step already running is awaited; every nudge job it still holds is given
back to the queue (due as before), so the next process sends it at once instead of after the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import outbox
from bot.intros import expiry_task
from bot.nudges import NUDGE_QUEUE, schedule_task, service, worker_task
from bot.org import watch_org_file
from bot.snapshot import snapshot_task

log = logging.getLogger("skillcoach.background")

# Each task factory takes the coach and returns a coroutine that runs until cancelled.
TASKS: list[Callable[..., Awaitable[None]]] = [watch_org_file, worker_task, schedule_task, expiry_task, snapshot_task,
                                               outbox.worker_task]
BACKGROUND = web.AppKey("background_tasks", dict)


def _name(factory) -> str:
    """A task's name: its module and function ("bot.nudges.service.worker_task"); two modules have a
    `worker_task`, and stopping tells them apart by this name."""
    inner = getattr(factory, "func", factory)  # functools.partial
    return f"{getattr(inner, '__module__', '')}.{getattr(inner, '__name__', 'task')}"


def attach_background(app: web.Application, coach) -> None:
    tasks: dict[asyncio.Task, str] = {}
    app[BACKGROUND] = tasks  # filled when the server starts (the app cannot change after that)

    async def ctx(app: web.Application):
        tasks.update({asyncio.create_task(factory(coach), name=_name(factory)): _name(factory) for factory in TASKS})
        yield
        await _cancel(list(tasks))

    app.cleanup_ctx.append(ctx)


async def _cancel(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def stop_background(app: web.Application, coach, budget: float) -> dict[str, int]:
    """Stop the background work within `budget` seconds; returns what happened to the nudges in hand."""
    deadline = time.monotonic() + budget
    tasks = app.get(BACKGROUND) or {}
    worker = [t for t, name in tasks.items() if name == _name(worker_task)]
    await _cancel([t for t in tasks if t not in worker])

    svc = service(coach)
    svc.stopping = True
    svc.wake.set()
    report = {"in_hand": len(svc.held), "released": 0}
    if worker:
        done, _ = await asyncio.wait(worker, timeout=max(0.0, deadline - time.monotonic() - budget * 0.3))
        if not done:
            log.warning("stopping: %d nudge(s) still in flight after %.1f s; giving them back to the queue",
                        len(svc.held), budget * 0.7)
        await _cancel(worker)
    sending = list(svc.sending) + list(outbox.service(coach).sending)
    if sending:  # shielded sends (nudges, the outbox) still running: let them finish, none left half done
        await asyncio.wait(sending, timeout=max(0.1, deadline - time.monotonic()))
    finishing = list(getattr(svc, "_finishing", ()))  # results being recorded and jobs completed
    if finishing:
        await asyncio.wait(finishing, timeout=max(0.1, deadline - time.monotonic()))
    for key, job in list(svc.held.items()):
        try:
            if await coach.store.release(NUDGE_QUEUE, key, svc.worker_id, due=job.due):
                report["released"] += 1
            svc.held.pop(key, None)
        except Exception as exc:  # the lease runs out instead; another process takes the job then
            log.warning("stopping: could not give back a nudge job: %s", exc)
    if report["released"]:
        log.info("stopping: %d claimed nudge(s) given back to the queue", report["released"])
    return report
