"""An in-memory store: the reference implementation of the contract, for tests and `--memory`."""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator
from typing import Any

from bot.errors import ConflictError
from bot.store.base import Job, QueueStats, Record, Store


class MemoryStore(Store):
    def __init__(self) -> None:
        self._data: dict[str, dict[str, tuple[dict[str, Any], int]]] = {}
        self._seen: dict[str, float] = {}
        self._jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self._leases: dict[str, tuple[str, float]] = {}

    async def get(self, collection: str, key: str) -> Record | None:
        item = self._data.get(collection, {}).get(key)
        if item is None:
            return None
        return Record(key, copy.deepcopy(item[0]), item[1])

    async def put(self, collection: str, key: str, data: dict[str, Any], *, version: int | None = None) -> Record:
        coll = self._data.setdefault(collection, {})
        current = coll.get(key)
        current_version = current[1] if current else 0
        if version is not None and version != current_version:
            raise ConflictError(f"{collection}/{key}: expected version {version}, found {current_version}")
        coll[key] = (copy.deepcopy(data), current_version + 1)
        return Record(key, copy.deepcopy(data), current_version + 1)

    async def delete(self, collection: str, key: str) -> bool:
        return self._data.get(collection, {}).pop(key, None) is not None

    async def scan(self, collection: str, prefix: str = "") -> AsyncIterator[Record]:
        for key, (data, version) in sorted(self._data.get(collection, {}).items()):
            if key.startswith(prefix):
                yield Record(key, copy.deepcopy(data), version)

    async def add_once(self, namespace: str, key: str, ttl: float = 86400.0) -> bool:
        now = time.time()
        full = f"{namespace}\x00{key}"
        seen = self._seen.get(full)
        if seen is not None and seen > now:
            return False
        self._seen[full] = now + ttl
        return True

    async def enqueue(self, queue: str, key: str, payload: dict[str, Any], *, due: float = 0.0) -> bool:
        if (queue, key) in self._jobs:
            return False
        self._jobs[(queue, key)] = {
            "payload": copy.deepcopy(payload), "done": False, "result": None, "attempts": 0,
            "due": due, "owner": None, "lease_until": 0.0, "enqueued_at": time.time(),
        }
        return True

    async def claim(self, queue: str, worker: str, *, limit: int = 10, lease: float = 60.0,
                    now: float | None = None) -> list[Job]:
        now = time.time() if now is None else now
        out: list[Job] = []
        for (q, key), job in sorted(self._jobs.items(), key=lambda kv: (kv[1]["due"], kv[0][1])):
            if len(out) >= limit:
                break
            if q != queue or job["done"] or job["due"] > now or job["lease_until"] > now:
                continue
            job["owner"], job["lease_until"] = worker, now + lease
            job["attempts"] += 1
            out.append(Job(queue, key, copy.deepcopy(job["payload"]), job["attempts"], job["due"]))
        return out

    async def complete(self, queue: str, key: str, worker: str, result: dict[str, Any] | None = None) -> bool:
        job = self._jobs.get((queue, key))
        if job is None or job["owner"] != worker or job["done"]:
            return False
        job.update(done=True, result=copy.deepcopy(result), lease_until=0.0)
        return True

    async def release(self, queue: str, key: str, worker: str, *, due: float = 0.0) -> bool:
        job = self._jobs.get((queue, key))
        if job is None or job["owner"] != worker or job["done"]:
            return False
        job.update(owner=None, lease_until=0.0, due=due)
        return True

    async def job(self, queue: str, key: str) -> dict[str, Any] | None:
        job = self._jobs.get((queue, key))
        return {k: copy.deepcopy(v) for k, v in job.items() if k != "enqueued_at"} if job else None

    async def queue_stats(self, queue: str, *, now: float | None = None) -> QueueStats:
        now = time.time() if now is None else now
        pending = [job for (q, _), job in self._jobs.items() if q == queue and not job["done"]]
        leased = sum(job["lease_until"] > now for job in pending)
        times = [job["enqueued_at"] for job in pending if job.get("enqueued_at")]
        return QueueStats(len(pending) - leased, leased, min(times) if times else None)

    async def try_lease(self, name: str, owner: str, ttl: float, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        holder = self._leases.get(name)
        if holder and holder[0] != owner and holder[1] > now:
            return False
        self._leases[name] = (owner, now + ttl)
        return True
