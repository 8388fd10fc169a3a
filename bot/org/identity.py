"""Tying organisation people to platform users: a person's Slack or Teams id (from the file, else
looked up by email and cached in the store), and the email behind a chat user."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.delivery import DeliveryError
from bot.people import Person
from bot.person import read_profile
from bot.types import Incoming

if TYPE_CHECKING:
    from bot.core import Coach

log = logging.getLogger("skillcoach.org")

IDENTITIES = "identities"          # "platform:email" -> {"user_id": str|None, "at"}; "platform#id" -> {"email"}
NEGATIVE_TTL = 6 * 3600.0          # how long "no such user on this platform" is believed


async def platform_user_id(coach: Coach, person: Person, platform: str, *, before_lookup=None) -> str | None:
    """The platform user id of `person`: from the file, else looked up by email (cached in the store).

    `before_lookup`, if given, is awaited right before a call to the platform (to pace lookups)."""
    if platform == "slack" and person.slack_id:
        return person.slack_id
    if platform == "teams" and person.teams_id:
        return person.teams_id
    return await user_id_for_email(coach, person.email, platform, before_lookup=before_lookup)


async def user_id_for_email(coach: Coach, email: str, platform: str, *, before_lookup=None) -> str | None:
    key = f"{platform}:{email.lower()}"
    cached = await coach.store.get(IDENTITIES, key)
    now = coach.clock()
    if cached is not None:
        if cached.data.get("user_id"):
            return cached.data["user_id"]
        if now - float(cached.data.get("at", 0)) < NEGATIVE_TTL:
            return None
    messenger = coach.messengers.get(platform)
    if messenger is None:
        return None
    if before_lookup is not None:
        await before_lookup()
    try:
        user_id = await messenger.lookup_email(email)
    except DeliveryError:
        raise
    except Exception as exc:  # a lookup failure is "not known now", not a crash
        log.warning("looking up %s on %s failed: %s", email, platform, exc)
        return None
    await coach.store.put(IDENTITIES, key, {"user_id": user_id, "at": now})
    if user_id:
        await coach.store.put(IDENTITIES, f"{platform}#{user_id}", {"email": email.lower(), "at": now})
    return user_id


async def remember_identity(coach: Coach, platform: str, email: str | None, user_id: str) -> None:
    """Record that `email` is `user_id` on `platform` (seen in a chat)."""
    if not email or not user_id:
        return
    key = f"{platform}:{email.lower()}"
    current = await coach.store.get(IDENTITIES, key)
    if current is None or current.data.get("user_id") != user_id:
        await coach.store.put(IDENTITIES, key, {"user_id": user_id, "at": coach.clock()})
        await coach.store.put(IDENTITIES, f"{platform}#{user_id}", {"email": email.lower(), "at": coach.clock()})


async def person_of(coach: Coach, incoming: Incoming, person: Person | None = None) -> Person | None:
    """The organisation person behind an Incoming: by platform id or email, else by a remembered email."""
    if person is not None:
        return person
    email = await email_of(coach, incoming)
    return coach.directory.by_email(email)


async def email_of(coach: Coach, incoming: Incoming) -> str | None:
    """The email of the user behind an Incoming: the file, the adapter, the profile, or a past lookup."""
    person = coach.person_for(incoming)
    if person is not None:
        return person.email
    if incoming.email:
        return incoming.email.lower()
    profile = await read_profile(coach.store, incoming.user_key)
    if profile is not None and profile.data.get("email"):
        return str(profile.data["email"]).lower()
    known = await coach.store.get(IDENTITIES, f"{incoming.platform}#{incoming.user_id}")
    return known.data.get("email") if known else None
