"""The Slack app, assembled: one `SlackAdapter` per server, over HTTP (`POST /slack/events`) or Socket Mode.

It owns the bolt `AsyncApp` and the Web API clients (adapters/slack/client.py) and wires the parts:
the listeners that turn Slack into `Incoming` (listeners.py), delivery of replies and proactive
messages (delivery.py), who a user is and where their DM is (directory.py), the App Home tab
(home.py), the background work every listener runs in (tasks.py) and the one-off move of an older
version's queue into the outbox (old_outbox.py). It is the core's `Messenger` for platform "slack",
and reports readiness (bot/health.py): auth.test passed, or the Socket Mode connection is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.client import PLATFORM, build_client, field, library_logger
from adapters.slack.delivery import SlackDelivery
from adapters.slack.directory import USER_CACHE_SECONDS, SlackDirectory
from adapters.slack.gate import make_handler
from adapters.slack.home import AppHome
from adapters.slack.listeners import Listeners
from adapters.slack.old_outbox import OLD_OUTBOX_POLL, move_old_outbox
from adapters.slack.tasks import BackgroundTasks
from bot.core import Coach
from bot.settings import Settings
from bot.types import Reply

log = logging.getLogger("skillcoach.slack")

ROUTE = "/slack/events"
AUTH_RETRY_MAX = 30.0  # seconds between auth.test attempts while Slack cannot be reached


class _BoltLogFilter(logging.Filter):
    """What bolt logs, made fit for an operator's log:

    * bolt warns "As you gave `client` as well, `token` will be unused" whenever SLACK_BOT_TOKEN is in the
      environment, even though the client it is given holds that very token: not a problem, not logged;
    * "Unhandled request (<body>)" would put what a person wrote into the log: only the kind of request
      is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token` will be unused" in message:
            return False
        if message.startswith("Unhandled request"):
            record.msg, record.args = "Unhandled Slack request (no listener for it)", ()
        return True


class SlackAdapter:
    """The Slack side of the server; also the core's `Messenger` for platform "slack"."""

    platform = PLATFORM

    def __init__(self, coach: Coach, settings: Settings, *, user_cache_seconds: float = USER_CACHE_SECONDS) -> None:
        self.coach = coach
        self.settings = settings
        self.socket_mode = bool(settings.slack_app_token)
        self.client = build_client(settings)
        bolt_log = library_logger("skillcoach.slack.bolt")
        if not any(isinstance(f, _BoltLogFilter) for f in bolt_log.filters):
            bolt_log.addFilter(_BoltLogFilter())
        # proactive messages (the outbox): a dropped connection is not retried blindly, the outbox reads
        # the DM back instead (a blind retry of a post that arrived would be a second copy)
        self.outbox_client = build_client(settings, retry_dropped_connections=False)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "socket-mode",
            # the gate in front (adapters/slack/gate.py) verifies every HTTP request before bolt sees it,
            # and hands bolt the checked body re-encoded, which bolt's own check could not verify
            request_verification_enabled=False,
            name="skillcoach",
            logger=bolt_log,
        )
        self.old_outbox_poll = OLD_OUTBOX_POLL
        self.old_outbox_moved: asyncio.Task[None] | None = None   # done when the old queue is empty
        self.tasks = BackgroundTasks()
        self.directory = SlackDirectory(self.client, user_cache_seconds=user_cache_seconds)
        self.delivery = SlackDelivery(coach, self.client, self.outbox_client, self.directory)
        self.home = AppHome(coach, self.client, self.directory, self.tasks.spawn)
        self.listeners = Listeners(coach, self.client, self.directory, self.delivery, self.home, self.tasks.spawn)
        self.listeners.register(self.bolt)
        self._socket: Any = None
        self._socket_task: asyncio.Task[None] | None = None
        self._auth_task: asyncio.Task[None] | None = None
        self.authenticated = False        # auth.test passed (HTTP mode)
        self.socket_connected = False     # the Socket Mode connection is open
        self.auth_problem = "auth.test not done yet"

    def attach(self, app: web.Application) -> None:
        """Put Slack into the aiohttp app: route (HTTP mode), lifecycle, messenger, App Home refresh."""
        self.coach.register_messenger(self)
        self.coach.on_change(self.home.changed)
        app.cleanup_ctx.append(self._lifecycle)
        if not self.socket_mode:
            app.router.add_post(ROUTE, make_handler(self.bolt, self.settings.slack_signing_secret))

    def ready_problem(self) -> str | None:
        """None when Slack can take traffic (readiness, bot/health.py), else why not."""
        if self.socket_mode:
            return None if self.socket_connected else "Socket Mode not connected"
        return None if self.authenticated else self.auth_problem

    # Messenger protocol (proactive messages from the core): the work is delivery's and the directory's
    async def send(self, user_id: str, address: dict[str, Any] | None, replies: list[Reply], *,
                   ref: str | None = None, skip: frozenset[int] = frozenset()) -> list[str]:
        return await self.delivery.send(user_id, address, replies, ref=ref, skip=skip)

    async def find_sent(self, user_id: str, address: dict[str, Any] | None, ref: str, *,
                        since: float) -> dict[int, str]:
        return await self.delivery.find_sent(user_id, address, ref, since=since)

    async def lookup_email(self, email: str) -> str | None:
        return await self.directory.lookup_email(email)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the work in flight (used on shutdown, and by tests and the bench)."""
        await self.tasks.drain(timeout)
        await self.coach.dedupe.drain()  # the records of the events just handled

    # -- lifecycle -------------------------------------------------------------------------------
    async def _check_auth(self) -> None:
        """auth.test until it answers: ready when the token is good; a refused token stays not ready."""
        delay = 1.0
        while True:
            try:
                await self.client.auth_test()
                self.authenticated = True
                log.info("Slack auth.test passed")
                return
            except asyncio.CancelledError:
                raise
            except SlackApiError as exc:
                error = str(field(exc.response.data, "error") or exc.response.status_code)
                if error not in ("ratelimited", "429") and exc.response.status_code < 500:
                    self.auth_problem = f"auth.test refused: {error}"
                    log.error("Slack auth.test refused the bot token: %s", error)
                    return
                self.auth_problem = f"auth.test failed: {error}"
            except Exception as exc:  # network trouble: not ready yet, try again
                self.auth_problem = f"auth.test failed: {type(exc).__name__}"
            await asyncio.sleep(delay)
            delay = min(delay * 2, AUTH_RETRY_MAX)

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                                    trace_configs=self.coach.metrics.aiohttp_trace(PLATFORM) or None)
        if not self.socket_mode:
            self._auth_task = asyncio.create_task(self._check_auth(), name="slack-auth-test")
        self.outbox_client.session = self.client.session
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(
                self.bolt, self.settings.slack_app_token, web_client=self.client,
                logger=logging.getLogger("skillcoach.slack.socket"),
            )
            self._socket_task = asyncio.create_task(self._connect_socket(), name="slack-socket-mode")
        self.old_outbox_moved = asyncio.create_task(move_old_outbox(self.coach, lambda: self.old_outbox_poll),
                                                    name="slack-old-outbox")
        yield
        self.old_outbox_moved.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.old_outbox_moved
        if self._auth_task is not None:
            self._auth_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._auth_task
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._socket_task
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()
        await self.drain(10.0)
        await self.client.session.close()
        self.client.session = self.outbox_client.session = None

    async def _connect_socket(self) -> None:
        """Open the Socket Mode connection; keep trying (the server stays up meanwhile)."""
        delay = 1.0
        while True:
            try:
                await self._socket.connect_async()
                self.socket_connected = True
                log.info("Slack Socket Mode connected")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network and Slack errors alike: log, wait, try again
                log.warning("Slack Socket Mode connection failed (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
