"""The replies nudges are made of, put together from the texts in `bot.messages.Nudges`: the direct
message a report gets (the manager's note, why a plan matters, and three buttons), the acknowledgement
of `/nudge-team`, the progress messages and the final summary the manager gets, and the description of a
recurring nudge."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.messages import Nudges as T
from bot.nudges.state import REASONS
from bot.types import Choice, Reply

RECENT_PLAN_DAYS = 60              # a plan updated within this many days gets the "check in" variant


def nudge_reply(fanout: dict[str, Any], profile: dict[str, Any] | None, now: float) -> Reply:
    """The direct message one report gets: the manager's note, why it matters, and three choices."""
    plan = (profile or {}).get("plan")
    parts = [T.NUDGE_INTRO.format(manager=fanout.get("manager_name") or T.MANAGER)]
    if fanout.get("note"):
        parts.append("> " + fanout["note"].replace("\n", "\n> "))
    if plan:
        updated = float(plan.get("updated_at") or plan.get("created_at") or 0)
        if now - updated < RECENT_PLAN_DAYS * 86400:
            parts.append(T.NUDGE_CHECKIN)
            label = T.LABEL_CHECKIN
        else:
            parts.append(T.NUDGE_UPDATE)
            label = T.LABEL_UPDATE
    else:
        parts.append(T.NUDGE_NEW)
        label = T.LABEL_START
    return Reply(
        "\n".join(parts),
        choices=(Choice("nudge:start", label), Choice("nudge:later", T.LABEL_LATER), Choice("nudge:stop", T.LABEL_STOP)),
        prompt_id=f"nudge:{fanout.get('id', '')}",
    )


def every(days: float) -> str:
    """How often a recurring nudge comes ("week", "2 weeks", "10 days")."""
    weeks = days / 7
    if weeks == 1:
        return T.EVERY_WEEK
    return T.EVERY_WEEKS.format(weeks=weeks) if weeks == int(weeks) else T.EVERY_DAYS.format(days=days)


def platform_name(platform: str) -> str:
    return T.PLATFORM_NAMES.get(platform, platform)


def schedule_status(sched: dict[str, Any], days: int) -> str:
    """`/nudge-team status`: what the manager's recurring nudge covers and when it next comes."""
    return T.SCHEDULE_STATUS.format(
        every=every(float(sched["every_days"])), scope=T.SCOPE_TREE if sched.get("whole_tree") else T.SCOPE_DIRECT,
        days=days, note=T.SCHEDULE_NOTE.format(note=sched["note"]) if sched.get("note") else "")


def _skipped_phrase(counts: dict[str, int], platform: str) -> str:
    parts = [f"{counts[r]} {T.SKIPPED_LABELS[r].format(platform=platform_name(platform))}"
             for r in REASONS if counts.get(r)]
    return ", ".join(parts) if parts else T.SKIPPED_NONE


def ack_text(record: dict[str, Any], period_days: float) -> str:
    """The answer to `/nudge-team`: how many will be nudged, and how many are skipped and why."""
    n = len(record["targets"])
    head = (T.ACK_ONE if n == 1 else T.ACK_MANY).format(n=n, platform=platform_name(record["platform"])) \
        if n else T.ACK_NOBODY
    skipped = record["skipped"]
    text = f"{head}\n{T.SKIPPED.format(what=_skipped_phrase(skipped, record['platform']))}"
    if skipped.get("recent"):
        text += T.CAP.format(days=period_days)
    if n:
        text += "\n" + T.SUMMARY_PROMISE
    return text


def _final_counts(data: dict[str, Any]) -> tuple[int, Counter[str], int]:
    skipped = Counter(data.get("skipped", {}))
    outcomes = Counter(data.get("results", {}).values())
    for reason in REASONS:
        skipped[reason] += outcomes.get(reason, 0)
    return outcomes.get("sent", 0), skipped, outcomes.get("failed", 0)


def summary_text(data: dict[str, Any]) -> str:
    """The manager's summary once every nudge of a fan-out has an outcome."""
    sent, skipped, failed = _final_counts(data)
    head = (T.FINISHED_SCHEDULED if data.get("scheduled") else T.FINISHED).format(sent=sent)
    text = f"{head}\n{T.SKIPPED.format(what=_skipped_phrase(skipped, data['platform']))}"
    return text + "\n" + (T.FAILED.format(failed=failed) if failed else T.FAILED_NONE)


def progress_text(data: dict[str, Any]) -> str:
    """A progress message to the manager of a big team (at 25, 50 and 75 %)."""
    return T.PROGRESS.format(done=data["done"], total=data["total"])
