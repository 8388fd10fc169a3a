"""A small dialog engine: a table of named states, each with one question and one answer step.

Each state has `ask(ctx)` (send its question) and `answer(ctx, incoming) -> next state`. After an answer
the engine asks the next state's question — also when the next state is the same one (a re-ask after
an answer it could not use). The conversation (state, answers, the open question and its choices) is
a plain dict saved every turn, so a restart resumes exactly where it was.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.matching import pick_choice, pick_many
from bot.types import Choice, Incoming, Reply

if TYPE_CHECKING:
    from bot.core import Coach


@dataclass
class Ctx:
    """Everything one turn works with; steps change `convo` and `profile` in place."""

    coach: Coach
    incoming: Incoming
    convo: dict[str, Any]
    profile: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    plan_changed: bool = False
    settings_changed: bool = False
    forgotten: bool = False
    email_change: tuple[str | None, str] | None = None  # (old, new) when this turn learned the email

    @property
    def data(self) -> dict[str, Any]:
        return self.convo.setdefault("data", {})

    @property
    def state(self) -> str | None:
        return self.convo.get("state")

    def say(self, text: str = "", **kwargs: Any) -> None:
        self.replies.append(Reply(text, **kwargs))

    def ask(self, text: str, choices: list[Choice] | tuple[Choice, ...] = (), *, multi: bool = False) -> None:
        """Ask a question; with choices it becomes the open prompt that presses are checked against."""
        seq = int(self.convo.get("seq", 0)) + 1
        self.convo["seq"] = seq
        prompt_id = f"{self.convo.get('state') or 'q'}.{seq}"
        self.convo["prompt"] = {
            "id": prompt_id,
            "choices": [[c.value, c.label] for c in choices],
            "multi": multi,
        }
        self.replies.append(Reply(text, tuple(choices), multi, prompt_id=prompt_id if choices else None))

    def open_choices(self) -> list[Choice]:
        prompt = self.convo.get("prompt") or {}
        return [Choice(v, label) for v, label in prompt.get("choices", [])]

    def chosen(self) -> Choice | None:
        """The single choice this turn made: a pressed value, or typed text matching one."""
        choices = self.open_choices()
        if self.incoming.choice is not None:
            return next((c for c in choices if c.value == self.incoming.choice), None)
        if self.incoming.choices:
            first = self.incoming.choices[0]
            return next((c for c in choices if c.value == first), None)
        return pick_choice(self.incoming.text, choices)

    def chosen_many(self) -> tuple[list[Choice], list[str]]:
        """A multi-select answer: the chosen choices and any typed pieces that matched none."""
        choices = self.open_choices()
        if self.incoming.choices is not None:
            wanted = set(self.incoming.choices)
            # adapters put the chosen labels in `text` too; the values are what counts
            return [c for c in choices if c.value in wanted], []
        if self.incoming.choice is not None:
            return [c for c in choices if c.value == self.incoming.choice], []
        return pick_many(self.incoming.text, choices)


AskFn = Callable[[Ctx], Awaitable[None] | None]
AnswerFn = Callable[[Ctx, Incoming], Awaitable[Any] | Any]


@dataclass(frozen=True)
class Step:
    ask: AskFn
    answer: AnswerFn


class FlowError(Exception):
    """A dialog table is incomplete (checked when the flow is built)."""


class Flow:
    """A dialog: the states enum and the table of steps for them."""

    def __init__(self, states: type[enum.Enum], table: dict[Any, Step], start: Any) -> None:
        missing = [s.name for s in states if s not in table]
        if missing:
            raise FlowError(f"{states.__name__}: no step for state(s) {', '.join(missing)}")
        if start not in table:
            raise FlowError(f"{states.__name__}: start state {start} has no step")
        self.states = states
        self.table = table
        self.start = start

    def state_of(self, ctx: Ctx) -> Any | None:
        try:
            return self.states(ctx.convo.get("state")) if ctx.convo.get("state") else None
        except ValueError:
            return None

    async def enter(self, ctx: Ctx, state: Any) -> None:
        ctx.convo["state"] = state.value
        ctx.convo.pop("prompt", None)
        await _maybe_await(self.table[state].ask(ctx))

    async def reask(self, ctx: Ctx) -> None:
        state = self.state_of(ctx)
        if state is not None:
            await self.enter(ctx, state)

    async def answer(self, ctx: Ctx) -> None:
        state = self.state_of(ctx)
        if state is None:
            await self.enter(ctx, self.start)
            return
        nxt = await _maybe_await(self.table[state].answer(ctx, ctx.incoming))
        if nxt is None:
            return
        await self.enter(ctx, nxt)


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value
