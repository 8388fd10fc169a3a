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
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot import messages as M
from bot import mydata, person
from bot.context import Ctx, Dialog, Services
from bot.errors import ConflictError, StoreError
from bot.matching import normalise
from bot.store import ADDRESSES, CONVERSATIONS, PROFILES, Record, Store
from bot.types import FollowUp, Incoming, Reply

log = logging.getLogger("skillcoach.turn")

Deliver = Callable[[list[Reply]], Awaitable[None]]
FeatureResult = list[Reply] | FollowUp
EVENTS_KEPT = 32   # event ids a conversation keeps (bot/dedupe.py: retries come within minutes)


@dataclass(frozen=True)
class Outcome:
    """What a turn did: its replies, whether they were already handed to `deliver`, and whether its
    event id was saved with the conversation (then no separate record of the event is needed)."""

    replies: list[Reply]
    delivered: bool = False
    recorded: bool = False
    undelivered: BaseException | None = None   # what `deliver` raised (the turn itself was saved)


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
                   deliver: Deliver | None = None, event: str | None = None) -> Outcome:
    """One turn (see `Outcome`).

    `gate` is the deduplication check started beside the turn's first reads; nothing is written
    before it says the event is new. `event` (the platform's id of this event): an id the conversation
    has kept is a repeat, answered with nothing; a new one is kept in the conversation's save, in the
    same write as the turn's effect. `deliver` may receive the replies while the conversation is
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
            return Outcome(result)
        before = list(result.replies)
        inc = replace(inc, text=result.text, choice=None, choices=None, prompt_id=None, command=None)
        gate = event = None   # the feature acted already: its event is recorded apart (bot/dedupe.py)

    # load: one round trip for everything the dialog reads (and who this person is on other platforms)
    email = known_email(coach, inc)
    wanted = [(CONVERSATIONS, key), (PROFILES, key)] + ([(ADDRESSES, key)] if inc.address else [])
    convo_rec, own_rec, *rest = await coach.store.get_many(wanted + person.reads(key, email))
    address = rest.pop(0) if inc.address else None
    link_rec, index_rec = rest[0], (rest[1] if email else None)
    seen: list[str] = list(convo_rec.data.get("events") or []) if convo_rec else []
    if event is not None and event in seen:
        raise DuplicateEvent()
    await _allowed(gate)
    # the address is written with the rest of the turn's save, when it is new or changed
    address_write = feature is None and address_changed(inc, address)
    who = await person.resolve(coach.store, key, own_rec, link_rec, index_rec)
    convo: dict[str, Any] = dict(convo_rec.data) if convo_rec else {}
    profile: dict[str, Any] = dict(who.record.data) if who.record else {}
    unchanged = (repr(convo), repr(profile))
    if who.link:  # this identity meets the rest of the person: one profile from now on
        profile = person.merged(profile, own_rec.data if own_rec else None, who.key, key)

    # identify, then one step of the dialog
    ctx = Ctx(coach, inc, convo, profile, replies=before, profile_key=who.key)
    identify(ctx, email)
    await coach.dialog.step(ctx)

    # effects the step asked for
    if (ctx.forget or ctx.export_at is not None) and address_write:
        await coach.remember_address(inc, address, known=True)   # before the data is deleted or exported
        address_write = False
    if ctx.forget:
        await coach.forget(key)
        return Outcome(ctx.replies)
    if ctx.export_at is not None:
        export = await coach.export(key)
        export["profiles"] = export.get("profiles") or (ctx.profile or None)  # what this turn saves is kept too
        ctx.replies.insert(ctx.export_at, mydata.reply(export, coach.clock()))  # a summary; the file beside it

    # save, and the replies
    if event is not None:
        ctx.convo["events"] = [*seen, event][-EVENTS_KEPT:]
    replies, delivered, undelivered = await _save(coach, ctx, convo_rec, who, unchanged, deliver, email,
                                                  address if address_write else False)
    return Outcome(replies, delivered, recorded=event is not None, undelivered=undelivered)


async def _save(coach: Core, ctx: Ctx, convo_rec: Record | None, who: person.Resolved,
                unchanged: tuple[str, str], deliver: Deliver | None, email: str | None,
                address: Record | None | bool = False,
                ) -> tuple[list[Reply], bool, BaseException | None]:
    """Save what the step changed; hand the replies to `deliver` (when given) as soon as nothing but the
    file work can fail any more, so they go out while the rest is written; then tell the listeners.
    `address`: the address record read, when the incoming address differs from it (it is saved too).
    Returns the replies not yet handed over, whether they were, and the error `deliver` raised."""
    key = ctx.incoming.user_key
    convo_version = convo_rec.version if convo_rec else 0
    convo_changed, profile_changed = repr(ctx.convo) != unchanged[0], repr(ctx.profile) != unchanged[1]
    if profile_changed:  # first: a conflict with a turn on another platform then leaves nothing half-saved
        ctx.profile["updated_at"] = coach.clock()
        await coach.store.put(PROFILES, who.key, ctx.profile, version=who.record.version if who.record else 0)

    async def identity() -> None:   # the email index and the link between identities, in this order
        if profile_changed and ctx.email_change:
            await coach.index_email(who.key, old=ctx.email_change[0], new=ctx.email_change[1])
        if who.link:
            await coach.store.put(person.LINKS, key, {"person": who.key, "email": email})  # the email that joined them
            if who.replaced is not None:
                await coach.store.delete(PROFILES, key)
            await coach.index_email(key, old=None, new=email)
        elif who.stale_link:
            await coach.store.delete(person.LINKS, key)

    writes = [identity()] if (profile_changed and ctx.email_change) or who.link or who.stale_link else []
    if convo_changed:
        writes.append(coach.store.put(CONVERSATIONS, key, ctx.convo, version=convo_version))
    if address is not False:   # the stored address (or None): this one is new or changed
        writes.append(coach.remember_address(ctx.incoming, address, known=True))
    delivered = deliver is not None and bool(ctx.replies)
    undelivered = None
    if delivered:
        # only this process writes this conversation, under this user's lock (the core hands `deliver`
        # over only then): what is left cannot conflict, so the replies go out while it is written
        *saved, sent = await asyncio.gather(*writes, deliver(ctx.replies), return_exceptions=True)  # type: ignore[misc]
        undelivered = sent if isinstance(sent, BaseException) else None   # the adapter hears of it after the save
        failed = next((r for r in saved if isinstance(r, BaseException)), None)
        if isinstance(failed, ConflictError):   # cannot happen here; never a second run after the replies went
            raise StoreError(f"a write of a turn of {key} conflicted after its replies went out") from failed
        if failed is not None:
            raise failed
    else:
        for done, write in enumerate(writes, 1):
            try:
                await write
            except BaseException:
                for left in writes[done:]:
                    left.close()   # never started: nothing of it was written
                raise
    what = "plan" if ctx.plan_changed else "settings" if ctx.settings_changed else None
    if what:
        for identity_key in person.identities(ctx.profile, key):
            await coach.notify(identity_key, what)
    return ([], True, undelivered) if delivered else (ctx.replies, False, None)


def address_changed(inc: Incoming, current: Record | None) -> bool:
    """Whether the address this event came from differs from the one stored (`current`)."""
    if not inc.address:
        return False
    return current is None or current.data.get("address") != inc.address or bool(
        inc.email and current.data.get("email") != inc.email)


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


def known_email(coach: Core, inc: Incoming) -> str | None:
    """The email of the person behind this turn: from the platform, else the organisation file."""
    found = coach.person_for(inc)
    return inc.email or (found.email if found else None)


def identify(ctx: Ctx, email: str | None) -> None:
    """Who this is: platform identity (of the profile's own key), email, name."""
    inc, p = ctx.incoming, ctx.profile
    if ctx.profile_key in ("", inc.user_key) and (p.get("platform") != inc.platform or p.get("user_id") != inc.user_id):
        p["platform"], p["user_id"] = inc.platform, inc.user_id
    if email and p.get("email") != email and ctx.profile_key in ("", inc.user_key):  # a linked identity's
        # email found the profile; the profile's own email stays that of the identity it is stored under
        ctx.email_change = (p.get("email"), email)
        p["email"] = email
    if inc.name and p.get("name") != inc.name:
        p["name"] = inc.name
    p.setdefault("reminders", True)
    p.setdefault("consent_share", False)
    p.setdefault("created_at", ctx.coach.clock())
