"""The plan and progress: what comes after the interview (next steps, marking skills done)."""

from __future__ import annotations

from bot import messages as M
from bot.context import Ctx
from bot.plans import mark_done, plan_reply
from bot.types import Choice, Incoming
from dialogs.states import S


def plan_next_choices(ctx: Ctx) -> list[Choice]:
    choices = [Choice("mark_done", M.NEXT_MARK_DONE), Choice("show_plan", M.NEXT_SHOW_PLAN)]
    if "intro" in ctx.coach.action_handlers:
        for person in (ctx.profile.get("plan") or {}).get("people", [])[:3]:
            offer = person.get("offer", "mentoring")
            label = M.ASK_PERSON.get(offer, M.ASK_PERSON_OTHER)
            choices.append(Choice(f"intro:ask:{person['email']}:{offer}", label.format(name=person["name"])))
    choices.append(Choice("restart", M.NEXT_START_OVER))
    return choices


def ask_plan(ctx: Ctx) -> None:
    """Next steps once a plan exists."""
    ctx.ask(M.NEXT_STEPS, plan_next_choices(ctx))


async def answer_plan(ctx: Ctx, inc: Incoming) -> S | None:
    choice = ctx.chosen()
    if choice is None:
        ctx.say(M.IDLE_HINT)
        return S.PLAN
    if choice.value == "mark_done":
        if not any(not s.get("done") for s in (ctx.profile.get("plan") or {}).get("skills", [])):
            ctx.say(M.ALL_DONE)
            return S.PLAN
        return S.MARK_DONE
    if choice.value == "show_plan":
        ctx.replies.append(plan_reply(ctx.profile, ctx.coach.directory))
        return S.PLAN
    if choice.value == "restart":
        ctx.say(M.RESTARTING)
        ctx.convo["data"] = {}
        return S.ROLE
    return S.PLAN


def ask_mark_done(ctx: Ctx) -> None:
    """Which skill of the plan was finished."""
    plan = ctx.profile.get("plan") or {}
    open_skills = [s for s in plan.get("skills", []) if not s.get("done")]
    ctx.ask(M.ASK_WHICH_DONE, [Choice(s["id"], s["name"]) for s in open_skills])


async def answer_mark_done(ctx: Ctx, inc: Incoming) -> S:
    choice = ctx.chosen()
    if choice is None:
        if inc.text.strip() and inc.choice is None:
            await mark_done(ctx, inc.text)
            return S.PLAN
        ctx.didnt_get()
        return S.MARK_DONE
    await mark_done(ctx, choice.label, skill_id=choice.value)
    return S.PLAN
