"""Store benchmark: one profile's read+write at growing numbers of stored profiles.

    python bench/store.py [--sizes 1000,10000,100000] [--ops 2000]

For each size a fresh sharded TinyDB store (bot.store.tinydb_store) in a temporary folder is filled
with that many realistic profiles (~1.5 KB of JSON each, written shard by shard with
`import_records`), then `--ops` random get+put pairs of one profile go through the public async API
(`get`, change one field, `put(version=...)`). Printed per size: p50/p99 in ms for the default
configuration (file IO in a worker thread, fsync on), and for reference on the same data: IO inline on
the event loop, and fsync off (to show what fsync costs on this disk), plus throughput with 32
concurrent tasks. Then the ratio p50(largest)/p50(smallest) and the peak RSS of the run so far.

Last, for comparison in the same run, plain single-file TinyDB (its default JSONStorage, which
re-reads and rewrites the whole file on every operation): get+update of one profile at 1,000 and
10,000 profiles, a few dozen operations each since it is slow.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tinydb import Query, TinyDB

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store.base import PROFILES, update  # noqa: E402
from bot.store.tinydb_store import TinyDBStore  # noqa: E402

SKILLS = [
    "sql", "python", "data analytics", "digital marketing trends", "social media advertising",
    "copywriting", "seo", "stakeholder management", "budgeting", "user research", "web development",
    "software engineering fundamentals", "programming languages", "research", "writing", "negotiation",
    "coaching", "cloud infrastructure", "incident response", "product discovery", "roadmapping",
    "financial modelling", "public speaking", "data visualisation", "recruiting", "facilitation",
]
ROLES = [
    ("marketing-specialist", "Marketing Specialist", "marketing"),
    ("journalist", "Journalist", "content"),
    ("software-developer", "Software Developer", "engineering"),
    ("data-analyst", "Data Analyst", "data"),
    ("hr-generalist", "HR Generalist", "people"),
    ("customer-success-manager", "Customer Success Manager", "customer"),
]
WAYS = ["courses", "mentoring", "peer coaching", "job shadowing", "professional associations"]


def profile(key: str, i: int) -> dict:
    """A profile shaped like the core's: answers, plan with options, progress, consent, reminders."""
    rng = random.Random(i)
    role, target = rng.sample(ROLES, 2)
    skills = rng.sample(SKILLS, 8)
    goal = rng.choice(["grow", "switch", "unsure"])
    return {
        "user_key": key,
        "name": f"Report {i:06d}",
        "email": f"report-{i:06d}@example.com",
        "role": {"id": role[0], "title": role[1], "family": role[2], "score": round(rng.random(), 3)},
        "months_in_role": rng.randint(1, 120),
        "skills": skills[:5],
        "goal": goal,
        "target": {"id": target[0], "title": target[1], "family": target[2]} if goal == "switch" else None,
        "hours_per_week": rng.choice([2, 3, 4, 6, 8]),
        "learning": rng.sample(WAYS, 3),
        "consent": {"aggregate": rng.random() < 0.8, "at": "2026-11-02T09:30:00Z"},
        "reminders": {"enabled": True, "weekday": rng.randint(0, 4), "next_at": 1_790_000_000 + i},
        "plan": {
            "path": "reskill" if goal == "switch" else "upskill",
            "why": "The skills you named cover most of your role; these close the remaining gap.",
            "skills": [
                {
                    "skill": skill,
                    "reason": rng.choice(["gap against the role", "high importance", "trending in the field"]),
                    "options": [{"title": f"{skill.title()} in practice", "provider": "Provider A",
                                 "type": "course", "hours": rng.randint(4, 30)}],
                }
                for skill in skills[5:8]
            ],
            "people": [{"email": "mentor-1@example.com", "offers": "mentoring", "why": skills[5]}],
            "weeks_to_ready": rng.randint(4, 40),
        },
        "progress": {"done": [], "turns": 0},
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB


async def one_pair(store: TinyDBStore, key: str) -> float:
    start = time.perf_counter()
    record = await store.get(PROFILES, key)
    data = record.data
    data["progress"]["turns"] += 1
    await store.put(PROFILES, key, data, version=record.version)
    return time.perf_counter() - start


async def populate(size: int, folder: Path) -> tuple[Path, list[str], float, int]:
    path = folder / f"store-{size}"
    store = TinyDBStore(path)
    await store.open()
    keys = [f"slack:U{i:07d}" for i in range(size)]
    by_shard = sorted(range(size), key=lambda i: str(store.shard_of(PROFILES, keys[i])))
    start = time.perf_counter()
    await store.import_records(PROFILES, ((keys[i], profile(keys[i], i)) for i in by_shard))
    elapsed = time.perf_counter() - start
    await store.close()
    return path, keys, elapsed, len(list((path / "records" / "profiles").iterdir()))


def bump(data: dict | None) -> dict | None:
    if data is not None:
        data["progress"]["turns"] += 1
    return data


async def throughput(store: TinyDBStore, keys: list[str], tasks: int, seconds: float) -> float:
    """Pairs per second with `tasks` concurrent tasks (update() retries when two pick one key)."""
    rng = random.Random(7)
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await update(store, PROFILES, rng.choice(keys), bump)
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return done / (time.perf_counter() - start)


CONFIGS = {"threaded": {}, "inline": {"offload_io": False}, "nofsync": {"fsync": False}}


async def measure(sizes: list[int], ops: int, block: int, folder: Path) -> dict:
    """Populate every size, then time get+put pairs in small blocks, interleaving sizes and
    configurations in random order, so that load from other processes on this machine falls on all
    of them alike rather than on whichever size happened to run during a busy minute."""
    results: dict = {}
    stores: dict[tuple[int, str], TinyDBStore] = {}
    keys: dict[int, list[str]] = {}
    for size in sizes:
        path, keys[size], elapsed, files = await populate(size, folder)
        results[size] = {"populate_s": elapsed, "files": files}
        print(f"populated {size} profiles in {elapsed:.1f} s ({files} shard files)", flush=True)
        for name, options in CONFIGS.items():
            stores[(size, name)] = TinyDBStore(path, **options)
            await stores[(size, name)].open()

    rng = random.Random(1)
    samples: dict[tuple[int, str], list[float]] = {slot: [] for slot in stores}
    for slot, store in stores.items():  # warm up thread pool and code paths, not measured
        for _ in range(20):
            await one_pair(store, rng.choice(keys[slot[0]]))
    slots = list(stores)
    for _ in range(max(1, ops // block)):
        rng.shuffle(slots)
        for slot in slots:
            for _ in range(block):
                samples[slot].append(await one_pair(stores[slot], rng.choice(keys[slot[0]])))
    for (size, name), values in samples.items():
        results[size][name] = (percentile(values, 0.50) * 1000, percentile(values, 0.99) * 1000)

    largest = sizes[-1]
    tput: dict[str, list[float]] = {"threaded": [], "inline": []}
    for _ in range(3):
        for name in tput:
            tput[name].append(await throughput(stores[(largest, name)], keys[largest], tasks=32, seconds=1.0))
    results["throughput"] = {name: statistics.median(values) for name, values in tput.items()}
    for store in stores.values():
        await store.close()
    return results


def bench_plain(size: int, ops: int, folder: Path) -> tuple[float, float]:
    """Plain TinyDB, one JSON file: get + update of one profile (ms p50, ms max)."""
    path = folder / f"plain-{size}.json"
    db = TinyDB(path)
    keys = [f"slack:U{i:07d}" for i in range(size)]
    db.insert_multiple({"key": key, **profile(key, i)} for i, key in enumerate(keys))
    rng = random.Random(size)
    samples = []
    for _ in range(ops):
        key = rng.choice(keys)
        start = time.perf_counter()
        doc = db.get(Query().key == key)
        db.update({"progress": {"done": [], "turns": doc["progress"]["turns"] + 1}}, Query().key == key)
        samples.append(time.perf_counter() - start)
    db.close()
    return statistics.median(samples) * 1000, max(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--block", type=int, default=20, help="pairs per turn when interleaving")
    parser.add_argument("--plain-sizes", default="1000,10000")
    parser.add_argument("--plain-ops", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    plain_sizes = [int(s) for s in args.plain_sizes.split(",") if s]

    with tempfile.TemporaryDirectory(prefix="skillcoach-bench-") as tmp:
        folder = Path(tmp)
        results = asyncio.run(measure(sizes, args.ops, args.block, folder))
        print(f"\nsharded TinyDB store: {args.ops} get+put pairs of one random profile per size and "
              "configuration, interleaved")
        print(f"{'profiles':>9} | {'p50 ms':>7} {'p99 ms':>7} | {'inline p50/p99':>15} | "
              f"{'no-fsync p50/p99':>16}")
        for size in sizes:
            r = results[size]
            print(f"{size:>9} | {r['threaded'][0]:>7.3f} {r['threaded'][1]:>7.3f} | "
                  f"{r['inline'][0]:>7.3f}/{r['inline'][1]:<7.3f} | {r['nofsync'][0]:>8.3f}/{r['nofsync'][1]:<7.3f}")
        tput = results["throughput"]
        print(f"32 concurrent tasks at {sizes[-1]} profiles (update() with retries): "
              f"{tput['threaded']:.0f} pairs/s with IO in threads, {tput['inline']:.0f} pairs/s inline")
        small, large = results[sizes[0]], results[sizes[-1]]
        if len(sizes) > 1:
            print(f"ratio p50 {sizes[-1]}/{sizes[0]}: {large['threaded'][0] / small['threaded'][0]:.2f} "
                  f"(target <= 1.5)")
        print(f"p99 at {sizes[-1]}: {large['threaded'][1]:.3f} ms (target < 10)")
        print(f"peak RSS of the run: {rss_mb():.0f} MB (target < 300)", flush=True)

        if plain_sizes:
            print(f"\nplain single-file TinyDB, {args.plain_ops} get+update pairs per size (reference)")
            plain = {}
            for size in plain_sizes:
                p50, worst = bench_plain(size, args.plain_ops, folder)
                plain[size] = p50
                print(f"{size:>9} profiles: p50 {p50:8.2f} ms, max {worst:8.2f} ms", flush=True)
            for size in sizes:
                if size in plain:
                    print(f"at {size} profiles plain TinyDB is {plain[size] / results[size]['threaded'][0]:.0f}x "
                          f"slower than the sharded store (p50)")
            print(f"peak RSS including the plain TinyDB runs: {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
