"""The interview's role questions: the current role and the target role (the table: dialogs/conversation.py).

Both share one way of understanding an answer (`match_role`): a confident match is offered for
confirmation, several plausible ones are offered to pick from, and when nothing fits the person picks the
closest field or keeps their own title in it — never a family chosen for them.
"""

from __future__ import annotations

from bot import messages as M
from bot.context import Ctx
from bot.matching import PLAUSIBLE, is_confident, is_none, says_yes
from bot.recommend import RoleRef, is_senior, role_noun
from bot.types import Choice, Incoming
from dialogs.parsing import usable_role_text
from dialogs.states import S


# -- roles (current and target share the matching) ------------------------------------------
def match_role(ctx: Ctx, text: str, which: str) -> S:
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
    return match_role(ctx, inc.text.strip(), "role")


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
            return match_role(ctx, inc.text.strip(), which)  # a clearer title typed instead of a field
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
        if inc.choice is None and usable_role_text(inc.text) and not says_yes(inc.text):
            return match_role(ctx, inc.text, which)
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
    yes = choice is None and inc.choice is None and says_yes(inc.text)
    if yes and len(candidates) == 1:
        choice = Choice(candidates[0], "")          # "yes" to the one role offered
    elif choice is None and inc.choice is None and is_none(inc.text):
        choice = Choice("none", "")                 # "no" / "none": none of these
    if choice is None and yes:                      # "yes that's me" to several: which one?
        ctx.didnt_get()
        return S.ROLE_PICK if which == "role" else S.TARGET_PICK
    if choice is None:
        if inc.choice is None and usable_role_text(inc.text):
            return match_role(ctx, inc.text, which)
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


# -- target role ----------------------------------------------------------------------------
def ask_target(ctx: Ctx) -> None:
    """Which role they want to move into (free text, matched like the current role)."""
    ctx.ask(M.ASK_TARGET)


def answer_target(ctx: Ctx, inc: Incoming) -> S:
    if not usable_role_text(inc.text.strip()):
        ctx.say(M.ASK_TARGET_AGAIN)
        return S.TARGET
    ctx.data["goal"] = "switch"
    return match_role(ctx, inc.text.strip(), "target")


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
