"""The PostgreSQL store: several skillcoach processes share one database.

Every operation is one statement (or one short transaction) so that concurrent processes cannot lose
or double anything:

* `put(version=n)` is a single `UPDATE … WHERE version = n` (`INSERT … ON CONFLICT DO NOTHING` for
  n = 0); no row back means someone else wrote first → `ConflictError`.
* `add_once` is one `INSERT … ON CONFLICT DO UPDATE … WHERE expired`; expired rows count as absent and
  are pruned now and then.
* `claim` takes jobs with `SELECT … FOR UPDATE SKIP LOCKED` and leases them in the same statement; a
  job whose lease ran out (its worker died) is claimable again.
* `try_lease` is one conditional upsert.

A database that cannot be reached raises `StoreUnavailable` (never a raw driver or socket error); the
pool replaces dead connections by itself, so the store works again as soon as the database is back.
The schema is created and upgraded at `open()` (see `bot.store.migrations`). The work queue and
leases are in `bot/store/postgres_queue.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.errors import ConfigError, ConflictError, StoreError, StoreUnavailable
from bot.store.base import Record, Store
from bot.store.migrations import migrate
from bot.store.postgres_queue import PostgresQueueAndLeases

log = logging.getLogger(__name__)

# Errors that mean "the database is not reachable right now" rather than "this statement is wrong".
_UNREACHABLE = (
    OSError,  # connection refused or reset, name resolution
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,  # class 08: connection lost, failure
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutting down, starting up
    asyncpg.exceptions.TooManyConnectionsError,
)

_SCAN_BATCH = 500
_PRUNE_EVERY = 600.0  # seconds between prunes of expired dedupe keys, per process


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


# Collections whose writes commit without waiting for the WAL flush: the conversation's place in the
# interview (saved every turn, on the path of every answer). The version check and visibility to other
# processes are as for every write; only after a crash of the database itself may the last fraction of
# a second of steps be forgotten (the person is asked that question again). Profiles, plans, nudges and
# everything else commit durably.
RELAXED_COLLECTIONS = frozenset({"conversations"})


class PostgresStore(PostgresQueueAndLeases, Store):
    """`Store` on PostgreSQL through an asyncpg connection pool."""

    shared = True

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        open_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
    ) -> None:
        self.url = url
        self._min_size = min_size
        self._max_size = max_size
        self._open_timeout = open_timeout
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._pool: asyncpg.Pool | None = None
        # Deduplication keys and conversation steps (RELAXED_COLLECTIONS) are written on a second pool
        # whose sessions do not wait for the WAL flush (synchronous_commit=off): a crash of the database
        # may forget the last fraction of a second of them, never corrupt anything, and a turn costs no
        # WAL fsync on the path of its answer.
        self._fast_pool: asyncpg.Pool | None = None
        self._open_lock = asyncio.Lock()
        self._last_prune = time.monotonic()
        self.schema_version: int | None = None

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self.url)!r})"

    # -- lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect and migrate; retry with backoff for `open_timeout` seconds while unreachable."""
        async with self._open_lock:
            if self._pool is not None:
                return
            deadline = time.monotonic() + self._open_timeout
            delay = 0.1
            while True:
                try:
                    self._pool = await self._connect_and_migrate()
                    try:
                        self._fast_pool = await asyncpg.create_pool(
                            self.url, min_size=1, max_size=max(2, self._max_size // 2),
                            timeout=self._connect_timeout, command_timeout=self._command_timeout,
                            server_settings={"synchronous_commit": "off"},
                        )
                    except BaseException:
                        self._pool.terminate()
                        self._pool = None
                        raise
                    return
                except _UNREACHABLE as exc:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise StoreUnavailable(
                            f"PostgreSQL at {redact(self.url)} is unreachable "
                            f"(gave up after {self._open_timeout:g} s): {exc or type(exc).__name__}"
                        ) from exc
                    log.warning("PostgreSQL at %s unreachable (%s); retrying in %.1f s",
                                redact(self.url), exc or type(exc).__name__, min(delay, left))
                    await asyncio.sleep(min(delay, left))
                    delay = min(delay * 2, 5.0)
                except asyncpg.PostgresError as exc:
                    raise StoreError(f"PostgreSQL at {redact(self.url)} refused to open: {exc}") from exc
                except asyncpg.InterfaceError as exc:
                    raise StoreError(f"PostgreSQL at {redact(self.url)}: {exc}") from exc
                except ValueError as exc:  # a malformed URL
                    raise ConfigError(f"not a valid PostgreSQL URL: {redact(self.url)} ({exc})") from exc

    async def _connect_and_migrate(self) -> asyncpg.Pool:
        pool = await asyncpg.create_pool(
            self.url,
            min_size=self._min_size,
            max_size=self._max_size,
            timeout=self._connect_timeout,
            command_timeout=self._command_timeout,
        )
        try:
            async with pool.acquire() as conn:
                self.schema_version = await migrate(conn)
        except BaseException:
            pool.terminate()
            raise
        log.info("PostgreSQL store at %s, schema version %s", redact(self.url), self.schema_version)
        return pool

    async def close(self) -> None:
        pools = [p for p in (self._pool, self._fast_pool) if p is not None]
        self._pool = self._fast_pool = None
        for pool in pools:
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except (asyncio.TimeoutError, *_UNREACHABLE, asyncpg.InterfaceError):
                pool.terminate()

    @contextlib.asynccontextmanager
    async def _conn(self, *, fast: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; connection trouble comes out as `StoreUnavailable`.

        `fast=True`: from the pool whose commits do not wait for the WAL flush (deduplication only).
        """
        if self._pool is None:
            await self.open()
        pool = self._fast_pool if fast else self._pool
        assert pool is not None
        conn = None
        try:
            async with pool.acquire(timeout=self._connect_timeout + 5) as conn:
                yield conn
        except StoreError:
            raise
        except _UNREACHABLE as exc:
            raise StoreUnavailable(f"PostgreSQL unreachable: {exc or type(exc).__name__}") from exc
        except asyncpg.InterfaceError as exc:
            if conn is None or conn.is_closed() or "closed" in str(exc):
                raise StoreUnavailable(f"PostgreSQL connection lost: {exc}") from exc
            raise StoreError(f"PostgreSQL: {exc}") from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"PostgreSQL: {exc}") from exc

    async def _read(self, method: str, sql: str, *args: Any) -> Any:
        """Run a read-only statement; retried once on a fresh connection if the first one was dead."""
        for attempt in (1, 2):
            try:
                async with self._conn() as conn:
                    return await getattr(conn, method)(sql, *args)
            except StoreUnavailable as exc:
                cause = exc.__cause__
                lost = isinstance(cause, (asyncpg.exceptions.ConnectionDoesNotExistError,
                                          asyncpg.InterfaceError, ConnectionResetError))
                if attempt == 2 or not lost:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- records ----------------------------------------------------------------------------
    async def get(self, collection: str, key: str) -> Record | None:
        row = await self._read(
            "fetchrow",
            "SELECT data::text AS data, version FROM records WHERE collection = $1 AND key = $2",
            collection, key,
        )
        if row is None:
            return None
        return Record(key, json.loads(row["data"]), row["version"])

    async def get_many(self, items: list[tuple[str, str]]) -> list[Record | None]:
        """One statement for several records (a chat turn reads its conversation and profile together)."""
        if not items:
            return []
        rows = await self._read(
            "fetch",
            "SELECT r.collection, r.key, r.data::text AS data, r.version FROM records r "
            "JOIN unnest($1::text[], $2::text[]) AS want(collection, key) "
            "ON r.collection = want.collection AND r.key = want.key",
            [c for c, _ in items], [k for _, k in items],
        )
        found = {(row["collection"], row["key"]): row for row in rows}
        out: list[Record | None] = []
        for collection, key in items:
            row = found.get((collection, key))
            out.append(Record(key, json.loads(row["data"]), row["version"]) if row else None)
        return out

    async def put(
        self, collection: str, key: str, data: dict[str, Any], *, version: int | None = None
    ) -> Record:
        text = json.dumps(data)
        async with self._conn(fast=collection in RELAXED_COLLECTIONS) as conn:
            if version is None:
                new = await conn.fetchval(
                    "INSERT INTO records (collection, key, data, version) VALUES ($1, $2, $3::jsonb, 1) "
                    "ON CONFLICT (collection, key) DO UPDATE "
                    "SET data = EXCLUDED.data, version = records.version + 1 RETURNING version",
                    collection, key, text,
                )
            elif version == 0:
                new = await conn.fetchval(
                    "INSERT INTO records (collection, key, data, version) VALUES ($1, $2, $3::jsonb, 1) "
                    "ON CONFLICT (collection, key) DO NOTHING RETURNING version",
                    collection, key, text,
                )
            else:
                new = await conn.fetchval(
                    "UPDATE records SET data = $3::jsonb, version = version + 1 "
                    "WHERE collection = $1 AND key = $2 AND version = $4 RETURNING version",
                    collection, key, text, version,
                )
        if new is None:
            raise ConflictError(f"{collection}/{key}: expected version {version}, found another")
        return Record(key, json.loads(text), new)

    async def delete(self, collection: str, key: str) -> bool:
        async with self._conn() as conn:
            status = await conn.execute(
                "DELETE FROM records WHERE collection = $1 AND key = $2", collection, key
            )
        return status != "DELETE 0"

    async def scan(self, collection: str, prefix: str = "") -> AsyncIterator[Record]:
        # Keyset pagination: no connection or transaction is held while the caller works.
        rows = await self._read(
            "fetch",
            "SELECT key, data::text AS data, version FROM records "
            "WHERE collection = $1 AND key >= $2 AND starts_with(key, $2) ORDER BY key LIMIT $3",
            collection, prefix, _SCAN_BATCH,
        )
        while rows:
            for row in rows:
                yield Record(row["key"], json.loads(row["data"]), row["version"])
            if len(rows) < _SCAN_BATCH:
                return
            rows = await self._read(
                "fetch",
                "SELECT key, data::text AS data, version FROM records "
                "WHERE collection = $1 AND key > $3 AND starts_with(key, $2) ORDER BY key LIMIT $4",
                collection, prefix, rows[-1]["key"], _SCAN_BATCH,
            )

    async def collections(self) -> list[str]:
        """Every collection that holds at least one record (for `skillcoach db copy`)."""
        rows = await self._read(
            "fetch",
            "WITH RECURSIVE c AS ("
            " (SELECT collection FROM records ORDER BY collection LIMIT 1)"
            " UNION ALL"
            " SELECT (SELECT r.collection FROM records r WHERE r.collection > c.collection"
            "         ORDER BY r.collection LIMIT 1) FROM c WHERE c.collection IS NOT NULL"
            ") SELECT collection FROM c WHERE collection IS NOT NULL",
        )
        return [row["collection"] for row in rows]

    async def count(self, collection: str) -> int:
        return int(await self._read(
            "fetchval", "SELECT count(*) FROM records WHERE collection = $1", collection
        ))

    async def import_records(self, collection: str, items: Iterable[tuple[str, dict[str, Any]]],
                             *, chunk: int = 1000) -> int:
        """Upsert many records, one round trip per `chunk` (copy, restore, benchmarks); returns how many."""
        count = 0
        batch: list[tuple[str, str, str]] = []
        for key, data in items:
            batch.append((collection, key, json.dumps(data)))
            if len(batch) >= chunk:
                count += await self._upsert_many(batch)
                batch = []
        if batch:
            count += await self._upsert_many(batch)
        return count

    async def _upsert_many(self, rows: list[tuple[str, str, str]]) -> int:
        async with self._conn() as conn:
            await conn.executemany(
                "INSERT INTO records (collection, key, data, version) VALUES ($1, $2, $3::jsonb, 1) "
                "ON CONFLICT (collection, key) DO UPDATE "
                "SET data = EXCLUDED.data, version = records.version + 1",
                rows,
            )
        return len(rows)

    # -- deduplication ----------------------------------------------------------------------
    async def add_once(self, namespace: str, key: str, ttl: float = 86400.0) -> bool:
        now = time.time()
        async with self._conn(fast=True) as conn:
            first = await conn.fetchval(
                "INSERT INTO dedupe (namespace, key, expires_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (namespace, key) DO UPDATE SET expires_at = EXCLUDED.expires_at "
                "WHERE dedupe.expires_at <= $4 RETURNING true",
                namespace, key, now + ttl, now,
            )
            if time.monotonic() - self._last_prune > _PRUNE_EVERY:
                self._last_prune = time.monotonic()
                await conn.execute("DELETE FROM dedupe WHERE expires_at <= $1", now)
        return bool(first)

    async def prune(self, now: float | None = None) -> int:
        """Delete expired dedupe keys now; returns how many."""
        now = time.time() if now is None else now
        async with self._conn() as conn:
            status = await conn.execute("DELETE FROM dedupe WHERE expires_at <= $1", now)
        self._last_prune = time.monotonic()
        return int(status.split()[-1])

    # -- tests and admin --------------------------------------------------------------------
    async def truncate(self) -> None:
        """Empty every table (tests only: a clean state without re-running migrations)."""
        async with self._conn() as conn:
            await conn.execute("TRUNCATE records, dedupe, jobs, leases")
