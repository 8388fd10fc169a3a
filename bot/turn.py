"""One turn, top to bottom: dedupe → load → identify → route → dialog step → save → replies.

`run_turn` is the whole path of one user action through the core. Features that keep their own state
(managers' commands, introductions, nudge presses) answer in the route step without the conversation;
everything else is one step of the dialog over a `Ctx`. The turn then carries out what the step asked
for (an export, forgetting the person), saves the conversation and the profile with the versions it
read, and tells listeners what changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

from bot import messages as M
from bot import mydata
from bot.context import Ctx, Dialog, Services
from bot.matching import normalise
from bot.store import ADDRESSES, CONVERSATIONS, PROFILES, Record, Store
from bot.types import FollowUp, Incoming, Reply

log = logging.getLogger("skillcoach.turn")

Deliver = Callable[[list[Reply]], Awaitable[None]]
FeatureResult = list[Reply] | FollowUp


class DuplicateEvent(Exception):
    """The event of this turn was processed before (raised before anything is written)."""


class Core(Services, Protocol):
    """What a turn needs of the coach."""

    store: Store
    dialog: Dialog
    command_handlers: dict[str, Any]
    text_intents: list[tuple[tuple[str, ...], Any]]

    async def remember_address(self, incoming: Incoming, current: Any = None, *, known: bool = False) -> None: ...
    async def export(self, user_key: str) -> dict[str, Any]: ...
    async def forget(self, user_key: str) -> int: ...
    async def notify(self, user_key: str, what: str) -> None: ...
    async def index_email(self, user_key: str, *, old: str | None, new: str | None) -> None: ...


async def run_turn(coach: Core, inc: Incoming, *, gate: asyncio.Future[bool] | None = None,
                   deliver: Deliver | None = None) -> tuple[list[Reply], bool]:
    """One turn: its replies, and whether they were already handed to `deliver`.

    `gate` is the deduplication check started beside the turn's first reads; nothing is written
    before it says the event is new. `deliver` may receive the replies while the conversation is
    saved, when nothing else of the turn can fail after them.
    """
    key = inc.user_key
    before: list[Reply] = []
    # route: a feature that keeps its own state answers without the conversation
    feature = _feature_handler(coach, inc)
    if feature is not None:
        await _allowed(gate)
        await coach.remember_address(inc)
        result = await feature()
        if not isinstance(result, FollowUp):
            return result, False
        before = list(result.replies)
        inc = replace(inc, text=result.text, choice=None, choices=None, prompt_id=None, command=None)
        gate = None

    # load: one round trip for everything the dialog reads
    wanted = [(CONVERSATIONS, key), (PROFILES, key)] + ([(ADDRESSES, key)] if inc.address else [])
    convo_rec, profile_rec, *address = await coach.store.get_many(wanted)
    await _allowed(gate)
    if feature is None:
        await coach.remember_address(inc, address[0] if address else None, known=True)
    convo: dict[str, Any] = dict(convo_rec.data) if convo_rec else {}
    profile: dict[str, Any] = dict(profile_rec.data) if profile_rec else {}
    unchanged = (repr(convo), repr(profile))

    # identify, then one step of the dialog
    ctx = Ctx(coach, inc, convo, profile, replies=before)
    identify(ctx)
    await coach.dialog.step(ctx)

    # effects the step asked for
    if ctx.forget:
        await coach.forget(key)
        return ctx.replies, False
    if ctx.export_at is not None:
        export = await coach.export(key)
        export["profiles"] = export.get("profiles") or (ctx.profile or None)  # what this turn saves is kept too
        ctx.replies.insert(ctx.export_at, mydata.reply(export, coach.clock()))  # a summary; the file beside it

    # save, and the replies
    return await _save(coach, ctx, convo_rec, profile_rec, unchanged, deliver)


async def _save(coach: Core, ctx: Ctx, convo_rec: Record | None, profile_rec: Record | None,
                unchanged: tuple[str, str], deliver: Deliver | None) -> tuple[list[Reply], bool]:
    key = ctx.incoming.user_key
    convo_version = convo_rec.version if convo_rec else 0
    convo_changed, profile_changed = repr(ctx.convo) != unchanged[0], repr(ctx.profile) != unchanged[1]
    if deliver is not None and convo_changed and not profile_changed and ctx.replies and not (
        ctx.plan_changed or ctx.settings_changed
    ):
        # only this process writes this conversation, and only under this user's lock: the save
        # cannot conflict, so the replies go out while it is written
        save = coach.store.put(CONVERSATIONS, key, ctx.convo, version=convo_version)
        saved, sent = await asyncio.gather(save, deliver(ctx.replies), return_exceptions=True)
        if isinstance(sent, BaseException):
            log.error("delivering the replies of a turn of %s failed", key, exc_info=sent)
        if isinstance(saved, BaseException):
            raise saved
        return [], True
    if convo_changed:
        await coach.store.put(CONVERSATIONS, key, ctx.convo, version=convo_version)
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


async def _allowed(gate: asyncio.Future[bool] | None) -> None:
    """Wait for the deduplication check running beside the turn; stop before anything is written."""
    if gate is not None and not await asyncio.shield(gate):
        raise DuplicateEvent()


def _feature_handler(coach: Core, inc: Incoming) -> Callable[[], Awaitable[FeatureResult]] | None:
    """The feature module (not the dialog) that answers this input, if any:
    1. a pressed choice whose value starts with a registered action prefix ("intro:…", "nudge:…");
    2. a command with a registered handler (the managers' `nudge-team`, `team-skills`);
    3. a registered text intent (`mentoring pause`, …)."""
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


def identify(ctx: Ctx) -> None:
    """Who this is: platform identity, email (from the platform or the organisation file), name."""
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
