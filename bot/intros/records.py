"""The introductions' records and the small pieces every step shares.

Records: ``intros/<id>`` (the request and its status), ``helpers/<email>`` (paused, remaining capacity),
``intro_history/<user key>`` (who was already tried for which kind of help, so a next match is new).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.messages import IntroWords as W
from bot.people import Person
from bot.store import update

if TYPE_CHECKING:
    from bot.core import Coach

INTROS = "intros"
HELPERS = "helpers"
HISTORY = "intro_history"
EXPIRY_QUEUE = "intro-expiry"
ANSWER_WITHIN = 3 * 86400.0
EXPIRY_POLL = 60.0
MAX_CAPACITY = 20


def room_phrase(n: int) -> str:
    return W.ROOM_NONE if n <= 0 else W.ROOM_ONE if n == 1 else W.ROOM_MANY.format(n=n)


def skills_phrase(coach: Coach, skills: list[str]) -> str:
    names = [coach.catalog.skill_name(s) for s in skills[:4]]
    return W.WITH_SKILLS.format(skills=", ".join(names)) if names else ""


def role_phrase(text: str | None) -> str:
    return W.ROLE.format(role=text) if text else ""


# -- helper state ----------------------------------------------------------------------------------
async def helper_state(coach: Coach, person: Person) -> dict[str, Any]:
    record = await coach.store.get(HELPERS, person.email)
    data = dict(record.data) if record else {}
    data.setdefault("paused", False)
    data.setdefault("remaining", person.capacity)
    return data


async def available(coach: Coach, person: Person, offer: str) -> bool:
    if offer not in person.offers:
        return False
    state = await helper_state(coach, person)
    return not state["paused"] and int(state["remaining"]) > 0


async def remember_tried(coach: Coach, user_key: str, offer: str, email: str) -> None:
    def note(data):
        data = data or {}
        tried = data.setdefault("tried", {}).setdefault(offer, [])
        if email not in tried:
            tried.append(email)
        return data

    await update(coach.store, HISTORY, user_key, note)
