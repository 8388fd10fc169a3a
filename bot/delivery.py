"""Proactive delivery: how the core reaches a user outside a turn (nudges, mentor introductions).

Each platform adapter registers one `Messenger` with the coach when it is mounted. The core keeps each
user's address (from `Incoming.address`, saved on first contact and whenever it changes) in the store,
and calls `send` with it.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.errors import SkillcoachError
from bot.types import Reply


class DeliveryError(SkillcoachError):
    """A proactive message could not be delivered; `retry_after` (seconds) when the platform said so;
    `partial` when some of the messages of one `send` were posted before the failure."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False,
                 partial: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.partial = partial


class Messenger(Protocol):
    platform: str

    async def send(self, user_id: str, address: dict[str, Any] | None, replies: list[Reply], *,
                   ref: str | None = None, skip: frozenset[int] = frozenset()) -> list[str] | None:
        """Deliver replies to one user (opening a DM / 1:1 chat when there is no stored address).

        `ref` is the outbox item id (bot/outbox.py): a platform that can carry it on the messages does
        (Slack: message metadata). `skip`: numbers of messages (in rendering order) not to post again.
        Returns the platform's ids of the messages posted (Slack ts, Teams activity id).
        Raises DeliveryError; `permanent=True` when the user cannot be reached at all on this platform.
        """

    async def lookup_email(self, email: str) -> str | None:
        """The platform user id for an email address, or None."""

    # Optional: a messenger that can read the conversation back defines
    #   async def find_sent(user_id, address, ref, *, since) -> dict[int, str]
    # — the messages of outbox item `ref` posted since `since`, {message number: platform id}.
    # Without it, an item whose sender died in the platform call is sent again (at least once).
