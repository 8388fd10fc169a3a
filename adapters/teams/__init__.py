"""Microsoft Teams adapter (botbuilder): POST /api/messages, Adaptive Cards, proactive messages.

`mount(app, coach, settings)` adds the endpoint to the one aiohttp app and registers the Teams
messenger with the coach. Mounted when `MicrosoftAppId` is set (Bot Framework JWTs are checked), or
with no app id when `SKILLCOACH_TEAMS` is on (the default): local development, no authentication,
the Bot Framework Emulator works against it.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

log = logging.getLogger("skillcoach.teams")

TEAMS = web.AppKey("teams", object)  # the TeamsRuntime, for tests and benchmarks


def mount(app: web.Application, coach: Any, settings: Any, **options: Any) -> bool:
    """Mount the Teams endpoint; `options` go to `TeamsRuntime` (credentials_factory, auth_overrides)."""
    app_id = settings.microsoft_app_id.strip()
    if not app_id and not settings.teams_enabled:
        log.info("Teams not mounted: MicrosoftAppId is empty and SKILLCOACH_TEAMS is off")
        return False
    from adapters.teams.http import MessagesEndpoint
    from adapters.teams.runtime import TeamsRuntime

    runtime = TeamsRuntime(coach, settings, **options)
    noisy = logging.getLogger("msrest.serialization")  # warns on every Teams field its schema lacks
    if noisy.level == logging.NOTSET:
        noisy.setLevel(logging.ERROR)
    app.router.add_post("/api/messages", MessagesEndpoint(runtime).handle)
    coach.register_messenger(runtime.messenger)
    app[TEAMS] = runtime
    if app_id:
        log.info("Teams mounted at POST /api/messages for app %s (%s); requests are JWT-checked",
                 app_id, settings.microsoft_app_type)
    else:
        log.info("Teams mounted at POST /api/messages in local development mode: no MicrosoftAppId, requests "
                 "are NOT authenticated (Bot Framework Emulator); set MicrosoftAppId for production")
    return True
