"""The store interface: per-record, versioned, async.

Every backend (TinyDB by default, PostgreSQL to scale out) implements `Store`. The contract:

* `get(collection, key)` returns a `Record` (data + version) or None. Cost does not grow with the
  number of records stored.
* `put(collection, key, data, version=...)` writes one record:
    - `version=None`  unconditional upsert;
    - `version=0`     create only if absent;
    - `version=n`     replace only if the stored version is exactly n.
  Otherwise it raises `ConflictError`. It returns the new record (its version is old version + 1).
* `delete(collection, key)` removes one record, True if it existed.
* `scan(collection, prefix)` yields every record whose key starts with prefix. Admin and report paths
  only: never used on the path of a chat turn.
* `add_once(namespace, key, ttl)` — True the first time a key is seen within ttl seconds, False after:
  deduplication of platform events (shared between processes on a shared backend).
* A durable work queue: `enqueue` (idempotent by key), `claim` (take up to n due, unleased jobs with a
  lease that expires), `complete`, `release`. Claimed jobs whose lease expired (the worker died) are
  claimed again by someone else.
* `queue_stats(queue)` — how many jobs wait, how many are leased, and when the oldest one not done was
  enqueued (for `/metrics`; one indexed query or one pass over the queue's shards).
* `try_lease(name, owner, ttl)` — a named lease for "only one process runs this now" (schedules).

Records hold JSON-compatible dicts only.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.errors import ConflictError

# Collections whose keys are user keys ("platform:user_id") or start with "user_key|".
PROFILES = "profiles"          # answers, plan, progress, consent, reminder settings
CONVERSATIONS = "conversations"  # dialog state, saved every turn
ADDRESSES = "addresses"        # where proactive messages reach a user (adapter-defined)
USER_COLLECTIONS = (PROFILES, CONVERSATIONS, ADDRESSES)
EMAILS = "emails"              # lower-case email -> {"keys": [user keys]}: profiles found by email


@dataclass(frozen=True)
class Record:
    key: str
    data: dict[str, Any]
    version: int


@dataclass(frozen=True)
class QueueStats:
    waiting: int                 # not done and not leased (due now or later)
    leased: int                  # claimed by a live worker
    oldest_enqueued_at: float | None  # of the jobs not done; None when none (or enqueued before it was kept)


@dataclass(frozen=True)
class Job:
    queue: str
    key: str
    payload: dict[str, Any]
    attempts: int = 0
    due: float = 0.0


class Store(abc.ABC):
    """Async, per-record, versioned storage."""

    #: True when several processes share this store (they must coordinate through it, not in memory)
    shared: bool = False

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the backend (create files, run migrations)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release files and connections."""

    @abc.abstractmethod
    async def get(self, collection: str, key: str) -> Record | None: ...

    async def get_many(self, items: list[tuple[str, str]]) -> list[Record | None]:
        """Several (collection, key) records at once, in order; backends may answer in one round trip."""
        return [await self.get(collection, key) for collection, key in items]

    @abc.abstractmethod
    async def put(
        self, collection: str, key: str, data: dict[str, Any], *, version: int | None = None
    ) -> Record: ...

    @abc.abstractmethod
    async def delete(self, collection: str, key: str) -> bool: ...

    @abc.abstractmethod
    def scan(self, collection: str, prefix: str = "") -> AsyncIterator[Record]: ...

    @abc.abstractmethod
    async def add_once(self, namespace: str, key: str, ttl: float = 86400.0) -> bool: ...

    # -- work queue -------------------------------------------------------------------------
    @abc.abstractmethod
    async def enqueue(
        self, queue: str, key: str, payload: dict[str, Any], *, due: float = 0.0
    ) -> bool:
        """Add a job; False (and no change) if a job with this key was ever enqueued."""

    @abc.abstractmethod
    async def claim(
        self, queue: str, worker: str, *, limit: int = 10, lease: float = 60.0, now: float | None = None
    ) -> list[Job]:
        """Lease up to `limit` due jobs that are neither done nor leased by a live worker."""

    @abc.abstractmethod
    async def complete(self, queue: str, key: str, worker: str, result: dict[str, Any] | None = None) -> bool:
        """Mark a claimed job done (never claimed again). False if the lease was lost."""

    @abc.abstractmethod
    async def release(self, queue: str, key: str, worker: str, *, due: float = 0.0) -> bool:
        """Give a claimed job back (to retry at `due`)."""

    @abc.abstractmethod
    async def job(self, queue: str, key: str) -> dict[str, Any] | None:
        """A job's state: {"payload", "done", "result", "attempts", "due", "owner", "lease_until"}."""

    async def queue_stats(self, queue: str, *, now: float | None = None) -> QueueStats:
        """Jobs of `queue` not done: waiting, leased, and the enqueue time of the oldest."""
        raise NotImplementedError(f"{type(self).__name__} has no queue statistics")

    # -- leases -----------------------------------------------------------------------------
    @abc.abstractmethod
    async def try_lease(self, name: str, owner: str, ttl: float, *, now: float | None = None) -> bool:
        """Take or renew the named lease; True if `owner` holds it until now + ttl."""


async def update(
    store: Store,
    collection: str,
    key: str,
    change: Callable[[dict[str, Any] | None], dict[str, Any] | None | Awaitable[dict[str, Any] | None]],
    *,
    attempts: int = 20,
) -> Record | None:
    """Read-modify-write one record with optimistic concurrency; retries from fresh state on conflict.

    `change` receives a copy of the current data (or None) and returns the new data; returning None
    leaves the record as it is.
    """
    import copy
    import inspect

    for _ in range(attempts):
        current = await store.get(collection, key)
        data = copy.deepcopy(current.data) if current else None
        new = change(data)
        if inspect.isawaitable(new):
            new = await new
        if new is None:
            return current
        try:
            return await store.put(collection, key, new, version=current.version if current else 0)
        except ConflictError:
            continue
    raise ConflictError(f"could not update {collection}/{key} after {attempts} attempts")
