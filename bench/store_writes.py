"""What the TinyDB store's writes cost when users talk at once, and where that cost lies.

    python bench/store_writes.py [--users 8] [--rounds 10] [--files 16] [--repeat 30]

1. The core alone (`Coach.handle` with deduplication, the reply handed to a no-op `deliver`; no HTTP,
   no Slack): `--users` users at once go through the interview script of bench/slack_turn.py
   `--rounds` times, on the memory store (the reference: no file work at all) and on the TinyDB store as
   the server runs it (its file work in a writer process, bot/store/tinydb_writer.py) and with worker
   threads instead (what it falls back to), alternating, in the same run. Printed: turns/s of each and
   their ratio to the memory store, CPU per turn of this process (and of the writer process); the shard
   writes per turn, and for the worker threads their time per write, split into its steps (apply the
   change and write the file, fsync, rename or exchange).
2. The file system under those writes: `--files` shard-size files (2 KB) written the two ways the store
   writes them — a new temporary file, fsync, renamed over the old file (other writers, a shard's first
   write); and, as the folder's writer does, a spare overwritten, fsynced and swapped with the shard file
   (renameat2 RENAME_EXCHANGE, bot/store/tinydb_files.py) — from one thread and from 4 at once; the
   temporary file without fsync; and overwriting the file in place with `fdatasync`, which the store
   does not do (an in-place write can be torn by a crash).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bot.store.tinydb_commit as commit  # noqa: E402
import bot.store.tinydb_files as files  # noqa: E402
from bot.store.tinydb_files import exchange  # noqa: E402
from bot.server import build_coach  # noqa: E402
from bot.store.tinydb_store import TinyDBStore  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Incoming, Reply  # noqa: E402

SCRIPT = ["hi", "1", "journalist", "yes", "2", "none", "I want to become a software developer", "yes", "2",
          "courses, mentoring", "yes", "my plan"]

TIMES: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


def timed(owner: Any, name: str, step: str) -> None:
    """Add the time of every call of `owner.name` to TIMES[step] (and count it)."""
    real = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            with _LOCK:
                TIMES[step] += time.perf_counter() - t0
                TIMES[step + " calls"] += 1

    setattr(owner, name, wrapper)


KINDS = {"memory": "memory store", "process": "TinyDB, writer process", "threads": "TinyDB, worker threads"}


def _cpu_of(pid: int | None) -> float:
    """CPU seconds a process of ours used so far (Linux /proc), 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


async def core_rate(kind: str, users: int, rounds: int, tag: str) -> tuple[float, int, float, float]:
    """`users` users at once on store `kind` (KINDS): turns per second, turns measured, and CPU seconds
    of this process and of the store's writer process in that time."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, db_path=Path(tmp) / "db", teams_enabled=False,
                            database_url="memory:" if kind == "memory" else "")
        store = None if kind == "memory" else TinyDBStore(settings.db_path, writer_process=kind == "process")
        coach = build_coach(settings, store=store)
        await coach.store.open()

        async def deliver(replies: list[Reply]) -> None:
            return None

        async def person(user: str) -> None:
            for i, text in enumerate(SCRIPT):
                await coach.handle(Incoming("slack", user, text=text, event_id=f"{user}-{i}", channel_id=f"D{user}",
                                            address={"channel": f"D{user}"}), once=True, deliver=deliver)

        await asyncio.gather(*(person(f"W{tag}{i}") for i in range(users)))   # warm-up: caches, catalog
        await coach.dedupe.drain()
        writer = getattr(coach.store, "writer_pid", None)
        TIMES.clear()
        cpu0, writer0 = time.process_time(), _cpu_of(writer)
        t0 = time.perf_counter()
        for r in range(rounds):
            await asyncio.gather(*(person(f"U{tag}{r:03d}{i:03d}") for i in range(users)))
        await coach.dedupe.drain()   # the events' records are part of the work
        took = time.perf_counter() - t0
        cpu, writer_cpu = time.process_time() - cpu0, _cpu_of(writer) - writer0
        await coach.store.close()
    turns = users * rounds * len(SCRIPT)
    return turns / took, turns, cpu, writer_cpu


def file_writes(folder: Path, n: int, repeat: int, *, threads: int, fsync: bool, way: str) -> float:
    """Milliseconds per write of `n` 2 KB files, `way` "replace", "spare" or "in place" (module docstring)."""
    data = b"x" * 2000
    for i in range(n):
        (folder / f"{i}.json").write_bytes(data)
        (folder / f".{i}.json.spare").write_bytes(data)

    def replace(i: int) -> None:
        tmp = folder / f".{i}.json.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, folder / f"{i}.json")

    def swap(i: int) -> None:
        spare = folder / f".{i}.json.spare"
        fd = os.open(spare, os.O_WRONLY)
        try:
            os.write(fd, data)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
        finally:
            os.close(fd)
        if not exchange(spare, folder / f"{i}.json"):
            raise SystemExit("this system cannot swap two files (renameat2 RENAME_EXCHANGE)")

    def overwrite(i: int) -> None:
        fd = os.open(folder / f"{i}.json", os.O_WRONLY)
        try:
            os.pwrite(fd, data, 0)
            os.fdatasync(fd)
        finally:
            os.close(fd)

    work = {"replace": replace, "spare": swap, "in place": overwrite}[way]
    with ThreadPoolExecutor(threads) as pool:
        t0 = time.perf_counter()
        for _ in range(repeat):
            list(pool.map(work, range(n)))
        return (time.perf_counter() - t0) / (repeat * n) * 1000


async def run(args: argparse.Namespace) -> None:
    timed(commit, "commit_group", "group job")
    timed(files.AtomicJSONStorage, "_flush", "apply + write the file")
    timed(files.AtomicJSONStorage, "sync_staged", "fsync")
    timed(files.AtomicJSONStorage, "install_staged", "rename or exchange")
    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: collections.Counter[str] = collections.Counter()
    steps: collections.Counter[str] = collections.Counter()
    measured: collections.Counter[str] = collections.Counter()
    for k in range(3):   # alternating, so load from other programs hits each alike
        for kind in KINDS:
            rate, turns, mine, writer = await core_rate(kind, args.users, args.rounds, f"{kind[0]}{k}")
            rates[kind].append(rate)
            cpu[kind] += mine
            cpu[kind + " writer"] += writer
            measured[kind] += turns
            if kind == "threads":
                steps.update(TIMES)
            else:
                steps[kind + " writes"] += TIMES["apply + write the file calls"]
    mem = statistics.median(rates["memory"])
    print(f"the core alone, {args.users} users at once (median of 3 alternating runs; CPU per turn of this "
          "process, and of the writer process):")
    for kind, name in KINDS.items():
        rate = statistics.median(rates[kind])
        share = "(reference)" if kind == "memory" else f"({rate / mem:.0%} of the memory store)"
        writer = f" + {cpu[kind + ' writer'] / measured[kind] * 1000:.2f}" if kind == "process" else ""
        print(f"  {name:24s} {rate:8.0f} turns/s  {share:28s} CPU {cpu[kind] / measured[kind] * 1000:.2f}{writer} "
              "ms a turn")
    writes = steps["fsync calls"]
    print(f"  TinyDB: {steps['process writes'] / measured['process']:.2f} shard writes per turn; with worker "
          f"threads {steps['group job calls'] / measured['threads']:.2f} group jobs per turn, and their time "
          "per write:")
    for step in ("apply + write the file", "fsync", "rename or exchange"):
        print(f"    {step:24s} {steps[step] / max(1, writes) * 1000:6.2f} ms")
    print(f"\nthe file system, {args.files} files of 2 KB, ms per write (median of 3):")
    with tempfile.TemporaryDirectory(dir=os.environ.get("SKILLCOACH_BENCH_DIR")) as tmp:
        folder = Path(tmp)
        cases = [("temporary file, fsync, rename; 1 thread", 1, True, "replace"),
                 ("temporary file, fsync, rename; 4 threads", 4, True, "replace"),
                 ("temporary file, rename (no fsync); 1 thread", 1, False, "replace"),
                 ("spare, fsync, exchange; 1 thread", 1, True, "spare"),
                 ("spare, fsync, exchange; 4 threads", 4, True, "spare"),
                 ("in place, fdatasync (not crash-safe); 1 thread", 1, True, "in place")]
        figures = {name: statistics.median(file_writes(folder, args.files, args.repeat, threads=t, fsync=f,
                                                       way=w) for _ in range(3))
                   for name, t, f, w in cases}
    reference = figures[cases[0][0]]
    for name, ms in figures.items():
        print(f"  {name:48s} {ms:6.3f} ms  ({ms / reference:.2f}x a temporary file from 1 thread)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--files", type=int, default=16)
    p.add_argument("--repeat", type=int, default=30)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
