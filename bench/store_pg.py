"""PostgreSQL vs TinyDB: read+write of one profile at N stored profiles, measured in the same run.

    eval "$(SKILLCOACH_TEST_PG_DURABLE=1 bash .ci/postgres.sh)"     # a cluster with fsync on
    python bench/store_pg.py [--profiles 10000] [--ops 2000] [--users 30]
    bash .ci/postgres.sh stop "$SKILLCOACH_TEST_PG_DATA"

Both backends hold the same N profiles (about 1.5 KB of JSON each). One operation is what a chat turn
does to a profile: `update()` = get + versioned put of one random profile. The two backends are
measured in alternating blocks so that load from other programs on the machine hits both alike.
Then whole chat turns: `--users` new users each run the interview of bench/dialog.py through
`Coach.handle()` (no HTTP), users alternating between the backends, on the same stores.
Prints p50/p99 per backend and the ratio PostgreSQL / TinyDB. The database URL is
SKILLCOACH_BENCH_DATABASE_URL or SKILLCOACH_TEST_DATABASE_URL; the bench works in a schema of its own
and drops it at the end. It reports the server's fsync and synchronous_commit settings, so a
figure from a test cluster (fsync off) is not taken for a durable one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.store.base import PROFILES, Store, update
from bot.store.postgres import PostgresStore, redact
from bot.store.tinydb_store import TinyDBStore


def profile(i: int) -> dict:
    return {
        "user": f"slack:U{i:07d}",
        "role": {"id": "marketing-specialist", "text": "I do social media for our brand", "score": 91.5},
        "months_in_role": 30,
        "skills": ["social-media", "copywriting", "campaign-planning", "seo", "brand-strategy"],
        "goal": "grow",
        "hours_per_week": 4,
        "ways": ["courses", "mentoring", "peer-coaching"],
        "consent_team_view": True,
        "plan": {
            "path": "upskill",
            "skills": [
                {"id": f"skill-{k}", "reason": "gap against the role, trending in the field",
                 "options": [{"title": f"Course {k}", "provider": "Provider A", "type": "course",
                              "hours": 12}]}
                for k in range(5)
            ],
            "weeks": 14,
        },
        "progress": {"done": [], "updated": 1_700_000_000.0},
        "reminders": {"on": True, "last": 0.0},
        "turns": 0,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def one_op(store: Store, n: int, rng: random.Random) -> float:
    key = f"slack:U{rng.randrange(n):07d}"

    def change(data):
        data["turns"] = data.get("turns", 0) + 1
        return data

    started = time.perf_counter()
    await update(store, PROFILES, key, change)
    return (time.perf_counter() - started) * 1000.0


def report_ratio(summary: dict[str, tuple[float, float]]) -> None:
    ratio50 = summary["PostgreSQL"][0] / summary["TinyDB"][0]
    ratio99 = summary["PostgreSQL"][1] / summary["TinyDB"][1]
    print(f"  ratio PostgreSQL/TinyDB: p50 {ratio50:.2f}   p99 {ratio99:.2f}")


async def measure_turns(stores: dict[str, Store], users: int, turns: dict[str, list[float]]) -> None:
    from dialog import SCRIPT

    from bot.catalog import load_catalog
    from bot.core import Coach
    from dialogs.conversation import Conversation
    from bot.people import Directory
    from bot.settings import Settings
    from bot.types import Incoming

    catalog = load_catalog()
    coaches = {name: Coach(Settings(database_url="memory:"), store, catalog, Directory(), dialog=Conversation())
               for name, store in stores.items()}
    for name, coach in coaches.items():  # warm up
        for text in SCRIPT:
            await coach.handle(Incoming("console", "warmup", text=text))
    for u in range(users):
        for name, coach in coaches.items():
            for text in SCRIPT:
                started = time.perf_counter()
                replies = await coach.handle(Incoming("console", f"B{u}", text=text))
                turns[name].append((time.perf_counter() - started) * 1000.0)
                assert replies


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in [parts.query, f"search_path={schema}"] if q)
    return urlunsplit(parts._replace(query=query))


def database_url() -> str | None:
    """The PostgreSQL database the PostgreSQL benchmarks use, or None (after saying how to get one)."""
    url = os.environ.get("SKILLCOACH_BENCH_DATABASE_URL") or os.environ.get("SKILLCOACH_TEST_DATABASE_URL")
    if not url:
        print("set SKILLCOACH_BENCH_DATABASE_URL or SKILLCOACH_TEST_DATABASE_URL (see .ci/postgres.sh)",
              file=sys.stderr)
    return url or None


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--ops", type=int, default=2_000, help="operations per backend")
    parser.add_argument("--block", type=int, default=100, help="operations per alternating block")
    parser.add_argument("--users", type=int, default=30, help="interviews per backend (0: skip turns)")
    args = parser.parse_args()

    url = database_url()
    if not url:
        return 2

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    settings = {name: await admin.fetchval(f"SHOW {name}") for name in ("fsync", "synchronous_commit",
                                                                         "server_version")}
    pg = PostgresStore(with_search_path(url, schema), max_size=4)
    try:
        with tempfile.TemporaryDirectory(prefix="skillcoach-bench-") as tmp:
            tiny = TinyDBStore(Path(tmp) / "skillcoach.db")
            stores: dict[str, Store] = {"TinyDB": tiny, "PostgreSQL": pg}
            for name, store in stores.items():
                await store.open()
                started = time.perf_counter()
                await store.import_records(PROFILES, ((f"slack:U{i:07d}", profile(i))
                                                      for i in range(args.profiles)))
                print(f"{name}: stored {args.profiles} profiles in {time.perf_counter() - started:.1f} s")

            rng = random.Random(7)
            for store in stores.values():  # warm up: caches, pool, prepared statements
                for _ in range(50):
                    await one_op(store, args.profiles, rng)

            times: dict[str, list[float]] = {name: [] for name in stores}
            while len(times["PostgreSQL"]) < args.ops:
                for name, store in stores.items():
                    for _ in range(min(args.block, args.ops - len(times[name]))):
                        times[name].append(await one_op(store, args.profiles, rng))

            turns: dict[str, list[float]] = {name: [] for name in stores}
            if args.users:
                await measure_turns(stores, args.users, turns)

            for store in stores.values():
                await store.close()

        print(f"\nread+write of one profile (update = get + versioned put), {args.profiles} profiles, "
              f"{args.ops} ops each")
        print(f"PostgreSQL {settings['server_version']} at {redact(url)}: fsync={settings['fsync']}, "
              f"synchronous_commit={settings['synchronous_commit']}")
        summary = {}
        for name, values in times.items():
            p50, p99 = percentile(values, 0.50), percentile(values, 0.99)
            summary[name] = (p50, p99)
            print(f"  {name:<11} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   mean {statistics.fmean(values):7.3f} ms")
        report_ratio(summary)
        if args.users:
            print(f"\nchat turns through Coach.handle() (interview of bench/dialog.py), {args.users} users "
                  f"per backend, {len(turns['TinyDB'])} turns each, {args.profiles} profiles stored")
            summary = {}
            for name, values in turns.items():
                p50, p99 = percentile(values, 0.50), percentile(values, 0.99)
                summary[name] = (p50, p99)
                print(f"  {name:<11} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   mean {statistics.fmean(values):7.3f} ms")
            report_ratio(summary)
    finally:
        await pg.close()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
