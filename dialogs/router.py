"""One turn: load the conversation, route the input, run a dialog step, save.

Routing order (first that applies wins):
1. a pressed choice whose value starts with a registered action prefix ("intro:…", "nudge:…");
2. a command with a registered handler (the managers' `nudge-team`, `team-skills`);
3. a registered text intent (`mentoring pause`, …);
4. a global command typed as words (`help`, `my plan`, `forget me`, …) or a progress report
   ("I finished the SQL course");
5. a press on an old question is answered politely and the open question is asked again;
6. otherwise the interview's current step.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot import messages as M
from bot.matching import normalise
from bot.store import ADDRESSES, CONVERSATIONS, PROFILES
from bot.types import Choice, Incoming, Reply
from dialogs.engine import Ctx
from dialogs.interview import INTERVIEW, INTERVIEW_STATES, S
from dialogs.plan_view import mark_done, plan_reply

if TYPE_CHECKING:
    from bot.core import Coach

log = logging.getLogger("skillcoach.dialogs")


class G(enum.Enum):
    """Global commands, understood at any point of a conversation."""

    HELP = "help"
    START = "start"
    RESTART = "restart"
    MY_PLAN = "my plan"
    MY_DATA = "my data"
    FORGET = "forget me"
    STOP_REMINDERS = "stop reminders"
    RESUME_REMINDERS = "resume reminders"
    CANCEL = "cancel"
    EXPLAIN = "explain"
    SHARE_ON = "share my progress"
    SHARE_OFF = "stop sharing"


PHRASES: dict[G, tuple[str, ...]] = {
    G.HELP: ("help", "what can you do", "commands", "menu", "usage", "options", "how does this work"),
    G.START: ("start", "begin", "grow", "resume", "continue", "lets start", "let's start", "lets go",
              "get started", "hi", "hello", "hey", "good morning", "hi there", "hello there"),
    G.RESTART: ("restart", "start over", "start again", "reset", "begin again", "new plan", "redo"),
    G.MY_PLAN: ("my plan", "plan", "show plan", "show my plan", "progress", "my progress", "show progress",
                "see my plan", "view plan"),
    G.MY_DATA: ("my data", "export", "export my data", "what do you know about me", "show my data",
                "download my data"),
    G.FORGET: ("forget me", "delete my data", "delete me", "erase me", "delete everything",
               "remove my data", "forget everything"),
    G.STOP_REMINDERS: ("stop reminders", "no reminders", "stop nudges", "stop these reminders", "unsubscribe",
                       "mute reminders", "reminders off", "turn off reminders", "opt out"),
    G.RESUME_REMINDERS: ("resume reminders", "start reminders", "reminders on", "turn on reminders",
                         "resubscribe", "opt in"),
    G.SHARE_ON: ("share my progress", "start sharing", "sharing on", "include me in the team summary"),
    G.SHARE_OFF: ("stop sharing", "sharing off", "dont share", "don't share", "keep me out of the team summary"),
    G.CANCEL: ("cancel", "stop", "quit", "exit", "never mind", "nevermind", "abort"),
    G.EXPLAIN: ("explain", "upskilling or reskilling", "upskilling vs reskilling", "reskilling vs upskilling",
                "whats the difference", "what is the difference", "difference", "what is upskilling",
                "what is reskilling", "upskill or reskill", "upskilling or reskilling?"),
}
_LOOKUP = {normalise(p): g for g, phrases in PHRASES.items() for p in phrases}
_PROGRESS = re.compile(
    r"^(?:i\s+)?(?:have\s+|ve\s+|'ve\s+|just\s+|finally\s+)*(?:finished|completed|complete|done with|did|passed|"
    r"mark)\s+(.+?)(?:\s+(?:as\s+)?done)?$"
)


_SKILLING = r"(?:up|re)[\s-]?skill\w*"
_ABOUT_THE_DIFFERENCE = re.compile(
    rf"(?:up[\s-]?skill\w*\b.*\bre[\s-]?skill|re[\s-]?skill\w*\b.*\bup[\s-]?skill)"
    rf"|^(?:so\s+)?(?:what|whats|what's|explain|define|tell me|meaning of|how is|how does)\b.*\b{_SKILLING}"
)


def global_command(text: str) -> G | None:
    key = normalise(text).rstrip("!.? ")
    found = _LOOKUP.get(key)
    if found is None and _ABOUT_THE_DIFFERENCE.search(key):
        return G.EXPLAIN  # "what's the difference between upskilling and reskilling?", "what is reskilling"
    return found


def progress_report(text: str) -> str | None:
    m = _PROGRESS.match(normalise(text))
    return m.group(1) if m else None


async def _allowed(gate: asyncio.Future[bool] | None) -> None:
    """Wait for the deduplication check running beside the turn; stop before anything is written."""
    if gate is not None and not await asyncio.shield(gate):
        from bot.core import DuplicateEvent

        raise DuplicateEvent()


async def run_turn(coach: Coach, inc: Incoming, *, gate: asyncio.Future[bool] | None = None,
                   deliver: Callable[[list[Reply]], Awaitable[None]] | None = None) -> tuple[list[Reply], bool]:
    """One turn: its replies, and whether they were already handed to `deliver`."""
    key = inc.user_key
    # 1-3: feature modules that keep their own state
    feature = _feature_handler(coach, inc)
    if feature is not None:
        await _allowed(gate)
        await coach.remember_address(inc)
        return await feature(), False

    # one round trip for everything a turn reads
    wanted = [(CONVERSATIONS, key), (PROFILES, key)] + ([(ADDRESSES, key)] if inc.address else [])
    convo_rec, profile_rec, *address = await coach.store.get_many(wanted)
    await _allowed(gate)
    await coach.remember_address(inc, address[0] if address else None, known=True)
    convo: dict[str, Any] = dict(convo_rec.data) if convo_rec else {}
    profile: dict[str, Any] = dict(profile_rec.data) if profile_rec else {}
    before = (repr(convo), repr(profile))
    ctx = Ctx(coach, inc, convo, profile)
    _identify(ctx)

    await _route(ctx)

    if ctx.forgotten:
        return ctx.replies, False
    convo_changed, profile_changed = repr(ctx.convo) != before[0], repr(ctx.profile) != before[1]
    if deliver is not None and convo_changed and not profile_changed and ctx.replies and not (
        ctx.plan_changed or ctx.settings_changed
    ):
        # only this process writes this conversation, and only under this user's lock: the save
        # cannot conflict, so the replies go out while it is written
        save = coach.store.put(CONVERSATIONS, key, ctx.convo, version=convo_rec.version if convo_rec else 0)
        saved, sent = await asyncio.gather(save, deliver(ctx.replies), return_exceptions=True)
        if isinstance(sent, BaseException):
            log.error("delivering the replies of a turn of %s failed", key, exc_info=sent)
        if isinstance(saved, BaseException):
            raise saved
        return [], True
    if convo_changed:
        await coach.store.put(CONVERSATIONS, key, ctx.convo, version=convo_rec.version if convo_rec else 0)
    if profile_changed:
        ctx.profile["updated_at"] = coach.clock()
        await coach.store.put(PROFILES, key, ctx.profile, version=profile_rec.version if profile_rec else 0)
        if ctx.email_change:
            await coach.index_email(key, old=ctx.email_change[0], new=ctx.email_change[1])
    if ctx.plan_changed:
        await coach.notify(key, "plan")
    elif ctx.settings_changed:
        await coach.notify(key, "settings")
    return ctx.replies, False


def _feature_handler(coach: Coach, inc: Incoming) -> Callable[[], Awaitable[list[Reply]]] | None:
    """The feature module (not the interview) that answers this input, if any."""
    if inc.choice and ":" in inc.choice:
        action = coach.action_handlers.get(inc.choice.split(":", 1)[0])
        if action is not None:
            return lambda: action(coach, inc)
    if inc.command and inc.command != "grow":
        command = coach.command_handlers.get(inc.command)
        if command is None:
            return lambda: _unknown_command(inc)
        return lambda: command(coach, inc, coach.person_for(inc))
    if inc.text and inc.choice is None and inc.choices is None:
        norm = normalise(inc.text)
        for prefixes, intent in coach.text_intents:
            if any(norm == p or norm.startswith(p + " ") for p in prefixes):
                return lambda: intent(coach, inc, coach.person_for(inc))
    return None


async def _unknown_command(inc: Incoming) -> list[Reply]:
    return [Reply(M.UNKNOWN_COMMAND.format(command=inc.command))]


def _identify(ctx: Ctx) -> None:
    inc, p = ctx.incoming, ctx.profile
    person = ctx.coach.person_for(inc)
    email = inc.email or (person.email if person else None)
    if p.get("platform") != inc.platform or p.get("user_id") != inc.user_id:
        p["platform"], p["user_id"] = inc.platform, inc.user_id
    if email and p.get("email") != email:
        ctx.email_change = (p.get("email"), email)
        p["email"] = email
    if inc.name and p.get("name") != inc.name:
        p["name"] = inc.name
    p.setdefault("reminders", True)
    p.setdefault("consent_share", False)
    p.setdefault("created_at", ctx.coach.clock())


async def _route(ctx: Ctx) -> None:
    inc = ctx.incoming
    state = ctx.convo.get("state")

    # an open confirmation to forget takes its own answer first
    if state == "forget_confirm":
        await _answer_forget(ctx)
        return

    if inc.choice is None and inc.choices is None:
        if inc.command == "grow" and not inc.text.strip():
            await _start(ctx)
            return
        g = global_command(inc.text)
        if g is not None and _answers_open_question(ctx, inc.text):
            g = None  # "grow" typed at "What's next for you?" is an answer, not a command
        if g is not None and not (g is G.START and state == S.WELCOME.value):
            await _global(ctx, g)
            return
        thing = progress_report(inc.text)
        if thing and ctx.profile.get("plan"):
            # progress is news, never the answer to an open question ("I finished the SQL course" is no role)
            await mark_done(ctx, thing)
            if state in INTERVIEW_STATES:
                await INTERVIEW.reask(ctx)
            return

    # a press on a question that is no longer open
    prompt = ctx.convo.get("prompt") or {}
    pressed = inc.choice is not None or inc.choices is not None
    if pressed and (inc.prompt_id is None or inc.prompt_id != prompt.get("id")):
        if inc.prompt_id is not None or not prompt:
            ctx.say(M.STALE)
            await _reask_or_hint(ctx)
            return

    if state is None:
        await INTERVIEW.enter(ctx, S.WELCOME)
        return
    if state == "idle":
        if pressed:
            ctx.say(M.STALE)
        ctx.say(M.IDLE_HINT if ctx.profile.get("plan") else M.NOT_NOW_REPLY)
        return
    if not inc.text.strip() and not pressed:
        await _reask_or_hint(ctx)
        return
    await INTERVIEW.answer(ctx)


def _answers_open_question(ctx: Ctx, text: str) -> bool:
    key = normalise(text)
    if not key or ctx.convo.get("state") in (None, "idle"):
        return False
    return any(key in (normalise(c.label), normalise(c.value)) for c in ctx.open_choices())


async def _reask_or_hint(ctx: Ctx) -> None:
    state = ctx.convo.get("state")
    if state in (None, "idle"):
        ctx.say(M.IDLE_HINT if ctx.profile.get("plan") else M.NOT_NOW_REPLY)
    else:
        await INTERVIEW.reask(ctx)


async def _start(ctx: Ctx) -> None:
    """`start` / `/grow`: begin, or resume where the conversation was."""
    state = ctx.convo.get("state")
    if state == "idle":
        paused = ctx.convo.pop("paused", None)
        if paused and paused in {s.value for s in S} and paused != S.PLAN.value:
            ctx.say(M.WELCOME_BACK)
            await INTERVIEW.enter(ctx, S(paused))
            return
        state = None
    if state is None:
        if ctx.profile.get("plan") or ctx.convo.get("welcomed"):
            ctx.convo["data"] = {}
            await INTERVIEW.enter(ctx, S.ROLE)
        else:
            await INTERVIEW.enter(ctx, S.WELCOME)
        return
    if state in (S.PLAN.value, S.MARK_DONE.value):
        ctx.replies.append(plan_reply(ctx.coach, ctx.profile))
        await INTERVIEW.enter(ctx, S.PLAN)
        return
    ctx.say(M.WELCOME_BACK)
    await INTERVIEW.reask(ctx)


# Side commands answer and then ask the open question again, so the interview goes on where it was.
_SETTINGS: dict[G, tuple[str, bool, str]] = {
    G.STOP_REMINDERS: ("reminders", False, M.REMINDERS_OFF),
    G.RESUME_REMINDERS: ("reminders", True, M.REMINDERS_ON),
    G.SHARE_ON: ("consent_share", True, M.SHARING_ON),
    G.SHARE_OFF: ("consent_share", False, M.SHARING_OFF),
}


async def _global(ctx: Ctx, g: G) -> None:
    state = ctx.convo.get("state")
    if g is G.START:
        await _start(ctx)
        return
    if g is G.RESTART:
        ctx.say(M.RESTARTING)
        ctx.convo["data"] = {}
        ctx.convo.pop("paused", None)
        await INTERVIEW.enter(ctx, S.ROLE)
        return
    if g is G.FORGET:
        ctx.convo["forget_return"] = state
        ctx.convo["state"] = "forget_confirm"
        ctx.ask(M.FORGET_CONFIRM, [Choice("yes", M.FORGET_YES), Choice("no", M.FORGET_NO)])
        return
    if g is G.CANCEL:
        if state in INTERVIEW_STATES or state == S.MARK_DONE.value:
            ctx.convo["paused"] = state if state in INTERVIEW_STATES else None
            ctx.convo["state"] = "idle"
            ctx.convo.pop("prompt", None)
            ctx.say(M.CANCELLED)
        else:
            ctx.say(M.NOTHING_TO_CANCEL)
        return
    # side commands
    if g is G.HELP:
        ctx.say(M.HELP)
    elif g is G.EXPLAIN:
        ctx.say(M.DIFFERENCE)
        ctx.convo["explained"] = True
    elif g is G.MY_PLAN:
        ctx.replies.append(plan_reply(ctx.coach, ctx.profile))
    elif g is G.MY_DATA:
        export = await ctx.coach.export(ctx.incoming.user_key)
        # what this turn is about to save is part of what is kept
        export["profiles"] = export.get("profiles") or (ctx.profile or None)
        ctx.replies.append(Reply(M.MY_DATA, attachment=export, attachment_name="skillcoach-my-data.json"))
    elif g in _SETTINGS:
        field, value, message = _SETTINGS[g]
        ctx.profile[field] = value
        ctx.settings_changed = True
        ctx.say(message)
    if state in INTERVIEW_STATES or (g in (G.HELP, G.EXPLAIN) and state not in (None, "idle")):
        await INTERVIEW.reask(ctx)


async def _answer_forget(ctx: Ctx) -> None:
    inc = ctx.incoming
    prompt = ctx.convo.get("prompt") or {}
    if inc.prompt_id is not None and inc.prompt_id != prompt.get("id"):
        ctx.say(M.STALE)
        ctx.ask(M.FORGET_CONFIRM, [Choice("yes", M.FORGET_YES), Choice("no", M.FORGET_NO)])
        return
    choice = ctx.chosen()
    if choice is None and global_command(inc.text) is G.CANCEL:
        choice = Choice("no", M.FORGET_NO)
    if choice is None:
        ctx.say(M.PICK_ONE)
        ctx.ask(M.FORGET_CONFIRM, [Choice("yes", M.FORGET_YES), Choice("no", M.FORGET_NO)])
        return
    if choice.value == "yes":
        await ctx.coach.forget(inc.user_key)
        ctx.forgotten = True
        ctx.say(M.FORGOTTEN)
        return
    ctx.say(M.FORGET_KEPT)
    back = ctx.convo.pop("forget_return", None)
    if back and back != "idle" and back in {s.value for s in S}:
        await INTERVIEW.enter(ctx, S(back))
    else:
        ctx.convo["state"] = back
        ctx.convo.pop("prompt", None)
