"""The helper's answer: accept (both get an introduction with next steps; the helper's remaining capacity
goes down by one) or decline; no answer within 3 days expires the request (a job in the queue
``intro-expiry``). Declined or expired, the requester is offered the next match."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.delivery import DeliveryError
from bot.intros.asking import ask
from bot.intros.outreach import deliver, offer_next
from bot.intros.records import (EXPIRY_POLL, EXPIRY_QUEUE, HELPERS, HISTORY, INTROS, role_phrase, room_phrase,
                                skills_phrase)
from bot.messages import IntroWords as W
from bot.messages import Intros as T
from bot.org.identity import email_of
from bot.people import OFFERS, Person
from bot.store import update
from bot.types import Incoming, Reply

if TYPE_CHECKING:
    from bot.core import Coach

log = logging.getLogger("skillcoach.intros")


async def intro_action(coach: Coach, incoming: Incoming) -> list[Reply]:
    """`intro:accept:<id>`, `intro:decline:<id>`, `intro:ask:<email>:<offer>`, `intro:none`."""
    parts = (incoming.choice or "").split(":")
    action = parts[1] if len(parts) > 1 else ""
    if action == "ask" and len(parts) >= 3:
        helper = coach.directory.by_email(parts[2])
        offer = parts[3] if len(parts) > 3 and parts[3] in OFFERS else "mentoring"
        if helper is None:
            return [Reply(T.NOT_FOUND.format(name=parts[2]))]
        return await ask(coach, incoming, helper, offer)
    if action == "none":
        return [Reply(T.NO_THANKS)]
    if action in ("accept", "decline") and len(parts) >= 3:
        return await _answer(coach, incoming, parts[2], accept=action == "accept")
    return [Reply(T.GONE)]


async def _answer(coach: Coach, incoming: Incoming, intro_id: str, *, accept: bool) -> list[Reply]:
    record = await coach.store.get(INTROS, intro_id)
    if record is None:
        return [Reply(T.GONE)]
    intro = record.data
    me = await email_of(coach, incoming)
    if not (incoming.platform == intro["platform"] and incoming.user_id == intro["helper_user_id"]) and me != intro["helper"]:
        return [Reply(T.NOT_FOR_YOU)]
    if intro["status"] == "expired":
        return [Reply(T.EXPIRED_HELPER)]
    if intro["status"] != "pending":
        return [Reply(T.ANSWERED)]
    if await settle(coach, intro_id, "accepted" if accept else "declined") is None:
        return [Reply(T.ANSWERED)]
    if not accept:
        await offer_next(coach, intro)
        return [Reply(T.DECLINED_HELPER)]
    helper = coach.directory.by_email(intro["helper"]) or Person(intro["helper"], intro["helper_name"])
    remaining = 0

    def take(data):
        nonlocal remaining
        data = data or {}
        current = int(data.get("remaining", helper.capacity))
        remaining = max(0, current - 1)
        data["remaining"] = remaining
        return data

    await update(coach.store, HELPERS, helper.email, take)

    def done(data):
        if data is None:
            return None
        (data.get("pending") or {}).pop(intro_id, None)
        data.setdefault("accepted", []).append(intro_id)
        return data

    requester = intro["requester"]
    await update(coach.store, HISTORY, requester["user_key"], done)
    skills = skills_phrase(coach, intro.get("skills") or [])
    to_requester = Reply(T.ACCEPTED_REQUESTER.format(
        helper=helper.name, role=role_phrase(helper.role), verb=T.OFFER_VERB.get(intro["offer"], W.VERB_DEFAULT),
        skills=skills, contact=W.CONTACT.format(email=helper.email)))
    try:
        await deliver(coach, f"intro:{intro_id}:accepted", requester["platform"], requester["user_id"],
                       [to_requester])
    except DeliveryError as exc:
        log.warning("introduction %s: could not reach the requester: %s", intro_id, exc)
    room = W.ROOM_LEFT.format(room=room_phrase(remaining))
    contact = W.CONTACT.format(email=requester["email"]) if requester.get("email") else ""
    return [Reply(T.ACCEPTED_HELPER.format(requester=requester["name"], role=role_phrase(requester.get("role")),
                                         contact=contact, room=room))]


async def settle(coach: Coach, intro_id: str, status: str) -> dict[str, Any] | None:
    """Move a pending request to `status`; its data if this call did it, None if it was no longer pending."""
    won = False

    def decide(data):
        nonlocal won
        won = data is not None and data.get("status") == "pending"
        return {**data, "status": status, "decided_at": coach.clock()} if won else None

    record = await update(coach.store, INTROS, intro_id, decide)
    return record.data if won and record is not None else None


async def expire_due(coach: Coach) -> int:
    """Expire requests left unanswered for 3 days and offer the next match; returns how many expired."""
    worker = f"intros-{id(coach)}"
    expired = 0
    while True:
        jobs = await coach.store.claim(EXPIRY_QUEUE, worker, limit=20, lease=120.0, now=coach.clock())
        if not jobs:
            return expired
        for job in jobs:
            settled = await settle(coach, job.payload["intro"], "expired")
            if settled is not None:
                await offer_next(coach, settled)
                expired += 1
            await coach.store.complete(EXPIRY_QUEUE, job.key, worker)


async def expiry_task(coach: Coach, *, interval: float = EXPIRY_POLL) -> None:
    """Background task: expire unanswered requests and offer the next match."""
    while True:
        try:
            await expire_due(coach)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("introduction expiry failed; trying again later")
        await asyncio.sleep(interval)
