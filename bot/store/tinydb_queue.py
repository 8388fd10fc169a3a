"""The TinyDB store's work queue and named leases (a part of `TinyDBStore`).

A queue is its own folder of shard files (`queues/<queue>/`), a job one TinyDB document in the shard
of its key: `{"k", "payload", "done", "result", "attempts", "due", "owner", "lease_until",
"enqueued_at"}`. `claim` reads every shard of the queue (queues are kept small: 64 shards) and takes
the earliest due jobs; claims of one queue run one at a time in this process, other job calls
interleave. Leases live in `leases/`, one document `{"k": name, "owner", "until"}` each.

`QueueAndLeases` is mixed into `TinyDBStore` (bot/store/tinydb_store.py), which provides the shard
addressing and `_on_shard` (run a function on one shard under its lock, writes group-committed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.store.base import Job, QueueStats
from bot.store.tinydb_files import Shard, clone, json_data, shard_files

T = TypeVar("T")


class QueueAndLeases:
    """`enqueue`, `claim`, `complete`, `release`, `job`, `queue_stats` and `try_lease`."""

    _queue_locks: dict[str, asyncio.Lock]

    # provided by TinyDBStore
    _ready: Callable[[], Awaitable[dict[str, int]]]
    _folder: Callable[[str, str | None], Path]
    _shard_path: Callable[[dict[str, int], str, str | None, str], Path]
    _bind_loop: Callable[[], None]

    async def _on_shard(self, path: Path, fn: Callable[[Shard], T], *, write: bool, keep: bool = True) -> T:
        raise NotImplementedError

    # -- work queue -------------------------------------------------------------------------
    async def _job_path(self, queue: str, key: str) -> Path:
        return self._shard_path(await self._ready(), "queues", queue, key)

    async def enqueue(self, queue: str, key: str, payload: dict[str, Any], *, due: float = 0.0) -> bool:
        body = json_data(payload, f"queue {queue}/{key}")

        def add(shard: Shard) -> bool:
            if shard.find(key) is not None:
                return False
            shard.table.insert({
                "k": key, "payload": body, "done": False, "result": None, "attempts": 0,
                "due": float(due), "owner": None, "lease_until": 0.0, "enqueued_at": time.time(),
            })
            return True

        return await self._on_shard(await self._job_path(queue, key), add, write=True)

    async def claim(self, queue: str, worker: str, *, limit: int = 10, lease: float = 60.0,
                    now: float | None = None) -> list[Job]:
        """Lease the `limit` earliest due jobs (by due time, then key) across the queue's shards."""
        await self._ready()
        now = time.time() if now is None else now
        if limit <= 0:
            return []

        def claimable(doc: Any) -> bool:
            return not doc["done"] and doc["due"] <= now and doc["lease_until"] <= now

        self._bind_loop()
        queue_lock = self._queue_locks.setdefault(queue, asyncio.Lock())
        async with queue_lock:  # claims of one queue run one at a time; other job calls interleave
            candidates: list[tuple[float, str, Path]] = []
            for path in await asyncio.to_thread(shard_files, self._folder("queues", queue)):
                found = await self._on_shard(
                    path, lambda s: [(d["due"], d["k"]) for d in s.table if claimable(d)], write=False)
                candidates.extend((due, key, path) for due, key in found)
            candidates.sort()
            by_shard: dict[Path, list[str]] = {}
            for _due, key, path in candidates[:limit]:
                by_shard.setdefault(path, []).append(key)

            claimed: list[Job] = []
            for path, keys in by_shard.items():
                def take(shard: Shard, keys: list[str] = keys) -> list[Job]:
                    jobs = []
                    with shard.storage.batch():
                        for key in keys:
                            doc = shard.find(key)
                            if doc is None or not claimable(doc):
                                continue  # completed or released in between
                            attempts = doc["attempts"] + 1
                            shard.table.update(
                                {"owner": worker, "lease_until": now + lease, "attempts": attempts},
                                doc_ids=[doc.doc_id])
                            jobs.append(Job(queue, key, clone(doc["payload"]), attempts, doc["due"]))
                    return jobs

                claimed.extend(await self._on_shard(path, take, write=True))
            claimed.sort(key=lambda job: (job.due, job.key))
            return claimed

    async def complete(self, queue: str, key: str, worker: str, result: dict[str, Any] | None = None) -> bool:
        stored = None if result is None else json_data(result, f"queue {queue}/{key} result")
        return await self._change_job(queue, key, worker, {"done": True, "result": stored, "lease_until": 0.0})

    async def release(self, queue: str, key: str, worker: str, *, due: float = 0.0) -> bool:
        return await self._change_job(queue, key, worker, {"owner": None, "lease_until": 0.0, "due": float(due)})

    async def _change_job(self, queue: str, key: str, worker: str, fields: dict[str, Any]) -> bool:
        def change(shard: Shard) -> bool:
            doc = shard.find(key)
            if doc is None or doc["owner"] != worker or doc["done"]:
                return False
            shard.table.update(fields, doc_ids=[doc.doc_id])
            return True

        return await self._on_shard(await self._job_path(queue, key), change, write=True)

    async def job(self, queue: str, key: str) -> dict[str, Any] | None:
        doc = await self._on_shard(await self._job_path(queue, key), lambda s: s.find(key), write=False)
        if doc is None:
            return None
        return {name: clone(value) for name, value in doc.items() if name not in ("k", "enqueued_at")}

    async def queue_stats(self, queue: str, *, now: float | None = None) -> QueueStats:
        """One read of each of the queue's shards (as `claim` does)."""
        await self._ready()
        now = time.time() if now is None else now

        def count(shard: Shard) -> tuple[int, int, float | None]:
            waiting = leased = 0
            oldest: float | None = None
            for doc in shard.table:
                if doc["done"]:
                    continue
                if doc["lease_until"] > now:
                    leased += 1
                else:
                    waiting += 1
                at = doc.get("enqueued_at")
                if at and (oldest is None or at < oldest):
                    oldest = at
            return waiting, leased, oldest

        waiting = leased = 0
        oldest: float | None = None
        for path in await asyncio.to_thread(shard_files, self._folder("queues", queue)):
            w, n, at = await self._on_shard(path, count, write=False)
            waiting, leased = waiting + w, leased + n
            if at is not None and (oldest is None or at < oldest):
                oldest = at
        return QueueStats(waiting, leased, oldest)

    # -- leases -----------------------------------------------------------------------------
    async def try_lease(self, name: str, owner: str, ttl: float, *, now: float | None = None) -> bool:
        path = self._shard_path(await self._ready(), "leases", None, name)
        at = time.time() if now is None else now

        def take(shard: Shard) -> bool:
            doc = shard.find(name)
            if doc is not None and doc["owner"] != owner and doc["until"] > at:
                return False
            fields = {"k": name, "owner": owner, "until": at + ttl}
            if doc is None:
                shard.table.insert(fields)
            else:
                shard.table.update(fields, doc_ids=[doc.doc_id])
            return True

        return await self._on_shard(path, take, write=True)
