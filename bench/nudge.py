"""Nudge delivery benchmark: 1,000 reports against a platform that allows R messages per second.

The fake platform accepts at most R messages in any sliding one-second window and answers beyond that
like Slack does (HTTP 429 with Retry-After, here `DeliveryError(retry_after=…)`), with a small random
latency per call. It measures, for one `/nudge-team` to a manager with 1,000 direct reports:

* the time to the manager's acknowledgement (target < 1 s);
* the total delivery time (acknowledgement to the final summary) against the ideal 1000 / R
  (target ≤ 1.2 ×);
* duplicates and lost nudges (target: zero of each), and how many 429s were answered.

Two runs: the nudger configured with the platform's documented rate (R), and configured at twice the
real limit (it must slow down on the 429s it gets).

    python bench/nudge.py [--rate R] [--reports N] [--store memory|tinydb|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import random
import sys
import tempfile
import time
from pathlib import Path

from bot import nudges
from bot.catalog import load_catalog
from bot.core import Coach
from dialogs.conversation import Conversation
from bot.delivery import DeliveryError
from bot.people import Directory, Person
from bot.settings import Settings
from bot.store.memory import MemoryStore
from bot.types import Incoming

MANAGER = "UMANAGER"


class LimitedPlatform:
    """A Messenger whose platform allows `rate` messages per sliding second and answers 429 beyond."""

    platform = "slack"

    def __init__(self, rate: float, latency: float = 0.004) -> None:
        self.rate = rate
        self.latency = latency
        self.window: collections.deque[float] = collections.deque()
        self.delivered: list[str] = []
        self.limited = 0
        self.summary_at: float | None = None
        self.rng = random.Random(7)

    async def send(self, user_id, address, replies, *, ref=None, skip=frozenset()) -> None:
        await asyncio.sleep(self.latency * (0.5 + self.rng.random()))
        now = time.monotonic()
        while self.window and now - self.window[0] >= 1.0:
            self.window.popleft()
        if len(self.window) >= self.rate:
            self.limited += 1
            retry_after = 1.0 - (now - self.window[0])
            raise DeliveryError("ratelimited", retry_after=math.ceil(retry_after * 10) / 10)  # 100 ms steps
        self.window.append(now)
        if user_id == MANAGER:
            if replies[0].text.startswith("Nudge finished"):
                self.summary_at = time.monotonic()
            return
        self.delivered.append(user_id)

    async def lookup_email(self, email):
        return None


def organisation(n: int) -> Directory:
    people = [Person("manager@example.com", "Manager A", "Manager", slack_id=MANAGER)]
    people += [Person(f"report-{i:04d}@example.com", f"Report {i:04d}", "Engineer", manager="manager@example.com",
                      slack_id=f"UR{i:04d}") for i in range(n)]
    return Directory.of(people)


async def run(rate: float, configured: float, reports: int, store_kind: str) -> dict[str, float]:
    if store_kind == "tinydb":
        from bot.store.tinydb_store import TinyDBStore

        store = TinyDBStore(Path(tempfile.mkdtemp()) / "db", fsync=False)
    elif store_kind == "postgres":
        import os

        from bot.store.postgres import PostgresStore

        store = PostgresStore(os.environ["SKILLCOACH_TEST_DATABASE_URL"])
        await store.open()
        await store.truncate()
    else:
        store = MemoryStore()
    await store.open()
    coach = Coach(Settings(database_url="memory:"), store, load_catalog(), organisation(reports), dialog=Conversation())
    platform = LimitedPlatform(rate)
    coach.register_messenger(platform)
    nudges.register(coach)
    nudges.configure(coach, rates={"slack": configured})
    worker = asyncio.create_task(nudges.worker_task(coach))
    t0 = time.monotonic()
    replies = await coach.handle(Incoming("slack", MANAGER, text="Please take 10 minutes", command="nudge-team"))
    ack = time.monotonic() - t0
    assert f"*{reports}* people" in replies[0].text, replies[0].text
    while platform.summary_at is None:
        await asyncio.sleep(0.05)
    total = platform.summary_at - t0 - ack
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    await store.close()
    counts = collections.Counter(platform.delivered)
    expected = {f"UR{i:04d}" for i in range(reports)}
    return {
        "ack": ack, "total": total, "ideal": reports / rate, "ratio": total / (reports / rate),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1), "lost": len(expected - set(counts)),
        "limited": platform.limited,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="messages/second the fake platform allows")
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--store", choices=("memory", "tinydb", "postgres"), default="memory",
                        help="postgres: the database at SKILLCOACH_TEST_DATABASE_URL (emptied first)")
    args = parser.parse_args(argv)
    ok = True
    for label, configured in (("configured at the platform's rate", args.rate),
                              ("configured at 2x the real limit", args.rate * 2)):
        r = asyncio.run(run(args.rate, configured, args.reports, args.store))
        print(f"{args.reports} reports, platform limit {args.rate:g}/s, {label} ({args.store} store):")
        print(f"  acknowledgement     {r['ack'] * 1000:8.1f} ms   (target < 1000 ms)")
        print(f"  delivery            {r['total']:8.2f} s    ideal {r['ideal']:.2f} s, ratio {r['ratio']:.3f} "
              f"(target <= 1.2)")
        print(f"  duplicates {r['duplicates']}, lost {r['lost']}, 429 answers {r['limited']}")
        ok &= r["ack"] < 1.0 and r["duplicates"] == 0 and r["lost"] == 0
        if configured == args.rate:
            ok &= r["ratio"] <= 1.2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
