"""The `store` fixture: every contract test runs once per backend.

To add a backend, write an async factory `(tmp_path) -> Store` (call `pytest.skip(...)` inside it when
the backend is not available, e.g. no database configured), add it to `FACTORIES` and its name to
`BACKENDS`. The fixture opens the store before the test and closes it after.
"""

from __future__ import annotations

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


FACTORIES: dict[str, Callable[[Path], Awaitable[Store]]] = {
    "memory": make_memory,
    "tinydb": make_tinydb,
}
BACKENDS = ["memory", "tinydb"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend = await FACTORIES[request.param](tmp_path)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()
