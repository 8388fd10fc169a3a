"""Dialog benchmark: whole interviews through `Coach.handle()`, turns per second.

    python bench/dialog.py [--users 200] [--store memory|tinydb]

Reference in the same run: the same number of `handle()` calls that only answer `help` (routing and one
store read, no interview step), so the ratio shows what the interview itself costs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.catalog import load_catalog  # noqa: E402
from bot.core import Coach  # noqa: E402
from dialogs.conversation import Conversation
from bot.people import Directory  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store.memory import MemoryStore  # noqa: E402
from bot.types import Incoming  # noqa: E402

SCRIPT = ["hi", "1", "journalist", "yes", "2", "none", "I want to become a software developer", "yes", "2",
          "courses, mentoring", "yes", "my plan", "I finished programming languages"]


async def make_store(kind: str, folder: Path):
    if kind == "memory":
        return MemoryStore()
    from bot.store.tinydb_store import TinyDBStore

    store = TinyDBStore(folder / "db")
    await store.open()
    return store


async def run(users: int, kind: str) -> None:
    catalog = load_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        store = await make_store(kind, Path(tmp))
        coach = Coach(Settings(database_url="memory:"), store, catalog, Directory(), dialog=Conversation())
        latencies: list[float] = []
        t0 = time.perf_counter()
        for u in range(users):
            for text in SCRIPT:
                s = time.perf_counter()
                replies = await coach.handle(Incoming("console", f"U{u}", text=text))
                latencies.append(time.perf_counter() - s)
                assert replies
        interview_s = time.perf_counter() - t0
        ref: list[float] = []
        t1 = time.perf_counter()
        for u in range(users):
            for _ in SCRIPT:
                s = time.perf_counter()
                await coach.handle(Incoming("console", f"R{u}", text="help"))
                ref.append(time.perf_counter() - s)
        ref_s = time.perf_counter() - t1
        await store.close()
    turns = users * len(SCRIPT)
    q = statistics.quantiles(latencies, n=100)
    print(f"store={kind} users={users} turns={turns}")
    print(f"interview turns/s: {turns / interview_s:,.0f}  p50 {q[49] * 1000:.2f} ms  p99 {q[98] * 1000:.2f} ms")
    print(f"reference (help only) turns/s: {turns / ref_s:,.0f}")
    print(f"ratio interview/reference time per turn: {interview_s / ref_s:.2f}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--store", choices=("memory", "tinydb"), default="tinydb")
    a = p.parse_args()
    asyncio.run(run(a.users, a.store))


if __name__ == "__main__":
    main()
