"""What /metrics costs a turn: whole interviews through `Coach.handle()` with metrics off and on.

    python bench/metrics_overhead.py [--users 100] [--store memory|tinydb] [--rounds 3]

Reference in the same run: the same interviews with metrics off (the default). With metrics on, every
turn is counted and timed and every store operation is timed (bot/metrics.py). Rounds alternate off/on,
each on a fresh store; the figure is the median over rounds.
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

from bench.dialog import SCRIPT, make_store  # noqa: E402
from bot.catalog import load_catalog  # noqa: E402
from bot.core import Coach  # noqa: E402
from bot.metrics import Metrics, instrument_store  # noqa: E402
from bot.people import Directory  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Incoming  # noqa: E402
from dialogs.conversation import Conversation  # noqa: E402


async def one_round(catalog, users: int, kind: str, metrics_on: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = await make_store(kind, Path(tmp))
        coach = Coach(Settings(_env_file=None, database_url="memory:"), store, catalog, Directory(),
                      dialog=Conversation())
        if metrics_on:
            coach.metrics = Metrics()
            instrument_store(store, coach.metrics)
        started = time.perf_counter()
        for u in range(users):
            for text in SCRIPT:
                assert await coach.handle(Incoming("console", f"U{u}", text=text))
        elapsed = time.perf_counter() - started
        if metrics_on:
            assert coach.metrics.render()  # the registry holds what was measured
        await store.close()
        return users * len(SCRIPT) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--store", choices=("memory", "tinydb"), default="tinydb")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    catalog = load_catalog()
    off: list[float] = []
    on: list[float] = []
    for _ in range(args.rounds):
        off.append(await one_round(catalog, args.users, args.store, False))
        on.append(await one_round(catalog, args.users, args.store, True))
    off_m, on_m = statistics.median(off), statistics.median(on)
    print(f"store {args.store}, {args.users} users x {len(SCRIPT)} turns, median of {args.rounds} rounds")
    print(f"  metrics off (reference): {off_m:8.1f} turns/s")
    print(f"  metrics on:              {on_m:8.1f} turns/s")
    print(f"  ratio on/off: {on_m / off_m:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
