"""The interview's steps: from first contact to a plan (the table: dialogs/conversation.py).

Each state asks one question and handles its answer; answers live in `ctx.data` until the plan is made,
then the profile holds the result. Free-text answers are read by dialogs/parsing.py; the current and
target role questions are in dialogs/roles.py.
"""

from __future__ import annotations

from bot import messages as M
from bot.context import Ctx
from bot.matching import is_none, normalise, says_no, says_yes
from bot.plans import make_plan
from bot.recommend import RoleRef
from bot.types import Choice, Incoming
from dialogs.parsing import hours_from_text, parse_goal, recommend_path, tenure_from_text
from dialogs.roles import match_role
from dialogs.states import S


def _choices(pairs) -> list[Choice]:
    return [Choice(v, label) for v, label in pairs]


# -- welcome ------------------------------------------------------------------------------------
def ask_welcome(ctx: Ctx) -> None:
    """First contact: who the bot is, what it keeps; start / explain / not now."""
    text = M.WELCOME_SHORT if ctx.convo.get("welcomed") else M.WELCOME
    ctx.convo["welcomed"] = True
    ctx.ask(text, [Choice("start", M.START), Choice("explain", M.EXPLAIN), Choice("later", M.NOT_NOW)])


def answer_welcome(ctx: Ctx, inc: Incoming) -> S | None:
    choice = ctx.chosen()
    if choice is None and inc.choice is None and says_yes(inc.text):
        return S.ROLE  # "yes", "ok", "sure" to "Shall we start?"
    if choice is None:
        # a first message that is not an answer ("hi") gets the welcome again
        return S.WELCOME
    if choice.value == "explain":
        ctx.say(M.DIFFERENCE)
        ctx.convo["explained"] = True
        return S.WELCOME
    if choice.value == "later":
        ctx.say(M.NOT_NOW_REPLY)
        ctx.convo["paused"] = S.WELCOME.value
        return S.IDLE
    return S.ROLE


# -- tenure and skills -----------------------------------------------------------------------
def ask_tenure(ctx: Ctx) -> None:
    """How long they have been in the role."""
    ctx.ask(M.ASK_TENURE, _choices(M.TENURE_CHOICES))


def answer_tenure(ctx: Ctx, inc: Incoming) -> S:
    choice = ctx.chosen()
    if choice is None:
        choice = tenure_from_text(inc.text)
    if choice is None:
        ctx.didnt_get()
        return S.TENURE
    ctx.data["tenure"] = choice.value
    return S.SKILLS


def ask_skills(ctx: Ctx) -> None:
    """The role's skills as a multi-select, plus free text matched to catalog skills."""
    ref = RoleRef.from_dict(ctx.data.get("role"))
    top = ctx.coach.recommender.top_skills(ref, limit=10)
    if top:
        ctx.ask(M.ASK_SKILLS, [Choice(s, ctx.coach.catalog.skill_name(s)) for s in top], multi=True)
    else:
        ctx.ask(M.ASK_SKILLS_NO_LIST)


def answer_skills(ctx: Ctx, inc: Incoming) -> S:
    picked, rest = ctx.chosen_many()
    skills = [c.value for c in picked]
    unknown: list[str] = []
    for piece in rest:
        if is_none(piece):
            continue
        found, missed = ctx.coach.recommender.skills.match_list(piece)
        skills.extend(s for s in found if s not in skills)
        for piece_missed in missed:       # each unknown fragment named once, however often typed
            if normalise(piece_missed) not in {normalise(u) for u in unknown}:
                unknown.append(piece_missed)
    if not skills and unknown and not picked:
        # nothing usable at all: say so and ask again rather than guess
        ctx.say(M.SKILLS_UNKNOWN.format(unknown=", ".join(f'"{u}"' for u in unknown[:5])).replace(
            "; I kept the rest.", "."))
        return S.SKILLS
    ctx.data["skills"] = skills
    if skills:
        names = ", ".join(ctx.coach.catalog.skill_name(s) for s in skills)
        ctx.say(M.SKILLS_NOTED.format(skills=names))
    else:
        ctx.say(M.SKILLS_NONE)
    if unknown:
        ctx.say(M.SKILLS_UNKNOWN.format(unknown=", ".join(f'"{u}"' for u in unknown[:5])))
    return S.GOAL


# -- goal ---------------------------------------------------------------------------------------
def ask_goal(ctx: Ctx) -> None:
    """Grow in the role / move to a different role / not sure."""
    ctx.ask(M.ASK_GOAL, [Choice("grow", M.GOAL_GROW), Choice("switch", M.GOAL_SWITCH),
                         Choice("unsure", M.GOAL_UNSURE)])


def answer_goal(ctx: Ctx, inc: Incoming) -> S:
    choice = ctx.chosen() if inc.choice is not None else None
    goal, target_text = (choice.value, None) if choice else parse_goal(inc.text)
    if goal is None:
        typed = ctx.chosen()
        goal = typed.value if typed else None
    if goal is None:
        ctx.didnt_get()
        return S.GOAL
    if goal == "unsure":
        # the difference is explained once per conversation; after that, straight to the questions
        ctx.say(M.UNSURE_AGAIN if ctx.convo.get("explained") else M.UNSURE_INTRO + "\n\n" + M.DIFFERENCE)
        ctx.convo["explained"] = True
        return S.UNSURE_1
    ctx.data["goal"] = goal
    if goal == "grow":
        ctx.data["target"] = None
        return S.HOURS
    if target_text:
        nxt = match_role(ctx, target_text, "target")
        return nxt
    return S.TARGET


# -- not sure: three questions that lead to a recommendation ----------------------------------
def ask_unsure_1(ctx: Ctx) -> None:
    """Do they enjoy the core of their current work?"""
    ctx.ask(M.UNSURE_Q1, _choices(M.UNSURE_Q1_CHOICES))


def _record(ctx: Ctx, key: str, again: S, nxt: S) -> S:
    choice = ctx.chosen()
    if choice is None:
        ctx.didnt_get()
        return again
    ctx.data[key] = choice.value
    return nxt


def answer_unsure_1(ctx: Ctx, inc: Incoming) -> S:
    return _record(ctx, "unsure_enjoy", S.UNSURE_1, S.UNSURE_2)


def ask_unsure_2(ctx: Ctx) -> None:
    """Same kind of work in two years, or different work?"""
    ctx.ask(M.UNSURE_Q2, _choices(M.UNSURE_Q2_CHOICES))


def answer_unsure_2(ctx: Ctx, inc: Incoming) -> S:
    return _record(ctx, "unsure_future", S.UNSURE_2, S.UNSURE_3)


def ask_unsure_3(ctx: Ctx) -> None:
    """Curious about another job here?"""
    ctx.ask(M.UNSURE_Q3, _choices(M.UNSURE_Q3_CHOICES))


def answer_unsure_3(ctx: Ctx, inc: Incoming) -> S:
    return _record(ctx, "unsure_curious", S.UNSURE_3, S.UNSURE_RESULT)


def ask_unsure_result(ctx: Ctx) -> None:
    """Recommend one path and let them accept it or take the other."""
    path = recommend_path(ctx.data.get("unsure_enjoy"), ctx.data.get("unsure_future"), ctx.data.get("unsure_curious"))
    ctx.data["unsure_recommended"] = path
    if path == "grow":
        ctx.ask(M.UNSURE_RECOMMEND_UP, [Choice("grow", M.UNSURE_ACCEPT_UP), Choice("switch", M.UNSURE_OTHER_UP)])
    else:
        ctx.ask(M.UNSURE_RECOMMEND_RE, [Choice("switch", M.UNSURE_ACCEPT_RE), Choice("grow", M.UNSURE_OTHER_RE)])


def answer_unsure_result(ctx: Ctx, inc: Incoming) -> S:
    choice = ctx.chosen()
    offered = ctx.open_choices()
    if choice is None and inc.choice is None and len(offered) == 2:
        # "Shall we go with that?": yes takes the path suggested (the first choice), no the other one
        if says_yes(inc.text):
            choice = offered[0]
        elif says_no(inc.text):
            choice = offered[1]
    if choice is None:
        goal, target = parse_goal(inc.text)
        if goal in ("grow", "switch"):
            choice = Choice(goal, goal)
            if target:
                ctx.data["goal"] = "switch"
                return match_role(ctx, target, "target")
    if choice is None:
        ctx.didnt_get()
        return S.UNSURE_RESULT
    ctx.data["goal"] = choice.value
    if choice.value == "grow":
        ctx.data["target"] = None
        return S.HOURS
    return S.TARGET


# -- time, preferences, consent ---------------------------------------------------------------
def ask_hours(ctx: Ctx) -> None:
    """Hours a week for learning."""
    ctx.ask(M.ASK_HOURS, _choices(M.HOURS_CHOICES))


def answer_hours(ctx: Ctx, inc: Incoming) -> S:
    choice = ctx.chosen()
    hours: float | None = float(choice.value) if choice else hours_from_text(inc.text)
    if hours is None:
        ctx.didnt_get()
        return S.HOURS
    ctx.data["hours"] = hours
    return S.PREFS


def ask_prefs(ctx: Ctx) -> None:
    """Preferred ways to learn (multi-select)."""
    ctx.ask(M.ASK_PREFS, _choices(M.PREF_CHOICES), multi=True)


def answer_prefs(ctx: Ctx, inc: Incoming) -> S:
    picked, rest = ctx.chosen_many()
    if not picked and rest:
        ctx.didnt_get()
        return S.PREFS
    ctx.data["prefs"] = [c.value for c in picked] or [v for v, _ in M.PREF_CHOICES]
    return S.CONSENT


def ask_consent(ctx: Ctx) -> None:
    """Whether to be counted in the manager's aggregate view."""
    ctx.ask(M.ASK_CONSENT, [Choice("yes", M.CONSENT_YES), Choice("no", M.CONSENT_NO)])


async def answer_consent(ctx: Ctx, inc: Incoming) -> S:
    choice = ctx.chosen()
    if choice is None:
        ctx.didnt_get()
        return S.CONSENT
    ctx.profile["consent_share"] = choice.value == "yes"
    await make_plan(ctx)
    return S.PLAN
