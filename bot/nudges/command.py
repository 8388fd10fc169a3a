"""What managers and reports say to nudges: `parse_args` reads the arguments of `/nudge-team` (Slack)
or `nudge team` (Teams) — `--all`, `every N weeks`, `stop`, `status`, `help`, leading emails or Slack
mentions, and a free note; `nudge_team_command` checks that the caller may manage the people asked for
(their reports, or anyone for an admin), sets up or reports a schedule, starts the fan-out and answers at
once with what will happen; `nudge_action` handles the buttons on a nudge (start / not now / stop)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core import Coach
from bot.messages import Nudges as T
from bot.nudges import schedule
from bot.nudges.privacy import opt_out
from bot.nudges.replies import ack_text, every, platform_name, schedule_status
from bot.nudges.service import service
from bot.org import caller_of, email_of, person_of, team_for
from bot.people import Person
from bot.person import read_profile
from bot.types import FollowUp, Incoming, Reply

MAX_NOTE = 600


@dataclass
class NudgeRequest:
    """What `/nudge-team` was asked to do (`error`: why the arguments cannot be done as given)."""

    whole_tree: bool = False
    every_days: float | None = None
    stop: bool = False
    help: bool = False
    status: bool = False
    targets: list[str] = field(default_factory=list)
    note: str = ""
    error: str | None = None


_EVERY = re.compile(r"^(?:--)?every\s+(?:(\d+)\s*)?(day|days|week|weeks|wk|wks|w|month|months)\b[\s,.:;-]*", re.I)
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^<?(?:mailto:)?([^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+?)(?:\|[^>]*)?>?$")


def parse_args(text: str) -> NudgeRequest:
    """`--all`, `every N weeks`, `stop`, leading emails / Slack mentions, and a free note."""
    req = NudgeRequest()
    text = (text or "").strip()
    lowered = text.lower()
    if lowered in ("help", "--help", "?"):
        req.help = True
        return req
    if lowered in ("stop", "--stop", "stop schedule", "off", "unschedule"):
        req.stop = True
        return req
    if lowered in ("status", "--status", "schedule"):
        req.status = True
        return req
    words = text.split()
    if "--all" in words or lowered == "all":
        req.whole_tree = True
        words = [w for w in words if w != "--all"] if lowered != "all" else []
    text = " ".join(words)
    m = _EVERY.match(text)
    if m:
        n = int(m.group(1) or 1)
        unit = m.group(2).lower()
        days = n * (1 if unit.startswith("day") else 30 if unit.startswith("month") else 7)
        if not 7 <= days <= 84:
            req.error = T.BAD_SCHEDULE
        req.every_days = float(days)
        text = text[m.end():]
        if text.lower().startswith("--all"):
            req.whole_tree, text = True, text[5:]
    words = text.split()
    while words:
        mention, email = _MENTION.match(words[0]), _EMAIL.match(words[0])
        if mention:
            req.targets.append(mention.group(1))
        elif email:
            req.targets.append(email.group(1).lower())
        else:
            break
        words.pop(0)
    req.note = " ".join(words)[:MAX_NOTE].strip()
    return req


async def nudge_team_command(coach: Coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    """`/nudge-team` / `nudge team`: the answer to the manager, given at once (delivery follows)."""
    svc = service(coach)
    req = parse_args(incoming.text)
    if req.help:
        return [Reply(T.HELP.format(days=f"{coach.settings.nudge_period_days:g}"))]
    caller = caller_of(coach, incoming, await person_of(coach, incoming, person))
    if not caller.may_manage:
        return [Reply(T.NOT_A_MANAGER if person is not None else T.NOT_A_MANAGER_UNKNOWN)]
    if req.error:
        return [Reply(req.error)]
    if req.stop:
        removed = await schedule.stop(coach, caller.email)
        return [Reply(T.SCHEDULE_STOPPED if removed else T.NO_SCHEDULE)]
    if req.status:
        record = await schedule.find(coach, caller.email)
        if record is None:
            return [Reply(T.NO_SCHEDULE)]
        sched = record.data
        days = max(0, round((float(sched["next_at"]) - coach.clock()) / 86400))
        return [Reply(schedule_status(sched, days))]
    people = team_for(coach, caller, whole_tree=req.whole_tree or bool(req.targets))
    if req.targets:
        allowed = {p.email: p for p in people}
        chosen, unknown, outside = [], [], []
        for target in req.targets:
            p = coach.directory.by_email(target) if "@" in target else coach.directory.by_platform(
                incoming.platform, target)
            if p is None:
                unknown.append(target)
            elif p.email in allowed:
                chosen.append(p)
            else:
                outside.append(p.name)
        if outside:
            return [Reply(T.OUTSIDE_TEAM.format(who=", ".join(outside)))]
        if unknown:
            return [Reply(T.UNKNOWN_TARGETS.format(who=", ".join(unknown)))]
        people = list({p.email: p for p in chosen}.values())
    if not people:
        return [Reply(T.ADMIN_NO_TEAM)]
    if incoming.platform not in coach.messengers:
        return [Reply(T.NO_PLATFORM.format(platform=platform_name(incoming.platform)))]
    replies: list[Reply] = []
    if req.every_days:
        await schedule.save(coach, caller.email or incoming.user_key, caller=caller, platform=incoming.platform,
                            reply_to=incoming.user_id, every_days=req.every_days, whole_tree=req.whole_tree,
                            note=req.note)
        replies.append(Reply(T.SCHEDULED.format(every=every(req.every_days))))
    record = await svc.start_fanout(caller=caller, platform=incoming.platform, reply_to=incoming.user_id,
                                    people=people, note=req.note)
    replies.append(Reply(ack_text(record, coach.settings.nudge_period_days)))
    return replies


async def nudge_action(coach: Coach, incoming: Incoming) -> list[Reply]:
    """A report pressed a button on a nudge: start / not now / stop these reminders."""
    action = (incoming.choice or "").partition(":")[2]
    profile = await read_profile(coach.store, incoming.user_key)
    email = await email_of(coach, incoming)
    if action == "stop":
        await opt_out(coach, incoming.user_key, email, profile is not None)
        return [Reply(T.STOPPED)]
    if action == "start":
        # the conversation goes on as if the person had typed it (the turn runs the dialog on it)
        return FollowUp("my plan" if profile and profile.data.get("plan") else "start")
    return [Reply(T.LATER)]
