"""The TinyDB store's writer process (bot/store/tinydb_writer.py): writes go through it, and killing it,
or the server, at any moment loses no answered write and leaves every shard whole."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from bot.store.tinydb_files import AtomicJSONStorage
from bot.store.tinydb_store import TinyDBStore


async def _ready(store: TinyDBStore) -> int:
    for _ in range(500):
        await store.get("c", "warm-up")   # a read polls the writer's "running" answer
        if store.writer_pid is not None:
            return store.writer_pid
        await asyncio.sleep(0.01)
    raise AssertionError("the writer process did not start")


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:   # our own child: reap it
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.01)
    return False


async def test_writes_go_through_the_writer_process_and_close_ends_it(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "db")
    await store.open()
    pid = await _ready(store)
    assert pid != os.getpid()
    for i in range(20):
        await store.put("c", f"k{i}", {"n": i})
    other = TinyDBStore(tmp_path / "db")   # another instance reads the files the writer process wrote
    await other.open()
    assert other.writer_pid is None   # not the folder's writer
    assert [(await other.get("c", f"k{i}")).data["n"] for i in range(20)] == list(range(20))
    await other.close()
    await store.put("c", "k3", {"n": 33})   # a shard's second write goes through its spare
    shard = store.shard_of("c", "k3")
    assert AtomicJSONStorage(shard).read()["_default"]["1"]["d"] == '{"n":33}'
    assert (shard.parent / f".{shard.name}.spare").exists()   # written through the spare
    await store.close()
    assert _gone(pid)


async def test_the_writer_process_ignores_interrupts_from_the_terminal(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "db")
    await store.open()
    pid = await _ready(store)
    os.kill(pid, signal.SIGINT)   # Ctrl-C in the terminal: the server decides, the writer goes on
    os.kill(pid, signal.SIGTERM)
    await asyncio.sleep(0.1)
    await store.put("c", "k", {"n": 1})
    assert store.writer_pid == pid
    await store.close()
    assert _gone(pid)


CHILD = textwrap.dedent("""
    import asyncio, os, sys
    from bot.errors import StoreError
    from bot.store.tinydb_store import TinyDBStore

    async def writer(store, key, n, pad):
        while True:
            try:
                await store.put("c", key, {"n": n + 1, "pad": pad})
            except StoreError:
                os.write(1, f"failed {key}\\n".encode())   # not answered as written: tried again
                continue
            n += 1
            os.write(1, f"{key} {n}\\n".encode())   # one write: a whole line or none

    async def main(path):
        store = TinyDBStore(path, shards={"records": 16}, cache_shards=4)
        await store.open()
        keys = [f"k{i:02d}" for i in range(8)]
        start = {}
        for key in keys:
            record = await store.get("c", key)
            start[key] = record.data["n"] if record else 0
        for _ in range(500):
            if store.writer_pid is not None:
                break
            await store.get("c", "k00")
            await asyncio.sleep(0.01)
        print(f"ready {store.writer_pid}", flush=True)
        pad = "Report 07 " * 400
        await asyncio.gather(*(writer(store, key, start[key], pad) for key in keys))

    asyncio.run(main(sys.argv[1]))
""")


class Child:
    """A process writing 8 keys at once through its store; its answered writes read as they come."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().split()
        assert first[0] == "ready" and first[1] != "None", first
        self.writer = int(first[1])
        self.acked: dict[str, int] = {}
        self.failed = 0
        self.lines = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            key, value = line.split()
            if key == "failed":
                self.failed += 1
            else:
                self.acked[key] = int(value)
            self.lines += 1

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reader.join(timeout=30)


async def _stored(path: Path, keys: list[str]) -> dict[str, int]:
    store = TinyDBStore(path, shards={"records": 16})
    await store.open()
    try:
        records = {key: await store.get("c", key) for key in keys}
        return {key: record.data["n"] if record else 0 for key, record in records.items()}
    finally:
        await store.close()


def _check(path: Path, before: dict[str, int], child: Child) -> dict[str, int]:
    acked = {**before, **child.acked}
    for shard in sorted((path / "records" / "c").glob("*.json")):
        assert AtomicJSONStorage(shard).read() is not None   # every shard loads
    stored = asyncio.run(_stored(path, sorted(acked)))
    for key, value in stored.items():   # each key has at most one write in flight: old, or that one
        assert value in (acked[key], acked[key] + 1), (key, value, acked[key])
    return stored


def test_killing_the_writer_process_loses_no_answered_write_and_writing_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "db"
    acked: dict[str, int] = {f"k{i:02d}": 0 for i in range(8)}
    for delay in (0.05, 0.15, 0.3):
        child = Child(path)
        time.sleep(delay)
        os.kill(child.writer, signal.SIGKILL)   # the writer process, in the middle of its groups
        at_kill = child.lines
        time.sleep(0.4)
        assert child.lines > at_kill + 50, "writing stopped with the writer process"
        child.kill()
        acked = _check(path, acked, child)


def test_a_killed_server_leaves_old_or_new_records_and_the_next_one_writes_through_a_new_writer(
        tmp_path: Path) -> None:
    path = tmp_path / "db"
    acked: dict[str, int] = {f"k{i:02d}": 0 for i in range(8)}
    for delay in (0.05, 0.2):
        child = Child(path)
        time.sleep(delay)
        child.kill()   # its writer process finishes the group it has, then ends
        old_writer = child.writer
        acked = _check(path, acked, child)   # opened right away: waits for the old writer's lock
        assert _gone(old_writer)
    again = Child(path)   # a new server is the folder's writer again, with its own writer process
    assert again.writer != child.writer
    again.kill()
    _check(path, acked, again)
