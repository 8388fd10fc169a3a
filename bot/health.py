"""Liveness, readiness and the stopping state of the server.

* `GET /healthz` — liveness: the process answers (bot/server.py).
* `GET /readyz` — readiness: 200 `{"ready": true}` only when the store answers, the catalog (and, under
  `skillcoach serve`, its matching indexes, read after the port opens) and the
  organisation file (when one is configured) are loaded, each mounted platform is ready (Slack: its
  `auth.test` passed, or the Socket Mode connection is open; Teams: credentials configured or local
  mode) and the server is not stopping; otherwise 503 with `{"ready": false, "missing": {what: why}}`.
* While the server stops (SIGTERM, bot/lifecycle.py) every new request but `/healthz` is answered 503
  with `Retry-After`, so a load balancer and the platforms' retries take the work elsewhere or later.

A platform adapter tells its readiness through its messenger's optional `ready_problem()`: None when
ready, else a short reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from bot.core import Coach

STORE_CHECK_SECONDS = 2.0
HEALTH = "health"  # a collection nothing writes: reading one key of it is the store's answer


@dataclass
class ServerState:
    stopping: bool = False
    loading: str | None = None  # what start-up still reads after the port is open (bot/lifecycle.py)


STATE = web.AppKey("server_state", ServerState)


def state_of(app: web.Application) -> ServerState:
    if STATE not in app:
        app[STATE] = ServerState()
    return app[STATE]


async def problems(app: web.Application, coach: Coach) -> dict[str, str]:
    """What keeps this process from taking traffic, by name; empty when ready."""
    missing: dict[str, str] = {}
    if state_of(app).stopping:
        missing["server"] = "stopping"
    try:
        await asyncio.wait_for(coach.store.get(HEALTH, "ready"), STORE_CHECK_SECONDS)
    except asyncio.TimeoutError:
        missing["store"] = f"no answer within {STORE_CHECK_SECONDS:g} s"
    except Exception as exc:  # whatever the backend raises: not ready, and why
        missing["store"] = f"not answering ({type(exc).__name__}: {str(exc)[:200]})"
    if not coach.catalog.roles or not coach.catalog.skills:
        missing["catalog"] = "not loaded (no roles or skills)"
    elif state_of(app).loading:
        missing["catalog"] = state_of(app).loading
    org_file = coach.settings.org_file
    if org_file and len(coach.directory) == 0:
        missing["organisation"] = f"{org_file} not loaded (see the error in the log)"
    for platform, messenger in sorted(coach.messengers.items()):
        check = getattr(messenger, "ready_problem", None)
        problem = check() if check is not None else None
        if problem:
            missing[platform] = problem
    return missing


def readyz(coach: Coach):
    """The GET /readyz handler of this coach's server."""

    async def handler(request: web.Request) -> web.Response:
        missing = await problems(request.app, coach)
        if missing:
            return web.json_response({"ready": False, "missing": missing}, status=503)
        return web.json_response({"ready": True})

    return handler


def stopping_gate(app: web.Application):
    """Middleware: while stopping, new requests (all but /healthz) get 503 and Retry-After."""
    state = state_of(app)

    @web.middleware
    async def middleware(request: web.Request, handler):
        if state.stopping and request.path not in ("/healthz", "/readyz"):
            return web.json_response({"error": "the server is stopping; try again shortly"}, status=503,
                                     headers={"Retry-After": "5", "Connection": "close"})
        return await handler(request)

    return middleware
