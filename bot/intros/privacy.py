"""The introductions in `my data` (an export) and `forget me` (deletion)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import outbox
from bot.intros.records import HELPERS, HISTORY, INTROS

if TYPE_CHECKING:
    from bot.core import Coach


async def export(coach: Coach, user_key: str) -> dict[str, Any]:
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


async def forget(coach: Coach, user_key: str) -> None:
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
