"""Who a Slack user is and where their DM is, cached: users.info, conversations.open, lookupByEmail.

`dms` maps a user id to the app's DM channel with them; listeners fill it from the events they see
(a DM event names its channel), delivery reads it and adds what Slack answers.
"""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.client import delivery_error, field, text_field

log = logging.getLogger("skillcoach.slack")

USER_CACHE_SECONDS = 3600.0


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, *, user_cache_seconds: float = USER_CACHE_SECONDS) -> None:
        self.client = client
        self.user_cache_seconds = user_cache_seconds
        self._users: dict[str, tuple[float, str | None, str | None]] = {}
        self.dms: dict[str, str] = {}

    async def user_info(self, user_id: str) -> tuple[str | None, str | None]:
        """(email, display name) from users.info, cached per user."""
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached and cached[0] > now:
            return cached[1], cached[2]
        email = name = None
        ttl = self.user_cache_seconds
        try:
            response = await self.client.users_info(user=user_id)
            email = text_field(response.data, "user", "profile", "email")
            name = (text_field(response.data, "user", "profile", "real_name")
                    or text_field(response.data, "user", "real_name") or text_field(response.data, "user", "name"))
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, field(exc.response.data, "error"))
            ttl = 60.0
        self._users[user_id] = (now + ttl, email, name)
        return email, name

    async def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM with this user (opened if needed); the user id itself as a fallback."""
        channel = self.dms.get(user_id)
        if channel:
            return channel
        try:
            response = await self.client.conversations_open(users=user_id)
            channel = text_field(response.data, "channel", "id")
        except SlackApiError as exc:
            log.warning("conversations.open failed for %s: %s", user_id, field(exc.response.data, "error"))
        if channel:
            self.dms[user_id] = channel
        return channel or user_id

    async def lookup_email(self, email: str) -> str | None:
        try:
            response = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if field(exc.response.data, "error") == "users_not_found":
                return None
            raise delivery_error(exc) from exc
        return text_field(response.data, "user", "id")
