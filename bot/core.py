"""The core: one entry point, `Coach.handle(incoming) -> replies`.

Adapters build an `Incoming`, call `handle`, and render the replies. Each turn runs `bot.turn.run_turn`
(dedupe → load → identify → route → dialog step → save → replies) with the dialog handed in where the
coach is built (`bot.server.build_coach`, the CLI). Turns of one user are applied in order (a per-user
lock in this process; versioned writes across processes, retried from fresh state on conflict).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from bot import messages as M
from bot import person
from bot.catalog import Catalog
from bot.context import Dialog
from bot.dedupe import Dedupe
from bot.delivery import DeliveryError, Messenger
from bot.errors import ConflictError, StoreError
from bot.home import HomeSummary, home_summary
from bot.metrics import NO_METRICS
from bot.people import Directory, Person
from bot.recommend import Recommender
from bot.settings import Settings
from bot.store import ADDRESSES, EMAILS, PROFILES, USER_COLLECTIONS, Store, update
from bot.turn import Deliver, DuplicateEvent, Outcome, address_changed, run_turn
from bot.types import Incoming, Reply

log = logging.getLogger("skillcoach.core")

MAX_TEXT = 4000  # longer text is cut here before any matching (a message is never refused for length)

ChangeListener = Callable[[str, str], Awaitable[None]]


class Coach:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        catalog: Catalog,
        directory: Directory | None = None,
        *,
        dialog: Dialog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.dialog = dialog
        self.dedupe = Dedupe(store)
        self.store = store
        self.catalog = catalog
        self.directory = directory or Directory()
        self.clock = clock
        self.recommender = Recommender(catalog)
        self.messengers: dict[str, Messenger] = {}
        self.metrics = NO_METRICS  # bot/metrics.py replaces it when /metrics is on
        self._listeners: list[ChangeListener] = []
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Extension points for feature modules (managers' commands, introductions, nudges):
        #   command_handlers[name](coach, incoming, person) for Incoming.command == name
        #   action_handlers[prefix](coach, incoming) for a pressed choice "prefix:..."
        #   text_intents: (phrase prefixes, handler(coach, incoming, person)) matched on normalised text
        self.command_handlers: dict[str, Callable[[Coach, Incoming, Person | None], Awaitable[list[Reply]]]] = {}
        self.action_handlers: dict[str, Callable[[Coach, Incoming], Awaitable[list[Reply]]]] = {}
        #   exporters(coach, user_key) -> dict merged into `my data`
        #   helper_filters(coach, person, offer) -> bool: may this person be suggested as a helper now?
        self.exporters: list[Callable[[Coach, str], Awaitable[dict[str, Any]]]] = []
        self.helper_filters: list[Callable[[Coach, Person, str], Awaitable[bool]]] = []
        self.text_intents: list[
            tuple[tuple[str, ...], Callable[[Coach, Incoming, Person | None], Awaitable[list[Reply]]]]
        ] = []

    # -- wiring ----------------------------------------------------------------------------
    def register_messenger(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger

    def on_change(self, listener: ChangeListener) -> None:
        """Call `listener(user_key, what)` after a user's plan or settings changed ("plan", "settings",
        "forgotten")."""
        self._listeners.append(listener)

    async def notify(self, user_key: str, what: str) -> None:
        for listener in self._listeners:
            try:
                await listener(user_key, what)
            except Exception:  # a failing listener (e.g. App Home publish) must not fail the turn
                log.exception("change listener failed for %s (%s)", user_key, what)

    def set_directory(self, directory: Directory) -> None:
        self.directory = directory

    def person_for(self, incoming: Incoming) -> Person | None:
        return self.directory.by_platform(incoming.platform, incoming.user_id) or self.directory.by_email(
            incoming.email
        )

    # -- deduplication ---------------------------------------------------------------------
    async def first_time(self, platform: str, event_id: str, ttl: float = 3 * 86400) -> bool:
        """True the first time the store sees this id (a once-ever marker such as a welcome sent)."""
        return await self.dedupe.record(platform, event_id, ttl)

    # -- the entry point -------------------------------------------------------------------
    async def handle(self, incoming: Incoming, *, once: bool = False, retried: bool = False,
                     deliver: Deliver | None = None,
                     before: Callable[[], Awaitable[None]] | None = None) -> list[Reply]:
        """Answer one user action. Always returns at least one reply; never raises for user input.

        `once=True` (with `incoming.event_id`): the turn's first step is deduplication (bot/dedupe.py) —
        an event seen before is answered with nothing (an empty list); when the store's record must
        decide (a platform's retry, a shared store) it is checked at the same time as the turn's first
        reads and before anything is written. `retried`: the platform marked this delivery as a retry.
        `before`: the adapter's own platform calls that must happen once per event and ahead of the turn
        (the public pointer of a mention, the pressed message updated to show the choice); with `once`
        they run only when the event is new, after the store's record said so.

        `deliver` (an adapter's `async deliver(replies)`, which handles its own delivery errors): when
        given, it is the one way out — every reply is handed to it and an empty list is returned; on a
        store only this process writes, a turn that changes nothing but the conversation hands its
        replies over while the conversation is being saved.
        Nothing can overtake that save (a user's turns run one at a time here); if it fails, the reply
        returned asks the person to try again.
        """
        started = time.perf_counter()
        outcome = "error"
        try:
            replies, outcome, undelivered = await self._handle(incoming, once=once, retried=retried,
                                                               deliver=deliver, before=before)
            if undelivered is not None:   # the adapter's delivery error, raised to it as if it had delivered
                raise undelivered
            if deliver is not None and replies:  # one way out: with `deliver`, every reply goes through it
                await deliver(replies)
                return []
            return replies
        finally:
            self.metrics.turn(incoming.platform, outcome, time.perf_counter() - started)

    async def _handle(self, incoming: Incoming, *, once: bool, retried: bool, deliver: Deliver | None,
                      before: Callable[[], Awaitable[None]] | None = None,
                      ) -> tuple[list[Reply], str, BaseException | None]:
        """`handle`, the turn's outcome for the metrics, and what `deliver` raised when the turn used it."""
        if len(incoming.text) > MAX_TEXT:
            incoming = replace(incoming, text=incoming.text[:MAX_TEXT])
        lock = self._locks.get(incoming.user_key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[incoming.user_key] = lock
        async with lock:
            try:
                outcome = await self._turn(incoming, once=once and bool(incoming.event_id), retried=retried,
                                           deliver=None if self.store.shared else deliver, before=before)
            except DuplicateEvent:
                return [], "duplicate", None
            except StoreError as exc:
                log.warning("store unavailable during a turn of %s: %s", incoming.user_key, exc)
                return [Reply(M.TRY_AGAIN)], "store_unavailable", None
            except (OSError, ConnectionError) as exc:
                log.warning("store unreachable during a turn of %s: %s", incoming.user_key, exc)
                return [Reply(M.TRY_AGAIN)], "store_unavailable", None
        if outcome.delivered:
            return [], "answered", outcome.undelivered
        return outcome.replies or [Reply(M.HELP)], "answered", None

    async def _turn(self, incoming: Incoming, *, once: bool = False, retried: bool = False,
                    deliver: Deliver | None = None,
                    before: Callable[[], Awaitable[None]] | None = None) -> Outcome:
        gate = None
        event = str(incoming.event_id) if once else None
        later = False   # the store's record is written after the turn, unless the turn's save holds it
        if event is not None:
            if not self.dedupe.remember(incoming.platform, event):
                raise DuplicateEvent()  # seen in this process: nothing to answer
            if self.dedupe.must_wait(retried):
                gate = asyncio.ensure_future(self.dedupe.record(incoming.platform, event))
            else:
                later = True
        if before is not None:  # platform calls of a new event only: the record decides first
            if gate is not None and not await gate:
                raise DuplicateEvent()
            gate = None
            await before()
        recorded = False
        try:
            for attempt in range(5):
                try:
                    outcome = await run_turn(self, incoming, gate=gate, deliver=deliver, event=event)
                    recorded = outcome.recorded
                    return outcome
                except ConflictError:
                    # another process wrote this user's conversation first: run the turn again on fresh state
                    log.info("conflicting write for %s; retrying turn (%d)", incoming.user_key, attempt + 1)
                    await asyncio.sleep(0.01 * (attempt + 1))
            raise ConflictError(f"could not apply a turn of {incoming.user_key}")
        finally:
            if gate is not None and not gate.done():
                gate.cancel()
            if later and not recorded:
                self.dedupe.record_later(incoming.platform, str(event))

    def address_record(self, incoming: Incoming) -> dict[str, Any]:
        """What the store keeps to reach this user proactively."""
        data = {"platform": incoming.platform, "user_id": incoming.user_id, "address": incoming.address}
        if incoming.email:
            data["email"] = incoming.email
        return data

    async def remember_address(self, incoming: Incoming, current: Any = None, *, known: bool = False) -> None:
        """Store the user's address when it is new or changed (`current`: the record, if already read)."""
        if not incoming.address:
            return
        if not known:
            current = await self.store.get(ADDRESSES, incoming.user_key)
        if not address_changed(incoming, current):
            return
        try:
            await self.store.put(ADDRESSES, incoming.user_key, self.address_record(incoming))
        except ConflictError:
            pass  # another turn stored it at the same moment

    # -- proactive messages ----------------------------------------------------------------
    async def address_of(self, user_key: str) -> dict[str, Any] | None:
        record = await self.store.get(ADDRESSES, user_key)
        return record.data.get("address") if record else None

    async def send_to(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        """Deliver replies proactively to one user; raises DeliveryError."""
        messenger = self.messengers.get(platform)
        if messenger is None:
            raise DeliveryError(f"{platform} is not connected", permanent=True)
        address = await self.address_of(f"{platform}:{user_id}")
        await messenger.send(user_id, address, replies)

    # -- data about one user ---------------------------------------------------------------
    async def forget(self, user_key: str) -> int:
        """Delete everything stored about a person, on every platform identity they use; returns how many
        records were removed."""
        removed = 0
        profile = await person.read_profile(self.store, user_key)
        keys = person.identities(profile.data if profile else None, user_key)
        if profile is not None:
            keys = person.identities(keys, profile.key)
        # every email this person was known by (the profile's, and each platform's), out of the index too
        known = await self.store.get_many([(c, key) for key in keys for c in (ADDRESSES, person.LINKS)])
        emails = {(profile.data.get("email") if profile else None)} | {r.data.get("email") for r in known if r}
        for email in sorted(e for e in emails if e):
            for key in keys:
                await self.index_email(key, old=email, new=None)
        for key in keys:
            for collection in (*USER_COLLECTIONS, person.LINKS):
                removed += bool(await self.store.delete(collection, key))
        for key in keys:
            await self.notify(key, "forgotten")
        return removed

    async def export(self, user_key: str) -> dict[str, Any]:
        """Everything kept about a person: this identity's records and the person's profile; the records
        of their other platform identities under `other_identities`."""
        out: dict[str, Any] = {"user": user_key, "exported_at": int(self.clock())}
        profile = await person.read_profile(self.store, user_key)
        out.update(await self._records_of(user_key))
        out[PROFILES] = profile.data if profile else None
        others = [k for k in person.identities(profile.data if profile else None, user_key) if k != user_key]
        if others:
            out["other_identities"] = {key: await self._records_of(key, profile=False) for key in others}
        return out

    async def _records_of(self, user_key: str, *, profile: bool = True) -> dict[str, Any]:
        collections = [c for c in USER_COLLECTIONS if profile or c != PROFILES]
        records = await self.store.get_many([(collection, user_key) for collection in collections])
        out: dict[str, Any] = {c: record.data if record else None for c, record in zip(collections, records)}
        for exporter in self.exporters:
            out.update(await exporter(self, user_key))
        return out

    async def index_email(self, user_key: str, *, old: str | None, new: str | None) -> None:
        """Keep the email index in step with a profile's email (reports find profiles by email)."""
        def change(add: bool):
            def apply(data):
                keys = list((data or {}).get("keys", []))
                if add == (user_key in keys):
                    return None  # already as wanted
                if add:
                    keys.append(user_key)
                else:
                    keys.remove(user_key)
                return {"keys": keys}
            return apply

        if old and old.lower() != (new or "").lower():
            record = await update(self.store, EMAILS, old.lower(), change(False))
            if record is not None and not record.data.get("keys"):
                await self.store.delete(EMAILS, old.lower())  # an email is personal data: nothing left behind
        if new:
            await update(self.store, EMAILS, new.lower(), change(True))

    async def profiles_by_email(self, emails: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The profiles of these people (one per platform they use), read by key, never by a scan."""
        wanted = sorted({e.lower() for e in emails if e})
        index = await self.store.get_many([(EMAILS, e) for e in wanted])
        keys = [(email, key) for email, rec in zip(wanted, index) if rec for key in rec.data.get("keys", [])]
        records = await self.store.get_many([(PROFILES, key) for _, key in keys])
        out: dict[str, list[dict[str, Any]]] = {}
        for (email, _), rec in zip(keys, records):
            if rec is not None:
                out.setdefault(email, []).append(rec.data)
        return out

    async def home(self, user_key: str) -> HomeSummary:
        return await home_summary(self.store, self.dialog, self.directory, user_key)
