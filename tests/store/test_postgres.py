"""PostgreSQL-specific behaviour: migrations, several processes on one database, outages, `db copy`.

Two `PostgresStore` instances stand for two processes: each has its own connection pool, so every
race here is decided by the database, as it is between processes. The behaviour every backend
shares is in the contract suite.

Needs SKILLCOACH_TEST_DATABASE_URL (a throwaway database: tests empty its tables). Start one with
`eval "$(bash .ci/postgres.sh)"`. Without it these tests are skipped, except in CI where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid
from argparse import Namespace
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest

asyncpg = pytest.importorskip("asyncpg")

from bot.errors import ConflictError, StoreError, StoreUnavailable  # noqa: E402
from bot.cli import run_db  # noqa: E402
from bot.store.base import ADDRESSES, CONVERSATIONS, PROFILES, update  # noqa: E402
from bot.store.migrations import LATEST, MIGRATIONS, migrate  # noqa: E402
from bot.store.postgres import PostgresStore, redact  # noqa: E402

SKIP_REASON = "PostgreSQL tests need SKILLCOACH_TEST_DATABASE_URL (see README)"


def database_url() -> str:
    url = os.environ.get("SKILLCOACH_TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but SKILLCOACH_TEST_DATABASE_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip(SKIP_REASON)
    return url


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in [parts.query, f"search_path={schema}"] if q)
    return urlunsplit(parts._replace(query=query))


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{port}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_url() -> str:
    return database_url()


@pytest.fixture
async def schema_url(pg_url: str) -> AsyncIterator[str]:
    """A URL whose tables live in a new, empty schema (dropped afterwards)."""
    urls: list[str] = []
    names: list[str] = []

    async def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute(f'CREATE SCHEMA "{name}"')
        finally:
            await conn.close()
        names.append(name)
        urls.append(with_search_path(pg_url, name))
        return urls[-1]

    yield make  # type: ignore[misc]
    conn = await asyncpg.connect(pg_url)
    try:
        for name in names:
            await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(pg_url, max_size=4)
    await store.open()
    await store.truncate()
    yield store
    await store.close()


@pytest.fixture
async def pg2(pg: PostgresStore, pg_url: str) -> AsyncIterator[PostgresStore]:
    """A second process on the same database."""
    store = PostgresStore(pg_url, max_size=4)
    await store.open()
    yield store
    await store.close()


# -- migrations ------------------------------------------------------------------------------

async def test_migrations_create_the_schema_once_and_are_idempotent(schema_url) -> None:
    url = await schema_url()
    conn = await asyncpg.connect(url)
    try:
        assert await migrate(conn) == LATEST
        assert await migrate(conn) == LATEST
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [(v, n) for v, n, _ in MIGRATIONS]
        tables = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        assert {"records", "dedupe", "jobs", "leases", "schema_migrations"} <= tables
    finally:
        await conn.close()


async def test_several_processes_starting_at_once_migrate_safely(schema_url) -> None:
    url = await schema_url()
    stores = [PostgresStore(url, max_size=2) for _ in range(4)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        assert [s.schema_version for s in stores] == [LATEST] * 4
        await stores[0].put(PROFILES, "slack:U1", {"n": 1})
        assert (await stores[3].get(PROFILES, "slack:U1")).data == {"n": 1}
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
    finally:
        await conn.close()


def test_db_upgrade_prints_the_schema_version(schema_url, pg_url: str) -> None:
    url = asyncio.run(_make_schema(pg_url))
    try:
        out = io.StringIO()
        assert run_db(SimpleNamespace(database_url=url), Namespace(db_command="upgrade"), out) == 0
        assert f"schema version {LATEST}" in out.getvalue()
    finally:
        asyncio.run(_drop_schema(pg_url, url))


def test_db_upgrade_command_line(pg_url: str) -> None:
    url = asyncio.run(_make_schema(pg_url))
    try:
        env = {**os.environ, "DATABASE_URL": url}
        done = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert f"schema version {LATEST}" in done.stdout
    finally:
        asyncio.run(_drop_schema(pg_url, url))


async def _make_schema(pg_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()
    return with_search_path(pg_url, name)


async def _drop_schema(pg_url: str, url: str) -> None:
    name = url.rsplit("search_path=", 1)[1]
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


# -- several processes on one database -------------------------------------------------------

async def test_a_stale_version_loses_across_processes_and_update_retries(pg, pg2) -> None:
    await pg.put(PROFILES, "slack:U1", {"turns": []})
    seen_by_a = await pg.get(PROFILES, "slack:U1")
    seen_by_b = await pg2.get(PROFILES, "slack:U1")
    await pg2.put(PROFILES, "slack:U1", {"turns": ["b"]}, version=seen_by_b.version)
    with pytest.raises(ConflictError):
        await pg.put(PROFILES, "slack:U1", {"turns": ["a"]}, version=seen_by_a.version)
    with pytest.raises(ConflictError):
        await pg.put(PROFILES, "slack:U1", {"turns": ["a"]}, version=0)
    record = await update(pg, PROFILES, "slack:U1", lambda d: {"turns": d["turns"] + ["a"]})
    assert record.data == {"turns": ["b", "a"]} and record.version == 3


async def test_racing_updates_from_two_processes_lose_nothing(pg, pg2) -> None:
    per_task = 25

    async def worker(store: PostgresStore, name: str) -> None:
        for i in range(per_task):
            async def change(data, i=i):
                await asyncio.sleep(0)  # let the other process read the same version
                data = data or {"count": 0, "seen": []}
                data["count"] += 1
                data["seen"].append(f"{name}{i}")
                return data

            await update(store, PROFILES, "slack:U1", change, attempts=10_000)

    await asyncio.gather(worker(pg, "a"), worker(pg, "b"), worker(pg2, "c"), worker(pg2, "d"))
    record = await pg2.get(PROFILES, "slack:U1")
    assert record.data["count"] == 4 * per_task
    assert sorted(record.data["seen"]) == sorted(f"{n}{i}" for n in "abcd" for i in range(per_task))
    assert record.version == 4 * per_task
    for name in "abcd":  # each process's own turns stay in order
        mine = [s for s in record.data["seen"] if s.startswith(name)]
        assert mine == [f"{name}{i}" for i in range(per_task)]


async def test_add_once_is_shared_between_processes(pg, pg2) -> None:
    results = await asyncio.gather(*(s.add_once("slack-events", "Ev1") for s in [pg, pg2] * 10))
    assert results.count(True) == 1
    assert await pg2.add_once("slack-events", "Ev2") is True
    assert await pg.add_once("slack-events", "Ev2") is False
    assert await pg.add_once("other-namespace", "Ev2") is True


async def test_expired_dedupe_keys_count_as_absent_and_are_pruned(pg, pg2) -> None:
    assert await pg.add_once("ns", "old", ttl=-1) is True   # already expired
    assert await pg2.add_once("ns", "old", ttl=3600) is True  # expired counts as absent
    assert await pg.add_once("ns", "old", ttl=3600) is False
    assert await pg.add_once("ns", "gone", ttl=-1) is True
    assert await pg.prune() == 1
    assert await pg.add_once("ns", "old") is False  # live keys survive a prune


async def test_claim_never_hands_one_job_to_two_processes(pg, pg2) -> None:
    keys = [f"nudge-{i:03d}" for i in range(60)]
    for key in keys:
        assert await pg.enqueue("nudges", key, {"user": key}) is True
    assert await pg2.enqueue("nudges", keys[0], {"user": "again"}) is False

    claimed: dict[str, list[str]] = {"a1": [], "a2": [], "b1": [], "b2": []}

    async def drain(store: PostgresStore, worker: str) -> None:
        while jobs := await store.claim("nudges", worker, limit=3):
            for job in jobs:
                claimed[worker].append(job.key)
                assert await store.complete("nudges", job.key, worker) is True

    # two workers in each of two processes
    await asyncio.gather(drain(pg, "a1"), drain(pg, "a2"), drain(pg2, "b1"), drain(pg2, "b2"))
    everything = [key for keys_of_worker in claimed.values() for key in keys_of_worker]
    assert sorted(everything) == keys  # every job once, none twice
    assert await pg.claim("nudges", "a1") == [] and await pg2.claim("nudges", "b1") == []


async def test_a_dead_workers_job_is_claimed_by_the_other_process(pg, pg2) -> None:
    now = 1_000_000.0
    await pg.enqueue("nudges", "n1", {"user": "slack:U1"})
    [job] = await pg.claim("nudges", "process-a", lease=60, now=now)
    assert job.attempts == 1
    assert await pg2.claim("nudges", "process-b", lease=60, now=now + 59) == []  # lease still live
    [again] = await pg2.claim("nudges", "process-b", lease=60, now=now + 61)  # process A "died"
    assert again.key == "n1" and again.attempts == 2 and again.payload == {"user": "slack:U1"}
    assert await pg.complete("nudges", "n1", "process-a") is False  # A lost its lease
    assert await pg2.complete("nudges", "n1", "process-b", {"sent": True}) is True
    state = await pg.job("nudges", "n1")
    assert state["done"] is True and state["result"] == {"sent": True} and state["owner"] == "process-b"
    assert await pg.claim("nudges", "process-a", now=now + 1_000) == []


async def test_release_gives_a_job_back_for_later(pg, pg2) -> None:
    await pg.enqueue("nudges", "n1", {})
    [job] = await pg.claim("nudges", "a", now=100.0)
    assert await pg2.release("nudges", "n1", "b", due=200.0) is False  # not b's job
    assert await pg.release("nudges", "n1", "a", due=200.0) is True
    assert await pg2.claim("nudges", "b", now=150.0) == []
    [job] = await pg2.claim("nudges", "b", now=200.0)
    assert job.attempts == 2 and job.due == 200.0


async def test_a_lease_is_exclusive_across_processes(pg, pg2) -> None:
    now = 5_000.0
    results = await asyncio.gather(*(
        store.try_lease("weekly-nudges", name, 30, now=now)
        for store, name in [(pg, "a"), (pg2, "b")] * 5))
    winners = {name for (_, name), won in zip([(pg, "a"), (pg2, "b")] * 5, results, strict=True) if won}
    assert len(winners) == 1
    [winner] = winners
    loser, loser_store = ("b", pg2) if winner == "a" else ("a", pg)
    winner_store = pg if winner == "a" else pg2
    assert await loser_store.try_lease("weekly-nudges", loser, 30, now=now + 29) is False
    assert await winner_store.try_lease("weekly-nudges", winner, 30, now=now + 29) is True  # renew
    assert await loser_store.try_lease("weekly-nudges", loser, 30, now=now + 58) is False
    assert await loser_store.try_lease("weekly-nudges", loser, 30, now=now + 60) is True  # expired
    assert await winner_store.try_lease("weekly-nudges", winner, 30, now=now + 61) is False


async def test_scan_pages_through_many_records_in_key_order(pg) -> None:
    n = 1_234  # more than one page
    await pg.import_records(PROFILES, ((f"slack:U{i:05d}", {"i": i}) for i in range(n)))
    await pg.put(PROFILES, "teams:X", {"i": -1})
    keys = [r.key async for r in pg.scan(PROFILES, "slack:")]
    assert keys == [f"slack:U{i:05d}" for i in range(n)]
    assert [r.key async for r in pg.scan(PROFILES, "slack:U0001")][:2] == ["slack:U00010", "slack:U00011"]
    assert await pg.count(PROFILES) == n + 1
    assert await pg.collections() == [PROFILES]


async def test_odd_keys_and_unicode_round_trip(pg) -> None:
    keys = ["", "a%b", "a_b", "ü:ß", "x\\y", "emoji:🎯", "sp ace"]
    for key in keys:
        await pg.put("odd", key, {"k": key, "nested": {"list": [1, 2.5, None, True, "é"]}})
    for key in keys:
        assert (await pg.get("odd", key)).data["k"] == key
    assert [r.key async for r in pg.scan("odd")] == sorted(keys)
    assert [r.key async for r in pg.scan("odd", "a%")] == ["a%b"]
    assert [r.key async for r in pg.scan("odd", "a_")] == ["a_b"]


# -- outages ---------------------------------------------------------------------------------

class Proxy:
    """A TCP proxy in front of the database that the test can cut and restore (same port)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


@pytest.fixture
async def proxy(pg_url: str) -> AsyncIterator[Proxy]:
    parts = urlsplit(pg_url)
    p = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await p.start()
    yield p
    await p.stop()


async def test_database_down_raises_store_unavailable_and_recovers_by_itself(pg, pg_url, proxy) -> None:
    store = PostgresStore(with_port(pg_url, proxy.port), max_size=3, connect_timeout=2)
    await store.open()
    try:
        await store.put(PROFILES, "slack:U1", {"n": 1})

        await proxy.stop()  # the database goes away: live connections die, new ones are refused
        with pytest.raises(StoreUnavailable):
            await store.get(PROFILES, "slack:U1")
        with pytest.raises(StoreUnavailable):
            await store.put(PROFILES, "slack:U1", {"n": 2})
        with pytest.raises(StoreUnavailable):
            await store.add_once("ns", "k")
        with pytest.raises(StoreUnavailable):
            await store.claim("q", "w")
        with pytest.raises(StoreUnavailable):
            [r async for r in store.scan(PROFILES)]

        await proxy.start()  # back: the same store works again, nothing acknowledged was lost
        assert (await store.get(PROFILES, "slack:U1")).data == {"n": 1}
        assert (await store.put(PROFILES, "slack:U1", {"n": 2}, version=1)).version == 2
        assert (await pg.get(PROFILES, "slack:U1")).data == {"n": 2}
    finally:
        await store.close()


async def test_a_connection_lost_mid_query_raises_store_unavailable(pg_url, proxy) -> None:
    store = PostgresStore(with_port(pg_url, proxy.port), max_size=2, connect_timeout=2)
    await store.open()
    try:
        async def slow() -> None:
            async with store._conn() as conn:
                await conn.execute("SELECT pg_sleep(3)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.2)
        await proxy.stop()
        with pytest.raises(StoreUnavailable):
            await task
        await proxy.start()
        assert await store.get(PROFILES, "nobody") is None
    finally:
        await store.close()


async def test_open_gives_up_after_its_time_with_a_clear_message() -> None:
    port = free_port()  # nothing listens here
    store = PostgresStore(f"postgresql://someone:secret@127.0.0.1:{port}/db", open_timeout=0.3)
    with pytest.raises(StoreUnavailable) as caught:
        await store.open()
    message = str(caught.value)
    assert "unreachable" in message and f"127.0.0.1:{port}" in message and "secret" not in message
    assert isinstance(caught.value, StoreError)


async def test_open_waits_for_a_database_that_comes_up(pg_url, proxy) -> None:
    await proxy.stop()
    store = PostgresStore(with_port(pg_url, proxy.port), open_timeout=20, max_size=2)

    async def come_up() -> None:
        await asyncio.sleep(0.4)
        await proxy.start()

    try:
        await asyncio.gather(store.open(), come_up())
        assert store.schema_version == LATEST
        assert await store.get(PROFILES, "nobody") is None
    finally:
        await store.close()


async def test_a_wrong_database_name_is_a_clear_error_not_a_retry(pg_url) -> None:
    parts = urlsplit(pg_url)
    url = urlunsplit(parts._replace(path="/no_such_database_here"))
    store = PostgresStore(url, open_timeout=30)
    started = time.monotonic()
    with pytest.raises(StoreError, match="no_such_database_here") as caught:
        await store.open()
    assert not isinstance(caught.value, StoreUnavailable)
    assert time.monotonic() - started < 25  # it did not sit out the retry window


async def test_a_malformed_url_is_a_config_error() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="not a valid PostgreSQL URL"):
        await PostgresStore("postgresql://u:pw@host:notaport/db", open_timeout=1).open()


def test_redact_hides_the_password() -> None:
    assert redact("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


# -- skillcoach db copy ----------------------------------------------------------------------

async def _seed(store, n: int) -> None:
    await store.import_records(PROFILES, ((f"slack:U{i:04d}", {"role": "Report", "i": i}) for i in range(n)))
    await store.import_records(CONVERSATIONS, ((f"slack:U{i:04d}", {"state": "ask_role"}) for i in range(n // 2)))
    await store.put(ADDRESSES, "teams:T1", {"conversation": {"id": "a:1"}})
    await store.put("reports", "team-1", {"size": 7})
    await store.enqueue("nudges", "n1", {"user": "slack:U0001"}, due=10.0)
    await store.enqueue("nudges", "n2", {"user": "slack:U0002"})
    await store.claim("nudges", "old-process", limit=1, now=20.0)
    await store.try_lease("weekly", "old-process", 60)


async def _open_seeded(url: str, n: int) -> None:
    store = PostgresStore(url)
    await store.open()
    try:
        await _seed(store, n)
    finally:
        await store.close()


def test_db_copy_between_postgres_databases_verifies_counts(pg_url: str) -> None:
    source = asyncio.run(_make_schema(pg_url))
    target = asyncio.run(_make_schema(pg_url))
    try:
        asyncio.run(_open_seeded(source, 300))
        out = io.StringIO()
        args = Namespace(db_command="copy", source=source, target=target, collections=[])
        assert run_db(SimpleNamespace(), args, out) == 0, out.getvalue()
        text = out.getvalue()
        assert "verified: counts match" in text
        assert "profiles" in text and "reports" in text and "MISMATCH" not in text

        async def check() -> None:
            store = PostgresStore(target)
            await store.open()
            try:
                assert await store.count(PROFILES) == 300
                assert await store.count(CONVERSATIONS) == 150
                assert (await store.get(PROFILES, "slack:U0042")).data == {"role": "Report", "i": 42}
                assert (await store.get("reports", "team-1")).data == {"size": 7}
                claimed = await store.job("nudges", "n2")  # due first, so claimed by the seed
                assert claimed["owner"] == "old-process" and claimed["attempts"] == 1
                waiting = await store.job("nudges", "n1")
                assert waiting["owner"] is None and waiting["attempts"] == 0 and waiting["due"] == 10.0
                assert await store.try_lease("weekly", "new-process", 60) is False
            finally:
                await store.close()

        asyncio.run(check())

        # Copying again into a target that holds an extra record: the counts differ → non-zero.
        async def add_extra() -> None:
            store = PostgresStore(target)
            await store.open()
            await store.put(PROFILES, "slack:EXTRA", {})
            await store.close()

        asyncio.run(add_extra())
        out = io.StringIO()
        assert run_db(SimpleNamespace(), args, out) == 1
        assert "MISMATCH" in out.getvalue()
    finally:
        asyncio.run(_drop_schema(pg_url, source))
        asyncio.run(_drop_schema(pg_url, target))


def test_db_copy_rejects_unknown_or_identical_stores(pg_url: str) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="tinydb:PATH"):
        run_db(SimpleNamespace(), Namespace(db_command="copy", source="mysql://x", target=pg_url,
                                            collections=[]), io.StringIO())
    with pytest.raises(ConfigError, match="same store"):
        run_db(SimpleNamespace(), Namespace(db_command="copy", source=pg_url, target=pg_url,
                                            collections=[]), io.StringIO())


def test_db_copy_from_a_tinydb_folder(pg_url: str, tmp_path: Path) -> None:
    tinydb_store = pytest.importorskip(
        "bot.store.tinydb_store", reason="the TinyDB backend (bot.store.tinydb_store) is not there yet")
    folder = tmp_path / "skillcoach.db"
    target = asyncio.run(_make_schema(pg_url))

    async def seed() -> None:
        store = tinydb_store.TinyDBStore(folder)
        await store.open()
        try:
            await _seed(store, 200)
        finally:
            await store.close()

    try:
        asyncio.run(seed())
        done = subprocess.run(
            [sys.executable, "-m", "bot", "db", "copy", "--from", f"tinydb:{folder}", "--to", target,
             "--collection", "reports"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "DATABASE_URL": ""})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "verified: counts match" in done.stdout

        async def check() -> None:
            store = PostgresStore(target)
            await store.open()
            try:
                assert await store.count(PROFILES) == 200
                assert await store.count(CONVERSATIONS) == 100
                assert await store.count(ADDRESSES) == 1
                assert (await store.get("reports", "team-1")).data == {"size": 7}
                assert (await store.get(PROFILES, "slack:U0199")).data == {"role": "Report", "i": 199}
            finally:
                await store.close()

        asyncio.run(check())
    finally:
        asyncio.run(_drop_schema(pg_url, target))


# -- through the coach -----------------------------------------------------------------------

async def test_a_coach_on_postgres_says_try_again_while_the_database_is_down(catalog, pg, pg_url, proxy) -> None:
    from bot import messages as M
    from bot.core import Coach
    from dialogs.conversation import Conversation
    from bot.people import Directory
    from bot.settings import Settings
    from tests.scenarios.chat import Chat

    store = PostgresStore(with_port(pg_url, proxy.port), max_size=3, connect_timeout=2)
    await store.open()
    try:
        coach_a = Coach(Settings(database_url=""), store, catalog, Directory(), dialog=Conversation())
        coach_b = Coach(Settings(database_url=""), pg, catalog, Directory(), dialog=Conversation())  # a second process
        chat = Chat(coach_a)
        await chat.send("hi")
        await chat.press("start")
        await chat.send("data analyst")
        confirm = chat.question()
        assert confirm is not None

        await proxy.stop()
        replies = await chat.send(choice="yes", prompt_id=confirm.prompt_id)
        assert [r.text for r in replies] == [M.TRY_AGAIN]

        await proxy.start()  # the same process recovers, nothing the user said is lost
        await chat.send(choice="yes", prompt_id=confirm.prompt_id)
        tenure = chat.question()
        assert tenure is not None and tenure.prompt_id != confirm.prompt_id

        chat.coach = coach_b  # the next turn reaches the other process: it continues the conversation
        await chat.send(choice=tenure.choices[0].value, prompt_id=tenure.prompt_id)
        assert "use with confidence" in chat.texts()
    finally:
        await store.close()
