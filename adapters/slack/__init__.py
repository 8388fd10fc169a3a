"""Slack adapter (slack-bolt): DMs, App Home, slash commands and buttons, over HTTP or Socket Mode.

`mount(app, coach, settings)` is called by `bot.server.create_app`. Slack is mounted when
SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set (HTTP mode, `POST /slack/events`), or
SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode, no public URL needed).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:  # annotations only: mounting loads the adapter, the core is loaded already
    from bot.core import Coach
    from bot.settings import Settings

from adapters.slack import texts as T

log = logging.getLogger("skillcoach.slack")

SLACK_ADAPTER = web.AppKey("slack_adapter", object)


def missing_credentials(settings: Settings) -> list[str]:
    missing = []
    if not settings.slack_bot_token:
        missing.append("SLACK_BOT_TOKEN")
    if not settings.slack_signing_secret and not settings.slack_app_token:
        missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
    return missing


def mount(app: web.Application, coach: Coach, settings: Settings) -> bool:
    """Add Slack to the server; False (and one log line saying why) when credentials are missing."""
    missing = missing_credentials(settings)
    if missing:
        log.info(T.NOT_MOUNTED.format(missing=" and ".join(missing)))
        return False
    from adapters.slack.app import ROUTE, SlackAdapter

    adapter = SlackAdapter(coach, settings)
    adapter.attach(app)
    app[SLACK_ADAPTER] = adapter
    if adapter.socket_mode:
        log.info("Slack mounted over Socket Mode")
    else:
        log.info("Slack mounted at POST %s", ROUTE)
    return True
