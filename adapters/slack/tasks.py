"""The Slack adapter's background work: every listener acknowledges first and runs in a tracked task.

Each task carries the log context of the request it came from (an HTTP request's id; over Socket Mode
a new id per event) and platform "slack"; a task that fails is logged, never lost silently; `drain`
waits for the work in flight (shutdown, tests, the bench).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Coroutine
from typing import Any

from adapters.slack.client import PLATFORM
from bot.logs import PLATFORM as LOG_PLATFORM
from bot.logs import REQUEST_ID, new_request_id

log = logging.getLogger("skillcoach.slack")


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work in the background, with the log context of the request it came from (an HTTP request's
        id; over Socket Mode a new id per event) and platform "slack"."""
        context = contextvars.copy_context()
        context.run(LOG_PLATFORM.set, PLATFORM)
        if not context.get(REQUEST_ID):
            context.run(REQUEST_ID.set, new_request_id(None))
        task = asyncio.create_task(coro, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work failed", exc_info=task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the work in flight, up to `timeout` seconds; then cancel what is left."""
        deadline = time.monotonic() + timeout
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - time.monotonic()))
        for task in list(self._tasks):
            task.cancel()
