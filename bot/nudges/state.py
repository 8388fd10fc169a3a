"""What nudges keep in the store: the names of their queues, collections and lease, and the per-person
record ``nudge_state/<email>`` that makes the frequency cap hold across managers and processes (when the
person was last nudged, by which fan-out, how far its delivery got, and an opt-out), with the small
writes the worker makes to it when a send is retried or given up."""

from __future__ import annotations

from typing import Any

from bot.people import Person
from bot.store import Store, update

FANOUT_QUEUE = "nudge-fanouts"     # one job per fan-out: expand it into one job per person
NUDGE_QUEUE = "nudges"             # one job per person (key ``<fanout>:<email>``), progress and summary
FANOUTS = "nudge_fanouts"          # fan-out records, key = fan-out id
NUDGE_STATE = "nudge_state"        # per person (lower-case email): last nudge, its fan-out, opt-out
SCHEDULES = "nudge_schedules"      # recurring nudges, key = manager email
SCHEDULE_LEASE = "nudge-schedule"

REASONS = ("opted_out", "recent", "unreachable")   # why someone was not nudged, in the order reported


def known_id(person: Person, platform: str) -> str | None:
    """The person's platform id from the organisation file, if it has one."""
    return person.slack_id if platform == "slack" else person.teams_id if platform == "teams" else None


def recent(state: dict[str, Any], now: float, period: float) -> bool:
    """Whether the person was nudged within the period (the frequency cap)."""
    last = state.get("last_nudged_at")
    return last is not None and now - float(last) < period


async def set_status(store: Store, email: str, fid: str, status: str) -> None:
    """Mark how far this fan-out's nudge to the person got (only while the slot is still this fan-out's)."""
    def change(data):
        if data is None or data.get("fanout") != fid:
            return None
        data["status"] = status
        return data

    await update(store, NUDGE_STATE, email, change)


async def undo_reservation(store: Store, email: str, fid: str) -> None:
    """Give the person's nudge slot back: this fan-out's nudge was never delivered."""
    def change(data):
        if data is None or data.get("fanout") != fid:
            return None
        data.update(last_nudged_at=data.get("previous"), status="undelivered", fanout=None)
        return data

    await update(store, NUDGE_STATE, email, change)
