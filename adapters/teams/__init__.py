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

from adapters.teams.loader import TeamsLoader
from bot.errors import ConfigError

if TYPE_CHECKING:  # annotations only: mounting loads the adapter, the core is loaded already
    from bot.core import Coach
    from bot.settings import Settings

log = logging.getLogger("skillcoach.teams")

TEAMS = web.AppKey("teams", object)  # the TeamsLoader (its runtime once loaded), for tests and benchmarks
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
    of the server (the listen address), and False is returned. Either way botbuilder itself loads in the
    background once the store is open (`adapters/teams/loader.py`)."""
    app_id = settings.microsoft_app_id.strip()
    if settings.teams_enabled is not False or app_id:
        # after the store opens (cleanup contexts start in order), stopped before it closes (in reverse)
        app.cleanup_ctx.append(_lifetime)
    if app_id or settings.teams_enabled is True:
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
    return False


async def _lifetime(app: web.Application):
    """Start loading botbuilder once the store is open; at stop, let a load under way end, then close the
    pooled connector session (before the store closes)."""
    loader = app.get(TEAMS)
    if isinstance(loader, TeamsLoader):
        loader.start()
    yield
    if isinstance(loader, TeamsLoader):
        await loader.close()


def config_problem(settings: Settings) -> str | None:
    """What the Bot Framework configuration lacks for its app type (botbuilder raises the same, later)."""
    kind = (settings.microsoft_app_type or "MultiTenant").strip().lower()
    needs = {"singletenant": ("APP_ID", "APP_PASSWORD", "APP_TENANTID"), "userassignedmsi": ("APP_ID", "APP_TENANTID")}
    have = {"APP_ID": settings.microsoft_app_id.strip(), "APP_PASSWORD": settings.microsoft_app_password,
            "APP_TENANTID": settings.microsoft_app_tenant_id.strip()}
    names = {"APP_ID": "MicrosoftAppId", "APP_PASSWORD": "MicrosoftAppPassword", "APP_TENANTID": "MicrosoftAppTenantId"}
    for key in needs.get(kind, ()):
        if not have[key]:
            return (f"Teams configuration is incomplete: {names[key]} ({key}) is required with "
                    f"MicrosoftAppType={settings.microsoft_app_type.strip()} (see MicrosoftApp* settings)")
    return None


def _mount(app: web.Application, coach: Coach, settings: Settings, options: dict[str, Any]) -> TeamsLoader:
    """The endpoint and the messenger now; botbuilder (imported only when Teams is mounted, so a Slack-only
    process never pays for it) loads in the background (`adapters/teams/loader.py`)."""
    problem = config_problem(settings)
    if problem:
        raise ConfigError(problem)

    def build() -> Any:
        from adapters.teams.bot import SkillcoachTeamsBot
        from adapters.teams.http import MessagesEndpoint
        from adapters.teams.messenger import TeamsMessenger
        from adapters.teams.runtime import TeamsRuntime

        runtime = TeamsRuntime(coach, settings, **options)
        runtime.bot = SkillcoachTeamsBot(runtime)
        runtime.messenger = TeamsMessenger(runtime)
        runtime.endpoint = MessagesEndpoint(runtime)
        return runtime

    app_id = settings.microsoft_app_id.strip()
    noisy = logging.getLogger("msrest.serialization")  # warns on every Teams field its schema lacks
    if noisy.level == logging.NOTSET:
        noisy.setLevel(logging.ERROR)
    loader = TeamsLoader(build)
    app.router.add_post("/api/messages", loader.handle)
    coach.register_messenger(loader)
    app[TEAMS] = loader
    if app_id:
        log.info("Teams mounted at POST /api/messages for app %s (%s); requests are JWT-checked",
                 app_id, settings.microsoft_app_type)
    else:
        log.info("Teams mounted at POST /api/messages in local development mode: no MicrosoftAppId, requests "
                 "are NOT authenticated (Bot Framework Emulator); set MicrosoftAppId for production")
    return loader
