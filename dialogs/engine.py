"""A small dialog engine: a table of named states, each with one question and one answer step.

Each state has `ask(ctx)` (send its question) and `answer(ctx, incoming) -> next state`. After an answer
the engine asks the next state's question — also when the next state is the same one (a re-ask after
an answer it could not use); an answer that returns None stays where it is without asking again.
Before a state's answer, the table's fallbacks are tried in order (global words such as help, my plan,
cancel): a fallback that handles the input ends the turn, so a side command is never taken as an answer.
Only the engine writes the conversation's state. The conversation (state, answers, the open question
and its choices) is a plain dict saved every turn, so a restart resumes exactly where it was.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.context import Ctx
from bot.types import Incoming

AskFn = Callable[[Ctx], Awaitable[None] | None]
AnswerFn = Callable[[Ctx, Incoming], Awaitable[Any] | Any]


@dataclass(frozen=True)
class Step:
    ask: AskFn
    answer: AnswerFn
    fallbacks: bool = True  # False: this state's answer comes before the table's fallbacks


class FlowError(Exception):
    """A dialog table is incomplete (checked when the flow is built)."""


Fallback = Callable[["Flow", Ctx], Awaitable[bool] | bool]  # True: the input was handled


class Flow:
    """A dialog: the states enum, the table of steps for them, and the fallbacks tried before a step."""

    def __init__(self, states: type[enum.Enum], table: dict[Any, Step], start: Any, *,
                 fallbacks: Sequence[Fallback] = ()) -> None:
        missing = [s.name for s in states if s not in table]
        if missing:
            raise FlowError(f"{states.__name__}: no step for state(s) {', '.join(missing)}")
        if start not in table:
            raise FlowError(f"{states.__name__}: start state {start} has no step")
        self.states = states
        self.table = table
        self.start = start
        self.fallbacks = tuple(fallbacks)

    def state_of(self, ctx: Ctx) -> Any | None:
        """The current state; None for a new conversation or a stored state this table no longer has."""
        try:
            return self.states(ctx.convo.get("state")) if ctx.convo.get("state") else None
        except ValueError:
            return None

    async def step(self, ctx: Ctx) -> None:
        """One turn: the fallbacks (unless the state answers first), then the state's answer."""
        state = self.state_of(ctx)
        if state is None or self.table[state].fallbacks:
            for fallback in self.fallbacks:
                if await _maybe_await(fallback(self, ctx)):
                    return
        await self.answer(ctx)

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
