"""Has this platform event been handled before? One policy for every platform and kind of event.

Platforms deliver some events twice (Slack retries an event it did not see acknowledged in 3 s; Bot
Framework resends an activity after a timeout). Every id is remembered in a bounded memory of this
process and recorded in the store (`add_once`, shared between processes and kept for 3 days):
- a delivery the platform marks as a retry, and every delivery when the store is shared by several
  processes (a retry may reach another process while this one is still working), waits for the store's
  record before anything is written;
- otherwise (one process, a first delivery) the memory decides, and the record is written once the work
  for the event is done, off the path of the answer.
A turn of the conversation also keeps its event's id in the conversation it saves (the last 32, bot/turn.py):
an id found there is a repeat, whatever the memory says (after a restart, and for a resend without a
retry mark), and a first delivery recorded that way needs no record of its own — one write per turn
instead of two, and the record is saved in the same write as the turn's effect.
When the store cannot answer, the event counts as new: better processed twice than never.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from bot.errors import StoreError
from bot.store import Store

log = logging.getLogger("skillcoach.dedupe")

MEMORY = 20_000        # event ids this process remembers (the store remembers all, for TTL)
TTL = 3 * 86400


class Dedupe:
    def __init__(self, store: Store, *, memory: int = MEMORY, ttl: float = TTL) -> None:
        self.store = store
        self.memory = memory
        self.ttl = ttl
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    def remember(self, platform: str, event_id: str) -> bool:
        """Note an id in this process's memory; False if it was already there."""
        key = f"{platform}:{event_id}"
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.memory:
            self._seen.popitem(last=False)
        return True

    async def record(self, platform: str, event_id: str, ttl: float | None = None) -> bool:
        """True the first time the store sees this id (shared and persistent)."""
        try:
            return await self.store.add_once(f"events:{platform}", event_id, self.ttl if ttl is None else ttl)
        except StoreError as exc:
            log.warning("could not check %s event %s against repeats: %s", platform, event_id, exc)
            return True

    def must_wait(self, retried: bool) -> bool:
        """Whether the store's record must decide before any work (see the module's policy)."""
        return retried or self.store.shared

    def record_later(self, platform: str, event_id: str) -> None:
        """Write the store's record once the current task (the work for the event) is done."""
        def write(_: Any = None) -> None:
            task = asyncio.ensure_future(self.record(platform, event_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        current = asyncio.current_task()
        if current is None:
            write()
        else:
            current.add_done_callback(write)

    async def drain(self) -> None:
        """Wait for records still being written (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
