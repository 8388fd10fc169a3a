"""Asking someone for help: `ask <person> to mentor me` (or to peer-coach, to let me shadow them), or the
plan's button ``intro:ask:<email>:<offer>``, sends that person a direct message — who asks, and the skills
they would help with — with accept / decline buttons. A helper who is paused or has no room left is
skipped, and the requester offered the next match."""

from __future__ import annotations

import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from bot.delivery import DeliveryError
from bot.intros.outreach import deliver, next_match, offer_reply
from bot.intros.records import (ANSWER_WITHIN, EXPIRY_QUEUE, HISTORY, INTROS, available, remember_tried,
                                role_phrase, skills_phrase)
from bot.messages import IntroWords as W
from bot.messages import Intros as T
from bot.org.identity import email_of, platform_user_id
from bot.people import Person
from bot.person import read_profile
from bot.store import update
from bot.types import Choice, Incoming, Reply

if TYPE_CHECKING:
    from bot.core import Coach

log = logging.getLogger("skillcoach.intros")


_ASK = re.compile(
    r"^\s*(?:please\s+)?ask\s+(?P<who>.+?)"
    r"(?:\s+(?:to|if\s+(?:they|he|she)\s+(?:can|could|would)|whether\s+(?:they|he|she)\s+(?:can|could|would))"
    r"\s+(?P<what>.+?))?\s*[.!?]*\s*$", re.I)


def parse_ask(text: str) -> tuple[str, str | None] | None:
    """'ask Report 13 to mentor me' -> ('Report 13', 'mentoring')."""
    m = _ASK.match(text or "")
    if not m:
        return None
    what = (m.group("what") or "").lower()
    offer = None
    if "shadow" in what or "host" in what:
        offer = "shadowing"
    elif "coach" in what:
        offer = "peer_coaching"
    elif "mentor" in what:
        offer = "mentoring"
    elif what:
        return None
    who = m.group("who").strip().strip("*<>").strip()
    return (who, offer) if who else None


def _find_person(coach: Coach, who: str, plan_people: list[dict[str, Any]]) -> Person | None:
    key = who.lower().removeprefix("mailto:")
    if "|" in key:  # <mailto:a@b|a@b>
        key = key.split("|", 1)[0]
    person = coach.directory.by_email(key)
    if person:
        return person
    names = {p.get("name", "").lower(): p.get("email") for p in plan_people if p.get("email")}
    if key in names:
        return coach.directory.by_email(names[key])
    every = {p.name.lower(): p.email for p in coach.directory.people.values()}
    if key in every:
        return coach.directory.by_email(every[key])
    for pool in (names, every):
        found = process.extractOne(key, list(pool), scorer=fuzz.ratio, score_cutoff=85)
        if found:
            return coach.directory.by_email(pool[found[0]])
    return None


async def ask_intent(coach: Coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    parsed = parse_ask(incoming.text)
    if parsed is None:
        return [Reply(T.ASK_HELP)]
    who, offer = parsed
    profile = await read_profile(coach.store, incoming.user_key)
    plan_people = ((profile.data.get("plan") or {}).get("people") or []) if profile else []
    helper = _find_person(coach, who, plan_people)
    if helper is None:
        return [Reply(T.NOT_FOUND.format(name=who))]
    if offer is None:
        offer = next((p.get("offer") for p in plan_people if p.get("email") == helper.email and p.get("offer")),
                     helper.offers[0] if helper.offers else "mentoring")
    return await ask(coach, incoming, helper, offer)


async def ask(coach: Coach, incoming: Incoming, helper: Person, offer: str) -> list[Reply]:
    """Send `helper` a request from the user behind `incoming`; the reply tells the requester what happened."""
    requester_email = await email_of(coach, incoming)
    if requester_email and requester_email == helper.email:
        return [Reply(T.NOT_YOURSELF)]
    profile_rec = await read_profile(coach.store, incoming.user_key)
    profile = profile_rec.data if profile_rec else {}
    history = await coach.store.get(HISTORY, incoming.user_key)
    pending = (history.data.get("pending") or {}) if history else {}
    if helper.email in pending.values():
        return [Reply(T.ALREADY_ASKED.format(name=helper.name))]
    skills = _skills_for(profile, helper, offer)
    requester = {
        "email": requester_email, "platform": incoming.platform, "user_id": incoming.user_id,
        "name": (coach.person_for(incoming).name if coach.person_for(incoming) else None)
        or profile.get("name") or incoming.name or requester_email or W.SOMEONE,
        "role": ((profile.get("role") or {}).get("title") if isinstance(profile.get("role"), dict) else None)
        or (coach.person_for(incoming).role if coach.person_for(incoming) else ""),
        "user_key": incoming.user_key,
    }
    problem = await _send_request(coach, requester, helper, offer, skills)
    if problem is None:
        return [Reply(T.ASKED.format(name=helper.name, verb=T.OFFER_VERB.get(offer, W.VERB_DEFAULT),
                                   skills=skills_phrase(coach, skills)))]
    # the asked person can't be asked: say so plainly, and suggest the next one
    await remember_tried(coach, incoming.user_key, offer, helper.email)
    nxt = await next_match(coach, requester, offer, skills)
    replies = [Reply(problem)]
    if nxt is not None:
        replies.append(offer_reply(coach, nxt, offer, skills, lead=False))
    return replies


def _skills_for(profile: dict[str, Any], helper: Person, offer: str) -> list[str]:
    plan = profile.get("plan") or {}
    for p in plan.get("people") or []:
        if p.get("email") == helper.email and p.get("skills"):
            return list(p["skills"])
    wanted = [s.get("id") for s in plan.get("skills") or [] if not s.get("done") and s.get("id")]
    overlap = [s for s in wanted if s in helper.skills]
    return overlap or wanted[:3]


async def _send_request(coach: Coach, requester: dict[str, Any], helper: Person, offer: str,
                        skills: list[str]) -> str | None:
    """Create the request and DM the helper; returns why it could not be sent, or None."""
    platform = requester["platform"]
    if not await available(coach, helper, offer):
        return T.NOT_AVAILABLE.format(name=helper.name)
    helper_id = None
    try:
        helper_id = await platform_user_id(coach, helper, platform)
    except DeliveryError:
        helper_id = None
    if not helper_id or platform not in coach.messengers:
        return T.NOT_REACHABLE.format(name=helper.name, platform=W.PLATFORMS.get(platform, platform))
    now = coach.clock()
    intro_id = uuid.uuid4().hex[:12]
    record = {
        "id": intro_id, "requester": requester, "helper": helper.email, "helper_name": helper.name,
        "helper_user_id": helper_id, "platform": platform, "offer": offer, "skills": skills,
        "status": "pending", "created_at": now, "decided_at": None,
    }
    await coach.store.put(INTROS, intro_id, record, version=0)
    # the expiry first: a request that is delivered (now, or by another process if this one dies) expires
    await coach.store.enqueue(EXPIRY_QUEUE, intro_id, {"intro": intro_id}, due=now + ANSWER_WITHIN)
    dm = Reply(
        T.HELPER_DM.format(requester=requester["name"], role=role_phrase(requester.get("role")),
                           ask=T.OFFER_ASK.get(offer, W.ASK_DEFAULT), skills=skills_phrase(coach, skills)),
        choices=(Choice(f"intro:accept:{intro_id}", T.LABEL_ACCEPT), Choice(f"intro:decline:{intro_id}", T.LABEL_DECLINE)),
        prompt_id=f"intro:{intro_id}",
    )
    try:
        await deliver(coach, f"intro:{intro_id}:request", platform, helper_id, [dm])
    except DeliveryError as exc:
        log.warning("introduction request %s not delivered: %s", intro_id, exc)
        await coach.store.put(INTROS, intro_id, {**record, "status": "undelivered"})
        return T.NOT_REACHABLE.format(name=helper.name, platform=platform.title())

    def note(data):
        data = data or {}
        data.setdefault("pending", {})[intro_id] = helper.email
        data.setdefault("tried", {}).setdefault(offer, [])
        if helper.email not in data["tried"][offer]:
            data["tried"][offer].append(helper.email)
        return data

    await update(coach.store, HISTORY, requester["user_key"], note)
    return None
