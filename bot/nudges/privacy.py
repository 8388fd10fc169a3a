"""Nudges and the people they reach: the opt-out (pressing *Stop these reminders*, or turning reminders
off in one's profile) decided in one place for both the fan-out and the worker, and the hooks that keep
nudges in step with the user's data — `my data` (what nudges keep about them), `forget me` (drop it all
but an opt-out, which stays honoured) and a profile change (resuming reminders, remembering the user's
platform id for their email)."""

from __future__ import annotations

from typing import Any

from bot import outbox
from bot.core import Coach
from bot.nudges.state import NUDGE_STATE
from bot.org import IDENTITIES, remember_identity
from bot.person import read_profile, profile_key
from bot.store import PROFILES, Store, update


def opted_out(state: dict[str, Any] | None) -> bool:
    """Whether a ``nudge_state`` record says its person wants no more nudges."""
    return bool(state and state.get("opted_out"))


def _by_user(user_key: str) -> str:
    """The ``nudge_state`` key of an opt-out made while the user's email was unknown ("slack:U1")."""
    return f"user:{user_key}"


async def user_opted_out(store: Store, platform: str, user_id: str, profile: dict[str, Any] | None) -> bool:
    """Whether the platform user opted out: reminders off in their profile, or *stop* pressed by them
    while their email was unknown. (An opt-out by email is checked first, with `opted_out`.)"""
    if profile and profile.get("reminders") is False:
        return True
    by_user = await store.get(NUDGE_STATE, _by_user(f"{platform}:{user_id}"))
    return opted_out(by_user.data if by_user else None)


async def opt_out(coach: Coach, user_key: str, email: str | None, has_profile: bool) -> None:
    """*Stop these reminders*: reminders off in the profile, and an opt-out by email (what the fan-out
    checks) or, when the email is unknown, by platform user."""
    if has_profile:
        def off(data):
            if data is None:
                return None
            data["reminders"] = False
            return data

        await update(coach.store, PROFILES, await profile_key(coach.store, user_key), off)
    await update(coach.store, NUDGE_STATE, email.lower() if email else _by_user(user_key),
                 lambda data: {**(data or {}), "opted_out": True, "opted_out_at": coach.clock()})
    await coach.notify(user_key, "settings")


async def on_change(coach: Coach, user_key: str, what: str) -> None:
    """Keep the email-keyed opt-out and the identity cache in step with the user's profile."""
    if what == "forgotten":
        await forget(coach, user_key)
        return
    if what not in ("settings", "plan"):
        return
    record = await read_profile(coach.store, user_key)
    if record is None:
        return
    data = record.data
    email = (data.get("email") or "").lower()
    platform, _, user_id = user_key.partition(":")
    if not email:
        return
    await remember_identity(coach, platform, email, user_id)
    if data.get("reminders", True):
        def resume(state):
            if not opted_out(state):
                return None
            state["opted_out"] = False
            return state

        await update(coach.store, NUDGE_STATE, email, resume)


async def _email_of_user(coach: Coach, platform: str, user_id: str) -> str | None:
    """The user's email: from the organisation file, else from what a lookup remembered."""
    known = await coach.store.get(IDENTITIES, f"{platform}#{user_id}")
    person = coach.directory.by_platform(platform, user_id)
    return person.email if person else (known.data.get("email") if known else None)


async def forget(coach: Coach, user_key: str) -> None:
    """`forget me`: drop what nudges keep about this user, except an opt-out (so it stays honoured)."""
    store = coach.store
    platform, _, user_id = user_key.partition(":")
    email = await _email_of_user(coach, platform, user_id)
    await outbox.drop_user(coach, user_key)   # nothing queued for them is sent any more
    await store.delete(IDENTITIES, f"{platform}#{user_id}")
    if email:
        await store.delete(IDENTITIES, f"{platform}:{email}")
        state = await store.get(NUDGE_STATE, email)
        if state is not None:
            if opted_out(state.data):
                await store.put(NUDGE_STATE, email, {"opted_out": True})
            else:
                await store.delete(NUDGE_STATE, email)


async def export(coach: Coach, user_key: str) -> dict[str, Any]:
    """`my data`: what nudges keep about this user (when they were last nudged, an opt-out)."""
    platform, _, user_id = user_key.partition(":")
    email = await _email_of_user(coach, platform, user_id)
    state = await coach.store.get(NUDGE_STATE, email.lower()) if email else None
    return {"nudges": state.data if state else None}
