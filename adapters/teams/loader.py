"""Teams loaded after the port opens: botbuilder costs about a third of a second to import, so the server
answers `/healthz` first and builds the Teams runtime in the background.

`TeamsLoader` stands in for the runtime from the moment Teams is mounted: it is the handler of
POST /api/messages (a request waits for the runtime, then goes through it) and the coach's "teams"
messenger (a proactive send waits the same way; `ready_problem` says "loading" so `/readyz` stays 503
until it is there). Loading starts once the store is open (a cleanup context of the app, so it also ends
before the store closes); the modules are imported in a worker thread, the runtime is built on the event
loop, then stored private addresses that are channel or group chats are dropped (`repair_addresses`).
A load that fails is logged once and answers every Teams request with 503 (nothing is lost: Teams
retries, and the outbox keeps its items).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.delivery import DeliveryError
from bot.types import Reply

log = logging.getLogger("skillcoach.teams")

MODULES = ("adapters.teams.bot", "adapters.teams.http", "adapters.teams.messenger", "adapters.teams.runtime")


class TeamsLoader:
    platform = "teams"

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build          # makes the runtime (its modules imported); runs on the event loop
        self.runtime: Any = None
        self.failed: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._done: asyncio.Event | None = None
        self._closing = False

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Server start-up (the store is open): begin loading; the server does not wait for it."""
        self._done = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._load())

    async def _load(self) -> None:
        assert self._done is not None
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: [importlib.import_module(m) for m in MODULES])
            if self._closing:
                return
            self.runtime = self._build()
            log.info("Teams adapter loaded")
            await self.runtime.repair_addresses()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.runtime is None:
                self.failed = f"could not load the Teams adapter: {type(exc).__name__}: {exc}"
                log.error("%s", self.failed)
            else:  # a store that cannot be read now: the messenger still refuses such addresses
                log.warning("could not check the stored Teams addresses: %s", exc)
        finally:
            self._done.set()

    async def wait(self) -> Any:
        """The runtime, once loaded (None when loading failed or the server is stopping)."""
        if self._done is None:  # not started (a test that builds the app without running it)
            return None
        await self._done.wait()
        return self.runtime

    async def close(self) -> None:
        """Server stop (before the store closes): a load under way ends (its import cannot be interrupted)
        without building the runtime; then the runtime's connector session is closed."""
        self._closing = True
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task})
        if self.runtime is not None:
            await self.runtime.close()

    # -- POST /api/messages ------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        runtime = await self.wait()
        if runtime is None:
            return web.json_response({"error": "Teams is not available on this server"}, status=503,
                                     headers={"Retry-After": "30"})
        return await runtime.endpoint.handle(request)

    # -- the coach's messenger ---------------------------------------------------------------
    def ready_problem(self) -> str | None:
        if self.failed:
            return self.failed
        if self.runtime is None:
            return "loading the Teams adapter"
        return self.runtime.messenger.ready_problem()

    async def send(self, user_id: str, address: dict[str, Any] | None, replies: list[Reply], **kwargs: Any
                   ) -> list[str]:
        return await (await self._messenger()).send(user_id, address, replies, **kwargs)

    async def lookup_email(self, email: str) -> str | None:
        return await (await self._messenger()).lookup_email(email)

    async def _messenger(self) -> Any:
        runtime = await self.wait()
        if runtime is None:
            raise DeliveryError(self.failed or "Teams is not loaded", permanent=False)
        return runtime.messenger
