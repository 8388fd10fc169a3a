"""Mentor, peer-coaching and shadowing introductions.

From a plan's people, "ask <person> to mentor me" (or "… to peer-coach me", "… to let me shadow them",
or the plan's button ``intro:ask:<email>:<offer>``) sends that person a direct message — who asks, and
the skills they would help with — with accept / decline (``intro:accept:<id>`` / ``intro:decline:<id>``).

* Accept: both get an introduction with next steps; the helper's remaining capacity goes down by one.
* Decline, or no answer within 3 days (a job in the queue ``intro-expiry`` due then): the requester is
  offered the next match — the plan's other people, then anyone in the organisation file offering the
  same help for the same skills — and is never told who declined.
* Capacity is respected: a helper who is paused or has no room left is skipped, silently.
* A helper can say `mentoring pause`, `mentoring resume`, `mentoring capacity N` (or `mentoring status`);
  it applies to every kind of help they offer.

Introductions work within one platform: the helper is reached on the requester's platform (their id in
the organisation file, else by email lookup).

Records: ``intros/<id>`` (the request and its status), ``helpers/<email>`` (paused, remaining capacity),
``intro_history/<user key>`` (who was already tried for which kind of help, so a next match is new).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

from bot import outbox
from bot.delivery import DeliveryError
from bot.org import email_of, person_of, platform_user_id
from bot.people import OFFERS, Person
from bot.store import PROFILES, update
from bot.types import Choice, Incoming, Reply
from bot.messages import Intros as T

log = logging.getLogger("skillcoach.intros")

INTROS = "intros"
HELPERS = "helpers"
HISTORY = "intro_history"
EXPIRY_QUEUE = "intro-expiry"
ANSWER_WITHIN = 3 * 86400.0
EXPIRY_POLL = 60.0
MAX_CAPACITY = 20

def _room(n: int) -> str:
    return "no one more right now" if n <= 0 else "1 more person" if n == 1 else f"{n} more people"


def _skills_phrase(coach, skills: list[str]) -> str:
    names = [coach.catalog.skill_name(s) for s in skills[:4]]
    return f" with {', '.join(names)}" if names else ""


def _role(text: str | None) -> str:
    return f" ({text})" if text else ""


# -- helper state ----------------------------------------------------------------------------------
async def helper_state(coach, person: Person) -> dict[str, Any]:
    record = await coach.store.get(HELPERS, person.email)
    data = dict(record.data) if record else {}
    data.setdefault("paused", False)
    data.setdefault("remaining", person.capacity)
    return data


async def available(coach, person: Person, offer: str) -> bool:
    if offer not in person.offers:
        return False
    state = await helper_state(coach, person)
    return not state["paused"] and int(state["remaining"]) > 0


# -- asking --------------------------------------------------------------------------------------------
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


def _find_person(coach, who: str, plan_people: list[dict[str, Any]]) -> Person | None:
    from rapidfuzz import fuzz, process

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


async def ask_intent(coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    parsed = parse_ask(incoming.text)
    if parsed is None:
        return [Reply(T.ASK_HELP)]
    who, offer = parsed
    profile = await coach.store.get(PROFILES, incoming.user_key)
    plan_people = ((profile.data.get("plan") or {}).get("people") or []) if profile else []
    helper = _find_person(coach, who, plan_people)
    if helper is None:
        return [Reply(T.NOT_FOUND.format(name=who))]
    if offer is None:
        offer = next((p.get("offer") for p in plan_people if p.get("email") == helper.email and p.get("offer")),
                     helper.offers[0] if helper.offers else "mentoring")
    return await ask(coach, incoming, helper, offer)


async def ask(coach, incoming: Incoming, helper: Person, offer: str) -> list[Reply]:
    """Send `helper` a request from the user behind `incoming`; the reply tells the requester what happened."""
    requester_email = await email_of(coach, incoming)
    if requester_email and requester_email == helper.email:
        return [Reply(T.NOT_YOURSELF)]
    profile_rec = await coach.store.get(PROFILES, incoming.user_key)
    profile = profile_rec.data if profile_rec else {}
    history = await coach.store.get(HISTORY, incoming.user_key)
    pending = (history.data.get("pending") or {}) if history else {}
    if helper.email in pending.values():
        return [Reply(T.ALREADY_ASKED.format(name=helper.name))]
    skills = _skills_for(profile, helper, offer)
    requester = {
        "email": requester_email, "platform": incoming.platform, "user_id": incoming.user_id,
        "name": (coach.person_for(incoming).name if coach.person_for(incoming) else None)
        or profile.get("name") or incoming.name or requester_email or "A colleague",
        "role": ((profile.get("role") or {}).get("title") if isinstance(profile.get("role"), dict) else None)
        or (coach.person_for(incoming).role if coach.person_for(incoming) else ""),
        "user_key": incoming.user_key,
    }
    problem = await _send_request(coach, requester, helper, offer, skills)
    if problem is None:
        return [Reply(T.ASKED.format(name=helper.name, verb=T.OFFER_VERB.get(offer, "help you"),
                                   skills=_skills_phrase(coach, skills)))]
    # the asked person can't be asked: say so plainly, and suggest the next one
    await _remember_tried(coach, incoming.user_key, offer, helper.email)
    nxt = await next_match(coach, requester, offer, skills)
    replies = [Reply(problem)]
    if nxt is not None:
        replies.append(_offer_reply(coach, nxt, offer, skills, lead=False))
    return replies


def _skills_for(profile: dict[str, Any], helper: Person, offer: str) -> list[str]:
    plan = profile.get("plan") or {}
    for p in plan.get("people") or []:
        if p.get("email") == helper.email and p.get("skills"):
            return list(p["skills"])
    wanted = [s.get("id") for s in plan.get("skills") or [] if not s.get("done") and s.get("id")]
    overlap = [s for s in wanted if s in helper.skills]
    return overlap or wanted[:3]


async def _send_request(coach, requester: dict[str, Any], helper: Person, offer: str,
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
        return T.NOT_REACHABLE.format(name=helper.name, platform={"slack": "Slack", "teams": "Teams"}.get(
            platform, platform))
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
        T.HELPER_DM.format(requester=requester["name"], role=_role(requester.get("role")),
                         ask=T.OFFER_ASK.get(offer, "would like your help"), skills=_skills_phrase(coach, skills)),
        choices=(Choice(f"intro:accept:{intro_id}", T.LABEL_ACCEPT), Choice(f"intro:decline:{intro_id}", T.LABEL_DECLINE)),
        prompt_id=f"intro:{intro_id}",
    )
    try:
        await _deliver(coach, f"intro:{intro_id}:request", platform, helper_id, [dm])
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


async def _deliver(coach, item_id: str, platform: str, user_id: str, replies: list[Reply]) -> None:
    """Send through the outbox: now, exactly once; what the platform rate-limits is sent by its worker
    soon after (never holding the turn). Raises DeliveryError when the platform refuses for good."""
    await outbox.service(coach).deliver(item_id, platform, user_id, replies)


async def _remember_tried(coach, user_key: str, offer: str, email: str) -> None:
    def note(data):
        data = data or {}
        tried = data.setdefault("tried", {}).setdefault(offer, [])
        if email not in tried:
            tried.append(email)
        return data

    await update(coach.store, HISTORY, user_key, note)


async def next_match(coach, requester: dict[str, Any], offer: str, skills: list[str]) -> Person | None:
    """The next available person offering `offer` for these skills whom this requester hasn't tried."""
    history = await coach.store.get(HISTORY, requester["user_key"])
    tried = set(((history.data.get("tried") or {}).get(offer) or []) if history else [])
    profile = await coach.store.get(PROFILES, requester["user_key"])
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


def _offer_reply(coach, person: Person, offer: str, skills: list[str], *, lead: bool = True) -> Reply:
    text = T.NEXT_MATCH.format(noun=T.OFFER_NOUN.get(offer, "help"), name=person.name, role=_role(person.role),
                             skills=_skills_phrase(coach, skills))
    if not lead:
        text = text.split(". ", 1)[1] if ". " in text else text
    return Reply(
        text,
        choices=(Choice(f"intro:ask:{person.email}:{offer}", T.LABEL_ASK.format(name=person.name)),
                 Choice("intro:none", T.LABEL_NO_THANKS)),
        prompt_id=f"intro:next:{uuid.uuid4().hex[:8]}",
    )


async def _offer_next(coach, intro: dict[str, Any]) -> None:
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
        reply = Reply(T.NO_MATCH.format(noun=T.OFFER_NOUN.get(intro["offer"], "help")))
    else:
        reply = _offer_reply(coach, nxt, intro["offer"], intro.get("skills") or [])
    try:
        await _deliver(coach, f"intro:{intro['id']}:next", requester["platform"], requester["user_id"], [reply])
    except DeliveryError as exc:
        log.warning("could not tell %s about the next match: %s", requester.get("user_key"), exc)


# -- answers -------------------------------------------------------------------------------------------
async def intro_action(coach, incoming: Incoming) -> list[Reply]:
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


async def _answer(coach, incoming: Incoming, intro_id: str, *, accept: bool) -> list[Reply]:
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
    if await _settle(coach, intro_id, "accepted" if accept else "declined") is None:
        return [Reply(T.ANSWERED)]
    if not accept:
        await _offer_next(coach, intro)
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
    skills = _skills_phrase(coach, intro.get("skills") or [])
    to_requester = Reply(T.ACCEPTED_REQUESTER.format(
        helper=helper.name, role=_role(helper.role), verb=T.OFFER_VERB.get(intro["offer"], "help you"),
        skills=skills, contact=f" — {helper.email}"))
    try:
        await _deliver(coach, f"intro:{intro_id}:accepted", requester["platform"], requester["user_id"],
                       [to_requester])
    except DeliveryError as exc:
        log.warning("introduction %s: could not reach the requester: %s", intro_id, exc)
    room = f"\nYou have room for {_room(remaining)}; say *mentoring capacity N* to change that."
    contact = f" — {requester['email']}" if requester.get("email") else ""
    return [Reply(T.ACCEPTED_HELPER.format(requester=requester["name"], role=_role(requester.get("role")),
                                         contact=contact, room=room))]


async def _settle(coach, intro_id: str, status: str) -> dict[str, Any] | None:
    """Move a pending request to `status`; its data if this call did it, None if it was no longer pending."""
    won = False

    def decide(data):
        nonlocal won
        won = data is not None and data.get("status") == "pending"
        return {**data, "status": status, "decided_at": coach.clock()} if won else None

    record = await update(coach.store, INTROS, intro_id, decide)
    return record.data if won and record is not None else None


async def expire_due(coach) -> int:
    """Expire requests left unanswered for 3 days and offer the next match; returns how many expired."""
    worker = f"intros-{id(coach)}"
    expired = 0
    while True:
        jobs = await coach.store.claim(EXPIRY_QUEUE, worker, limit=20, lease=120.0, now=coach.clock())
        if not jobs:
            return expired
        for job in jobs:
            settled = await _settle(coach, job.payload["intro"], "expired")
            if settled is not None:
                await _offer_next(coach, settled)
                expired += 1
            await coach.store.complete(EXPIRY_QUEUE, job.key, worker)


# -- mentoring settings ----------------------------------------------------------------------------------
_CAPACITY = re.compile(r"capacity\s+(-?\d+)")


async def mentoring_intent(coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    """`mentoring pause` / `mentoring resume` / `mentoring capacity N` / `mentoring status`."""
    person = await person_of(coach, incoming, person)
    if person is None:
        return [Reply(T.HELPER_ONLY)]
    text = " ".join((incoming.text or "").lower().split())
    state = await helper_state(coach, person)
    if "pause" in text:
        changes: dict[str, Any] = {"paused": True}
        reply = T.PAUSED
    elif "resume" in text or "unpause" in text:
        changes = {"paused": False}
        reply = T.RESUMED.format(room=_room(int(state["remaining"])))
    elif "capacity" in text:
        m = _CAPACITY.search(text)
        if not m or not 0 <= int(m.group(1)) <= MAX_CAPACITY:
            return [Reply(T.BAD_CAPACITY)]
        changes = {"remaining": int(m.group(1))}
        reply = T.CAPACITY_SET.format(room=_room(int(m.group(1))))
    else:
        offers = ", ".join(o.replace("_", " ") for o in person.offers) or "no help in the organisation file yet"
        status = "You're paused." if state["paused"] else f"You have room for {_room(int(state['remaining']))}."
        return [Reply(T.STATUS.format(offers=offers, state=status))]
    await update(coach.store, HELPERS, person.email, lambda data: {**(data or {}), **changes})
    return [Reply(reply)]


def register(coach) -> None:
    """Install the introduction buttons and the `ask … to mentor me` / `mentoring …` phrases (once)."""
    if coach.action_handlers.get("intro") is intro_action:
        return
    coach.action_handlers["intro"] = intro_action

    async def listener(user_key: str, what: str) -> None:
        if what == "forgotten":
            await _forget(coach, user_key)

    coach.on_change(listener)
    coach.helper_filters.append(available)
    coach.exporters.append(_export)
    coach.text_intents.append((("mentoring pause", "mentoring resume", "mentoring capacity", "mentoring status",
                                "pause mentoring", "resume mentoring"), mentoring_intent))
    coach.text_intents.append((("ask", "please ask"), ask_intent))


async def _export(coach, user_key: str) -> dict[str, Any]:
    """`my data`: this user's introduction requests (made or received) and whom they asked before."""
    platform, _, user_id = user_key.partition(":")
    history = await coach.store.get(HISTORY, user_key)
    requests = []
    async for record in coach.store.scan(INTROS):
        data = record.data
        mine = (data.get("requester") or {}).get("user_key") == user_key
        theirs = data.get("platform") == platform and data.get("helper_user_id") == user_id
        if mine or theirs:
            requests.append({"id": record.key, "role": "requester" if mine else "helper", **data})
    return {"introductions": requests, "introduction_history": history.data if history else None}


async def _forget(coach, user_key: str) -> None:
    """`forget me`: delete this user's requests (as requester) and their request history, and drop
    the introductions still waiting in the outbox for them."""
    await outbox.drop_user(coach, user_key)
    await coach.store.delete(HISTORY, user_key)
    platform, _, user_id = user_key.partition(":")
    doomed: list[str] = []
    async for record in coach.store.scan(INTROS):
        data = record.data
        if (data.get("requester") or {}).get("user_key") == user_key:
            doomed.append(record.key)
        elif data.get("platform") == platform and data.get("helper_user_id") == user_id:
            doomed.append(record.key)
            await coach.store.delete(HELPERS, data.get("helper", ""))
    for key in doomed:
        await coach.store.delete(INTROS, key)


async def expiry_task(coach, *, interval: float = EXPIRY_POLL) -> None:
    """Background task: expire unanswered requests and offer the next match."""
    while True:
        try:
            await expire_due(coach)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("introduction expiry failed; trying again later")
        await asyncio.sleep(interval)
