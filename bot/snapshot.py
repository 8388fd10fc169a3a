"""The team report's data: counts taken from a snapshot of the consented profiles, on a schedule.

The report is never counted from live data on a request: a manager who could run it just before and
just after someone makes or changes a plan would learn that person's answers by subtracting the two.
Instead, once per period (`settings.report_refresh_days`, default 7; periods start at 00:00 UTC, weekly
ones on Mondays) one process — the holder of the `report-snapshot` lease — counts, for every manager
and every admin, each scope they may ask for (their team, their reporting tree or an admin's
organisation) and stores those counts under the caller's email. Counts only: no name, no answer, no
per-person record is kept in a snapshot.

`/team-skills` reads the caller's snapshot. A caller with no snapshot yet (a new manager, the terminal
chat, where no background task runs) has theirs taken on the first request; a snapshot from an earlier
period is retaken on read when the task has not run yet. Either way a caller can cause at most one
count per period, so two reports a manager can get are always a period apart. Someone who stops
sharing, or asks to be forgotten, leaves the counts at the next snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bot.core import Coach
from bot.intros import HISTORY
from bot.org import Caller, team_for
from bot.people import Person
from bot.store import EMAILS

log = logging.getLogger("skillcoach.snapshot")

SNAPSHOTS = "report_snapshots"        # store collection: caller email -> the counts of their scopes
TAKEN = "report_snapshot_taken"       # store collection: "latest" -> {"period", "taken_at", "callers"}
LEASE = "report-snapshot"
POLL = 60.0                           # how often the task checks whether a new period has begun
TOP_SKILLS = 5                        # the most-built skills kept (the card lists at most this many)
_BATCH = 500                          # people read per round trip while taking a snapshot
_MONDAY = 4 * 86400.0                 # 1970-01-05 00:00 UTC, a Monday: where weekly periods start


def period_seconds(coach: Coach) -> float:
    return float(coach.settings.report_refresh_days) * 86400.0


def period_start(coach: Coach, now: float) -> float:
    """The start of the period `now` is in (periods follow each other from Monday 1970-01-05, UTC)."""
    length = period_seconds(coach)
    return _MONDAY + math.floor((now - _MONDAY) / length) * length


async def team_profiles(coach: Coach, people: Iterable[Person]) -> dict[str, dict[str, Any]]:
    """The latest profile of each person (by lower-case email) who agreed to share: read through the
    email index, one round trip for the group, whatever the size of the organisation."""
    found: dict[str, dict[str, Any]] = {}
    for email, profiles in (await coach.profiles_by_email([p.email for p in people])).items():
        found[email.lower()] = max(profiles, key=lambda data: float(data.get("updated_at") or 0))
    return {email: data for email, data in found.items() if data.get("consent_share") is True}


async def helped_emails(coach: Coach, emails: set[str]) -> set[str]:
    """Who among `emails` has an accepted introduction (found a mentor, peer coach or host): read by key
    (the email index, then each of their introduction histories), so the cost grows with the group, not
    with the introductions stored."""
    wanted = sorted(emails)
    index = await coach.store.get_many([(EMAILS, e) for e in wanted])
    keys = [(email, key) for email, rec in zip(wanted, index) if rec for key in rec.data.get("keys", [])]
    histories = await coach.store.get_many([(HISTORY, key) for _, key in keys])
    return {email for (email, _), rec in zip(keys, histories) if rec is not None and rec.data.get("accepted")}


def contribution(profile: dict[str, Any], helped: bool) -> dict[str, Any]:
    """What one consenting person adds to the counts (kept only while counting, never stored)."""
    plan = profile.get("plan") or None
    skills = (plan.get("skills") or []) if plan else []
    return {
        "plan": bool(plan), "path": plan.get("path") if plan else None,
        "building": {s.get("id") for s in skills if not s.get("done") and s.get("id")},
        "done": sum(1 for s in skills if s.get("done")), "total": len(skills), "helped": helped,
    }


def aggregate(coach: Coach, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The raw counts over a group (never shown as they are: the report applies its privacy rules)."""
    paths = Counter(p["path"] for p in parts if p["plan"])
    building: Counter[str] = Counter()
    for part in parts:
        building.update(part["building"])
    ranked = sorted(building.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_SKILLS]
    return {
        "group": len(parts), "with_plan": sum(1 for p in parts if p["plan"]),
        "upskill": paths.get("upskill", 0), "reskill": paths.get("reskill", 0),
        "building": [[coach.catalog.skill_name(sid), n] for sid, n in ranked],
        "helped": sum(1 for p in parts if p["helped"]),
        "skills_done": sum(p["done"] for p in parts), "skills_total": sum(p["total"] for p in parts),
        "progressing": sum(1 for p in parts if p["done"] > 0),
    }


def available_scopes(coach: Coach, caller: Caller) -> dict[str, list[Person]]:
    """The scopes a caller may ask for, smallest first: their team, and their whole reporting tree (an
    admin's: the organisation) when it is larger."""
    scopes: dict[str, list[Person]] = {}
    team = team_for(coach, caller, whole_tree=False)
    if team:
        scopes["team"] = team
    tree = team_for(coach, caller, whole_tree=True)
    if tree and {p.email for p in tree} != {p.email for p in team}:
        scopes["tree"] = tree
    return scopes


def counts_of(coach: Coach, caller: Caller, scopes: dict[str, list[Person]], parts: dict[str, dict[str, Any]],
              now: float) -> dict[str, Any]:
    """The snapshot record of one caller (whose `available_scopes` are `scopes`), from the contributions
    (by lower-case email) of everyone who shares: each scope's counts, and how many sharing people the
    tree adds to the team."""
    sharing = {name: {p.email.lower() for p in people} & parts.keys() for name, people in scopes.items()}
    record: dict[str, Any] = {
        "period": period_start(coach, now), "taken_at": now, "admin": caller.is_admin,
        "scopes": {name: aggregate(coach, [parts[e] for e in sorted(emails)]) for name, emails in sharing.items()},
    }
    if "team" in sharing and "tree" in sharing:
        record["tree_adds"] = len(sharing["tree"] - sharing["team"])
    return record


async def contributions(coach: Coach, people: list[Person]) -> dict[str, dict[str, Any]]:
    """The contribution of everyone among `people` who shares, read in batches."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(people), _BATCH):
        profiles = await team_profiles(coach, people[start:start + _BATCH])
        helped = await helped_emails(coach, set(profiles))
        out.update({email: contribution(data, email in helped) for email, data in profiles.items()})
    return out


def _callers(coach: Coach) -> list[Caller]:
    directory = coach.directory
    emails = set(directory.managers()) | set(coach.settings.admin_emails)
    return [Caller(email, "", email in coach.settings.admin_emails, directory.is_manager(email))
            for email in sorted(emails)]


async def take(coach: Coach) -> int:
    """Count every caller's scopes now and store them; the number of callers counted."""
    now = coach.clock()
    parts = await contributions(coach, sorted(coach.directory.people.values(), key=lambda p: p.email))
    callers = _callers(coach)
    for i, caller in enumerate(callers):
        await coach.store.put(SNAPSHOTS, caller.email, counts_of(coach, caller, available_scopes(coach, caller),
                                                                 parts, now))
        if i % 50 == 49:
            await asyncio.sleep(0)   # a large organisation: let turns run between writes
    await coach.store.put(TAKEN, "latest", {"period": period_start(coach, now), "taken_at": now,
                                           "callers": len(callers)})
    log.info("team report snapshot taken: %d managers and admins, %d people sharing", len(callers), len(parts))
    return len(callers)


async def snapshot_for(coach: Coach, caller: Caller, scopes: dict[str, list[Person]]) -> dict[str, Any]:
    """The caller's snapshot record (`scopes`: their `available_scopes`); taken now, for this caller
    alone, when there is none for the current period or it was taken while their admin rights differed."""
    now = coach.clock()
    record = await coach.store.get(SNAPSHOTS, caller.email or "")
    if (record is not None and float(record.data.get("period", -1)) >= period_start(coach, now)
            and bool(record.data.get("admin")) == caller.is_admin):
        return record.data
    everyone = {p.email.lower(): p for people in scopes.values() for p in people}
    parts = await contributions(coach, sorted(everyone.values(), key=lambda p: p.email))
    data = counts_of(coach, caller, scopes, parts, now)
    if caller.email:
        await coach.store.put(SNAPSHOTS, caller.email, data)
    return data


async def snapshot_task(coach: Coach, *, interval: float = POLL) -> None:
    """Take the snapshot when a new period begins (one process at a time: the `report-snapshot` lease)."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{id(coach):x}"
    while True:
        try:
            now = coach.clock()
            latest = await coach.store.get(TAKEN, "latest")
            due = latest is None or float(latest.data.get("period", -1)) < period_start(coach, now)
            if due and await coach.store.try_lease(LEASE, owner, 600.0, now=now):
                await take(coach)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not take the team report snapshot; trying again in %.0f s", interval)
        await asyncio.sleep(interval)
