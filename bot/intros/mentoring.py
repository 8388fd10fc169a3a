"""A helper's own settings: `mentoring pause`, `mentoring resume`, `mentoring capacity N` (or `mentoring
status`); they apply to every kind of help the helper offers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.intros.records import HELPERS, MAX_CAPACITY, helper_state, room_phrase
from bot.messages import IntroWords as W
from bot.messages import Intros as T
from bot.org.identity import person_of
from bot.people import Person
from bot.store import update
from bot.types import Incoming, Reply

if TYPE_CHECKING:
    from bot.core import Coach

_CAPACITY = re.compile(r"capacity\s+(-?\d+)")


async def mentoring_intent(coach: Coach, incoming: Incoming, person: Person | None) -> list[Reply]:
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
        reply = T.RESUMED.format(room=room_phrase(int(state["remaining"])))
    elif "capacity" in text:
        m = _CAPACITY.search(text)
        if not m or not 0 <= int(m.group(1)) <= MAX_CAPACITY:
            return [Reply(T.BAD_CAPACITY)]
        changes = {"remaining": int(m.group(1))}
        reply = T.CAPACITY_SET.format(room=room_phrase(int(m.group(1))))
    else:
        offers = ", ".join(o.replace("_", " ") for o in person.offers) or W.NO_OFFERS
        status = W.IS_PAUSED if state["paused"] else W.HAS_ROOM.format(room=room_phrase(int(state["remaining"])))
        return [Reply(T.STATUS.format(offers=offers, state=status))]
    await update(coach.store, HELPERS, person.email, lambda data: {**(data or {}), **changes})
    return [Reply(reply)]
