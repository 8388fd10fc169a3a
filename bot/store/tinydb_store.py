"""The default embedded store: TinyDB, split into many small shard files.

Plain TinyDB keeps a whole database in one JSON file and re-reads and rewrites all of it on every
operation, so its cost grows with the number of users. This backend keeps the TinyDB file format and
API but gives every collection many small TinyDB files ("shards"), chosen by a stable hash of the
key. Reading or writing one record touches one shard of a few dozen records, whatever the total.

Layout: `path` (the `SKILLCOACH_DB` setting, e.g. `data/skillcoach.db`) is a *folder*:

    data/skillcoach.db/
        store.json                      format version and the shard count of each kind
        records/<collection>/0a3f.json  one TinyDB file per shard of a collection
        dedupe/<namespace>/01c2.json    add_once keys and their expiry times
        queues/<queue>/003e.json        the jobs of one work queue (a queue is its own folder)
        leases/000b.json                named leases

A record is the TinyDB document `{"k": key, "v": version, "d": "<the data as JSON text>"}`: keeping
the data as one string makes writing a shard (JSON-encoding a few dozen strings) and reading one
record (decoding only its own data) cheap, whatever the shape of the data. Jobs, dedupe keys and
leases are stored as plain fields. Collection, namespace and queue names are percent-encoded into
folder names. Shard counts are
fixed when the folder is created and read back from `store.json` on open, so data is always found.

Crash safety: a shard is written to a temporary file in the same folder, flushed, fsynced and then
renamed over the old file (`os.replace`), so a process killed in the middle of a write leaves the old
or the new file, never a broken one. Temporary files left by a dead process are removed on open. A
shard file that does not parse (someone truncated or edited it) raises `StoreError` naming the file;
it is never skipped or overwritten.

Concurrency: the store serves one process. Every operation on a shard runs under an asyncio lock for
that shard (striped locks, bounded memory), so any number of tasks may call any method at once.
File IO (writing a shard, loading one that is not cached) runs in a worker thread so fsync never
blocks the event loop; reads of a cached shard run inline. A bounded LRU cache keeps recently used
shards parsed; each access checks the file's identity with one `stat`, so a change made by another
process (an admin command) is seen on the next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from hashlib import blake2b
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from tinydb import Query, TinyDB
from tinydb.storages import Storage

from bot.errors import ConflictError, StoreError
from bot.store.base import Job, QueueStats, Record, Store

log = logging.getLogger(__name__)

T = TypeVar("T")

FORMAT = 1
META_FILE = "store.json"
# Shard counts per kind of data. Records: 4096 shards keep a shard at ~25 profiles (~40 KB) at
# 100,000 users. Dedupe keys live a day; queues are scanned whole by `claim`, so they stay small.
DEFAULT_SHARDS = {"records": 4096, "dedupe": 1024, "queues": 64, "leases": 16}
LOCK_STRIPES = 1024
TABLE = "_default"

_K = Query().k


def _clone(value: Any) -> Any:
    """A deep copy of JSON data (faster than copy.deepcopy for plain dicts and lists)."""
    return json.loads(json.dumps(value))


def _json_text(data: Any, what: str) -> str:
    """Validate and encode a record's data: a dict of JSON-compatible values."""
    if not isinstance(data, dict):
        raise StoreError(f"{what}: data must be a dict, not {type(data).__name__}")
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what}: data is not JSON-compatible: {exc}") from exc


def _json_data(data: Any, what: str) -> dict[str, Any]:
    """Validate and copy JSON data (job payloads and results)."""
    return json.loads(_json_text(data, what))


def shard_index(key: str, shards: int) -> int:
    """The shard of a key: a stable hash (the same in every process and Python version)."""
    digest = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def _folder_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise StoreError(f"invalid collection name {name!r}")
    return quote(name, safe="").replace(".", "%2E")


class AtomicJSONStorage(Storage):
    """A TinyDB storage for one shard file: parsed once, written atomically.

    `read()` returns the parsed file (kept in memory until the shard leaves the cache); `write()`
    writes a temporary file beside the target, fsyncs it and renames it over the target. Inside
    `batch()` several TinyDB operations share one write. A file that does not parse raises
    `StoreError` naming it.
    """

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.fsync = fsync
        self._data: dict[str, dict[str, Any]] | None = None
        self._loaded = False
        self._signature: tuple[int, int, int] | None = None
        self._batch_depth = 0
        self._dirty = False

    # -- TinyDB's Storage interface ---------------------------------------------------------
    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._load()
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        if self._batch_depth:
            self._dirty = True
        else:
            self._flush()

    # -- cache state ------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._loaded

    def is_current(self) -> bool:
        """True if the parsed data still matches the file on disk (one stat call)."""
        if not self._loaded:
            return False
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self._signature is None
        except OSError:
            return False
        return self._signature == (st.st_ino, st.st_mtime_ns, st.st_size)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes: the file is written once, when the outermost batch ends without error.

        On an error nothing is written and the parsed data is dropped (TinyDB changes it in place),
        so the next read loads the file as it is on disk.
        """
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            self._batch_depth -= 1
            self._dirty = False
            self.invalidate()
            raise
        self._batch_depth -= 1
        if self._batch_depth == 0 and self._dirty:
            self._dirty = False
            self._flush()

    def invalidate(self) -> None:
        self._data, self._loaded, self._signature = None, False, None

    # -- file IO ----------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                raw = fh.read()
        except FileNotFoundError:
            self._data, self._loaded, self._signature = None, True, None
            return
        except OSError as exc:
            raise StoreError(f"cannot read store file {self.path}: {exc}") from exc
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise StoreError(
                f"store file {self.path} is corrupted ({len(raw)} bytes, not valid JSON: {exc}); "
                "restore it from a backup or move it away"
            ) from exc
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise StoreError(f"store file {self.path} is corrupted: not a TinyDB document set")
        self._data, self._loaded = data, True
        self._signature = (st.st_ino, st.st_mtime_ns, st.st_size)

    def _flush(self) -> None:
        payload = json.dumps(self._data or {}, ensure_ascii=False, separators=(",", ":")).encode()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            except FileNotFoundError:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view):]
                if self.fsync:
                    os.fsync(fd)
                st = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            self.invalidate()
            raise StoreError(f"cannot write store file {self.path}: {exc}") from exc
        self._signature = (st.st_ino, st.st_mtime_ns, st.st_size)


class _Shard:
    """One shard file opened as a TinyDB database."""

    __slots__ = ("db", "storage", "table")

    def __init__(self, path: Path, fsync: bool) -> None:
        self.db = TinyDB(path, storage=AtomicJSONStorage, fsync=fsync)
        self.storage: AtomicJSONStorage = self.db.storage  # type: ignore[assignment]
        self.table = self.db.table(TABLE)

    def find(self, key: str) -> Any:
        return self.table.get(_K == key)


class TinyDBStore(Store):
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
    ) -> None:
        self.path = Path(path)
        self._wanted_shards = {**DEFAULT_SHARDS, **(shards or {})}
        self._shards: dict[str, int] | None = None
        self._cache: OrderedDict[Path, _Shard] = OrderedDict()
        self._cache_shards = max(1, cache_shards)
        self._fsync = fsync
        self._offload = offload_io
        self._loop: asyncio.AbstractEventLoop | None = None
        self._locks: list[asyncio.Lock] = []
        self._queue_locks: dict[str, asyncio.Lock] = {}

    # -- lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        if self._shards is None:
            self._shards = await asyncio.to_thread(self._open_folder)

    async def close(self) -> None:
        self._cache.clear()
        self._shards = None

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
        self._remove_stale_temp_files()
        return shards

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
                if pid != os.getpid() and not _process_alive(pid):
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
        return self.path / kind if name is None else self.path / kind / _folder_name(name)

    def _shard_path(self, shards: dict[str, int], kind: str, name: str | None, key: str) -> Path:
        return self._folder(kind, name) / f"{shard_index(key, shards[kind]):04x}.json"

    def _bind_loop(self) -> None:
        """Locks belong to one event loop: make a fresh set when used from a new one."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]
            self._queue_locks = {}

    def _lock(self, path: Path) -> asyncio.Lock:
        self._bind_loop()
        return self._locks[hash(path) % LOCK_STRIPES]

    def _cached_shard(self, path: Path, keep: bool) -> _Shard:
        shard = self._cache.get(path)
        if shard is not None:
            if shard.storage.is_current():
                self._cache.move_to_end(path)
                return shard
            del self._cache[path]
        shard = _Shard(path, self._fsync)
        if keep:
            self._cache[path] = shard
            while len(self._cache) > self._cache_shards:
                self._cache.popitem(last=False)
        return shard

    async def _on_shard(self, path: Path, fn: Callable[[_Shard], T], *, write: bool, keep: bool = True) -> T:
        """Run `fn` on one shard under its lock; file IO in a worker thread (see the docstring)."""
        async with self._lock(path):
            shard = self._cached_shard(path, keep)
            try:
                if self._offload and (write or not shard.storage.loaded):
                    return await _in_thread_to_the_end(fn, shard)
                return fn(shard)
            except ConflictError:
                raise  # raised before any change
            except BaseException:
                # The shard's parsed data may be half-changed or unreadable: load it afresh next time.
                self._cache.pop(path, None)
                raise

    # -- records ----------------------------------------------------------------------------
    async def get(self, collection: str, key: str) -> Record | None:
        path = self._shard_path(await self._ready(), "records", collection, key)
        doc = await self._on_shard(path, lambda s: s.find(key), write=False)
        return None if doc is None else Record(key, json.loads(doc["d"]), doc["v"])

    async def put(self, collection: str, key: str, data: dict[str, Any], *, version: int | None = None) -> Record:
        text = _json_text(data, f"{collection}/{key}")
        path = self._shard_path(await self._ready(), "records", collection, key)

        def write(shard: _Shard) -> int:
            doc = shard.find(key)
            current = doc["v"] if doc is not None else 0
            if version is not None and version != current:
                raise ConflictError(f"{collection}/{key}: expected version {version}, found {current}")
            fields = {"k": key, "v": current + 1, "d": text}
            if doc is None:
                shard.table.insert(fields)
            else:
                shard.table.update(fields, doc_ids=[doc.doc_id])
            return current + 1

        new_version = await self._on_shard(path, write, write=True)
        return Record(key, json.loads(text), new_version)

    async def delete(self, collection: str, key: str) -> bool:
        path = self._shard_path(await self._ready(), "records", collection, key)

        def remove(shard: _Shard) -> bool:
            doc = shard.find(key)
            if doc is None:
                return False
            shard.table.remove(doc_ids=[doc.doc_id])
            return True

        # Reading first keeps a delete of a missing key from writing (and from needing a thread).
        if await self._on_shard(path, lambda s: s.find(key), write=False) is None:
            return False
        return await self._on_shard(path, remove, write=True)

    async def scan(self, collection: str, prefix: str = "") -> AsyncIterator[Record]:
        """Every record whose key starts with `prefix`, shard by shard (sorted within a shard).

        Memory stays bounded by one shard; shards read here do not push others out of the cache.
        """
        await self._ready()

        def matching(shard: _Shard) -> list[tuple[str, Any, int]]:
            return sorted(
                (doc["k"], doc["d"], doc["v"]) for doc in shard.table if doc["k"].startswith(prefix)
            )

        for path in await asyncio.to_thread(_shard_files, self._folder("records", collection)):
            for key, data, version in await self._on_shard(path, matching, write=False, keep=False):
                yield Record(key, json.loads(data), version)

    # -- dedupe -----------------------------------------------------------------------------
    async def add_once(self, namespace: str, key: str, ttl: float = 86400.0) -> bool:
        path = self._shard_path(await self._ready(), "dedupe", namespace, key)

        def seen(shard: _Shard) -> bool:
            doc = shard.find(key)
            return doc is not None and doc["exp"] > time.time()

        if await self._on_shard(path, seen, write=False):
            return False

        def mark(shard: _Shard) -> bool:
            now = time.time()
            doc = shard.find(key)
            if doc is not None and doc["exp"] > now:
                return False
            with shard.storage.batch():  # one write: prune expired keys of this shard, add this one
                shard.table.remove(Query().exp <= now)
                shard.table.insert({"k": key, "exp": now + ttl})
            return True

        return await self._on_shard(path, mark, write=True)

    # -- work queue -------------------------------------------------------------------------
    async def _job_path(self, queue: str, key: str) -> Path:
        return self._shard_path(await self._ready(), "queues", queue, key)

    async def enqueue(self, queue: str, key: str, payload: dict[str, Any], *, due: float = 0.0) -> bool:
        body = _json_data(payload, f"queue {queue}/{key}")

        def add(shard: _Shard) -> bool:
            if shard.find(key) is not None:
                return False
            shard.table.insert({
                "k": key, "payload": body, "done": False, "result": None, "attempts": 0,
                "due": float(due), "owner": None, "lease_until": 0.0, "enqueued_at": time.time(),
            })
            return True

        return await self._on_shard(await self._job_path(queue, key), add, write=True)

    async def claim(self, queue: str, worker: str, *, limit: int = 10, lease: float = 60.0,
                    now: float | None = None) -> list[Job]:
        """Lease the `limit` earliest due jobs (by due time, then key) across the queue's shards."""
        await self._ready()
        now = time.time() if now is None else now
        if limit <= 0:
            return []

        def claimable(doc: Any) -> bool:
            return not doc["done"] and doc["due"] <= now and doc["lease_until"] <= now

        self._bind_loop()
        queue_lock = self._queue_locks.setdefault(queue, asyncio.Lock())
        async with queue_lock:  # claims of one queue run one at a time; other job calls interleave
            candidates: list[tuple[float, str, Path]] = []
            for path in await asyncio.to_thread(_shard_files, self._folder("queues", queue)):
                found = await self._on_shard(
                    path, lambda s: [(d["due"], d["k"]) for d in s.table if claimable(d)], write=False)
                candidates.extend((due, key, path) for due, key in found)
            candidates.sort()
            by_shard: dict[Path, list[str]] = {}
            for _due, key, path in candidates[:limit]:
                by_shard.setdefault(path, []).append(key)

            claimed: list[Job] = []
            for path, keys in by_shard.items():
                def take(shard: _Shard, keys: list[str] = keys) -> list[Job]:
                    jobs = []
                    with shard.storage.batch():
                        for key in keys:
                            doc = shard.find(key)
                            if doc is None or not claimable(doc):
                                continue  # completed or released in between
                            attempts = doc["attempts"] + 1
                            shard.table.update(
                                {"owner": worker, "lease_until": now + lease, "attempts": attempts},
                                doc_ids=[doc.doc_id])
                            jobs.append(Job(queue, key, _clone(doc["payload"]), attempts, doc["due"]))
                    return jobs

                claimed.extend(await self._on_shard(path, take, write=True))
            claimed.sort(key=lambda job: (job.due, job.key))
            return claimed

    async def complete(self, queue: str, key: str, worker: str, result: dict[str, Any] | None = None) -> bool:
        stored = None if result is None else _json_data(result, f"queue {queue}/{key} result")
        return await self._change_job(queue, key, worker, {"done": True, "result": stored, "lease_until": 0.0})

    async def release(self, queue: str, key: str, worker: str, *, due: float = 0.0) -> bool:
        return await self._change_job(queue, key, worker, {"owner": None, "lease_until": 0.0, "due": float(due)})

    async def _change_job(self, queue: str, key: str, worker: str, fields: dict[str, Any]) -> bool:
        def change(shard: _Shard) -> bool:
            doc = shard.find(key)
            if doc is None or doc["owner"] != worker or doc["done"]:
                return False
            shard.table.update(fields, doc_ids=[doc.doc_id])
            return True

        return await self._on_shard(await self._job_path(queue, key), change, write=True)

    async def job(self, queue: str, key: str) -> dict[str, Any] | None:
        doc = await self._on_shard(await self._job_path(queue, key), lambda s: s.find(key), write=False)
        if doc is None:
            return None
        return {name: _clone(value) for name, value in doc.items() if name not in ("k", "enqueued_at")}

    async def queue_stats(self, queue: str, *, now: float | None = None) -> QueueStats:
        """One read of each of the queue's shards (as `claim` does)."""
        await self._ready()
        now = time.time() if now is None else now

        def count(shard: _Shard) -> tuple[int, int, float | None]:
            waiting = leased = 0
            oldest: float | None = None
            for doc in shard.table:
                if doc["done"]:
                    continue
                if doc["lease_until"] > now:
                    leased += 1
                else:
                    waiting += 1
                at = doc.get("enqueued_at")
                if at and (oldest is None or at < oldest):
                    oldest = at
            return waiting, leased, oldest

        waiting = leased = 0
        oldest: float | None = None
        for path in await asyncio.to_thread(_shard_files, self._folder("queues", queue)):
            w, n, at = await self._on_shard(path, count, write=False)
            waiting, leased = waiting + w, leased + n
            if at is not None and (oldest is None or at < oldest):
                oldest = at
        return QueueStats(waiting, leased, oldest)

    # -- leases -----------------------------------------------------------------------------
    async def try_lease(self, name: str, owner: str, ttl: float, *, now: float | None = None) -> bool:
        path = self._shard_path(await self._ready(), "leases", None, name)
        at = time.time() if now is None else now

        def take(shard: _Shard) -> bool:
            doc = shard.find(name)
            if doc is not None and doc["owner"] != owner and doc["until"] > at:
                return False
            fields = {"k": name, "owner": owner, "until": at + ttl}
            if doc is None:
                shard.table.insert(fields)
            else:
                shard.table.update(fields, doc_ids=[doc.doc_id])
            return True

        return await self._on_shard(path, take, write=True)

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
                def write(shard: _Shard, batch: list[tuple[str, str]] = batch) -> None:
                    with shard.storage.batch():
                        index = {doc["k"]: doc for doc in shard.table}
                        new = []
                        for key, data in batch:
                            doc = index.get(key)
                            if doc is None:
                                doc = {"k": key, "v": 1, "d": data}
                                index[key] = doc
                                new.append(doc)
                            else:
                                fields = {"v": doc["v"] + 1, "d": data}
                                if hasattr(doc, "doc_id"):
                                    shard.table.update(fields, doc_ids=[doc.doc_id])
                                doc.update(fields)
                        if new:
                            shard.table.insert_multiple(new)

                await self._on_shard(path, write, write=True, keep=False)
            pending.clear()

        for key, data in items:
            pending.setdefault(self._shard_path(shards, "records", collection, key), []).append(
                (key, _json_text(data, f"{collection}/{key}")))
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
        for path in await asyncio.to_thread(_shard_files, self._folder("records", collection)):
            total += await self._on_shard(path, lambda s: len(s.table), write=False, keep=False)
        return total

    def shard_of(self, collection: str, key: str) -> Path:
        """The file that holds `key` of `collection` (for admin tools and tests). Needs `open()`."""
        if self._shards is None:
            raise StoreError("open the store first")
        return self._shard_path(self._shards, "records", collection, key)


async def _in_thread_to_the_end(fn: Callable[[_Shard], T], shard: _Shard) -> T:
    """Run `fn(shard)` in a worker thread; if the caller is cancelled, still wait for the thread.

    The shard lock must not be released while a thread is changing the shard.
    """
    future = asyncio.ensure_future(asyncio.to_thread(fn, shard))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(future)
        if not future.cancelled():
            future.exception()  # retrieved: the caller is gone, the error (if any) was the shard's
        raise


def _shard_files(folder: Path) -> list[Path]:
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [folder / name for name in sorted(names) if name.endswith(".json") and not name.startswith(".")]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
