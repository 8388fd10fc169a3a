"""Microsoft Teams adapter (botbuilder): POST /api/messages, Adaptive Cards, proactive messages.

`mount(app, coach, settings)` adds the endpoint to the one aiohttp app and registers the Teams
messenger with the coach. With `MicrosoftAppId` set it is mounted and Bot Framework JWTs are checked.
Without an app id nothing is authenticated (local development, the Bot Framework Emulator), so it is
mounted only when asked for:
  * `SKILLCOACH_TEAMS=local` (or `true`): always;
  * `SKILLCOACH_TEAMS` unset: only when the server listens on a loopback address (127.0.0.0/8, ::1,
    localhost), which the CLI records in the app under `LISTEN_HOST` before it starts;
  * `SKILLCOACH_TEAMS=false`: never.
Otherwise one log line says it is not mounted and how to enable it.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:  # annotations only: mounting loads the adapter, the core is loaded already
    from bot.core import Coach
    from bot.settings import Settings

log = logging.getLogger("skillcoach.teams")

TEAMS = web.AppKey("teams", object)  # the TeamsRuntime, for tests and benchmarks
LISTEN_HOST = web.AppKey("listen_host", str)  # the address `skillcoach serve` listens on


def is_loopback_host(host: str | None) -> bool:
    """Whether a listen address is this machine only: 127.0.0.0/8, ::1 or localhost."""
    if not host:
        return False
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mount(app: web.Application, coach: Coach, settings: Settings, **options: Any) -> bool:
    """Mount the Teams endpoint; `options` go to `TeamsRuntime` (credentials_factory, auth_overrides).

    True when mounted now; with no app id and `SKILLCOACH_TEAMS` unset the decision waits for the start
    of the server (the listen address), and False is returned."""
    app_id = settings.microsoft_app_id.strip()
    if _close not in app.on_cleanup:
        app.on_cleanup.append(_close)
    if app_id or settings.teams_enabled is True:
        app.on_startup.append(_repair)
        _mount(app, coach, settings, options)
        return True
    if settings.teams_enabled is False:
        log.info("Teams not mounted: MicrosoftAppId is empty and SKILLCOACH_TEAMS is off; set MicrosoftAppId "
                 "to serve Teams")
        return False

    async def decide(app: web.Application) -> None:
        host = app.get(LISTEN_HOST)
        if is_loopback_host(host):
            _mount(app, coach, settings, options)
            return
        where = f"listens on {host}, not a loopback address" if host else "listen address is not known"
        log.info("Teams not mounted: MicrosoftAppId is empty and the server %s; set MicrosoftAppId to serve "
                 "Teams, or SKILLCOACH_TEAMS=local for unauthenticated local development", where)

    # first of all start-up steps (before the store opens and background delivery starts): routes can still
    # be added then, and the messenger is there before anything is sent
    app.on_startup.insert(0, decide)
    app.on_startup.append(_repair)
    return False


async def _repair(app: web.Application) -> None:
    """Start-up (after the store is open): drop stored private addresses that are channel or group chats."""
    runtime = app.get(TEAMS)
    if runtime is None:
        return
    try:
        await runtime.repair_addresses()  # type: ignore[attr-defined]
    except Exception as exc:  # a store that cannot be read now: the messenger still refuses such addresses
        log.warning("could not check the stored Teams addresses: %s", exc)


async def _close(app: web.Application) -> None:
    """Server stop: close the pooled connector session."""
    runtime = app.get(TEAMS)
    if runtime is not None:
        await runtime.close()  # type: ignore[attr-defined]


def _mount(app: web.Application, coach: Coach, settings: Settings, options: dict[str, Any]) -> None:
    # botbuilder is imported only when Teams is mounted (a Slack-only process never pays for it)
    from adapters.teams.bot import SkillcoachTeamsBot
    from adapters.teams.http import MessagesEndpoint
    from adapters.teams.messenger import TeamsMessenger
    from adapters.teams.runtime import TeamsRuntime

    app_id = settings.microsoft_app_id.strip()
    runtime = TeamsRuntime(coach, settings, **options)
    runtime.bot = SkillcoachTeamsBot(runtime)
    runtime.messenger = TeamsMessenger(runtime)
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
