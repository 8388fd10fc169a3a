"""The TinyDB store's files: the folder layout, the shard files and how they are written safely.

Layout: `path` (the `SKILLCOACH_DB` setting, e.g. `data/skillcoach.db`) is a *folder*:

    data/skillcoach.db/
        store.json                      format version and the shard count of each kind
        changes                         a byte appended by every write of a process that is not the writer
        records/<collection>/0a3f.json  one TinyDB file per shard of a collection
        dedupe/<namespace>/01c2.json    add_once keys and their expiry times
        queues/<queue>/003e.json        the jobs of one work queue (a queue is its own folder)
        leases/000b.json                named leases

A record is the TinyDB document `{"k": key, "v": version, "d": "<the data as JSON text>"}`: keeping
the data as one string makes writing a shard (JSON-encoding a few dozen strings) and reading one
record (decoding only its own data) cheap, whatever the shape of the data. Jobs, dedupe keys and
leases are stored as plain fields. Collection, namespace and queue names are percent-encoded into
folder names. Shard counts are fixed when the folder is created and read back from `store.json` on
open, so data is always found.

Crash safety: a shard is written to a temporary file in the same folder, flushed, fsynced and then
renamed over the old file (`os.replace`), so a process killed in the middle of a write leaves the old
or the new file, never a broken one. A write may be *staged* (temporary file written, not yet synced
or renamed) so that a group of writes can be synced together and then renamed (bot/store/tinydb_commit.py);
each file is still fsynced before it replaces the old one. Temporary files left by a dead process are
removed on open. A shard file that does not parse (someone truncated or edited it) raises `StoreError`
naming the file; it is never skipped or overwritten.

Spares: creating a file and renaming it over another (which frees the old file's blocks) are the costly
part of such a write (`python bench/store_writes.py` on this project's machines: 0.37 ms a write from one
thread, against 0.22 ms for the same bytes written into an existing file and swapped in). So the one
process that holds the folder's writer lock (`writer.lock`, flock) keeps a spare beside each shard it
writes, `.<shard>.spare`: a write overwrites the
spare, fsyncs it and swaps the two names in one atomic step (Linux `renameat2` with `RENAME_EXCHANGE`),
so the shard is the new file and the spare holds the old one, overwritten by the next write. A crash
leaves the shard old or new as before (a half-written spare is never read). Other processes (an admin
command beside the server), systems without the exchange, and a shard's first write use the temporary
file and rename.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
from collections.abc import Iterator
from hashlib import blake2b
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tinydb import Query, TinyDB
from tinydb.storages import Storage

from bot.errors import StoreError

FORMAT = 1
META_FILE = "store.json"
CHANGES_FILE = "changes"
WRITER_LOCK = "writer.lock"
SPARE_SUFFIX = ".spare"
# Shard counts per kind of data. Records: 4096 shards keep a shard at ~25 profiles (~40 KB) at
# 100,000 users. Dedupe keys live a day; queues are scanned whole by `claim`, so they stay small.
DEFAULT_SHARDS = {"records": 4096, "dedupe": 1024, "queues": 64, "leases": 16}
TABLE = "_default"

_K = Query().k


try:  # renameat2 (glibc 2.28+); elsewhere every write takes the temporary file and rename
    _renameat2: Any = ctypes.CDLL(None, use_errno=True).renameat2
except (OSError, AttributeError):
    _renameat2 = None
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap the names of two existing files in one atomic step; False where that cannot be done (no
    `b` yet, or the system or file system cannot swap), and nothing was changed."""
    global _renameat2
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err == errno.ENOENT:
        return False
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        _renameat2 = None   # not supported here: rename from now on
        return False
    raise OSError(err, os.strerror(err), str(b))


def clone(value: Any) -> Any:
    """A deep copy of JSON data (faster than copy.deepcopy for plain dicts and lists)."""
    return json.loads(json.dumps(value))


def json_text(data: Any, what: str) -> str:
    """Validate and encode a record's data: a dict of JSON-compatible values."""
    if not isinstance(data, dict):
        raise StoreError(f"{what}: data must be a dict, not {type(data).__name__}")
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what}: data is not JSON-compatible: {exc}") from exc


def json_data(data: Any, what: str) -> dict[str, Any]:
    """Validate and copy JSON data (job payloads and results)."""
    return json.loads(json_text(data, what))


def shard_index(key: str, shards: int) -> int:
    """The shard of a key: a stable hash (the same in every process and Python version)."""
    digest = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def folder_name(name: str) -> str:
    """A collection, namespace or queue name as a folder name (percent-encoded)."""
    if not isinstance(name, str) or not name:
        raise StoreError(f"invalid collection name {name!r}")
    return quote(name, safe="").replace(".", "%2E")


class AtomicJSONStorage(Storage):
    """A TinyDB storage for one shard file: parsed once, written atomically.

    `read()` returns the parsed file (kept in memory until the shard leaves the cache); `write()`
    writes a temporary file beside the target, fsyncs it and renames it over the target. Inside
    `batch()` several TinyDB operations share one write; inside `staged()` the write stops after the
    temporary file and `sync_staged()` / `install_staged()` finish it. A file that does not parse
    raises `StoreError` naming it.
    """

    def __init__(self, path: str | Path, *, fsync: bool = True, spare: bool = False,
                 changes: Path | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.fsync = fsync
        self.spare = spare   # this process holds the writer lock: write through a spare (module docstring)
        self.changes = changes   # not the writer: note each write here, so the writer knows to look
        self.checked = -1   # the writer's count of others' writes when this file was last seen current
        self._data: dict[str, dict[str, Any]] | None = None
        self._loaded = False
        self._signature: tuple[int, int, int] | None = None
        self._batch_depth = 0
        self._dirty = False
        self._staging = False
        self._staged: tuple[Path, int] | None = None   # (temporary file, its open descriptor)
        self._captured: list[bytes] | None = None   # inside captured(): the encoded file goes here
        self._index: dict[str, str] | None = None   # key ("k") → document id, for the records' fast path
        self._next_id = 1

    # -- TinyDB's Storage interface ---------------------------------------------------------
    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._load()
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        self._index = None   # TinyDB changed the documents: index them again when next asked
        self._changed()

    def _changed(self) -> None:
        if self._batch_depth:
            self._dirty = True
        else:
            self._flush()

    # -- documents by key (records: one document per key, found without a TinyDB query) ------
    def _keys(self) -> dict[str, str]:
        if self._index is None:
            docs = (self.read() or {}).get(TABLE, {})
            self._index = {doc["k"]: doc_id for doc_id, doc in docs.items() if "k" in doc}
            self._next_id = max((int(i) for i in docs), default=0) + 1
        return self._index

    def document(self, key: str) -> dict[str, Any] | None:
        """The document whose "k" is `key` (the parsed data itself: do not change it)."""
        doc_id = self._keys().get(key)
        return None if doc_id is None else self._data[TABLE][doc_id]  # type: ignore[index]

    def set_document(self, key: str, doc: dict[str, Any]) -> None:
        """Insert or replace the document of `key`, and write the shard (as TinyDB's own writes do)."""
        index = self._keys()
        if self._data is None:
            self._data = {}
        docs = self._data.setdefault(TABLE, {})
        doc_id = index.get(key)
        if doc_id is None:
            doc_id = index[key] = str(self._next_id)
            self._next_id += 1
        docs[doc_id] = doc
        self._changed()

    def remove_document(self, key: str) -> bool:
        doc_id = self._keys().get(key)
        if doc_id is None:
            return False
        del self._index[key]  # type: ignore[index]
        del self._data[TABLE][doc_id]  # type: ignore[index]
        self._changed()
        return True

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
        self._data, self._loaded, self._signature, self._index = None, False, None, None

    # -- staged writes (group commit) -------------------------------------------------------
    @contextlib.contextmanager
    def staged(self) -> Iterator[None]:
        """Writes inside stop once their temporary file is written; on an error it is dropped."""
        self._staging = True
        try:
            yield
        except BaseException:
            if self.has_staged:  # the change was applied in memory: reload the file next time
                self.discard_staged()
                self.invalidate()
            raise
        finally:
            self._staging = False

    @property
    def has_staged(self) -> bool:
        return self._staged is not None

    def sync_staged(self) -> None:
        """fsync the staged temporary file (StoreError, and the write dropped, on failure)."""
        if self._staged is None or not self.fsync:
            return
        try:
            os.fsync(self._staged[1])
        except OSError as exc:
            self._fail_staged(exc)

    def install_staged(self) -> None:
        """Rename the staged (synced) temporary file over the shard file."""
        if self._staged is None:
            return
        tmp, fd = self._staged
        self._staged = None
        try:
            signature = install_file(tmp, fd, self.path, self.spare)
        except OSError as exc:
            self.invalidate()
            raise StoreError(f"cannot write store file {self.path}: {exc}") from exc
        self._signature = signature
        if self.changes is not None:
            note_change(self.changes)

    def installed(self, signature: tuple[int, int, int]) -> None:
        """A captured write was put in place by the writer process: the file is now this one."""
        self._signature = signature

    def discard_staged(self) -> None:
        """Drop a staged write: close and remove its temporary file (the old file stays)."""
        if self._staged is None:
            return
        tmp, fd = self._staged
        self._staged = None
        discard_file(tmp, fd, self.spare)

    def _fail_staged(self, exc: OSError) -> None:
        self.discard_staged()
        self.invalidate()
        raise StoreError(f"cannot write store file {self.path}: {exc}") from exc

    # -- file IO ----------------------------------------------------------------------------
    def _load(self) -> None:
        for attempt in range(3):
            try:
                with open(self.path, "rb") as fh:
                    st = os.fstat(fh.fileno())
                    raw = fh.read()
            except FileNotFoundError:
                self._data, self._loaded, self._signature, self._index = None, True, None, None
                return
            except OSError as exc:
                raise StoreError(f"cannot read store file {self.path}: {exc}") from exc
            try:
                data = json.loads(raw)
                break
            except ValueError as exc:
                if attempt < 2 and self._replaced_since(st):
                    # another process's writer swapped this file out and began overwriting it as its
                    # spare while it was read here: the file under the shard's name now is whole
                    continue
                raise StoreError(
                    f"store file {self.path} is corrupted ({len(raw)} bytes, not valid JSON: {exc}); "
                    "restore it from a backup or move it away"
                ) from exc
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise StoreError(f"store file {self.path} is corrupted: not a TinyDB document set")
        self._data, self._loaded, self._index = data, True, None
        self._signature = (st.st_ino, st.st_mtime_ns, st.st_size)

    def _replaced_since(self, st: os.stat_result) -> bool:
        try:
            return os.stat(self.path).st_ino != st.st_ino
        except OSError:
            return False

    def _flush(self) -> None:
        """Write the temporary file; unless staging, fsync it and rename it over the shard file. Inside
        `captured()` only encode it: the writer process writes it (bot/store/tinydb_writer.py)."""
        payload = json.dumps(self._data or {}, ensure_ascii=False, separators=(",", ":")).encode()
        if self._captured is not None:
            self._captured[:] = [payload]
            return
        self.discard_staged()  # a second write of the same staged job replaces the first
        try:
            self._staged = stage_file(self.path, payload, self.spare)
        except OSError as exc:
            self.invalidate()
            raise StoreError(f"cannot write store file {self.path}: {exc}") from exc
        if not self._staging:
            self.sync_staged()
            self.install_staged()

    @contextlib.contextmanager
    def captured(self) -> Iterator[list[bytes]]:
        """Writes inside change the parsed data and encode the file, but write nothing: the list yielded
        receives the file's bytes. On an error the parsed data is dropped (reloaded on next use)."""
        self._captured = out = []
        try:
            yield out
        except BaseException:
            if out:
                self.invalidate()
            raise
        finally:
            self._captured = None


def note_change(changes: Path) -> None:
    """Tell the folder's writer that a shard changed under it: one byte more in `changes` (its size is
    what the writer compares; bot/store/tinydb_store.py). Where even that byte cannot be written (in the
    folder the shard was just written to) the writer sees the change once the shard leaves its cache."""
    with contextlib.suppress(OSError):
        fd = os.open(changes, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)


def stage_file(path: Path, payload: bytes, spare: bool) -> tuple[Path, int]:
    """Write `payload` into the file that is to replace `path` — its spare, overwritten in place, or a new
    temporary file — and return that file and its open descriptor (not yet synced). Raises OSError,
    leaving nothing open."""
    if spare:   # overwritten in place: no new file
        tmp, flags = path.with_name(f".{path.name}{SPARE_SUFFIX}"), os.O_WRONLY | os.O_CREAT
    else:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = -1
    try:
        try:
            fd = os.open(tmp, flags, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, flags, 0o644)
        write_all(fd, payload)
        if spare:
            os.ftruncate(fd, len(payload))
    except OSError:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp, fd


def write_all(fd: int, data: bytes) -> None:
    """`os.write` until all of `data` is written."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def discard_file(tmp: Path, fd: int, spare: bool) -> None:
    """Drop a staged write: close its file and remove it, unless it is the spare (the next write
    overwrites that); the shard file stays as it was."""
    with contextlib.suppress(OSError):
        os.close(fd)
    if not spare:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def install_file(tmp: Path, fd: int, path: Path, spare: bool) -> tuple[int, int, int]:
    """Put a staged (and synced) file in the place of `path` — swapped with it when it is the spare,
    else renamed over it — and return the new file's (inode, mtime, size). Raises OSError, the staged
    file then removed."""
    try:
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if not (spare and exchange(tmp, path)):  # swapped: the old file is the spare now
            os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return st.st_ino, st.st_mtime_ns, st.st_size


class Shard:
    """One shard file opened as a TinyDB database."""

    __slots__ = ("db", "storage", "table")

    def __init__(self, path: Path, fsync: bool, spare: bool = False, changes: Path | None = None) -> None:
        self.db = TinyDB(path, storage=AtomicJSONStorage, fsync=fsync, spare=spare, changes=changes)
        self.storage: AtomicJSONStorage = self.db.storage  # type: ignore[assignment]
        self.table = self.db.table(TABLE)

    def find(self, key: str) -> Any:
        return self.table.get(_K == key)


def shard_files(folder: Path) -> list[Path]:
    """The shard files of one folder, sorted (temporary files left out)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [folder / name for name in sorted(names) if name.endswith(".json") and not name.startswith(".")]


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
