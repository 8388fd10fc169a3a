"""The PostgreSQL store's work queue and named leases (a part of `PostgresStore`).

A job is one row of `jobs` (queue, key, payload, done, result, attempts, due, owner, lease_until,
enqueued_at); `claim` takes the earliest due jobs with `SELECT … FOR UPDATE SKIP LOCKED` and leases them
in the same statement, so a job whose lease ran out (its worker died) is claimable again. A lease is one
row of `leases`, taken or renewed by one conditional upsert.

`PostgresQueueAndLeases` is mixed into `PostgresStore` (bot/store/postgres.py), which provides the pooled
connections (`_conn`) and the read helper that retries once on a dropped connection (`_read`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from bot.store.base import Job, QueueStats


def json_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class PostgresQueueAndLeases:
    """`enqueue`, `claim`, `complete`, `release`, `job`, `queue_stats`, `try_lease` and the copy helpers."""

    # provided by PostgresStore
    def _conn(self, *, fast: bool = False) -> contextlib.AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def _read(self, method: str, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    # -- work queue -------------------------------------------------------------------------
    async def enqueue(self, queue: str, key: str, payload: dict[str, Any], *, due: float = 0.0) -> bool:
        async with self._conn() as conn:
            added = await conn.fetchval(
                "INSERT INTO jobs (queue, key, payload, due, enqueued_at) VALUES ($1, $2, $3::jsonb, $4, $5) "
                "ON CONFLICT (queue, key) DO NOTHING RETURNING true",
                queue, key, json.dumps(payload), float(due), time.time(),
            )
        return bool(added)

    async def claim(self, queue: str, worker: str, *, limit: int = 10, lease: float = 60.0,
                    now: float | None = None) -> list[Job]:
        if limit <= 0:
            return []
        now = time.time() if now is None else now
        async with self._conn() as conn:
            rows = await conn.fetch(
                "WITH picked AS ("
                " SELECT queue, key FROM jobs"
                " WHERE queue = $1 AND NOT done AND due <= $3 AND lease_until <= $3"
                " ORDER BY due, key LIMIT $5 FOR UPDATE SKIP LOCKED"
                ") UPDATE jobs SET owner = $2, lease_until = $4, attempts = jobs.attempts + 1"
                " FROM picked WHERE jobs.queue = picked.queue AND jobs.key = picked.key"
                " RETURNING jobs.key, jobs.payload::text AS payload, jobs.attempts, jobs.due",
                queue, worker, now, now + lease, limit,
            )
        jobs = [Job(queue, r["key"], json.loads(r["payload"]), r["attempts"], r["due"]) for r in rows]
        jobs.sort(key=lambda j: (j.due, j.key))
        return jobs

    async def complete(self, queue: str, key: str, worker: str, result: dict[str, Any] | None = None) -> bool:
        async with self._conn() as conn:
            done = await conn.fetchval(
                "UPDATE jobs SET done = true, result = $4::jsonb, lease_until = 0 "
                "WHERE queue = $1 AND key = $2 AND owner = $3 AND NOT done RETURNING true",
                queue, key, worker, None if result is None else json.dumps(result),
            )
        return bool(done)

    async def release(self, queue: str, key: str, worker: str, *, due: float = 0.0) -> bool:
        async with self._conn() as conn:
            released = await conn.fetchval(
                "UPDATE jobs SET owner = NULL, lease_until = 0, due = $4 "
                "WHERE queue = $1 AND key = $2 AND owner = $3 AND NOT done RETURNING true",
                queue, key, worker, float(due),
            )
        return bool(released)

    async def job(self, queue: str, key: str) -> dict[str, Any] | None:
        row = await self._read(
            "fetchrow",
            "SELECT payload::text AS payload, done, result::text AS result, attempts, due, owner, "
            "lease_until FROM jobs WHERE queue = $1 AND key = $2",
            queue, key,
        )
        return None if row is None else self._job_state(row)

    async def queue_stats(self, queue: str, *, now: float | None = None) -> QueueStats:
        """One query over the partial index of jobs not done."""
        now = time.time() if now is None else now
        row = await self._read(
            "fetchrow",
            "SELECT count(*) FILTER (WHERE lease_until <= $2) AS waiting, "
            "count(*) FILTER (WHERE lease_until > $2) AS leased, "
            "min(enqueued_at) FILTER (WHERE enqueued_at > 0) AS oldest "
            "FROM jobs WHERE queue = $1 AND NOT done",
            queue, now,
        )
        return QueueStats(int(row["waiting"]), int(row["leased"]), row["oldest"])

    @staticmethod
    def _job_state(row: Any) -> dict[str, Any]:
        return {
            "payload": json.loads(row["payload"]), "done": row["done"], "result": json_or_none(row["result"]),
            "attempts": row["attempts"], "due": row["due"], "owner": row["owner"],
            "lease_until": row["lease_until"],
        }

    async def dump_jobs(self) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
        """Every job as (queue, key, state) — for `skillcoach db copy`."""
        rows = await self._read(
            "fetch",
            "SELECT queue, key, payload::text AS payload, done, result::text AS result, attempts, due, "
            "owner, lease_until FROM jobs ORDER BY queue, key",
        )
        for row in rows:
            yield row["queue"], row["key"], self._job_state(row)

    async def load_job(self, queue: str, key: str, state: dict[str, Any]) -> None:
        """Write one job exactly as given (state as returned by `job()`), replacing any with that key."""
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO jobs (queue, key, payload, done, result, attempts, due, owner, lease_until) "
                "VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6, $7, $8, $9) "
                "ON CONFLICT (queue, key) DO UPDATE SET payload = EXCLUDED.payload, done = EXCLUDED.done, "
                "result = EXCLUDED.result, attempts = EXCLUDED.attempts, due = EXCLUDED.due, "
                "owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until",
                queue, key, json.dumps(state.get("payload") or {}), bool(state.get("done")),
                None if state.get("result") is None else json.dumps(state["result"]),
                int(state.get("attempts") or 0), float(state.get("due") or 0.0), state.get("owner"),
                float(state.get("lease_until") or 0.0),
            )

    async def count_jobs(self) -> int:
        return int(await self._read("fetchval", "SELECT count(*) FROM jobs"))

    # -- leases -----------------------------------------------------------------------------
    async def try_lease(self, name: str, owner: str, ttl: float, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        async with self._conn() as conn:
            held = await conn.fetchval(
                "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3) "
                "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until "
                "WHERE leases.owner = EXCLUDED.owner OR leases.until <= $4 RETURNING true",
                name, owner, now + ttl, now,
            )
        return bool(held)

    async def dump_leases(self) -> AsyncIterator[tuple[str, str, float]]:
        """Every lease as (name, owner, until) — for `skillcoach db copy`."""
        rows = await self._read("fetch", "SELECT name, owner, until FROM leases ORDER BY name")
        for row in rows:
            yield row["name"], row["owner"], row["until"]

    async def load_lease(self, name: str, owner: str, until: float) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3) "
                "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until",
                name, owner, float(until),
            )
