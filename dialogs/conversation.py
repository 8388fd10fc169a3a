"""The whole conversation as one table: the interview, the plan, resting, "forget me", the end.

The table's fallbacks are tried before a state's answer, in this order (the first that applies wins):
1. a global command typed as words (`help`, `my plan`, `forget me`, `cancel`, the difference question …),
   unless the words are one of the open question's choices ("grow" at "What's next for you?");
2. a progress report ("I finished the SQL course") when there is a plan — news, never an answer;
3. a press on a question that is no longer open: answered politely, and the open question asked again;
4. an empty message: the open question again (or a hint when nothing is open).
Then the state's own answer. FORGET_CONFIRM takes its answer before the fallbacks.
Diagram: interview.mmd beside this file (a test holds it against this table).
"""

from __future__ import annotations

from typing import Any

from bot import messages as M
from bot.context import Ctx
from bot.matching import normalise
from bot.plans import mark_done, plan_reply
from bot.types import Choice, Incoming
from dialogs import interview as I
from dialogs import roles as R
from dialogs import plan_flow as P
from dialogs.engine import Flow, Step
from dialogs.states import INTERVIEW_STATES, S
from dialogs.words import G, finished_report, global_command, progress_report

_RESTING = (None, S.IDLE, S.END)


def _forget_choices() -> list[Choice]:
    return [Choice("yes", M.FORGET_YES), Choice("no", M.FORGET_NO)]


# -- fallbacks ----------------------------------------------------------------------------------
async def global_words(flow: Flow, ctx: Ctx) -> bool:
    inc = ctx.incoming
    if inc.choice is not None or inc.choices is not None:
        return False
    state = flow.state_of(ctx)
    if inc.command == "grow" and not inc.text.strip():
        await _start(flow, ctx)
        return True
    g = global_command(inc.text)
    if g is None or _answers_open_question(flow, ctx, inc.text):
        return False  # "grow" typed at "What's next for you?" is an answer, not a command
    if g is G.START and state is S.WELCOME:
        return False  # "start" at the welcome is its answer
    await _global(flow, ctx, g)
    return True


async def progress_news(flow: Flow, ctx: Ctx) -> bool:
    inc = ctx.incoming
    if inc.choice is not None or inc.choices is not None:
        return False
    if not ctx.profile.get("plan"):
        # "I finished the SQL course" before there is a plan is news, not an answer (nor a role)
        thing = finished_report(inc.text)
        if not thing:
            return False
        if ctx.state in INTERVIEW_STATES:
            ctx.say(M.FINISHED_BEFORE_PLAN.format(thing=thing[:80]))
            await flow.reask(ctx)
        else:
            ctx.say(M.NO_PLAN_YET)
        return True
    thing = progress_report(inc.text)
    if not thing:
        return False
    await mark_done(ctx, thing)
    if ctx.state in INTERVIEW_STATES:
        await flow.reask(ctx)
    return True


async def stale_press(flow: Flow, ctx: Ctx) -> bool:
    inc = ctx.incoming
    prompt = ctx.convo.get("prompt") or {}
    pressed = inc.choice is not None or inc.choices is not None
    if not pressed or (inc.prompt_id is not None and inc.prompt_id == prompt.get("id")):
        return False
    if inc.prompt_id is None and prompt:
        return False  # a typed-out press without an id answers the open question
    ctx.say(M.STALE)
    await _reask_or_hint(flow, ctx)
    return True


async def empty_message(flow: Flow, ctx: Ctx) -> bool:
    inc = ctx.incoming
    if flow.state_of(ctx) in _RESTING or inc.text.strip() or inc.choice is not None or inc.choices is not None:
        return False
    await _reask_or_hint(flow, ctx)
    return True


def _answers_open_question(flow: Flow, ctx: Ctx, text: str) -> bool:
    key = normalise(text)
    if not key or flow.state_of(ctx) in _RESTING:
        return False
    return any(key in (normalise(c.label), normalise(c.value)) for c in ctx.open_choices())


async def _reask_or_hint(flow: Flow, ctx: Ctx) -> None:
    if flow.state_of(ctx) in _RESTING:
        ctx.say(M.IDLE_HINT if ctx.profile.get("plan") else M.NOT_NOW_REPLY)
    else:
        await flow.reask(ctx)


async def _start(flow: Flow, ctx: Ctx) -> None:
    """`start` / `/grow`: begin, or resume where the conversation was."""
    state = flow.state_of(ctx)
    if state is S.IDLE:
        paused = ctx.convo.pop("paused", None)
        if paused in INTERVIEW_STATES or paused == S.WELCOME.value:
            await _welcome_back(flow, ctx, S(paused))
            return
        state = None
    if state in (None, S.END):
        if ctx.profile.get("plan") or ctx.convo.get("welcomed"):
            ctx.convo["data"] = {}
            await flow.enter(ctx, S.ROLE)
        else:
            await flow.enter(ctx, S.WELCOME)
        return
    if state in (S.PLAN, S.MARK_DONE):
        ctx.replies.append(plan_reply(ctx.profile, ctx.coach.directory))
        await flow.enter(ctx, S.PLAN)
        return
    if state is S.FORGET_CONFIRM:
        await flow.reask(ctx)
        return
    await _welcome_back(flow, ctx, state)


WELCOME_AGAIN_AFTER = 600.0   # seconds: `/grow` at the same question sooner than this is not a return


async def _welcome_back(flow: Flow, ctx: Ctx, state: S) -> None:
    """"Welcome back!" and the question where the conversation was — once: when nothing was answered since
    the last welcome back, a typed `start` or `hi` gets the question alone, and so does `/grow` (or the
    terminal chat opening) unless it comes more than `WELCOME_AGAIN_AFTER` later."""
    open_id = (ctx.convo.get("prompt") or {}).get("id")
    last = ctx.convo.get("welcomed_back") or {}
    now = ctx.coach.clock()
    repeat = open_id is not None and last.get("prompt") == open_id and (
        ctx.incoming.command is None or now - float(last.get("at") or 0) < WELCOME_AGAIN_AFTER)
    if not repeat:
        ctx.say(M.WELCOME_BACK)
    await flow.enter(ctx, state)
    ctx.convo["welcomed_back"] = {"prompt": (ctx.convo.get("prompt") or {}).get("id"), "at": now}


# Side commands answer and then ask the open question again, so the interview goes on where it was.
_SETTINGS: dict[G, tuple[str, bool, str]] = {
    G.STOP_REMINDERS: ("reminders", False, M.REMINDERS_OFF),
    G.RESUME_REMINDERS: ("reminders", True, M.REMINDERS_ON),
    G.SHARE_ON: ("consent_share", True, M.SHARING_ON),
    G.SHARE_OFF: ("consent_share", False, M.SHARING_OFF),
}


async def _global(flow: Flow, ctx: Ctx, g: G) -> None:
    state = flow.state_of(ctx)
    if g is G.START:
        await _start(flow, ctx)
        return
    if g is G.RESTART:
        ctx.say(M.RESTARTING)
        ctx.convo["data"] = {}
        ctx.convo.pop("paused", None)
        await flow.enter(ctx, S.ROLE)
        return
    if g is G.FORGET:
        ctx.convo["forget_return"] = state.value if state is not None else None
        await flow.enter(ctx, S.FORGET_CONFIRM)
        return
    if g is G.CANCEL:
        if ctx.state in INTERVIEW_STATES or state is S.MARK_DONE:
            ctx.convo["paused"] = ctx.state if ctx.state in INTERVIEW_STATES else None
            ctx.say(M.CANCELLED)
            await flow.enter(ctx, S.IDLE)
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
        ctx.replies.append(plan_reply(ctx.profile, ctx.coach.directory))
    elif g is G.MY_DATA:
        ctx.request_export()
    elif g in _SETTINGS:
        field, value, message = _SETTINGS[g]
        ctx.profile[field] = value
        ctx.settings_changed = True
        ctx.say(message)
    if ctx.state in INTERVIEW_STATES or (g in (G.HELP, G.EXPLAIN) and state not in _RESTING):
        await flow.reask(ctx)


# -- resting, forgetting, the end ------------------------------------------------------------------
def ask_idle(ctx: Ctx) -> None:
    """Resting: nothing is asked; the next message gets a hint, `start` resumes."""


def answer_idle(ctx: Ctx, inc: Incoming) -> None:
    ctx.say(M.IDLE_HINT if ctx.profile.get("plan") else M.NOT_NOW_REPLY)


def ask_forget_confirm(ctx: Ctx) -> None:
    """Sure? Everything kept about the person is deleted."""
    ctx.ask(M.FORGET_CONFIRM, _forget_choices())


def answer_forget_confirm(ctx: Ctx, inc: Incoming) -> S | None:
    prompt = ctx.convo.get("prompt") or {}
    if inc.prompt_id is not None and inc.prompt_id != prompt.get("id"):
        ctx.say(M.STALE)
        return S.FORGET_CONFIRM
    choice = ctx.chosen()
    if choice is None and global_command(inc.text) is G.CANCEL:
        choice = Choice("no", M.FORGET_NO)
    if choice is None:
        ctx.say(M.PICK_ONE)
        return S.FORGET_CONFIRM
    if choice.value == "yes":
        ctx.request_forget()
        ctx.say(M.FORGOTTEN)
        return S.END
    ctx.say(M.FORGET_KEPT)
    back = ctx.convo.pop("forget_return", None)
    if back in INTERVIEW_STATES or back in (S.WELCOME.value, S.PLAN.value, S.MARK_DONE.value):
        return S(back)
    return S.IDLE if back == S.IDLE.value else S.END


def ask_end(ctx: Ctx) -> None:
    """Over: nothing open; the next message starts again."""


def answer_end(ctx: Ctx, inc: Incoming) -> S:
    return S.WELCOME


CONVERSATION = Flow(
    S,
    {
        S.WELCOME: Step(I.ask_welcome, I.answer_welcome),
        S.ROLE: Step(R.ask_role, R.answer_role),
        S.ROLE_CONFIRM: Step(R.ask_role_confirm, R.answer_role_confirm),
        S.ROLE_PICK: Step(R.ask_role_pick, R.answer_role_pick),
        S.ROLE_FIELD: Step(R.ask_role_field, R.answer_role_field),
        S.TENURE: Step(I.ask_tenure, I.answer_tenure),
        S.SKILLS: Step(I.ask_skills, I.answer_skills),
        S.GOAL: Step(I.ask_goal, I.answer_goal),
        S.UNSURE_1: Step(I.ask_unsure_1, I.answer_unsure_1),
        S.UNSURE_2: Step(I.ask_unsure_2, I.answer_unsure_2),
        S.UNSURE_3: Step(I.ask_unsure_3, I.answer_unsure_3),
        S.UNSURE_RESULT: Step(I.ask_unsure_result, I.answer_unsure_result),
        S.TARGET: Step(R.ask_target, R.answer_target),
        S.TARGET_CONFIRM: Step(R.ask_target_confirm, R.answer_target_confirm),
        S.TARGET_PICK: Step(R.ask_target_pick, R.answer_target_pick),
        S.TARGET_FIELD: Step(R.ask_target_field, R.answer_target_field),
        S.HOURS: Step(I.ask_hours, I.answer_hours),
        S.PREFS: Step(I.ask_prefs, I.answer_prefs),
        S.CONSENT: Step(I.ask_consent, I.answer_consent),
        S.PLAN: Step(P.ask_plan, P.answer_plan),
        S.MARK_DONE: Step(P.ask_mark_done, P.answer_mark_done),
        S.IDLE: Step(ask_idle, answer_idle),
        S.FORGET_CONFIRM: Step(ask_forget_confirm, answer_forget_confirm, fallbacks=False),
        S.END: Step(ask_end, answer_end),
    },
    start=S.WELCOME,
    fallbacks=(global_words, progress_news, stale_press, empty_message),
)


class Conversation:
    """The `Dialog` the core runs: the table above."""

    def __init__(self, flow: Flow = CONVERSATION) -> None:
        self.flow = flow

    async def step(self, ctx: Ctx) -> None:
        await self.flow.step(ctx)

    def in_progress(self, convo: dict[str, Any]) -> bool:
        state = convo.get("state")
        return state in INTERVIEW_STATES or (state == S.IDLE.value and convo.get("paused") in INTERVIEW_STATES)
