"""The team report: `/team-skills` (Slack) and `team skills` (Teams).

An aggregate, privacy-preserving picture of where a manager's team is growing, over the reports who
agreed to share (`consent_share` in their profile, asked in the interview, changeable any time):
how many have a plan, upskill vs reskill, the skills most being built, how many found a mentor or a
shadowing host (an accepted introduction), and plan progress.

Privacy rules (k = `settings.min_group_size`, default 5):
* shown only when at least k people are in the group; otherwise the reply says so and shows nothing
  more — not even how many agreed;
* never a name, an answer or a goal of one person: counts only;
* every figure splits the group into parts (with a plan / without; upskilling / reskilling / no plan;
  found help / not; finished a skill / not; building a skill / not). A figure's numbers are shown only
  when every one of its parts holds at least k people; otherwise every part of it reads "not shown",
  so neither a small part nor its complement can be worked out (complementary suppression). A skill
  is listed only when k or more people build it, with its count only when k or more people do not;
  the skills-done total is shown only when the progress split is;
* scopes: a scope whose consenting people differ from a larger scope the caller may ask for (their
  reporting tree, an admin's organisation) by fewer than k is not shown; the larger one is shown
  instead, so two reports can never be subtracted to single out a few people.

The card carries charts (bot/charts.py: the top skills, upskilling vs reskilling, plan progress — PNGs
drawn with matplotlib from the visible figures only, kept in the store and served by the app at
``GET /charts/<token>.png``) when a public base URL is configured (``settings.public_url``);
`add_routes(app, coach)` mounts that route.

Scope: direct reports by default, the whole reporting tree with `--all` (an admin with `--all`: the
whole organisation). The counts come from the caller's snapshot (`bot/snapshot.py`), taken once per
period rather than on each request, so two reports cannot be subtracted to see one person's change;
the card says when its figures were taken.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.core import Coach
from bot import charts
from bot.messages import Report as T
from bot.org import caller_of, person_of
from bot.people import Person
from bot.snapshot import TOP_SKILLS, available_scopes, period_seconds, snapshot_for
from bot.types import Card, CardSection, Incoming, Reply

log = logging.getLogger("skillcoach.report")


def held_back(k: int) -> str:
    return f"not shown (fewer than {k} on one side)"


def split(parts: list[int], k: int) -> list[str]:
    """A split of the group as it may be shown: its numbers when every part holds at least k people,
    else every part the same way (a number for one part would, with the group's size and the other
    parts, narrow down the small one)."""
    return [str(n) for n in parts] if all(n >= k for n in parts) else [held_back(k)] * len(parts)


def visible_figures(stats: dict[str, Any], k: int) -> dict[str, Any]:
    """Every figure the card shows, after the privacy rules (see the module's docstring)."""
    n = stats["group"]
    with_plan = stats["with_plan"]
    plan_split = split([with_plan, n - with_plan], k)
    path_split = split([stats["upskill"], stats["reskill"], n - with_plan], k)
    helped_split = split([stats["helped"], n - stats["helped"]], k)
    progress_split = split([stats["progressing"], n - stats["progressing"]], k)
    skills = []
    for name, count in stats["building"]:
        if count < k or len(skills) == TOP_SKILLS:
            break  # ranked by count: the rest are smaller still
        skills.append((name, str(count) if n - count >= k else f"{k} or more"))
    splits = (plan_split, path_split, helped_split, progress_split)
    return {
        "with_plan": plan_split[0], "upskill": path_split[0], "reskill": path_split[1],
        "helped": helped_split[0], "progressing": progress_split[0], "skills": skills,
        "skills_done": (stats["skills_done"], stats["skills_total"]) if progress_split[0].isdigit() else None,
        "held_back": any(not figure[0].isdigit() for figure in splits),
    }


def _of(value: str, n: int) -> str:
    return f"{value} of {n}" if value.isdigit() else value


def report_card(stats: dict[str, Any], scope_title: str, *, k: int = 5, note: str | None = None,
                fig: dict[str, Any] | None = None, when: str | None = None,
                images: tuple[tuple[str, str], ...] = ()) -> Card:
    """The card of `stats`; `fig` is `visible_figures(stats, k)` when the caller has it already;
    `images`: the charts (URL, alt text)."""
    n = stats["group"]
    fig = fig or visible_figures(stats, k)
    if fig["skills_done"] is not None:
        done, total = fig["skills_done"]
        pct = round(100 * done / total) if total else 0
        skills_done = T.SKILLS_DONE_VALUE.format(done=done, total=total, pct=pct)
    else:
        skills_done = held_back(k)
    lines = tuple(T.TOP_SKILL.format(name=name, count=count) for name, count in fig["skills"])
    sections = [
        CardSection(T.PLANS, facts=(
            (T.HAVE_PLAN, _of(fig["with_plan"], n)),
            (T.UPSKILLING, fig["upskill"]),
            (T.RESKILLING, fig["reskill"]),
        )),
        CardSection(T.TOP_SKILLS, lines=lines or (T.NO_TOP_SKILL.format(k=k),)),
        CardSection(T.HELP_SECTION, facts=((T.HELPED, _of(fig["helped"], n)),)),
        CardSection(T.PROGRESS, facts=(
            (T.SKILLS_DONE, skills_done),
            (T.PROGRESSING, _of(fig["progressing"], n)),
        )),
    ]
    notes = []
    if fig["held_back"]:
        notes.append(T.HELD_BACK.format(k=k))
    if note:
        notes.append(note)
    if notes:
        sections.append(CardSection(T.ABOUT, lines=tuple(notes)))
    if when:
        sections.append(CardSection(T.WHEN, lines=(when,)))
    return Card(
        title=T.TITLE.format(scope=scope_title), summary=T.SHARING.format(n=n),
        sections=tuple(sections), images=images, kind="report",
    )


async def team_skills_command(coach: Coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    text = (incoming.text or "").strip().lower()
    if text in ("help", "--help", "?"):
        return [Reply(T.HELP)]
    whole = "--all" in text.split() or text == "all"
    caller = caller_of(coach, incoming, await person_of(coach, incoming, person))
    if not caller.may_manage:
        return [Reply(T.NOT_A_MANAGER)]
    scopes = available_scopes(coach, caller)
    wanted = "tree" if whole else "team"
    if wanted not in scopes:
        wanted = "tree" if "tree" in scopes else "team"
    if not scopes.get(wanted):
        return [Reply(T.NO_TEAM)]
    minimum = int(coach.settings.min_group_size)
    snap = await snapshot_for(coach, caller, scopes)
    counted = snap["scopes"]
    chosen = scope_to_show(wanted, {name: counted[name]["group"] for name in counted}, snap.get("tree_adds", 0), minimum)
    note = T.SCOPE_WIDENED.format(k=minimum, asked=SCOPE_NAMES[caller.is_admin, wanted],
                                  shown=SCOPE_NAMES[caller.is_admin, chosen]) if chosen != wanted else None
    scope = SCOPE_NAMES[caller.is_admin, chosen]
    when = taken_line(coach, float(snap["taken_at"]), float(snap["period"]))
    stats = counted[chosen]
    if stats["group"] < minimum:
        return [Reply(T.TOO_FEW.format(min=minimum, scope=scope) + " " + when)]
    fig = visible_figures(stats, minimum)
    images: tuple[tuple[str, str], ...] = ()
    try:
        images = await charts.chart_images(coach, fig, stats["group"])  # from the visible figures only
    except Exception:  # the charts are a nicety: the report goes out without them
        log.exception("could not draw the team charts; sending the report without them")
    title = "the organisation" if scope == "your organisation" else scope
    card = report_card(stats, title, k=minimum, note=note, fig=fig, when=when, images=images)
    return [Reply(T.INTRO_TEXT.format(scope=scope), card=card)]


def _day(ts: float) -> str:
    return time.strftime("%a %d %b %Y", time.gmtime(ts)).replace(" 0", " ")


def taken_line(coach: Coach, taken_at: float, period: float) -> str:
    """When the figures were counted and when they are next (the card and the "too few" answer say it)."""
    stamp = time.strftime("%H:%M UTC", time.gmtime(taken_at))
    return T.TAKEN.format(day=_day(taken_at), time=stamp, every=_every(coach), next=_day(period + period_seconds(coach)))


def _every(coach: Coach) -> str:
    days = float(coach.settings.report_refresh_days)
    return {7.0: "once a week", 1.0: "once a day"}.get(days, f"every {days:g} days")


SCOPE_NAMES = {(False, "team"): "your team", (False, "tree"): "your reporting tree",
               (True, "team"): "your team", (True, "tree"): "your organisation"}


def scope_to_show(wanted: str, sharing: dict[str, int], tree_adds: int, k: int) -> str:
    """The asked-for scope, unless a larger available scope adds 1 … k-1 sharing people to it: then the
    larger one (shown alone, the two can never be subtracted). `sharing`: each scope's sharing people."""
    if wanted == "team" and "tree" in sharing and 0 < tree_adds < k:
        return "tree"
    return wanted


def register(coach: Coach) -> None:
    """Install `/team-skills` / `team skills` on a coach."""
    coach.command_handlers["team-skills"] = team_skills_command


# -- the charts: drawn by bot/charts.py from the visible figures; the route is mounted from here ---
add_routes = charts.add_routes
