"""The coach's nudge service and the two background tasks that run it (bot/background.py starts them
with the server): `NudgeService` is the worker (bot/nudges/worker.py) plus the two ways work reaches
it — a fan-out started by a command, and the firing of due schedules — both of which wake it;
`worker_task` delivers nudges until cancelled, and `schedule_task` fires recurring nudges while this
process holds the schedule lease. Rates (messages per second per platform) come from the outbox
(SKILLCOACH_NUDGE_RATE, else its defaults); `configure(coach, rates=...)` overrides them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.core import Coach
from bot.errors import stray_cancel
from bot.nudges import schedule
from bot.nudges.fanout import start_fanout
from bot.nudges.state import SCHEDULE_LEASE
from bot.nudges.worker import Worker
from bot.org import Caller
from bot.people import Person

log = logging.getLogger("skillcoach.nudges")


class NudgeService(Worker):
    """One per coach: the worker, and what gives it work."""

    async def start_fanout(
        self, *, caller: Caller, platform: str, reply_to: str | None, people: list[Person], note: str,
        fanout_id: str | None = None, scheduled: bool = False,
    ) -> dict[str, Any]:
        """Classify the team, record the fan-out and its job; returns the fan-out record."""
        return await start_fanout(self.coach, caller=caller, platform=platform, reply_to=reply_to, people=people,
                                  note=note, period=self.period, wake=self.wake, fanout_id=fanout_id,
                                  scheduled=scheduled)

    async def fire_due_schedules(self) -> int:
        """Start the fan-outs of every due schedule (the caller holds the schedule lease)."""
        return await schedule.fire_due(self.coach, self.start_fanout)


def service(coach: Coach) -> NudgeService:
    """The coach's nudge service (created on first use)."""
    svc = getattr(coach, "_nudge_service", None)
    if svc is None:
        svc = NudgeService(coach)
        coach._nudge_service = svc
    return svc


def configure(coach: Coach, *, rates: dict[str, float] | None = None) -> NudgeService:
    """The coach's nudge service, with the given platforms' rates (messages per second) set."""
    svc = service(coach)
    if rates:
        svc.rates.update(rates)
        svc.buckets.clear()
    return svc


async def worker_task(coach: Coach) -> None:
    """Deliver nudges (and finish whatever a previous process left) until cancelled."""
    svc = service(coach)
    while not svc.stopping:
        try:
            await svc.run()
        except asyncio.CancelledError:
            if not stray_cancel():
                raise
            log.error("nudge worker: a step was cancelled although nothing stopped the worker; restarting in 1 s")
            await asyncio.sleep(1)
        except Exception:
            log.exception("nudge worker crashed; restarting in 5 s")
            await asyncio.sleep(5)


async def schedule_task(coach: Coach, *, interval: float = schedule.SCHEDULE_POLL) -> None:
    """Fire recurring nudges while this process holds the schedule lease."""
    svc = service(coach)
    while True:
        try:
            if await coach.store.try_lease(SCHEDULE_LEASE, svc.worker_id, interval * 3, now=coach.clock()):
                await svc.fire_due_schedules()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("nudge schedule failed; trying again later")
        await asyncio.sleep(interval)
