"""Turning a nudge command (or a scheduled firing) into durable work: `start_fanout` sorts the team into
opted out / nudged within the period / known to be unreachable / to nudge, and writes one fan-out record
and one job in the queue ``nudge-fanouts`` — both before the manager's acknowledgement, so an
acknowledged nudge is never lost; `expand` then turns each such job into one job per person in the queue
``nudges`` (key ``<fanout>:<email>``; enqueueing is idempotent, so expanding twice creates nothing twice)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

from bot.core import Coach
from bot.errors import ConflictError
from bot.nudges.privacy import opted_out, user_opted_out
from bot.nudges.state import FANOUT_QUEUE, FANOUTS, NUDGE_QUEUE, NUDGE_STATE, known_id, recent
from bot.org import IDENTITIES, NEGATIVE_TTL, Caller
from bot.people import Person
from bot.person import read_profile


async def start_fanout(
    coach: Coach, *, caller: Caller, platform: str, reply_to: str | None, people: list[Person], note: str,
    period: float, wake: asyncio.Event, fanout_id: str | None = None, scheduled: bool = False,
) -> dict[str, Any]:
    """Classify the team, record the fan-out and its job (then set `wake`); returns the fan-out record."""
    now = coach.clock()
    fanout_id = fanout_id or f"n{int(now)}-{uuid.uuid4().hex[:8]}"
    skipped: Counter[str] = Counter()
    to_nudge: list[str] = []
    reachable_platform = platform in coach.messengers
    for start in range(0, len(people), 100):  # reads in parallel, a hundred at a time
        chunk = people[start:start + 100]
        reasons = await asyncio.gather(*(_skip_reason(coach, p, platform, now, period, reachable_platform)
                                         for p in chunk))
        for person, reason in zip(chunk, reasons):
            if reason:
                skipped[reason] += 1
            else:
                to_nudge.append(person.email)
    record = {
        "id": fanout_id, "platform": platform, "manager": caller.email, "manager_name": caller.name,
        "reply_to": reply_to, "note": note, "created_at": now, "scheduled": scheduled,
        "team": len(people), "targets": to_nudge, "skipped": dict(skipped), "results": {},
        "progress": 0,
    }
    try:
        await coach.store.put(FANOUTS, fanout_id, record, version=0)
    except ConflictError:  # this fan-out (a scheduled firing) exists already
        existing = await coach.store.get(FANOUTS, fanout_id)
        return existing.data if existing else record
    if to_nudge:
        await coach.store.enqueue(FANOUT_QUEUE, fanout_id, {"fanout": fanout_id}, due=0.0)
        wake.set()
    return record


async def _skip_reason(coach: Coach, person: Person, platform: str, now: float, period: float,
                       reachable_platform: bool) -> str | None:
    store = coach.store
    state = await store.get(NUDGE_STATE, person.email)
    if opted_out(state.data if state else None):
        return "opted_out"
    user_id = known_id(person, platform)
    if user_id is None:
        cached = await store.get(IDENTITIES, f"{platform}:{person.email}")
        if cached is not None:
            user_id = cached.data.get("user_id")
            if not user_id and now - float(cached.data.get("at", 0)) < NEGATIVE_TTL:
                return "unreachable"
    if user_id:
        profile = await read_profile(store, f"{platform}:{user_id}")
        if await user_opted_out(store, platform, user_id, profile.data if profile else None):
            return "opted_out"
    if state and recent(state.data, now, period):
        return "recent"
    if not reachable_platform:
        return "unreachable"
    return None


async def expand(coach: Coach, worker_id: str, lease: float) -> int:
    """Turn due fan-outs into one job per person (idempotent: a job key is enqueued once)."""
    store = coach.store
    jobs = await store.claim(FANOUT_QUEUE, worker_id, limit=5, lease=lease, now=coach.clock())
    for job in jobs:
        record = await store.get(FANOUTS, job.key)
        if record is not None:
            targets = record.data["targets"]
            for start in range(0, len(targets), 100):
                await asyncio.gather(*(
                    store.enqueue(NUDGE_QUEUE, f"{job.key}:{email}", {"fanout": job.key, "email": email})
                    for email in targets[start:start + 100]))
        await store.complete(FANOUT_QUEUE, job.key, worker_id)
    return len(jobs)
