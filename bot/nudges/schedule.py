"""Recurring nudges (`/nudge-team every 2 weeks`, `status`, `stop`): one schedule per manager in
``nudge_schedules``, and `fire_due`, which starts the fan-out of every due schedule and moves it on by
its period. The caller holds the lease ``nudge-schedule`` (one process at a time), and each firing has a
deterministic fan-out id, so a double firing creates nothing twice."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core import Coach
from bot.nudges.state import SCHEDULES
from bot.org import Caller, team_for
from bot.store import Record, update

log = logging.getLogger("skillcoach.nudges")

SCHEDULE_POLL = 30.0               # seconds between looks for due schedules


async def save(coach: Coach, key: str, *, caller: Caller, platform: str, reply_to: str, every_days: float,
               whole_tree: bool, note: str) -> None:
    """Set up (or replace) the manager's schedule; its first firing is one period from now."""
    now = coach.clock()
    await coach.store.put(SCHEDULES, key, {
        "manager": caller.email, "name": caller.name, "platform": platform,
        "reply_to": reply_to, "every_days": every_days, "whole_tree": whole_tree,
        "note": note, "next_at": now + every_days * 86400.0, "created_at": now,
    })


async def find(coach: Coach, email: str | None) -> Record | None:
    return await coach.store.get(SCHEDULES, email) if email else None


async def stop(coach: Coach, email: str | None) -> bool:
    """End the manager's schedule; whether there was one."""
    return bool(email) and await coach.store.delete(SCHEDULES, email)


async def fire_due(coach: Coach, start_fanout: Callable[..., Awaitable[dict[str, Any]]]) -> int:
    """Start the fan-outs of every due schedule (the caller holds the schedule lease)."""
    now = coach.clock()
    fired = 0
    async for record in coach.store.scan(SCHEDULES):
        sched = record.data
        if float(sched.get("next_at", 0)) > now:
            continue
        person = coach.directory.by_email(sched["manager"])
        caller = Caller(sched["manager"], sched.get("name") or (person.name if person else ""),
                        sched["manager"] in coach.settings.admin_emails,
                        coach.directory.is_manager(sched["manager"]))
        people = team_for(coach, caller, whole_tree=bool(sched.get("whole_tree")))
        slot = int(sched["next_at"])
        period = float(sched["every_days"]) * 86400.0
        next_at = float(sched["next_at"]) + period
        while next_at <= now:
            next_at += period

        def advance(data, slot=slot, next_at=next_at):
            if data is None or int(data.get("next_at", 0)) != slot:
                return None
            data["next_at"] = next_at
            return data

        if not caller.may_manage or not people:
            log.info("schedule of %s stopped: no longer a manager of anyone", sched["manager"])
            await coach.store.delete(SCHEDULES, record.key)
            continue
        await start_fanout(
            caller=caller, platform=sched["platform"], reply_to=sched.get("reply_to"), people=people,
            note=sched.get("note", ""), fanout_id=f"s{slot}-{uuid.uuid5(uuid.NAMESPACE_URL, record.key).hex[:12]}",
            scheduled=True,
        )
        await update(coach.store, SCHEDULES, record.key, advance)
        fired += 1
    return fired
