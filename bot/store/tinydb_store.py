"""The default embedded store: TinyDB, split into many small shard files.

Plain TinyDB keeps a whole database in one JSON file and re-reads and rewrites all of it on every
operation, so its cost grows with the number of users. This backend keeps the TinyDB file format and
API but gives every collection many small TinyDB files ("shards"), chosen by a stable hash of the
key. Reading or writing one record touches one shard of a few dozen records, whatever the total.

The parts: bot/store/tinydb_files.py (the folder layout, the shard files and their atomic writes),
bot/store/tinydb_commit.py (group commit of writes), bot/store/tinydb_queue.py (the work queue and
leases); this module opens the folder, addresses and caches shards, and holds the records and dedupe
API.

Concurrency: the store serves one process. Every operation on a shard runs under an asyncio lock for
that shard (striped locks, bounded memory), so any number of tasks may call any method at once. The
process holding the folder's writer lock hands its writes' file work to a writer process of its own
(bot/store/tinydb_writer.py); without one, writes go to worker threads, grouped with the writes of other
shards that wait at the same time (group commit, bot/store/tinydb_commit.py). Either way fsync never
blocks the event loop. Reads run inline, loading a shard that is not cached (a small file), without
waiting for the lock when no write holds it; admin scans, which read many shards once, load them in a
worker thread. A bounded LRU cache keeps recently used shards parsed. A change made by another process
(an admin command) is seen on the next read: other processes check the file's identity with one `stat`
at each access; the writer, which every other writing process tells by a byte added to the folder's
`changes` file, looks at that file once per records operation and checks its cached shards again only
after it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from tinydb import Query

try:  # the writer lock (flock); where there is none, every write takes the temporary file and rename
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None  # type: ignore[assignment]

from bot.errors import ConflictError, StoreError
from bot.store.base import Record, Store
from bot.store.tinydb_commit import GroupCommit, wait_to_the_end
from bot.store.tinydb_files import (CHANGES_FILE, DEFAULT_SHARDS, FORMAT, META_FILE, WRITER_LOCK, AtomicJSONStorage,
                                    Shard, folder_name, json_text, process_alive, shard_files, shard_index)
from bot.store.tinydb_queue import QueueAndLeases
from bot.store.tinydb_writer import WriterProcess

__all__ = ["TinyDBStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")

LOCK_STRIPES = 1024
MAX_CACHED_PATHS = 65_536    # shard paths remembered (about 10 MB at most; 4,096 per collection)
WRITER_WAIT = 3.0            # seconds to wait for the writer process of a server that died (see below)


class TinyDBStore(QueueAndLeases, Store):
    """The embedded default store (see the module docstring for layout and guarantees).

    `cache_shards` bounds how many parsed shards stay in memory; `offload_io=False` runs file IO
    inline on the event loop instead of in a worker thread.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        shards: dict[str, int] | None = None,
        cache_shards: int = 256,
        fsync: bool = True,
        offload_io: bool = True,
        writer_process: bool = True,
    ) -> None:
        self.path = Path(path)
        self._wanted_shards = {**DEFAULT_SHARDS, **(shards or {})}
        self._shards: dict[str, int] | None = None
        self._cache: OrderedDict[Path, Shard] = OrderedDict()
        self._cache_shards = max(1, cache_shards)
        self._fsync = fsync
        self._offload = offload_io
        self._loop: asyncio.AbstractEventLoop | None = None
        self._locks: list[asyncio.Lock] = []
        self._queue_locks: dict[str, asyncio.Lock] = {}
        self._commit = GroupCommit()
        self._paths: dict[tuple[str, str | None, int], Path] = {}
        self._writer_lock: int | None = None   # held: this instance writes through spares (tinydb_files)
        self._use_writer = writer_process and offload_io
        self._writer: WriterProcess | None = None   # the writer process (tinydb_writer), with the lock
        self._changes = self.path / CHANGES_FILE
        self._others: tuple[int, int, int] | None = None   # the `changes` file as last seen (writer only)
        self._generation = 0   # how often it was seen changed: a cached shard checked since is current

    # -- lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        if self._shards is None:
            self._shards = await asyncio.to_thread(self._open_folder)

    async def close(self) -> None:
        self._cache.clear()
        self._shards = None
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()
        if self._writer_lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._writer_lock)
            self._writer_lock = None

    def _open_folder(self) -> dict[str, int]:
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(
                f"{self.path} is a file, but the TinyDB store keeps a folder of shard files at this "
                "path (SKILLCOACH_DB): move the file away or choose another path"
            )
        meta_path = self.path / META_FILE
        meta = AtomicJSONStorage(meta_path, fsync=self._fsync)  # itself a TinyDB file: table "store"
        stored = meta.read()
        if stored is None:
            self.path.mkdir(parents=True, exist_ok=True)
            shards = dict(self._wanted_shards)
            meta.write({"store": {"1": {"format": FORMAT, "shards": shards}}})
            self._take_writer_lock()
            self._start_writer()
            return shards
        try:
            info = stored["store"]["1"]
            shards = {kind: int(n) for kind, n in info["shards"].items()}
            if info["format"] != FORMAT or set(shards) != set(DEFAULT_SHARDS) or min(shards.values()) < 1:
                raise ValueError(f"unknown format {info.get('format')!r} or shard counts {shards}")
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"store file {meta_path} is not a skillcoach store description: {exc}") from exc
        if shards != self._wanted_shards and self._wanted_shards != DEFAULT_SHARDS:
            log.warning("store %s keeps its existing shard counts %s", self.path, shards)
        self._take_writer_lock()
        self._remove_stale_temp_files()
        self._start_writer()
        return shards

    def _take_writer_lock(self) -> None:
        """Become the folder's writer with spares if no other process (or instance) is (tinydb_files).

        The lock file names the process that took it. When the lock is held but that process is gone,
        the holder is its writer process finishing its last writes (bot/store/tinydb_writer.py): wait
        for it (at most `WRITER_WAIT` seconds) rather than write beside it.
        """
        if fcntl is None or self._writer_lock is not None:
            return
        try:
            fd = os.open(self.path / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return
        deadline = time.monotonic() + WRITER_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline or _holder_alive(fd):
                    os.close(fd)
                    return
                time.sleep(0.02)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._writer_lock = fd

    @property
    def writer_pid(self) -> int | None:
        """The process id of the writer process while writes go through it (bot/store/tinydb_writer.py)."""
        writer = self._writer
        return writer.pid if writer is not None and writer.poll() else None

    def _start_writer(self) -> None:
        if self._use_writer and self._writer_lock is not None and self._writer is None:
            self._writer = WriterProcess.start(self._writer_lock)

    def _remove_stale_temp_files(self) -> None:
        """Delete temporary files left by writers that died (their process no longer exists)."""
        for folder, _dirs, files in os.walk(self.path):
            for name in files:
                if not (name.startswith(".") and name.endswith(".tmp")):
                    continue
                try:
                    pid = int(name.rsplit(".", 2)[-2])
                except ValueError:
                    continue
                if pid != os.getpid() and not process_alive(pid):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(folder, name))
                        log.info("removed an unfinished write %s", os.path.join(folder, name))

    async def _ready(self) -> dict[str, int]:
        if self._shards is None:
            await self.open()
        assert self._shards is not None
        return self._shards

    # -- shard addressing and access --------------------------------------------------------
    def _folder(self, kind: str, name: str | None) -> Path:
        return self.path / kind if name is None else self.path / kind / folder_name(name)

    def _shard_path(self, shards: dict[str, int], kind: str, name: str | None, key: str) -> Path:
        index = shard_index(key, shards[kind])
        path = self._paths.get((kind, name, index))
        if path is None:  # Path joins cost more than the rest of a cached read: each is made once
            path = self._folder(kind, name) / f"{index:04x}.json"
            if len(self._paths) < MAX_CACHED_PATHS:
                self._paths[(kind, name, index)] = path
        return path

    def _bind_loop(self) -> None:
        """Locks belong to one event loop: make a fresh set when used from a new one."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]
            self._queue_locks = {}
            self._commit = GroupCommit()

    def _lock(self, path: Path) -> asyncio.Lock:
        self._bind_loop()
        return self._locks[hash(path) % LOCK_STRIPES]

    def _look_for_others(self) -> None:
        """The writer's check, once per record operation, for writes by other processes: they each add a
        byte to the folder's `changes` file (tinydb_files.note_change); while it is as it was, every
        cached records shard is current without a `stat` of its own. Other processes check every shard."""
        if self._writer_lock is None:
            return
        try:
            st = os.stat(self._changes)
            seen: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            seen = None
        if seen != self._others:
            self._others = seen
            self._generation += 1

    def _cached_shard(self, path: Path, keep: bool, trusted: bool = False) -> Shard:
        """The shard, parsed: from the cache when the file is still the one parsed. `trusted` (a records
        operation that looked for others' writes first): a shard checked since then is not checked again."""
        shard = self._cache.get(path)
        if shard is not None:
            storage = shard.storage
            trusted = trusted and self._writer_lock is not None   # only the writer hears of others' writes
            if (trusted and storage.checked == self._generation) or storage.is_current():
                storage.checked = self._generation
                self._cache.move_to_end(path)
                return shard
            del self._cache[path]
        writer = self._writer_lock is not None
        shard = Shard(path, self._fsync, writer, None if writer else self._changes)
        shard.storage.checked = self._generation
        if keep:
            self._cache[path] = shard
            while len(self._cache) > self._cache_shards:
                self._cache.popitem(last=False)
        return shard

    async def _on_shard(self, path: Path, fn: Callable[[Shard], T], *, write: bool, keep: bool = True,
                        trusted: bool = False) -> T:
        """Run `fn` on one shard under its lock: writes group-committed in a worker thread, reads
        inline (an admin scan's loads, `keep=False`, in a worker thread); see the docstring."""
        async with self._lock(path):
            shard = self._cached_shard(path, keep, trusted)
            try:
                if self._offload and write:
                    if self._writer is not None and self._writer.poll():
                        return await self._write_through(self._writer, fn, shard)
                    return await self._commit.write(fn, shard)
                if self._offload and not keep and not shard.storage.loaded:
                    return await _in_thread_to_the_end(fn, shard)
                return fn(shard)
            except ConflictError:
                raise  # raised before any change
            except BaseException:
                # The shard's parsed data may be half-changed or unreadable: load it afresh next time.
                self._cache.pop(path, None)
                raise

    async def _write_through(self, writer: WriterProcess, fn: Callable[[Shard], T], shard: Shard) -> T:
        """`fn(shard)` applied here, its file written by the writer process; answered once it is in
        place (the caller holds the shard's lock until then, even if cancelled)."""
        storage = shard.storage
        with storage.captured() as payload:
            result = fn(shard)
        if not payload:
            return result   # nothing changed
        written = writer.write(storage.path, payload[0], spare=storage.spare, fsync=storage.fsync)
        try:
            signature = await wait_to_the_end(written)
        except OSError as exc:
            storage.invalidate()
            raise StoreError(f"cannot write store file {storage.path}: {exc}") from exc
        except BaseException:
            storage.invalidate()
            raise
        storage.installed(signature)
        return result

    # -- records ----------------------------------------------------------------------------
    async def get(self, collection: str, key: str) -> Record | None:
        return (await self.get_many([(collection, key)]))[0]

    async def get_many(self, items: list[tuple[str, str]]) -> list[Record | None]:
        shards = self._shards or await self._ready()
        self._look_for_others()
        out: list[Record | None] = []
        for collection, key in items:
            path = self._shard_path(shards, "records", collection, key)
            found, doc = self._read_now(path, key)
            if not found:
                doc = await self._on_shard(path, lambda s, key=key: s.storage.document(key), write=False,
                                           trusted=True)
            out.append(None if doc is None else Record(key, json.loads(doc["d"]), doc["v"]))
        return out

    def _read_now(self, path: Path, key: str) -> tuple[bool, Any]:
        """The document of `key` read right away when no write holds its shard (a read changes nothing
        and the event loop runs nothing else meanwhile): (True, document or None); else (False, None)
        and the caller waits for the shard's lock."""
        if self._lock(path).locked():
            return False, None
        try:
            return True, self._cached_shard(path, True, True).storage.document(key)
        except BaseException:
            self._cache.pop(path, None)   # unreadable: loaded afresh next time
            raise

    async def put(self, collection: str, key: str, data: dict[str, Any], *, version: int | None = None) -> Record:
        text = json_text(data, f"{collection}/{key}")
        path = self._shard_path(await self._ready(), "records", collection, key)

        def write(shard: Shard) -> int:
            doc = shard.storage.document(key)
            current = doc["v"] if doc is not None else 0
            if version is not None and version != current:
                raise ConflictError(f"{collection}/{key}: expected version {version}, found {current}")
            shard.storage.set_document(key, {"k": key, "v": current + 1, "d": text})
            return current + 1

        self._look_for_others()
        new_version = await self._on_shard(path, write, write=True, trusted=True)
        return Record(key, json.loads(text), new_version)

    async def delete(self, collection: str, key: str) -> bool:
        path = self._shard_path(await self._ready(), "records", collection, key)

        def remove(shard: Shard) -> bool:
            return shard.storage.remove_document(key)

        # Reading first keeps a delete of a missing key from writing (and from needing a thread).
        if await self._on_shard(path, lambda s: s.storage.document(key), write=False) is None:
            return False
        return await self._on_shard(path, remove, write=True)

    async def scan(self, collection: str, prefix: str = "") -> AsyncIterator[Record]:
        """Every record whose key starts with `prefix`, shard by shard (sorted within a shard).

        Memory stays bounded by one shard; shards read here do not push others out of the cache.
        """
        await self._ready()

        def matching(shard: Shard) -> list[tuple[str, Any, int]]:
            return sorted(
                (doc["k"], doc["d"], doc["v"]) for doc in shard.table if doc["k"].startswith(prefix)
            )

        for path in await asyncio.to_thread(shard_files, self._folder("records", collection)):
            for key, data, version in await self._on_shard(path, matching, write=False, keep=False):
                yield Record(key, json.loads(data), version)

    # -- dedupe -----------------------------------------------------------------------------
    async def add_once(self, namespace: str, key: str, ttl: float = 86400.0) -> bool:
        path = self._shard_path(await self._ready(), "dedupe", namespace, key)

        def seen(shard: Shard) -> bool:
            doc = shard.find(key)
            return doc is not None and doc["exp"] > time.time()

        if await self._on_shard(path, seen, write=False):
            return False

        def mark(shard: Shard) -> bool:
            now = time.time()
            doc = shard.find(key)
            if doc is not None and doc["exp"] > now:
                return False
            with shard.storage.batch():  # one write: prune expired keys of this shard, add this one
                shard.table.remove(Query().exp <= now)
                shard.table.insert({"k": key, "exp": now + ttl})
            return True

        return await self._on_shard(path, mark, write=True)

    # -- bulk import ------------------------------------------------------------------------
    async def import_records(self, collection: str, items: Iterable[tuple[str, dict[str, Any]]],
                             *, chunk: int = 5000) -> int:
        """Upsert many records, writing each touched shard once per chunk (restore, benchmarks).

        Items are grouped by shard in chunks of `chunk`, so memory stays bounded; items already
        sorted by `shard_index(key, ...)` write every shard about once. Returns the number written.
        """
        shards = await self._ready()
        count = 0
        pending: dict[Path, list[tuple[str, str]]] = {}

        async def flush() -> None:
            for path, batch in pending.items():
                def write(shard: Shard, batch: list[tuple[str, str]] = batch) -> None:
                    with shard.storage.batch():
                        for key, data in batch:
                            doc = shard.storage.document(key)
                            shard.storage.set_document(key, {"k": key, "v": doc["v"] + 1 if doc else 1, "d": data})

                await self._on_shard(path, write, write=True, keep=False)
            pending.clear()

        for key, data in items:
            pending.setdefault(self._shard_path(shards, "records", collection, key), []).append(
                (key, json_text(data, f"{collection}/{key}")))
            count += 1
            if count % chunk == 0:
                await flush()
        await flush()
        return count

    async def collections(self) -> list[str]:
        """The names of the record collections that have files (admin: copy, export)."""
        await self._ready()

        def names() -> list[str]:
            try:
                return sorted(unquote(entry.name) for entry in os.scandir(self.path / "records") if entry.is_dir())
            except FileNotFoundError:
                return []

        return await asyncio.to_thread(names)

    async def count(self, collection: str) -> int:
        """How many records a collection holds (reads every shard: admin paths only)."""
        await self._ready()
        total = 0
        for path in await asyncio.to_thread(shard_files, self._folder("records", collection)):
            total += await self._on_shard(path, lambda s: len(s.table), write=False, keep=False)
        return total

    def shard_of(self, collection: str, key: str) -> Path:
        """The file that holds `key` of `collection` (for admin tools and tests). Needs `open()`."""
        if self._shards is None:
            raise StoreError("open the store first")
        return self._shard_path(self._shards, "records", collection, key)


def _holder_alive(fd: int) -> bool:
    """Whether the process named in the writer lock file (the one that took the lock) is running."""
    try:
        pid = int(os.pread(fd, 32, 0).decode().strip() or 0)
    except (OSError, ValueError):
        return True
    return pid <= 0 or process_alive(pid)


async def _in_thread_to_the_end(fn: Callable[[Shard], T], shard: Shard) -> T:
    """Run `fn(shard)` in a worker thread; if the caller is cancelled, still wait for the thread."""
    return await wait_to_the_end(asyncio.ensure_future(asyncio.to_thread(fn, shard)))
