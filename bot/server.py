"""The one aiohttp server: Slack at POST /slack/events, Teams at POST /api/messages, GET /healthz
(alive), GET /readyz (ready for traffic, bot/health.py), GET /metrics (bot/metrics.py, when enabled)."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from bot.catalog import Catalog, load_catalog
from bot.core import Coach
from bot.settings import Settings
from bot.store import Store, open_store
from dialogs.conversation import Conversation

log = logging.getLogger("skillcoach.server")

COACH = web.AppKey("coach", Coach)
STARTED = web.AppKey("started", float)


async def healthz(request: web.Request) -> web.Response:
    coach = request.app[COACH]
    return web.json_response(
        {
            "ok": True,
            "uptime": round(time.time() - request.app[STARTED], 3),
            "platforms": sorted(coach.messengers),
            "people": len(coach.directory),
        }
    )


def build_coach(settings: Settings, *, store: Store | None = None, catalog: Catalog | None = None) -> Coach:
    from bot.org import load_directory_for

    catalog = catalog or load_catalog(settings.extra_catalog_dirs)
    store = store or open_store(settings)
    directory = load_directory_for(settings, catalog)
    coach = Coach(settings, store, catalog, directory, dialog=Conversation())
    register_features(coach)
    return coach


def register_features(coach: Coach) -> None:
    """The managers' features: nudges, the team report, mentor and shadowing introductions."""
    from bot import intros, nudges, report

    nudges.register(coach)
    report.register(coach)
    intros.register(coach)


def create_app(settings: Settings, *, coach: Coach | None = None) -> web.Application:
    """The app factory: no globals, everything hangs off the returned application."""
    from bot import health, metrics
    from bot.logs import request_context

    coach = coach or build_coach(settings)
    app = web.Application(client_max_size=1024 * 1024)
    app[COACH] = coach
    app[STARTED] = time.time()
    app.middlewares.append(request_context())
    app.middlewares.append(health.stopping_gate(app))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", health.readyz(coach))
    metrics.enable(app, coach, settings)  # before the platforms mount: they count their API calls
    from bot.report import add_routes as add_report_routes

    add_report_routes(app, coach)

    async def open_store_ctx(app: web.Application):
        await coach.store.open()
        yield
        await coach.store.close()

    app.cleanup_ctx.append(open_store_ctx)

    from adapters.slack import mount as mount_slack
    from adapters.teams import mount as mount_teams

    mount_slack(app, coach, settings)
    mount_teams(app, coach, settings)

    from bot.background import attach_background

    attach_background(app, coach)
    return app
