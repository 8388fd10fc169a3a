"""Reaching the requester and the helper: every introduction message goes through the outbox, and a
requester whose request did not work out is offered the next person (never told who declined, or why)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from bot import outbox
from bot.delivery import DeliveryError
from bot.intros.records import HISTORY, available, role_phrase, skills_phrase
from bot.messages import IntroWords as W
from bot.messages import Intros as T
from bot.people import Person
from bot.person import read_profile
from bot.store import update
from bot.types import Choice, Reply

if TYPE_CHECKING:
    from bot.core import Coach

log = logging.getLogger("skillcoach.intros")


async def deliver(coach: Coach, item_id: str, platform: str, user_id: str, replies: list[Reply]) -> None:
    """Send through the outbox: now, exactly once; what the platform rate-limits is sent by its worker
    soon after (never holding the turn). Raises DeliveryError when the platform refuses for good."""
    await outbox.service(coach).deliver(item_id, platform, user_id, replies)


async def next_match(coach: Coach, requester: dict[str, Any], offer: str, skills: list[str]) -> Person | None:
    """The next available person offering `offer` for these skills whom this requester hasn't tried."""
    history = await coach.store.get(HISTORY, requester["user_key"])
    tried = set(((history.data.get("tried") or {}).get(offer) or []) if history else [])
    profile = await read_profile(coach.store, requester["user_key"])
    plan = (profile.data.get("plan") or {}) if profile else {}
    candidates: list[Person] = []
    for p in plan.get("people") or []:
        person = coach.directory.by_email(p.get("email"))
        if person and (p.get("offer") or offer) == offer:
            candidates.append(person)
    wanted = set(skills)
    scored = sorted(
        (p for p in coach.directory.people.values() if offer in p.offers and wanted & set(p.skills)),
        key=lambda p: (-len(wanted & set(p.skills)), p.email),
    )
    candidates.extend(scored)
    seen: set[str] = set()
    for person in candidates:
        if person.email in seen or person.email in tried or person.email == requester.get("email"):
            continue
        seen.add(person.email)
        if await available(coach, person, offer):
            return person
    return None


def offer_reply(coach: Coach, person: Person, offer: str, skills: list[str], *, lead: bool = True) -> Reply:
    text = T.NEXT_MATCH.format(noun=T.OFFER_NOUN.get(offer, W.NOUN_DEFAULT), name=person.name,
                               role=role_phrase(person.role), skills=skills_phrase(coach, skills))
    if not lead:
        text = text.split(". ", 1)[1] if ". " in text else text
    return Reply(
        text,
        choices=(Choice(f"intro:ask:{person.email}:{offer}", T.LABEL_ASK.format(name=person.name)),
                 Choice("intro:none", T.LABEL_NO_THANKS)),
        prompt_id=f"intro:next:{uuid.uuid4().hex[:8]}",
    )


async def offer_next(coach: Coach, intro: dict[str, Any]) -> None:
    """Tell the requester their request didn't work out (never who or why) and suggest the next person."""
    requester = intro["requester"]

    def drop(data):
        if data is None:
            return None
        (data.get("pending") or {}).pop(intro["id"], None)
        return data

    await update(coach.store, HISTORY, requester["user_key"], drop)
    nxt = await next_match(coach, requester, intro["offer"], intro.get("skills") or [])
    if nxt is None:
        reply = Reply(T.NO_MATCH.format(noun=T.OFFER_NOUN.get(intro["offer"], W.NOUN_DEFAULT)))
    else:
        reply = offer_reply(coach, nxt, intro["offer"], intro.get("skills") or [])
    try:
        await deliver(coach, f"intro:{intro['id']}:next", requester["platform"], requester["user_id"], [reply])
    except DeliveryError as exc:
        log.warning("could not tell %s about the next match: %s", requester.get("user_key"), exc)
