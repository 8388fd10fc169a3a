"""One outbox for every proactive message: nudges, their progress and summary, and introductions.

Every proactive message is an *item* with an id that never changes (``nudge:<fan-out>:<email>``,
``intro:<id>:helper`` …). `send_once` delivers an item so that a process dying at any moment neither
loses it nor, on Slack, sends it twice:

1. The caller waits for the platform's pacing first (`Outbox.bucket(platform).acquire()`).
2. Immediately before the platform call the item is *reserved*: one conditional write of
   ``outbox_items/<id>`` = {"state": "reserved", "holder", "until": now + lease, "first_at"}.
3. The platform call carries the item id: on Slack every message has
   ``metadata = {"event_type": "skillcoach_message", "event_payload": {"id": "<id>/<n>"}}``
   (n: the message's place among the item's messages).
4. Right after the call the platform's answer is recorded: {"state": "sent", "receipts": [Slack ts …]}.

A reservation whose lease ran out (its holder died, or its call ended in an error that leaves the
outcome unknown) is resolved by asking the platform: the Slack messenger reads the DM's history since
the first reservation (`conversations.history` with ``include_all_metadata``) for the item's ids —
what is found is recorded as sent, what is missing is sent now. Teams gives bots no way to read a chat
back, so there the one message whose call was in flight when its process died is sent again:
**at least once** on Teams, exactly once on Slack. A rate limit or a permanent refusal before anything
was posted drops the reservation (nothing was sent; no history read is needed on the next try).

Items that wait — an introduction the platform rate-limited — are jobs in the store's durable queue
``outbox`` (`Outbox.enqueue`, delivered by `worker_task` in any process); nudges keep their own queue
(bot/nudges/worker.py), because a fan-out has more to do per person, and call `send_once` for the send itself.

`forget me` (`drop_user`) writes a marker ``outbox_drops/<platform:user_id>`` (the time only, kept for
DROP_KEEP seconds): nothing queued for that user before it is sent. The records of items sent are
removed after DROP_KEEP too (hourly, by the worker).

An item may carry messages already rendered for its platform (`Prerendered`) instead of replies: the
answers an older version kept in the Slack adapter's own queue are moved here so (adapters/slack/old_outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from bot.core import Coach
from bot.delivery import DeliveryError
from bot.errors import ConflictError, StoreError, stray_cancel
from bot.pacing import DEFAULT_RATES, LOOKUP_RATES, TokenBucket
from bot.store.base import ADDRESSES
from bot.types import Card, CardSection, Choice, Reply

log = logging.getLogger("skillcoach.outbox")

ITEMS = "outbox_items"      # item id -> reservation / receipts
DROPS = "outbox_drops"      # platform:user_id -> {"at": when `forget me` was said}
QUEUE = "outbox"            # queued items: {"platform", "user_id", "replies", "queued_at"}
DROP_KEEP = 7 * 86400.0     # longest a queued item may wait; the drop marker is removed after that
LEASE_SECONDS = 120.0       # longer than any platform call (the Slack client gives up after 30 s)
MAX_ATTEMPTS = 8
IDLE_POLL = 1.0
SWEEP_EVERY = 3600.0
class Busy(Exception):
    """Another holder's reservation of this item is still live: try again at `until`."""

    def __init__(self, until: float) -> None:
        super().__init__(f"reserved until {until}")
        self.until = until


@dataclass(frozen=True)
class Outcome:
    """What `send_once` did: "sent" (now), "found" (a dead holder had sent it), "already" (recorded
    before), "dropped" (the user said `forget me` after it was queued)."""

    how: str
    receipts: tuple[str, ...] = ()


def lease_seconds(coach: Coach) -> float:
    """How long a reservation (and a claimed job) holds: SKILLCOACH_NUDGE_LEASE, else LEASE_SECONDS."""
    configured = float(coach.settings.nudge_lease or 0)
    return configured if configured > 0 else LEASE_SECONDS


@dataclass(frozen=True)
class Prerendered:
    """One message already rendered for its platform (a Slack `{"text", "blocks"}`) and its plain-text
    form; the platform's messenger sends it as it is, in place of a rendered `Reply`."""

    message: dict[str, Any]
    plain: str


# -- replies as JSON (queued items) ----------------------------------------------------------------
def reply_to_json(reply: Reply) -> dict[str, Any]:
    return dataclasses.asdict(reply)


def reply_from_json(data: dict[str, Any]) -> Reply:
    card = data.get("card")
    if card is not None:
        sections = tuple(CardSection(s.get("heading"), tuple(s.get("lines") or ()),
                                     tuple(tuple(f) for f in s.get("facts") or ())) for s in card.get("sections") or ())
        card = Card(**{**card, "sections": sections})
    choices = tuple(Choice(**c) for c in data.get("choices") or ())
    return Reply(**{**data, "choices": choices, "card": card})


# -- exactly once ------------------------------------------------------------------------------------
async def dropped(coach: Coach, platform: str, user_id: str, queued_at: float | None) -> bool:
    """Whether `forget me` was said by this user after an item was queued (at `queued_at`)."""
    if queued_at is None:
        return False
    marker = await coach.store.get(DROPS, f"{platform}:{user_id}")
    return marker is not None and float(marker.data.get("at", 0)) >= float(queued_at)


async def drop_user(coach: Coach, user_key: str) -> None:
    """`forget me`: nothing queued for this user until now is sent."""
    await coach.store.put(DROPS, user_key, {"at": coach.clock()})


async def send_once(
    coach: Coach, item_id: str, platform: str, user_id: str, replies: list[Reply], *,
    holder: str, lease: float | None = None, queued_at: float | None = None,
    address: dict[str, Any] | None = None, posted: frozenset[int] = frozenset(),
) -> Outcome:
    """Deliver one item (see the module's docstring). Call it right after waiting for the pacing.

    `address`: where to send instead of the user's stored address; `posted`: numbers of the item's
    messages known to be out already (never posted again).
    Raises `Busy` while another holder's reservation is live, and `DeliveryError` as the messenger
    does (the reservation is dropped when nothing was posted, else left for the next try to resolve).
    """
    store = coach.store
    lease = lease_seconds(coach) if lease is None else lease
    messenger = coach.messengers.get(platform)
    if messenger is None:
        raise DeliveryError(f"{platform} is not connected", permanent=True)
    record, marker, where = await store.get_many(
        [(ITEMS, item_id), (DROPS, f"{platform}:{user_id}"), (ADDRESSES, f"{platform}:{user_id}")])
    if marker is not None and queued_at is not None and float(marker.data.get("at", 0)) >= float(queued_at):
        if record is not None:
            await store.delete(ITEMS, item_id)
        return Outcome("dropped")
    now = coach.clock()
    data = record.data if record else {}
    if data.get("state") == "sent":
        return Outcome("already", tuple(data.get("receipts") or ()))
    if address is None:
        address = where.data.get("address") if where else None
    skip: dict[int, str] = {n: "" for n in posted}
    first_at = now
    if data.get("state") == "reserved":
        if float(data.get("until", 0)) > now:
            raise Busy(float(data["until"]))
        first_at = float(data.get("first_at", now))
        skip.update(await _ask_platform(messenger, item_id, user_id, address, first_at))
    reservation = {"state": "reserved", "platform": platform, "user_id": user_id, "holder": holder,
                   "until": now + lease, "first_at": first_at}
    try:
        mine = await store.put(ITEMS, item_id, reservation, version=record.version if record else 0)
    except ConflictError:
        latest = await store.get(ITEMS, item_id)
        raise Busy(float((latest.data if latest else {}).get("until", now + 1.0))) from None
    try:
        receipts = await _send(messenger, user_id, address, replies, item_id, skip)
    except DeliveryError as exc:
        nothing_posted = (exc.retry_after is not None or exc.permanent) and not exc.partial and len(skip) == len(posted)
        await _after_failure(store, item_id, mine.version, reservation, forget=nothing_posted)
        raise
    except BaseException:  # a timeout, a dropped connection, a bug: the message may have been posted
        with contextlib.suppress(Exception):
            await _after_failure(store, item_id, mine.version, reservation, forget=False)
        raise
    found = tuple(skip[i] for i in sorted(skip) if skip[i])
    await store.put(ITEMS, item_id, {"state": "sent", "platform": platform, "user_id": user_id,
                                     "receipts": list(found + tuple(receipts)), "at": coach.clock()})
    if len(skip) > len(posted) and not receipts:
        log.info("outbox item %s: found in the conversation (its sender stopped before recording it)", item_id)
        return Outcome("found", found)
    if len(skip) > len(posted):
        log.info("outbox item %s: %d message(s) found in the conversation, the rest sent now", item_id, len(skip))
    return Outcome("sent", found + tuple(receipts))


async def _ask_platform(messenger: Any, item_id: str, user_id: str, address: Any, since: float) -> dict[int, str]:
    """A dead holder's messages of this item that reached the conversation: {message number: receipt}."""
    finder = getattr(messenger, "find_sent", None)
    if finder is None:
        log.warning("outbox item %s was in flight when its sender stopped; %s cannot be asked whether it "
                    "arrived, so it is sent again (at least once)", item_id, messenger.platform)
        return {}
    return await finder(user_id, address, item_id, since=since)


async def _send(messenger: Any, user_id: str, address: Any, replies: list[Reply], item_id: str,
                skip: dict[int, str]) -> list[str]:
    receipts = await messenger.send(user_id, address, replies, ref=item_id, skip=frozenset(skip))
    return [str(r) for r in (receipts or []) if r]


async def _after_failure(store: Any, item_id: str, version: int, reservation: dict[str, Any], *, forget: bool) -> None:
    """Nothing posted: drop the reservation. Outcome unknown: let the next try ask the platform at once."""
    try:
        if forget:
            await store.delete(ITEMS, item_id)
        else:
            await store.put(ITEMS, item_id, {**reservation, "until": 0.0}, version=version)
    except (ConflictError, StoreError) as exc:
        log.warning("outbox item %s: could not record the failed attempt: %s", item_id, exc)


# -- the queue of waiting items -------------------------------------------------------------------------
class Outbox:
    """Per coach: the pacing of each platform, and the worker of the queue ``outbox``."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self.worker_id = f"outbox-{uuid.uuid4().hex[:10]}"
        self.rates: dict[str, float] = dict(DEFAULT_RATES)
        configured = coach.settings.nudge_rate or ""
        for part in str(configured).split(","):
            if "=" in part:
                name, _, value = part.partition("=")
                with contextlib.suppress(ValueError):
                    self.rates[name.strip()] = float(value)
        self.buckets: dict[str, TokenBucket] = {}
        self.wake = asyncio.Event()
        self.sending: set[asyncio.Future[Any]] = set()   # shielded sends running now (a stop waits for them)
        self._swept = coach.clock()   # the first sweep an hour after start, not during it

    def bucket(self, name: str) -> TokenBucket:
        """The pacing of messages on a platform ("slack"), or of its email lookups ("slack:lookup")."""
        if name not in self.buckets:
            platform, _, kind = name.partition(":")
            rate = self.rates.get(name) or (LOOKUP_RATES.get(platform, 1.0) if kind else self.rates.get(name, 1.0))
            self.buckets[name] = TokenBucket(rate)
        return self.buckets[name]

    async def enqueue(self, item_id: str, platform: str, user_id: str, replies: list[Reply], *,
                      due: float | None = None, address: dict[str, Any] | None = None,
                      rendered: list[Prerendered] | None = None) -> bool:
        """Queue an item for the worker (idempotent by id); `address` instead of the user's stored one,
        `rendered`: messages to send after the replies."""
        now = self.coach.clock()
        payload: dict[str, Any] = {"platform": platform, "user_id": user_id,
                                   "replies": [reply_to_json(r) for r in replies],
                                   "queued_at": now, "address": address}
        if rendered:
            payload["rendered"] = [{"message": r.message, "plain": r.plain} for r in rendered]
        added = await self.coach.store.enqueue(QUEUE, item_id, payload, due=now if due is None else due)
        self.wake.set()
        return added

    async def deliver(self, item_id: str, platform: str, user_id: str, replies: list[Reply]) -> str:
        """Send an item now, exactly once; if the platform asks to wait, the worker sends it later.

        The item is queued first, due when its lease would end: if this process dies during the send,
        the worker of any process finds the reservation, asks the platform and finishes it. Returns
        "sent" or "queued"; raises DeliveryError when the platform refuses the item for good.
        """
        coach = self.coach
        now = coach.clock()
        lease = lease_seconds(coach)
        await coach.store.enqueue(QUEUE, item_id, {
            "platform": platform, "user_id": user_id, "replies": [reply_to_json(r) for r in replies],
            "queued_at": now}, due=now + lease)
        # not paced here: one message answering what a person just did must not queue behind a fan-out
        try:
            await send_once(coach, item_id, platform, user_id, replies, holder=self.worker_id, lease=lease,
                            queued_at=now)
        except Busy:
            return "queued"
        except DeliveryError as exc:
            if exc.retry_after is not None and not exc.permanent:
                self.bucket(platform).penalize(exc.retry_after)
                log.warning("outbox item %s: %s; it is sent within %.0f s", item_id, exc, lease)
                return "queued"
            raise
        self.bucket(platform).succeeded()
        return "sent"

    async def run_once(self) -> int:
        """Deliver the due items of the queue (any process may; each job is leased to one); how many."""
        coach, store = self.coach, self.coach.store
        now = coach.clock()
        if now - self._swept > SWEEP_EVERY:
            self._swept = now
            await self._sweep_drops(now)
        jobs = await store.claim(QUEUE, self.worker_id, limit=20, lease=lease_seconds(coach), now=now)
        for job in jobs:
            await self._run_job(job)
        return len(jobs)

    async def _run_job(self, job: Any) -> None:
        coach, store = self.coach, self.coach.store
        payload = job.payload
        platform, user_id = payload["platform"], payload["user_id"]
        replies: list[Any] = [reply_from_json(r) for r in payload.get("replies") or []]
        replies += [Prerendered(r["message"], r["plain"]) for r in payload.get("rendered") or []]
        await self.bucket(platform).acquire()
        try:
            send = asyncio.ensure_future(send_once(
                coach, job.key, platform, user_id, replies, holder=self.worker_id, queued_at=payload.get("queued_at"),
                # "skip": the numbers of messages posted already, in answers queued by earlier versions
                address=payload.get("address"), posted=frozenset(payload.get("skip") or ())))
            self.sending.add(send)
            send.add_done_callback(self.sending.discard)
            outcome = await asyncio.shield(send)
        except Busy as busy:
            await store.release(QUEUE, job.key, self.worker_id, due=busy.until)
            return
        except DeliveryError as exc:
            if exc.retry_after is not None and not exc.permanent:
                self.bucket(platform).penalize(exc.retry_after)
                await store.release(QUEUE, job.key, self.worker_id, due=coach.clock() + exc.retry_after)
                return
            if exc.permanent or job.attempts >= MAX_ATTEMPTS:
                log.warning("outbox item %s not delivered: %s", job.key, exc)
                await store.complete(QUEUE, job.key, self.worker_id, {"outcome": "failed"})
                return
            await store.release(QUEUE, job.key, self.worker_id, due=coach.clock() + min(60.0, 2.0 ** job.attempts))
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox item %s failed", job.key)
            if job.attempts >= MAX_ATTEMPTS:
                await store.complete(QUEUE, job.key, self.worker_id, {"outcome": "failed"})
            else:
                await store.release(QUEUE, job.key, self.worker_id, due=coach.clock() + min(60.0, 2.0 ** job.attempts))
            return
        if outcome.how == "sent":
            self.bucket(platform).succeeded()
        await store.complete(QUEUE, job.key, self.worker_id, {"outcome": outcome.how})

    async def _sweep_drops(self, now: float) -> None:
        """Remove `forget me` markers, and the records of items sent, older than anything still queued
        or retried can be (DROP_KEEP)."""
        store = self.coach.store
        old = [r.key async for r in store.scan(DROPS) if now - float(r.data.get("at", 0)) > DROP_KEEP]
        for key in old:
            await store.delete(DROPS, key)
        done = [r.key async for r in store.scan(ITEMS)
                if r.data.get("state") == "sent" and now - float(r.data.get("at", now)) > DROP_KEEP]
        for key in done:
            job = await store.job(QUEUE, key)
            if job is None or job.get("done"):   # a queued copy still to run needs the record: kept
                await store.delete(ITEMS, key)


def service(coach: Coach) -> Outbox:
    """The coach's outbox (created on first use)."""
    box = getattr(coach, "_outbox", None)
    if box is None:
        box = Outbox(coach)
        coach._outbox = box
    return box


async def worker_task(coach: Coach, *, interval: float = IDLE_POLL) -> None:
    """Background task: deliver queued items until cancelled."""
    box = service(coach)
    while True:
        try:
            if await box.run_once():
                continue
        except asyncio.CancelledError:
            if not stray_cancel():
                raise
            log.error("outbox worker: a step was cancelled although nothing stopped the worker; carrying on")
        except Exception:
            log.exception("outbox worker failed; trying again later")
        box.wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(box.wake.wait(), timeout=interval)
