"""One person, one profile, on every platform they use.

A profile is stored under the key of the first platform identity that made it ("slack:U1"). When
another identity of the same person turns up — the same email, known from the organisation file, the
Slack profile or the Teams roster — it gets a link (`LINKS`: its key -> {"person": the profile's key})
instead of a profile of its own, and the profile lists every identity in `identities`. So the plan made
in Slack is the plan shown in Teams, progress is counted once, and `my data` / `forget me` from either
identity cover both.

Every read of a person's profile by a user key goes through `read_profile`, which follows the link;
writes go to the key of the record it returned. A person who had made a plan on each platform before
the two were linked keeps the one changed last (team reports already counted only that one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.store import EMAILS, PROFILES, Record, Store

LINKS = "links"  # user key -> {"person": the key its profile is stored under}


async def read_profile(store: Store, user_key: str) -> Record | None:
    """The profile of the person behind `user_key` (one round trip unless the identity is linked)."""
    link, own = await store.get_many([(LINKS, user_key), (PROFILES, user_key)])
    if link is None or link.data.get("person") in (None, user_key):
        return own
    person = await store.get(PROFILES, link.data["person"])
    return person if person is not None else own


async def profile_key(store: Store, user_key: str) -> str:
    """The key the profile of the person behind `user_key` is stored under."""
    link = await store.get(LINKS, user_key)
    return str(link.data["person"]) if link is not None and link.data.get("person") else user_key


def identities(profile: dict[str, Any] | list[str] | None, user_key: str) -> list[str]:
    """Every platform identity of this person (a profile or a list of keys), with `user_key` added."""
    keys = list(profile if isinstance(profile, list) else (profile or {}).get("identities") or [])
    return keys + [user_key] if user_key not in keys else keys


@dataclass
class Resolved:
    """Whose profile a turn works on, and the link to write when this turn joins two identities."""

    key: str                       # where the profile is stored
    record: Record | None          # the profile as read (its version guards the save)
    link: str | None = None        # set: write LINKS[user_key] -> key on save
    replaced: Record | None = None  # this identity's own profile, merged into `key` and removed on save
    stale_link: bool = False       # a link whose profile is gone: removed on save


def reads(user_key: str, email: str | None) -> list[tuple[str, str]]:
    """What the turn's first round trip reads for identity: the link, and the email index."""
    return [(LINKS, user_key)] + ([(EMAILS, email.lower())] if email else [])


async def resolve(store: Store, user_key: str, own: Record | None, link: Record | None,
                  index: Record | None) -> Resolved:
    """The profile a turn of `user_key` works on, from what the first round trip read: this identity's
    own profile, its link, and the email index entry of its email (when known)."""
    if link is not None and link.data.get("person") not in (None, user_key):
        person = await store.get(PROFILES, str(link.data["person"]))
        if person is not None:
            return Resolved(str(link.data["person"]), person)
        return Resolved(user_key, own, stale_link=True)  # the other identity's data was forgotten
    others = [k for k in (index.data.get("keys", []) if index else []) if k != user_key]
    if not others:
        return Resolved(user_key, own)
    for key, record in zip(others, await store.get_many([(PROFILES, k) for k in others])):
        if record is not None and not (own is not None and key in (own.data.get("identities") or [])):
            return Resolved(key, record, link=key, replaced=own)
    return Resolved(user_key, own)


def merged(person: dict[str, Any], own: dict[str, Any] | None, person_key: str, user_key: str) -> dict[str, Any]:
    """The joined profile (stored under `person_key`): the one changed last, listing both identities."""
    base = dict(person)
    if own and float(own.get("updated_at") or 0) > float(person.get("updated_at") or 0):
        base = dict(own)
        for field in ("platform", "user_id", "created_at"):  # it stays stored where it was first made
            if field in person:
                base[field] = person[field]
    base["identities"] = identities(identities(person, person_key), user_key)
    return base
