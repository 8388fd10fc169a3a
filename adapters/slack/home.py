"""The App Home tab: published when a person opens it, and again whenever their plan or settings change.

The view itself is rendered by `blocks.home_view` from the core's `HomeSummary`; its buttons are
block actions, handled with the other actions in `listeners.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as B
from adapters.slack.client import PLATFORM, field, text_field
from adapters.slack.directory import SlackDirectory
from bot.core import Coach

log = logging.getLogger("skillcoach.slack")

Spawn = Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]


class AppHome:
    def __init__(self, coach: Coach, client: AsyncWebClient, directory: SlackDirectory, spawn: Spawn) -> None:
        self.coach = coach
        self.client = client
        self.directory = directory
        self.spawn = spawn

    async def on_opened(self, body: dict[str, Any]) -> None:
        """The `app_home_opened` listener (bolt acknowledges events itself, before it runs)."""
        self.spawn(self._opened(body))

    async def _opened(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        user, channel = text_field(event, "user"), text_field(event, "channel")
        if not user:
            return
        if channel and channel.startswith("D"):
            self.directory.dms[user] = channel
        if event.get("tab", "home") == "home":
            await self.publish(user)

    async def publish(self, user_id: str) -> None:
        summary = await self.coach.home(f"{PLATFORM}:{user_id}")
        try:
            await self.client.views_publish(user_id=user_id, view=B.home_view(summary))
        except SlackApiError as exc:
            log.warning("could not publish App Home for %s: %s", user_id, field(exc.response.data, "error"))

    async def changed(self, user_key: str, what: str) -> None:
        """The core's change listener: a Slack user's plan or settings changed, so their Home is redone."""
        platform, _, user_id = user_key.partition(":")
        if platform == PLATFORM and user_id:
            self.spawn(self.publish(user_id))
