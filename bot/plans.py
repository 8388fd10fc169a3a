"""Plans: made from the interview's answers, shown as a card, and kept up to date as skills are done."""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz

from bot import messages as M
from bot.context import Ctx, Services
from bot.matching import normalise
from bot.people import Directory
from bot.recommend import Recommender, RoleRef
from bot.types import Card, CardSection, Reply

OFFER_LABEL = {"mentoring": "mentoring", "peer_coaching": "peer coaching", "shadowing": "job shadowing"}


async def make_plan(ctx: Ctx) -> None:
    """Build the plan from the answers, store it in the profile and show it."""
    coach = ctx.coach
    d = ctx.data
    current = RoleRef.from_dict(d.get("role")) or RoleRef(None, "your role", None)
    target = RoleRef.from_dict(d.get("target"))
    me = coach.person_for(ctx.incoming)
    plan = coach.recommender.plan(
        current,
        d.get("skills", []),
        d.get("goal", "grow"),
        target,
        hours_per_week=float(d.get("hours", 4)),
        prefs=d.get("prefs"),
        directory=coach.directory,
        me_email=(me.email if me else ctx.incoming.email),
        max_people=8,
        tenure=d.get("tenure"),
        senior=bool(d.get("senior")),
    )
    plan.people = await available_people(coach, plan.people, limit=3)
    now = coach.clock()
    previous = ctx.profile.get("plan") or {}
    plan_dict = plan.as_dict()
    plan_dict["created_at"] = now
    plan_dict["updated_at"] = now
    # progress carries over for skills that stay in the plan
    done_before = {s["id"] for s in previous.get("skills", []) if s.get("done")}
    for skill in plan_dict["skills"]:
        skill["done"] = skill["id"] in done_before
    ctx.profile.update(
        role=current.as_dict(),
        tenure=d.get("tenure"),
        skills=d.get("skills", []),
        goal=d.get("goal", "grow"),
        target=target.as_dict() if (target and plan.path == "reskill") else None,
        hours_per_week=plan.hours_per_week,
        prefs=d.get("prefs", []),
        plan=plan_dict,
    )
    ctx.plan_changed = True
    ctx.say(M.PLAN_READY)
    ctx.replies.append(plan_reply(ctx.profile, coach.directory))


async def available_people(coach: Services, people: list, *, limit: int) -> list:
    """The suggested helpers who can take someone on now (not paused, capacity left)."""
    out = []
    for candidate in people:
        person = coach.directory.by_email(candidate.email)
        ok = person is not None
        for allowed in coach.helper_filters:
            if not ok:
                break
            ok = await allowed(coach, person, candidate.offer)
        if ok:
            out.append(candidate)
        if len(out) >= limit:
            break
    return out


def plan_card(plan: dict[str, Any], directory: Directory | None = None) -> Card:
    """The plan as a neutral card; without an organisation file it says where else to find people."""
    skills = plan.get("skills", [])
    done = sum(1 for s in skills if s.get("done"))
    if plan.get("path") == "reskill":
        title = M.PLAN_TITLE_RE.format(current=plan["current"]["title"], target=plan["target"]["title"])
    else:
        title = M.PLAN_TITLE_UP.format(title=plan["current"]["title"])
    sections: list[CardSection] = []
    lines: list[str] = []
    for i, s in enumerate(skills, 1):
        if s.get("done"):   # its reason ("not yet among your strengths", "new to you") no longer holds
            lines.append(M.PLAN_SKILL_DONE.format(skill=s["name"]))
            continue
        lines.append(M.PLAN_SKILL.format(i=i, skill=s["name"], reason=s["reason"]))
        for o in s.get("options", []):
            url = f" {o['url']}" if o.get("url") else ""
            lines.append(M.PLAN_OPTION.format(title=o["title"], provider=o["provider"], type=o["type"],
                                              hours=o["hours"], url=url))
        if not s.get("options"):
            lines.append(M.PLAN_NO_OPTION)
    sections.append(CardSection(M.PLAN_SKILLS, tuple(lines)))
    if plan.get("strengths"):
        sections.append(CardSection(M.PLAN_STRENGTHS, (", ".join(plan["strengths"]),)))
    people = plan.get("people") or []
    if people:
        sections.append(CardSection(M.PLAN_PEOPLE, tuple(
            M.PLAN_PERSON.format(name=p["name"], role=p["role"], why=p["why"], email=p["email"]) for p in people
        )))
    elif directory is None or not len(directory):
        sections.append(CardSection(M.PLAN_PEOPLE, (M.PLAN_NO_ORG,)))
    else:
        sections.append(CardSection(M.PLAN_PEOPLE, (M.PLAN_NO_PEOPLE,)))
    if plan.get("association"):
        a = plan["association"]
        url = f" — {a['url']}" if a.get("url") else ""
        sections.append(CardSection(M.PLAN_ASSOCIATION, (f"{a['name']}{url}",)))
    facts = (
        (M.PLAN_PATH, M.PLAN_UPSKILLING if plan.get("path") == "upskill" else M.PLAN_RESKILLING),
        (M.PLAN_HOURS, M.PLAN_HOURS_VALUE.format(hours=plan.get("hours_per_week", 0))),
        (M.PLAN_READY_IN, M.PLAN_READY_IN_VALUE.format(weeks=plan.get("weeks", 0), hours=plan.get("total_hours", 0))),
        (M.PLAN_PROGRESS, M.PLAN_PROGRESS_VALUE.format(done=done, total=len(skills))),
    )
    sections.append(CardSection(M.PLAN_GLANCE, facts=facts))
    summary = plan.get("path_reason", "")
    if plan.get("note"):
        summary = f"{summary}\n{plan['note']}"
    return Card(title=title, summary=summary, sections=tuple(sections), kind="plan")


def plan_reply(profile: dict[str, Any], directory: Directory | None = None) -> Reply:
    plan = profile.get("plan")
    if not plan:
        return Reply(M.NO_PLAN_YET)
    return Reply(card=plan_card(plan, directory))  # the card's title is the notification text


async def mark_done(ctx: Ctx, text: str, *, skill_id: str | None = None) -> bool:
    """Mark the plan skill (or course) that `text` names as done; reply either way."""
    plan = ctx.profile.get("plan")
    if not plan:
        ctx.say(M.NO_PLAN_YET)
        return False
    skills = plan.get("skills", [])
    target = next((s for s in skills if s["id"] == skill_id), None) if skill_id else find_plan_skill(ctx.coach.recommender, plan, text)
    if target is None:
        ctx.say(M.NO_SUCH_STEP.format(text=text.strip()[:80], skills=", ".join(s["name"] for s in skills)))
        return False
    was_done = target.get("done")
    target["done"] = True
    target["done_at"] = target.get("done_at") or ctx.coach.clock()
    plan["updated_at"] = ctx.coach.clock()
    done = sum(1 for s in skills if s.get("done"))
    msg = M.ALREADY_DONE if was_done else M.MARKED_DONE
    ctx.say(msg.format(skill=target["name"], done=done, total=len(skills)))
    if done == len(skills) and not was_done:
        ctx.say(M.ALL_DONE)
    ctx.plan_changed = True
    return True


def find_plan_skill(recommender: Recommender, plan: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The plan skill a sentence refers to: by skill name/alias, or by one of its course titles."""
    skills = plan.get("skills", [])
    skill_id = recommender.skills.find_in(text)
    if skill_id:
        hit = next((s for s in skills if s["id"] == skill_id), None)
        if hit:
            return hit
    key = normalise(text)
    best: tuple[float, dict[str, Any]] | None = None
    for s in skills:
        names = [s["name"]] + [o["title"] for o in s.get("options", [])]
        for name in names:
            score = fuzz.partial_ratio(normalise(name), key) if len(key) >= 3 else 0
            if score >= 85 and (best is None or score > best[0]):
                best = (score, s)
    return best[1] if best else None
