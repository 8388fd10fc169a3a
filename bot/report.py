"""The team report: `/team-skills` (Slack) and `team skills` (Teams).

An aggregate, privacy-preserving picture of where a manager's team is growing, over the reports who
agreed to share (`consent_share` in their profile, asked in the interview, changeable any time):
how many have a plan, upskill vs reskill, the skills most being built, how many found a mentor or a
shadowing host (an accepted introduction), and plan progress.

Privacy rules:
* shown only when at least `settings.min_group_size` (5) people are in the group; otherwise the reply
  says so and shows nothing more — not even how many agreed;
* never a name, an answer or a goal of one person: counts only;
* a skill being built by only one person is not listed (it could point at someone).

Scope: direct reports by default, the whole reporting tree with `--all` (an admin with `--all`: the
whole organisation). Profiles are found by one scan of the profiles collection (a report path, never a
chat turn) and tied to people by their email.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from bot.org import caller_of, person_of, team_for
from bot.people import Person
from bot.store import PROFILES
from bot.types import Card, CardSection, Incoming, Reply

log = logging.getLogger("skillcoach.report")

TOP_SKILLS = 5
MIN_SKILL_COUNT = 2

NOT_A_MANAGER = (
    "The team view is for managers: it shows a summary of their reports' growth plans. I don't see "
    "anyone reporting to you in the organisation file."
)
NO_TEAM = "Nobody reports to you in the organisation file. As an admin, use `--all` for the whole organisation."
TOO_FEW = (
    "Fewer than {min} people in {scope} have agreed to share their plans in the team view, so I can't "
    "show it yet — below {min} people a summary could point at someone. It appears once {min} have agreed."
)
INTRO_TEXT = "Where {scope} is growing — counts only, over the people who agreed to share."
HELP = "`/team-skills` shows a summary of your direct reports' plans; `/team-skills --all` your whole reporting tree."


async def team_profiles(coach, people: list[Person]) -> dict[str, dict[str, Any]]:
    """The latest profile of each person (by email) who agreed to share."""
    emails = {p.email.lower() for p in people}
    found: dict[str, dict[str, Any]] = {}
    async for record in coach.store.scan(PROFILES):
        data = record.data
        email = str(data.get("email") or "").lower()
        if email not in emails:
            continue
        current = found.get(email)
        if current is None or float(data.get("updated_at") or 0) > float(current.get("updated_at") or 0):
            found[email] = data
    return {email: data for email, data in found.items() if data.get("consent_share") is True}


async def helped_emails(coach, emails: set[str]) -> set[str]:
    """Who among `emails` has an accepted introduction (found a mentor, peer coach or host)."""
    from bot.intros import INTROS

    out: set[str] = set()
    async for record in coach.store.scan(INTROS):
        data = record.data
        requester = str((data.get("requester") or {}).get("email") or "").lower()
        if data.get("status") == "accepted" and requester in emails:
            out.add(requester)
    return out


def aggregate(coach, profiles: dict[str, dict[str, Any]], helped: set[str]) -> dict[str, Any]:
    plans = [p["plan"] for p in profiles.values() if p.get("plan")]
    paths = Counter(plan.get("path") for plan in plans)
    building: Counter[str] = Counter()
    done = total = progressing = 0
    for plan in plans:
        skills = plan.get("skills") or []
        ids = {s.get("id") for s in skills if not s.get("done") and s.get("id")}
        building.update(ids)
        finished = sum(1 for s in skills if s.get("done"))
        done += finished
        total += len(skills)
        progressing += finished > 0
    top = [(coach.catalog.skill_name(sid), n) for sid, n in sorted(building.items(), key=lambda kv: (-kv[1], kv[0]))
           if n >= MIN_SKILL_COUNT][:TOP_SKILLS]
    return {
        "group": len(profiles), "with_plan": len(plans), "upskill": paths.get("upskill", 0),
        "reskill": paths.get("reskill", 0), "top_skills": top, "helped": len(helped & set(profiles)),
        "skills_done": done, "skills_total": total, "progressing": progressing,
    }


def report_card(stats: dict[str, Any], scope_title: str, image_url: str | None = None) -> Card:
    n = stats["group"]
    pct = round(100 * stats["skills_done"] / stats["skills_total"]) if stats["skills_total"] else 0
    sections = [
        CardSection("Plans", facts=(
            ("Have a plan", f"{stats['with_plan']} of {n}"),
            ("Upskilling (growing in their role)", str(stats["upskill"])),
            ("Reskilling (moving to a new role)", str(stats["reskill"])),
        )),
        CardSection(
            "Skills most being built",
            lines=tuple(f"• {name} — {count} people" for name, count in stats["top_skills"])
            or ("• No skill is being built by more than one person yet",),
        ),
        CardSection("Help from colleagues", facts=(
            ("Found a mentor, peer coach or shadowing host", f"{stats['helped']} of {n}"),
        )),
        CardSection("Progress", facts=(
            ("Skills done", f"{stats['skills_done']} of {stats['skills_total']} ({pct}%)"),
            ("People who finished at least one skill", f"{stats['progressing']} of {n}"),
        )),
    ]
    return Card(
        title=f"Team skills — {scope_title}", summary=f"{n} people who agreed to share",
        sections=tuple(sections), image_url=image_url,
        image_alt="Bar chart of the skills most being built" if image_url else None, kind="report",
    )


async def team_skills_command(coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    text = (incoming.text or "").strip().lower()
    if text in ("help", "--help", "?"):
        return [Reply(HELP)]
    whole = "--all" in text.split() or text == "all"
    caller = caller_of(coach, incoming, await person_of(coach, incoming, person))
    if not caller.may_manage:
        return [Reply(NOT_A_MANAGER)]
    people = team_for(coach, caller, whole_tree=whole)
    if not people:
        return [Reply(NO_TEAM)]
    scope = "your organisation" if whole and caller.is_admin else "your reporting tree" if whole else "your team"
    profiles = await team_profiles(coach, people)
    minimum = int(coach.settings.min_group_size)
    if len(profiles) < minimum:
        return [Reply(TOO_FEW.format(min=minimum, scope=scope))]
    helped = await helped_emails(coach, set(profiles))
    stats = aggregate(coach, profiles, helped)
    image_url = None
    try:
        from bot.charts import chart_url  # optional: served by the app when a public URL is configured

        image_url = await chart_url(coach, stats["top_skills"])
    except ImportError:
        pass
    except Exception:
        log.exception("could not draw the team chart; sending the report without it")
    title = {"your team": "your team", "your reporting tree": "your reporting tree",
             "your organisation": "the organisation"}[scope]
    return [Reply(INTRO_TEXT.format(scope=scope), card=report_card(stats, title, image_url))]


def register(coach) -> None:
    """Install `/team-skills` / `team skills` on a coach."""
    coach.command_handlers["team-skills"] = team_skills_command
