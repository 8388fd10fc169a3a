"""The `store` fixture: every contract test runs once per backend.

To add a backend, write an async factory `(tmp_path) -> Store` (call `pytest.skip(...)` inside it when
the backend is not available, e.g. no database configured), add it to `FACTORIES` and its name to
`BACKENDS`. The fixture opens the store before the test and closes it after.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.store.base import Store
from bot.store.memory import MemoryStore
from bot.store.tinydb_store import TinyDBStore


async def make_memory(tmp_path: Path) -> Store:
    return MemoryStore()


async def make_tinydb(tmp_path: Path) -> Store:
    return TinyDBStore(tmp_path / "skillcoach.db")


async def make_postgres(tmp_path: Path) -> Store:
    """PostgreSQL at SKILLCOACH_TEST_DATABASE_URL with its tables emptied; skipped without it, except in CI."""
    url = os.environ.get("SKILLCOACH_TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but SKILLCOACH_TEST_DATABASE_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip("PostgreSQL tests need SKILLCOACH_TEST_DATABASE_URL (see README)")
    from bot.store.postgres import PostgresStore

    backend = PostgresStore(url, max_size=4)
    await backend.open()
    await backend.truncate()
    return backend


FACTORIES: dict[str, Callable[[Path], Awaitable[Store]]] = {
    "memory": make_memory,
    "tinydb": make_tinydb,
    "postgres": make_postgres,
}
BACKENDS = ["memory", "tinydb", "postgres"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend = await FACTORIES[request.param](tmp_path)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()
