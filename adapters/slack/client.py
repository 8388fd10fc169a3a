"""The Slack Web API client, and how to read its answers.

`build_client` makes the one kind of `AsyncWebClient` the adapter uses (slack_sdk's retry handlers for
rate limits and, unless told not to, dropped connections); `field`/`text_field` read a path out of a
Slack payload or response without trusting its shape; `delivery_error` says what a refused call means
for the core's delivery (bot/delivery.py): wait and retry, or give up on this person.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import DeliveryError
from bot.settings import Settings

PLATFORM = "slack"

# Slack errors after which retrying a proactive message is pointless
PERMANENT_ERRORS = {
    "channel_not_found", "user_not_found", "user_disabled", "account_inactive", "is_archived",
    "not_in_channel", "cannot_dm_bot", "invalid_auth", "not_authed", "token_revoked", "missing_scope",
}


def build_client(settings: Settings, *, retry_dropped_connections: bool = True) -> AsyncWebClient:
    """A Web API client: 429s wait for Retry-After, dropped connections are retried (unless told not
    to: a post whose connection dropped may have arrived, and only the outbox can tell — by asking)."""
    handlers: list[Any] = [AsyncRateLimitErrorRetryHandler(max_retry_count=5)]
    if retry_dropped_connections:
        handlers.insert(0, AsyncConnectionErrorRetryHandler(max_retry_count=2))
    kwargs: dict[str, Any] = {"token": settings.slack_bot_token, "retry_handlers": handlers,
                              "logger": library_logger("skillcoach.slack.api")}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    return AsyncWebClient(**kwargs)


def library_logger(name: str) -> logging.Logger:
    """A logger for slack_sdk's client or bolt, with a level of its own. Both test the logger's own level
    (`logger.level <= DEBUG`, not the effective level) before they build a debug line — with the whole
    request and response — for every call and every middleware, so with the level unset (0) they do that
    work on every turn although nothing is logged. DEBUG only when the process logs DEBUG."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.INFO)
    return logger


def field(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]…`, or None where a step is missing or not an object."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text_field(data: Any, *path: str) -> str | None:
    """`field(data, *path)` when it is a non-empty string, else None."""
    value = field(data, *path)
    return value if isinstance(value, str) and value else None


def delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(field(response.data, "error") or "") if response is not None else ""
    status = getattr(response, "status_code", None)
    if status == 429 or error == "ratelimited":
        retry = response.headers.get("Retry-After", "30") if response is not None else "30"
        try:
            retry_after = float(retry)
        except (TypeError, ValueError):
            retry_after = 30.0
        return DeliveryError(f"Slack rate limit ({error or status})", retry_after=retry_after)
    return DeliveryError(f"Slack refused the message: {error or status}", permanent=error in PERMANENT_ERRORS)
