"""What only the TinyDB store promises: files on disk, persistence, crash safety, corruption reports."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.store.base import PROFILES
from bot.store.tinydb_commit import GroupCommit
from bot.store import tinydb_files
from bot.store.tinydb_files import AtomicJSONStorage
from bot.store.tinydb_store import TinyDBStore

T0 = 1_000_000.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "skillcoach.db"


OPENED: list[TinyDBStore] = []


@pytest.fixture(autouse=True)
async def _close_opened_stores():
    """Stores a test opened and left open are closed after it (each ends its writer process)."""
    yield
    while OPENED:
        await OPENED.pop().close()


async def opened(path: Path, **options) -> TinyDBStore:
    store = TinyDBStore(path, **options)
    await store.open()
    OPENED.append(store)
    return store


async def test_layout_is_a_folder_of_small_tinydb_files(db_path: Path) -> None:
    store = await opened(db_path)
    await store.put(PROFILES, "slack:U1", {"role": "Report 07"})
    await store.put("my coll/ä", "k", {"n": 1})
    shard = store.shard_of(PROFILES, "slack:U1")
    assert shard.parent == db_path / "records" / "profiles"
    doc = json.loads(shard.read_text())["_default"]["1"]
    assert (doc["k"], doc["v"], json.loads(doc["d"])) == ("slack:U1", 1, {"role": "Report 07"})
    assert (db_path / "store.json").is_file()
    assert await store.collections() == ["my coll/ä", "profiles"]
    assert await store.count(PROFILES) == 1
    await store.close()


async def test_records_and_versions_survive_reopen(db_path: Path) -> None:
    store = await opened(db_path)
    for i in range(40):
        await store.put(PROFILES, f"slack:U{i:02d}", {"i": i})
    await store.put(PROFILES, "slack:U07", {"i": 7, "changed": True}, version=1)
    await store.delete(PROFILES, "slack:U09")
    await store.close()

    again = await opened(db_path)
    got = await again.get(PROFILES, "slack:U07")
    assert (got.data, got.version) == ({"i": 7, "changed": True}, 2)
    assert await again.get(PROFILES, "slack:U09") is None
    assert len([r async for r in again.scan(PROFILES)]) == 39
    assert (await again.put(PROFILES, "slack:U07", {"i": 7}, version=2)).version == 3


async def test_dedupe_jobs_and_leases_survive_reopen(db_path: Path) -> None:
    store = await opened(db_path)
    assert await store.add_once("slack", "Ev01", ttl=3600)
    await store.enqueue("nudges", "done-job", {"n": 1})
    await store.enqueue("nudges", "leased-job", {"n": 2}, due=T0)
    await store.enqueue("nudges", "waiting-job", {"n": 3}, due=T0 + 500)
    claimed = await store.claim("nudges", "worker-1", lease=60, now=T0)
    assert [j.key for j in claimed] == ["done-job", "leased-job"]
    assert await store.complete("nudges", "done-job", "worker-1", {"sent": True})
    assert await store.try_lease("schedule", "process-a", 60, now=T0)
    await store.close()

    again = await opened(db_path)
    assert await again.add_once("slack", "Ev01", ttl=3600) is False
    assert await again.enqueue("nudges", "done-job", {}) is False
    assert (await again.job("nudges", "done-job"))["result"] == {"sent": True}
    assert (await again.job("nudges", "leased-job"))["owner"] == "worker-1"
    assert await again.claim("nudges", "worker-2", now=T0 + 30) == []  # still leased, not due
    assert [j.key for j in await again.claim("nudges", "worker-2", now=T0 + 61)] == ["leased-job"]
    assert await again.try_lease("schedule", "process-b", 60, now=T0 + 30) is False
    assert await again.try_lease("schedule", "process-b", 60, now=T0 + 61) is True


async def test_shard_counts_are_kept_by_the_folder(db_path: Path) -> None:
    store = await opened(db_path, shards={"records": 8})
    for i in range(30):
        await store.put(PROFILES, f"u{i}", {"i": i})
    await store.close()
    shard_names = [n for n in os.listdir(db_path / "records" / "profiles") if not n.startswith(".")]  # not spares
    assert len(shard_names) <= 8
    again = await opened(db_path)  # default shard counts asked for: the folder's win
    assert [(await again.get(PROFILES, f"u{i}")).data["i"] for i in range(30)] == list(range(30))


async def test_expired_dedupe_keys_are_pruned_when_their_shard_is_written(db_path: Path) -> None:
    store = await opened(db_path, shards={"dedupe": 1})
    for i in range(5):
        assert await store.add_once("slack", f"old{i}", ttl=0.01)
    await asyncio.sleep(0.05)
    assert await store.add_once("slack", "new", ttl=60)
    [shard] = (db_path / "dedupe" / "slack").glob("*.json")   # the shard file (not its spare)
    assert [doc["k"] for doc in json.loads(shard.read_text())["_default"].values()] == ["new"]


async def test_a_change_by_another_instance_is_seen(db_path: Path) -> None:
    first = await opened(db_path)
    second = await opened(db_path)
    await first.put(PROFILES, "u", {"n": 1})
    assert (await second.get(PROFILES, "u")).data == {"n": 1}
    await second.put(PROFILES, "u", {"n": 2}, version=1)
    assert (await first.get(PROFILES, "u")).version == 2


async def test_the_writer_checks_its_cached_shards_only_after_another_process_wrote(db_path: Path,
                                                                                     monkeypatch) -> None:
    writer = await opened(db_path)
    other = await opened(db_path)   # not the writer: each of its writes adds a byte to `changes`
    await writer.put(PROFILES, "u", {"n": 1})
    await writer.get_many([(PROFILES, "u"), (PROFILES, "v")])
    looked: list[str] = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **kw: looked.append(Path(p).name) or real_stat(p, *a, **kw))
    for _ in range(5):
        await writer.get_many([(PROFILES, "u"), (PROFILES, "v")])
    assert looked == ["changes"] * 5   # one look for others' writes per call, none at the shards
    await other.put(PROFILES, "u", {"n": 2}, version=1)
    looked.clear()
    assert (await writer.get(PROFILES, "u")).data == {"n": 2}   # seen at once: the shard was checked again
    assert looked[0] == "changes" and writer.shard_of(PROFILES, "u").name in looked


def _shard_and_spare(db_path: Path, collection: str) -> tuple[Path, Path]:
    [shard] = (db_path / "records" / collection).glob("*.json")
    return shard, shard.with_name(f".{shard.name}{tinydb_files.SPARE_SUFFIX}")


async def test_the_folders_writer_swaps_a_spare_in_and_another_instance_writes_apart(db_path: Path) -> None:
    writer = await opened(db_path, shards={"records": 1})
    other = await opened(db_path)                       # the writer lock is taken: this one is not the writer
    assert (writer._writer_lock is not None, other._writer_lock) == (True, None)
    await writer.put("c", "k", {"n": 1})                # a shard's first write: temporary file and rename
    shard, spare = _shard_and_spare(db_path, "c")
    assert not spare.exists()
    inodes = [shard.stat().st_ino]
    for n in (2, 3, 4):
        await writer.put("c", "k", {"n": n})
        inodes.append(shard.stat().st_ino)
    assert spare.exists() and len(set(inodes)) == 2     # two files take turns under the shard's name
    assert not list(db_path.rglob("*.tmp"))
    assert (await other.get("c", "k")).data == {"n": 4}
    await other.put("c", "k", {"n": 5}, version=4)      # the other instance: temporary file and rename
    assert (await writer.get("c", "k")).data == {"n": 5}
    await writer.put("c", "k", {"n": 6}, version=5)
    assert (await other.get("c", "k")).data == {"n": 6}
    await writer.close()
    taken = await opened(db_path)                       # the lock is given back on close
    assert taken._writer_lock is not None


async def test_a_torn_spare_is_never_read(db_path: Path) -> None:
    store = await opened(db_path, shards={"records": 1})
    for n in range(3):
        await store.put("c", "k", {"n": n})
    shard, spare = _shard_and_spare(db_path, "c")
    spare.write_bytes(b'{"_default": {"1": {"k": "k", "v"')   # a write into the spare cut short by a crash
    await store.close()
    again = await opened(db_path)
    assert (await again.get("c", "k")).data == {"n": 2}
    await again.put("c", "k", {"n": 3})                 # the spare is overwritten whole and swapped in
    assert json.loads(shard.read_text())["_default"]["1"]["k"] == "k"
    assert (await (await opened(db_path)).get("c", "k")).data == {"n": 3}


async def test_without_the_exchange_the_writer_renames(db_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tinydb_files, "_renameat2", None)      # a system without renameat2 (or it refused once)
    store = await opened(db_path, shards={"records": 1})
    for n in range(4):
        await store.put("c", "k", {"n": n})
    shard, spare = _shard_and_spare(db_path, "c")
    assert not spare.exists()                           # each write's file was renamed over the shard
    assert (await (await opened(db_path)).get("c", "k")).data == {"n": 3}


async def test_the_shard_cache_is_bounded(db_path: Path) -> None:
    store = await opened(db_path, cache_shards=8)
    for i in range(200):
        await store.put(PROFILES, f"u{i}", {"i": i})
        await store.get(PROFILES, f"u{i}")
    assert len(store._cache) <= 8
    assert (await store.get(PROFILES, "u3")).data == {"i": 3}


@pytest.mark.parametrize("offload", [True, False])
async def test_inline_and_threaded_io_behave_the_same(db_path: Path, offload: bool) -> None:
    store = await opened(db_path, offload_io=offload)
    await asyncio.gather(*(store.put(PROFILES, f"u{i % 5}", {"i": i}) for i in range(25)))
    records = [await store.get(PROFILES, f"u{k}") for k in range(5)]
    assert [r.version for r in records] == [5] * 5


async def test_a_cancelled_write_leaves_a_consistent_shard(db_path: Path) -> None:
    store = await opened(db_path)
    await store.put(PROFILES, "u", {"n": 0})
    tasks = [asyncio.create_task(store.put(PROFILES, "u", {"n": i})) for i in range(1, 10)]
    await asyncio.sleep(0)
    for task in tasks[::2]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    got = await store.get(PROFILES, "u")
    reread = await opened(db_path)
    assert (await reread.get(PROFILES, "u")) == got
    assert (await store.put(PROFILES, "u", {"n": 99}, version=got.version)).version == got.version + 1


async def test_data_must_be_json(db_path: Path) -> None:
    store = await opened(db_path)
    with pytest.raises(StoreError, match="JSON"):
        await store.put(PROFILES, "u", {"when": object()})
    with pytest.raises(StoreError, match="JSON"):
        await store.put(PROFILES, "u", {"x": float("nan")})
    assert await store.get(PROFILES, "u") is None


async def test_a_file_at_the_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "skillcoach.db"
    path.write_text("{}")
    with pytest.raises(StoreError, match="is a file"):
        await opened(path)


@pytest.mark.parametrize("cut", ["half", "empty"])
async def test_a_truncated_shard_is_reported_with_its_name(db_path: Path, cut: str) -> None:
    store = await opened(db_path, shards={"records": 2})
    for i in range(10):
        await store.put(PROFILES, f"u{i}", {"i": i, "text": "Report 07 " * 20})
    shard = store.shard_of(PROFILES, "u1")
    size = shard.stat().st_size
    with open(shard, "r+b") as fh:
        fh.truncate(size // 2 if cut == "half" else 0)
    broken = shard.read_bytes()

    again = await opened(db_path)
    with pytest.raises(StoreError, match=str(shard)):
        await again.get(PROFILES, "u1")
    with pytest.raises(StoreError, match=str(shard)):
        await again.put(PROFILES, "u1", {"i": 1})
    with pytest.raises(StoreError, match=str(shard)):
        [r async for r in again.scan(PROFILES)]
    assert shard.read_bytes() == broken  # never overwritten
    with pytest.raises(StoreError, match=str(shard)):
        await again.get(PROFILES, "u1")  # and reported again, not cached away


CHILD = textwrap.dedent("""
    import asyncio, os, sys
    from bot.store.tinydb_store import TinyDBStore

    async def main(path):
        store = TinyDBStore(path, shards={"records": 4}, cache_shards=2)
        await store.open()
        keys = [f"k{i:02d}" for i in range(12)]
        n = {}
        for key in keys:
            record = await store.get("c", key)
            n[key] = record.data["n"] if record else 0
        print("ready", flush=True)
        pad = "Report 07 " * 400
        while True:
            for key in keys:
                n[key] += 1
                await store.put("c", key, {"n": n[key], "pad": pad})
                os.write(1, f"{key} {n[key]}\\n".encode())  # one write: a whole line or none

    asyncio.run(main(sys.argv[1]))
""")


def test_a_killed_writer_leaves_old_or_new_records(db_path: Path) -> None:
    rng = random.Random()
    acked: dict[str, int] = {f"k{i:02d}": 0 for i in range(12)}
    for _round in range(6):
        stored = _kill_a_writer(CHILD, db_path, acked, rng.uniform(0.02, 0.3))
        ahead = [key for key in acked if stored[key] != acked[key]]
        for key in ahead:  # at most the one write in flight, and only as its new value
            assert stored[key] == acked[key] + 1, (key, stored[key], acked[key])
        assert len(ahead) <= 1
        acked.update(stored)
        assert not list(db_path.rglob("*.tmp"))  # unfinished writes of the dead child were removed


def _kill_a_writer(code: str, db_path: Path, acked: dict[str, int], after: float) -> dict[str, int]:
    """Start a writer child, SIGKILL it `after` seconds into its writes; note in `acked` the last value of each
    key it reported written; check every shard file still loads; the values stored now."""
    child = subprocess.Popen([sys.executable, "-c", code, str(db_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(after)
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate(timeout=30)
    for line in out.splitlines():
        assert len(line.split()) == 2, f"unexpected line {line!r} from the writer"
        key, n = line.split()
        acked[key] = int(n)
    files = sorted((db_path / "records" / "c").glob("*.json"))
    assert files
    for path in files:
        assert AtomicJSONStorage(path).read() is not None  # every shard loads
    return asyncio.run(_read_all(db_path, list(acked)))


async def _read_all(path: Path, keys: list[str]) -> dict[str, int]:
    store = await opened(path)
    try:
        out = {}
        for key in keys:
            record = await store.get("c", key)
            out[key] = record.data["n"] if record else 0
        return out
    finally:
        await store.close()


CONCURRENT_CHILD = textwrap.dedent("""
    import asyncio, os, sys
    from bot.store.tinydb_store import TinyDBStore

    async def writer(store, key, n, pad):
        while True:
            n += 1
            await store.put("c", key, {"n": n, "pad": pad})
            os.write(1, f"{key} {n}\\n".encode())  # one write: a whole line or none

    async def main(path):
        store = TinyDBStore(path, shards={"records": 16}, cache_shards=4)
        await store.open()
        keys = [f"k{i:02d}" for i in range(8)]
        start = {}
        for key in keys:
            record = await store.get("c", key)
            start[key] = record.data["n"] if record else 0
        print("ready", flush=True)
        pad = "Report 07 " * 400
        await asyncio.gather(*(writer(store, key, start[key], pad) for key in keys))

    asyncio.run(main(sys.argv[1]))
""")


def test_a_killed_process_with_grouped_writes_leaves_old_or_new_records(db_path: Path) -> None:
    """8 tasks write at once, so writes are committed in groups; a kill mid-group loses no answered write."""
    rng = random.Random()
    acked: dict[str, int] = {f"k{i:02d}": 0 for i in range(8)}
    for _round in range(5):
        stored = _kill_a_writer(CONCURRENT_CHILD, db_path, acked, rng.uniform(0.05, 0.3))
        for key in acked:  # each task has at most one write in flight: the old value or that one
            assert stored[key] in (acked[key], acked[key] + 1), (key, stored[key], acked[key])
        acked.update(stored)
        assert not list(db_path.rglob("*.tmp"))  # unfinished writes of the dead child were removed


@pytest.mark.parametrize("writer_process", [True, False], ids=["writer process", "worker threads"])
async def test_a_failing_write_fails_alone_in_its_group(db_path: Path, writer_process: bool) -> None:
    store = await opened(db_path, writer_process=writer_process)
    await store.put("good", "k", {"n": 0})
    for _ in range(500):   # the writer process says it runs within moments; until then threads write
        if not writer_process or store.writer_pid is not None:
            break
        await asyncio.sleep(0.01)
    assert (store.writer_pid is not None) == writer_process
    (db_path / "records").mkdir(parents=True, exist_ok=True)
    (db_path / "records" / "bad").write_text("a file where the collection's folder belongs")
    good, bad = await asyncio.gather(store.put("good", "k", {"n": 1}), store.put("bad", "k", {"n": 1}),
                                     return_exceptions=True)
    assert good.version == 2
    assert isinstance(bad, StoreError) and str(db_path / "records" / "bad") in str(bad)
    reread = await opened(db_path)
    assert (await reread.get("good", "k")).data == {"n": 1}


def test_a_loop_stopping_before_a_write_ran_does_not_hang(tmp_path):
    """A put still waiting for its group when the event loop shuts down is given up, not waited for forever
    (asyncio.run cancels it and the group's runner before either ran)."""
    code = textwrap.dedent(f"""
        import asyncio, pathlib
        from bot.store.tinydb_store import TinyDBStore
        async def main():
            store = TinyDBStore(pathlib.Path({str(tmp_path)!r}) / "db", fsync=False)
            await store.open()
            asyncio.ensure_future(store.put("profiles", "k", {{"a": 1}}))
        asyncio.run(main())
        print("stopped")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert (done.returncode, done.stdout.strip()) == (0, "stopped"), done.stderr[-2000:]


async def test_writes_arriving_while_every_job_is_busy_wait_and_are_committed_as_the_next_group(tmp_path: Path):
    """At most `parallel` group jobs run at once; writes that arrive meanwhile wait, and the end of a job
    (signalled by a callback a moment after it finished) starts the next group with all of them."""
    store = await opened(tmp_path / "db")
    await store.put("c", "warm", {"n": 0})
    commit = store._commit = GroupCommit(parallel=1)
    first = asyncio.ensure_future(store.put("a", "k", {"n": -1}))
    await asyncio.sleep(0)           # its job is running in a worker thread
    later = [asyncio.ensure_future(store.put(f"b{i}", "k", {"n": i})) for i in range(4)]
    await asyncio.sleep(0)
    assert (len(commit._jobs), len(commit._pending)) == (1, 4)
    assert [r.version for r in await asyncio.gather(first, *later)] == [1] * 5
    assert (len(commit._jobs), commit._pending) == (0, [])
    reread = await opened(tmp_path / "db")
    assert [(await reread.get(f"b{i}", "k")).data for i in range(4)] == [{"n": i} for i in range(4)]
