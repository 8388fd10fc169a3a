"""The interview's steps: from first contact to a plan (the table: dialogs/conversation.py).

Each state asks one question and handles its answer; answers live in `ctx.data` until the plan is made,
then the profile holds the result. Free-text answers are read by dialogs/parsing.py.
"""

from __future__ import annotations

from bot import messages as M
from bot.context import Ctx
from bot.matching import PLAUSIBLE, is_confident, is_none, is_yes, normalise
from bot.plans import make_plan
from bot.recommend import RoleRef, is_senior, role_noun
from bot.types import Choice, Incoming
from dialogs.parsing import (hours_from_text, parse_goal, recommend_path, says_no, says_yes, tenure_from_text,
                             usable_role_text)
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
    if choice is None and inc.choice is None and is_yes(inc.text):
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


# -- roles (current and target share the matching) ------------------------------------------
def _match_role(ctx: Ctx, text: str, which: str) -> S:
    rec = ctx.coach.recommender
    matches = rec.roles.match(text)
    ctx.data[f"{which}_text"] = text.strip()[:200]
    ctx.data[f"{which}_matches"] = [[m.role.id, m.score] for m in matches]
    confirm, pick = (S.ROLE_CONFIRM, S.ROLE_PICK) if which == "role" else (S.TARGET_CONFIRM, S.TARGET_PICK)
    if is_confident(matches):
        ctx.data[f"{which}_candidates"] = [matches[0].role.id]
        return confirm
    plausible = [m for m in matches if m.score >= PLAUSIBLE][:3]
    ctx.data[f"{which}_candidates"] = [m.role.id for m in plausible]
    if not plausible:
        # nothing fits well: say so and let the person choose the closest field (never guessed for them)
        return S.ROLE_FIELD if which == "role" else S.TARGET_FIELD
    return pick


def ask_role(ctx: Ctx) -> None:
    """Ask for the current role as free text."""
    ctx.ask(M.ASK_ROLE)


def answer_role(ctx: Ctx, inc: Incoming) -> S:
    if not usable_role_text(inc.text.strip()):
        ctx.say(M.ASK_ROLE_AGAIN)
        return S.ROLE
    ctx.data["senior"] = is_senior(inc.text)
    return _match_role(ctx, inc.text.strip(), "role")


def _ask_confirm(ctx: Ctx, which: str) -> None:
    role = ctx.coach.catalog.roles[ctx.data[f"{which}_candidates"][0]]
    if which == "role":
        article_, _, title = role_noun(role.title).partition(" ")
        ctx.ask(
            M.CONFIRM_ROLE.format(article=article_, title=title),
            [Choice("yes", M.YES_THATS_ME), Choice("no", M.NO_SOMETHING_ELSE)],
        )
    else:
        ctx.ask(M.CONFIRM_TARGET.format(title=role.title),
                [Choice("yes", M.YES_THAT_ONE), Choice("no", M.NO_SOMETHING_ELSE)])


def ask_role_confirm(ctx: Ctx) -> None:
    """A confident match: confirm it with one question."""
    _ask_confirm(ctx, "role")


def _ask_pick(ctx: Ctx, which: str) -> None:
    catalog = ctx.coach.catalog
    options = [Choice(rid, catalog.roles[rid].title) for rid in ctx.data.get(f"{which}_candidates", [])]
    options.append(Choice("none", M.NONE_OF_THESE))
    ctx.ask(M.PICK_ROLE.format(text=ctx.data.get(f"{which}_text", "")), options)


def ask_role_pick(ctx: Ctx) -> None:
    """An ambiguous match: the best few plus 'none of these' (then the role is kept as typed)."""
    _ask_pick(ctx, "role")


def _set_role(ctx: Ctx, which: str, ref: RoleRef) -> None:
    ctx.data[which] = ref.as_dict()


def _custom(ctx: Ctx, which: str, family: str | None) -> RoleRef:
    ref = ctx.coach.recommender.custom_role(ctx.data.get(f"{which}_text", ""), family)
    if ref.family:
        ctx.say(M.CUSTOM_ROLE.format(title=ref.title, family=ctx.coach.catalog.family_name(ref.family)))
    else:
        ctx.say(M.CUSTOM_ROLE_NO_FAMILY.format(title=ref.title))
    return ref


def _ask_field(ctx: Ctx, which: str) -> None:
    """Nothing in the catalog fits: the fields as choices, the likeliest first, or none of them."""
    rec, catalog = ctx.coach.recommender, ctx.coach.catalog
    text = ctx.data.get(f"{which}_text", "")
    first = rec.likely_families(text)
    rest = sorted((f for f in catalog.families if f not in first), key=lambda f: catalog.family_name(f))
    options = [Choice(f, catalog.family_name(f)) for f in first + rest]
    options.append(Choice("none", M.NO_FIELD))
    ctx.ask(M.ASK_FIELD.format(text=ctx.data.get(f"{which}_text", "")), options)


def ask_role_field(ctx: Ctx) -> None:
    """The current role could not be placed: which field is closest?"""
    _ask_field(ctx, "role")


def ask_target_field(ctx: Ctx) -> None:
    """The target role could not be placed: which field is closest?"""
    _ask_field(ctx, "target")


def _answer_field(ctx: Ctx, inc: Incoming, which: str, done: S) -> S:
    choice = ctx.chosen()
    again = S.ROLE_FIELD if which == "role" else S.TARGET_FIELD
    if choice is None:
        if inc.text.strip() and inc.choice is None and usable_role_text(inc.text):
            return _match_role(ctx, inc.text.strip(), which)  # a clearer title typed instead of a field
        ctx.didnt_get()
        return again
    family = choice.value if choice.value in ctx.coach.catalog.families else None
    _set_role(ctx, which, _custom(ctx, which, family))
    return done


def answer_role_field(ctx: Ctx, inc: Incoming) -> S:
    return _answer_field(ctx, inc, "role", S.TENURE)


def answer_target_field(ctx: Ctx, inc: Incoming) -> S:
    nxt = _answer_field(ctx, inc, "target", S.HOURS)
    return _after_target(ctx) if nxt == S.HOURS else nxt


def _answer_confirm(ctx: Ctx, inc: Incoming, which: str, ask_again: S, done: S) -> S:
    choice = ctx.chosen()
    if choice is None and inc.choice is None and says_yes(inc.text):
        choice = Choice("yes", "")
    if choice is None:
        # typing another role instead of yes/no is an answer too
        if inc.choice is None and usable_role_text(inc.text) and not is_yes(inc.text):
            return _match_role(ctx, inc.text, which)
        ctx.didnt_get()
        return S.ROLE_CONFIRM if which == "role" else S.TARGET_CONFIRM
    if choice.value == "yes":
        role = ctx.coach.catalog.roles[ctx.data[f"{which}_candidates"][0]]
        _set_role(ctx, which, ctx.coach.recommender.role_ref(role))
        if which == "role":
            ctx.say(M.ROLE_NOTED.format(title=role.title))
        return done
    return ask_again


def answer_role_confirm(ctx: Ctx, inc: Incoming) -> S:
    return _answer_confirm(ctx, inc, "role", S.ROLE, S.TENURE)


def _answer_pick(ctx: Ctx, inc: Incoming, which: str, done: S) -> S:
    choice = ctx.chosen()
    catalog = ctx.coach.catalog
    candidates = ctx.data.get(f"{which}_candidates") or []
    yes = choice is None and inc.choice is None and (is_yes(inc.text) or says_yes(inc.text))
    if yes and len(candidates) == 1:
        choice = Choice(candidates[0], "")          # "yes" to the one role offered
    elif choice is None and inc.choice is None and is_none(inc.text):
        choice = Choice("none", "")                 # "no" / "none": none of these
    if choice is None and yes:                      # "yes that's me" to several: which one?
        ctx.didnt_get()
        return S.ROLE_PICK if which == "role" else S.TARGET_PICK
    if choice is None:
        if inc.choice is None and usable_role_text(inc.text):
            return _match_role(ctx, inc.text, which)
        ctx.didnt_get()
        return S.ROLE_PICK if which == "role" else S.TARGET_PICK
    if choice.value == "none" or choice.value not in catalog.roles:
        return S.ROLE_FIELD if which == "role" else S.TARGET_FIELD
    else:
        _set_role(ctx, which, ctx.coach.recommender.role_ref(catalog.roles[choice.value]))
        if which == "role":
            ctx.say(M.ROLE_NOTED.format(title=catalog.roles[choice.value].title))
    return done


def answer_role_pick(ctx: Ctx, inc: Incoming) -> S:
    return _answer_pick(ctx, inc, "role", S.TENURE)


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
        nxt = _match_role(ctx, target_text, "target")
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
        if is_yes(inc.text) or says_yes(inc.text):
            choice = offered[0]
        elif says_no(inc.text):
            choice = offered[1]
    if choice is None:
        goal, target = parse_goal(inc.text)
        if goal in ("grow", "switch"):
            choice = Choice(goal, goal)
            if target:
                ctx.data["goal"] = "switch"
                return _match_role(ctx, target, "target")
    if choice is None:
        ctx.didnt_get()
        return S.UNSURE_RESULT
    ctx.data["goal"] = choice.value
    if choice.value == "grow":
        ctx.data["target"] = None
        return S.HOURS
    return S.TARGET


# -- target role ----------------------------------------------------------------------------
def ask_target(ctx: Ctx) -> None:
    """Which role they want to move into (free text, matched like the current role)."""
    ctx.ask(M.ASK_TARGET)


def answer_target(ctx: Ctx, inc: Incoming) -> S:
    if not usable_role_text(inc.text.strip()):
        ctx.say(M.ASK_TARGET_AGAIN)
        return S.TARGET
    ctx.data["goal"] = "switch"
    return _match_role(ctx, inc.text.strip(), "target")


def ask_target_confirm(ctx: Ctx) -> None:
    """A confident target match: confirm it."""
    _ask_confirm(ctx, "target")


def _after_target(ctx: Ctx) -> S:
    target = ctx.data.get("target") or {}
    role = ctx.data.get("role") or {}
    if target.get("id") and target.get("id") == role.get("id"):
        ctx.say(M.TARGET_SAME)
        ctx.data["goal"] = "grow"
        ctx.data["target"] = None
    else:
        article_, _, role = role_noun(target.get("title", "")).partition(" ")
        ctx.say(M.GOAL_SWITCH_TO.format(article=article_, role=role))
    return S.HOURS


def answer_target_confirm(ctx: Ctx, inc: Incoming) -> S:
    nxt = _answer_confirm(ctx, inc, "target", S.TARGET, S.HOURS)
    return _after_target(ctx) if nxt == S.HOURS else nxt


def ask_target_pick(ctx: Ctx) -> None:
    """An ambiguous target: the best few plus 'none of these'."""
    _ask_pick(ctx, "target")


def answer_target_pick(ctx: Ctx, inc: Incoming) -> S:
    nxt = _answer_pick(ctx, inc, "target", S.HOURS)
    return _after_target(ctx) if nxt == S.HOURS else nxt


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
