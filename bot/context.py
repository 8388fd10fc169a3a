"""What one turn works with: the `Ctx` a dialog step reads and changes, and the core services it may use.

A step never touches the store, the platform or identity: it reads the conversation and the profile,
changes them in place, adds replies, and asks the core for work with effects (`request_export`,
`request_forget`) that the turn carries out after the step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot import messages as M
from bot.catalog import Catalog
from bot.matching import pick_choice, pick_many
from bot.people import Directory, Person
from bot.recommend import Recommender
from bot.types import Choice, Incoming, Reply

HelperFilter = Callable[[Any, Person, str], Awaitable[bool]]


class Services(Protocol):
    """The parts of the coach a dialog step may use (the `Coach` provides them)."""

    catalog: Catalog
    recommender: Recommender
    directory: Directory
    clock: Callable[[], float]
    helper_filters: list[HelperFilter]
    action_handlers: dict[str, Any]

    def person_for(self, incoming: Incoming) -> Person | None: ...


@dataclass
class Ctx:
    """Everything one turn works with; steps change `convo` and `profile` in place."""

    coach: Services
    incoming: Incoming
    convo: dict[str, Any]
    profile: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    plan_changed: bool = False
    settings_changed: bool = False
    forget: bool = False  # the person confirmed "forget me": the turn deletes their data, saves nothing
    export_at: int | None = None  # where in `replies` the turn puts the person's data export
    email_change: tuple[str | None, str] | None = None  # (old, new) when this turn learned the email
    profile_key: str = ""  # where the profile is stored (another identity's key when the person is linked)

    @property
    def data(self) -> dict[str, Any]:
        return self.convo.setdefault("data", {})

    @property
    def state(self) -> str | None:
        return self.convo.get("state")

    def say(self, text: str = "", **kwargs: Any) -> None:
        self.replies.append(Reply(text, **kwargs))

    def didnt_get(self) -> None:
        """The answer matched none of the choices: say so (the step then asks again)."""
        self.say(f"{M.DIDNT_GET} {M.PICK_ONE}")

    def request_export(self) -> None:
        """Show the person everything kept about them, at this point of the replies."""
        self.export_at = len(self.replies)

    def request_forget(self) -> None:
        self.forget = True

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


class Dialog(Protocol):
    """A conversation the core runs: one step per turn over a `Ctx` (the interview implements it)."""

    async def step(self, ctx: Ctx) -> None:
        """Answer the turn's input: change the conversation and profile, add replies."""

    def in_progress(self, convo: dict[str, Any]) -> bool:
        """Whether this conversation is part-way (a home screen offers to resume it)."""
