"""Slack DM turn over HTTP on PostgreSQL vs TinyDB, 10,000 stored profiles each, measured in one run.

    eval "$(SKILLCOACH_TEST_PG_DURABLE=1 bash .ci/postgres.sh)"     # a cluster with fsync on
    python bench/pg_turn.py [--profiles 10000] [--turns 300] [--users 30] [--block 20]
    bash .ci/postgres.sh stop "$SKILLCOACH_TEST_PG_DATA"

Two copies of the real server (`bot.server.create_app`, as in bench/slack_turn.py, whose helpers this
reuses) run on 127.0.0.1 in this process: one on the embedded TinyDB store, one on PostgreSQL
(SKILLCOACH_BENCH_DATABASE_URL or SKILLCOACH_TEST_DATABASE_URL, in a schema of its own that is dropped
at the end). Both stores hold the same `--profiles` profiles (written with `import_records`) and both
servers post to the same fake Slack Web API (tests/fakes/slack_api.py).

A turn = a signed DM event POSTed to /slack/events → the fake records the turn's first
chat.postMessage; turns are sequential, the next starts when all replies of the previous one are out.
Two kinds: `help` from users who have a stored profile (the turn reads and writes it), and interview
steps of new users (the typed script of bench/slack_turn.py: every step reads and writes the
conversation, the last builds a plan). The backends alternate in blocks of `--block` turns so that
load from other programs hits both alike. Prints p50/p99 per backend, the ratio PostgreSQL / TinyDB,
and the server's fsync and synchronous_commit settings. Target: PostgreSQL p50 <= 1.5x TinyDB's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import slack_turn as st  # noqa: E402
from store_pg import database_url, percentile, with_search_path  # noqa: E402

from bot.settings import Settings  # noqa: E402
from bot.store import PROFILES  # noqa: E402
from bot.store.postgres import redact  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402


async def populate(store: Any, n: int) -> float:
    started = time.perf_counter()
    await store.import_records(PROFILES, ((f"slack:U{i:08d}", st.profile(i)) for i in range(n)))
    return time.perf_counter() - started


def row(name: str, values: list[float]) -> tuple[float, float]:
    p50, p99 = percentile(values, 0.50) * 1000, percentile(values, 0.99) * 1000
    print(f"  {name:<12} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   ({len(values)} turns)")
    return p50, p99


def ratio(pg: tuple[float, float], tiny: tuple[float, float], target: float | None = None) -> None:
    line = f"  ratio PostgreSQL/TinyDB: p50 {pg[0] / tiny[0]:.2f}   p99 {pg[1] / tiny[1]:.2f}"
    if target is not None:
        line += f"   (target p50 <= {target:g}: {'met' if pg[0] / tiny[0] <= target else 'NOT met'})"
    print(line)


async def run(args: argparse.Namespace, url: str) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    pg_settings = {name: await admin.fetchval(f"SHOW {name}")
                   for name in ("server_version", "fsync", "synchronous_commit")}
    runners = []
    try:
        with tempfile.TemporaryDirectory(prefix="skillcoach-bench-") as tmp:
            async with FakeSlack() as fake:
                common = dict(_env_file=None, slack_bot_token=st.TOKEN, slack_signing_secret=st.SECRET,
                              slack_api_url=fake.api_url, teams_enabled=False, microsoft_app_id="",
                              org_file=None)
                configs = {
                    "TinyDB": Settings(**common, db_path=Path(tmp) / "skillcoach.db", database_url=""),
                    "PostgreSQL": Settings(**common, db_path=Path(tmp) / "unused.db",
                                           database_url=with_search_path(url, schema)),
                }
                sides: dict[str, st.Side] = {}
                for name, settings in configs.items():
                    runner, endpoint, adapter = await st.start_skillcoach(settings)
                    runners.append(runner)
                    took = await populate(adapter.coach.store, args.profiles)
                    print(f"{name}: {args.profiles:,} profiles stored in {took:.1f} s")
                    sides[name] = st.Side(name, endpoint, adapter.drain)

                help_users = [f"U{i * (args.profiles // args.users):08d}" for i in range(args.users)]
                help_t: dict[str, list[float]] = {n: [] for n in sides}
                step_t: dict[str, list[float]] = {n: [] for n in sides}
                async with aiohttp.ClientSession() as session:
                    for side in sides.values():  # warm up: users.info cache, pool, connections
                        for user in help_users:
                            await st.one_turn(session, fake, side, user, "help")
                    done = 0
                    while done < args.turns:
                        for name, side in sides.items():
                            for i in range(args.block):
                                user = help_users[(done + i) % len(help_users)]
                                help_t[name].append(await st.one_turn(session, fake, side, user, "help"))
                        done += args.block
                    for k in range(max(1, args.turns // len(st.SCRIPT))):
                        for name, side in sides.items():
                            user = f"U7{k:07d}"   # a new user on each backend (separate stores)
                            for text in st.SCRIPT:
                                step_t[name].append(await st.one_turn(session, fake, side, user, text))
    finally:
        for runner in runners:
            await runner.cleanup()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()

    print(f"\nSlack DM turn over HTTP (signed event in -> first chat.postMessage at the fake), "
          f"{args.profiles:,} profiles per store")
    print(f"PostgreSQL {pg_settings['server_version']} at {redact(url)}: fsync={pg_settings['fsync']}, "
          f"synchronous_commit={pg_settings['synchronous_commit']}; TinyDB fsyncs every write")
    print("help, users with a stored profile:")
    tiny, pg = row("TinyDB", help_t["TinyDB"]), row("PostgreSQL", help_t["PostgreSQL"])
    ratio(pg, tiny, 1.5)
    print(f"interview steps of new users ({len(st.SCRIPT)} per interview):")
    tiny, pg = row("TinyDB", step_t["TinyDB"]), row("PostgreSQL", step_t["PostgreSQL"])
    ratio(pg, tiny, 1.5)
    every = help_t["TinyDB"] + step_t["TinyDB"], help_t["PostgreSQL"] + step_t["PostgreSQL"]
    print("all turns:")
    tiny, pg = row("TinyDB", every[0]), row("PostgreSQL", every[1])
    ratio(pg, tiny, 1.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=300, help="help turns per backend (and about as many "
                                                                "interview steps)")
    parser.add_argument("--users", type=int, default=30, help="users sending the help turns")
    parser.add_argument("--block", type=int, default=20, help="turns per alternating block")
    args = parser.parse_args()
    url = database_url()
    if not url:
        return 2
    asyncio.run(run(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
