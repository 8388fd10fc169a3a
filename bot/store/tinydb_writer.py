"""The TinyDB store's writer process: shard files written, fsynced and put in place outside the server.

A write's file work — writing the spare (or a temporary file), fsync, the exchange (or rename) — is
system calls, but done by a worker thread of the server each of them hands the interpreter lock back
and forth with the event loop, which on a busy server costs more than the calls themselves (`python
bench/store_writes.py`). So the process that holds the folder's writer lock starts one small process of
its own, `python -m bot.store.tinydb_writer`, and hands it each write as bytes: the server applies the
change to its parsed shard and encodes the file (`AtomicJSONStorage.captured`), the writer process
writes that file exactly as the store would (`stage_file`, fsync, `install_file`), in groups — every
write that arrived while it was busy is written, then all are fsynced, then all put in place — and
answers each with the new file's identity, after which the server answers the write's caller. The
caller holds the shard's lock until then, so nothing reads a change before it is on disk.

Protocol on the child's stdin and stdout (little-endian): a request is `<IIHB` (id, payload length,
path length, flags: 1 spare, 2 fsync) then the path and the payload; an answer is `<IiQqQ` (id, 0 or
the errno of the failure, inode, mtime in ns, size). The child holds the writer lock too (its
descriptor is inherited), so a server started after the old one was killed waits for the old writer
to finish its last group (`TinyDBStore._take_writer_lock`). It ignores SIGINT and SIGTERM and stops at
the end of its input: when the server closes the store, or dies. If it cannot be started or stops,
the store writes through worker threads as before (bot/store/tinydb_commit.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.errors import StoreError
from bot.store.tinydb_files import discard_file, install_file, stage_file, write_all

log = logging.getLogger(__name__)

REQUEST = struct.Struct("<IIHB")
ANSWER = struct.Struct("<IiQqQ")
SPARE, FSYNC = 1, 2
READY = 0   # the id of the answer the child sends once it is running (requests count from 1)

Signature = tuple[int, int, int]


# -- the child ----------------------------------------------------------------------------------
def _requests(buf: bytearray) -> tuple[list[tuple[int, Path, bytes, int]], int]:
    """The whole requests at the start of `buf`, and how many bytes they took."""
    out, at = [], 0
    while len(buf) - at >= REQUEST.size:
        rid, size, plen, flags = REQUEST.unpack_from(buf, at)
        end = at + REQUEST.size + plen + size
        if len(buf) < end:
            break
        start = at + REQUEST.size
        path = Path(os.fsdecode(bytes(buf[start:start + plen])))
        out.append((rid, path, bytes(buf[start + plen:end]), flags))
        at = end
    return out, at


def write_group(group: list[tuple[int, Path, bytes, int]]) -> bytes:
    """Stage every write, fsync them all, put them all in place; the answers, in order."""
    answers: dict[int, tuple[int, Signature]] = {}
    staged: list[tuple[int, Path, int, Path, int]] = []
    for rid, path, payload, flags in group:
        try:
            tmp, fd = stage_file(path, payload, bool(flags & SPARE))
            staged.append((rid, tmp, fd, path, flags))
        except OSError as exc:
            answers[rid] = (exc.errno or errno.EIO, (0, 0, 0))
    synced = []
    to_sync = [fd for _rid, _tmp, fd, _path, flags in staged if flags & FSYNC]
    # fsyncs that run at once share the file system's journal commits: several at a time when there are
    outcomes = dict(zip(to_sync, (_pool().map(_fsync, to_sync) if len(to_sync) > 1 else map(_fsync, to_sync))))
    for rid, tmp, fd, path, flags in staged:
        error = outcomes.get(fd)
        if error is None:
            synced.append((rid, tmp, fd, path, flags))
            continue
        answers[rid] = (error.errno or errno.EIO, (0, 0, 0))
        discard_file(tmp, fd, bool(flags & SPARE))
    for rid, tmp, fd, path, flags in synced:
        try:
            answers[rid] = (0, install_file(tmp, fd, path, bool(flags & SPARE)))
        except OSError as exc:
            answers[rid] = (exc.errno or errno.EIO, (0, 0, 0))
    return b"".join(ANSWER.pack(rid, answers[rid][0], *answers[rid][1]) for rid, *_ in group)


_POOL: ThreadPoolExecutor | None = None
SYNC_THREADS = 4


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="fsync")
    return _POOL


def _fsync(fd: int) -> OSError | None:
    try:
        os.fsync(fd)
    except OSError as exc:
        return exc
    return None


def main() -> None:
    """The writer process: requests from stdin, answers to stdout, until stdin ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the server decides when this ends (its input closes)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.write(1, ANSWER.pack(READY, 0, 0, 0, 0))
    except OSError:
        return
    buf = bytearray()
    while True:
        group, used = _requests(buf)
        if not group:
            try:
                chunk = os.read(0, 1 << 20)
            except OSError:
                return
            if not chunk:
                return   # the server closed the store or died: every whole request was answered
            buf += chunk
            continue
        del buf[:used]
        try:
            write_all(1, write_group(group))
        except OSError:
            return   # the server is gone


# -- the server's side ----------------------------------------------------------------------------
class WriterProcess:
    """The server's handle on its writer process (see the module docstring)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self._in = proc.stdin.fileno()
        self._out = proc.stdout.fileno()
        os.set_blocking(self._out, False)
        os.set_blocking(self._in, False)
        self._unsent = bytearray()   # requests the pipe had no room for yet (sent when it has)
        self._pending: dict[int, asyncio.Future[Signature]] = {}
        self._next = 0
        self._buf = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.alive = True
        self.ready = False   # the child said it runs (until then the store writes from threads)

    @classmethod
    def start(cls, lock_fd: int | None) -> WriterProcess | None:
        """Start the writer process (None, and a warning, if it cannot be)."""
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        try:
            proc = subprocess.Popen(  # noqa: S603 - this interpreter, this module
                [sys.executable, "-m", "bot.store.tinydb_writer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                env=env, pass_fds=() if lock_fd is None else (lock_fd,), start_new_session=True, bufsize=0)
        except OSError as exc:
            log.warning("the store's writer process cannot start (%s); writing from worker threads", exc)
            return None
        return cls(proc)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def poll(self) -> bool:
        """True once the child said it runs (its answers are read by the loop of the first write)."""
        if not self.ready and self.alive:
            self._readable()
        return self.ready and self.alive

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._loop is not None:
            self._detach()
            self._fail(StoreError("the store was used from another event loop"))
        self._loop = loop
        loop.add_reader(self._out, self._readable)

    def write(self, path: Path, payload: bytes, *, spare: bool, fsync: bool) -> asyncio.Future[Signature]:
        """Hand `payload` to the writer process to be written as `path`: a future of the new file's
        identity once it is in place (an OSError if it could not be written)."""
        self._bind()
        assert self._loop is not None
        future: asyncio.Future[Signature] = self._loop.create_future()
        if not self.alive:
            future.set_exception(StoreError("the store's writer process stopped"))
            return future
        self._next = rid = self._next % 0xFFFFFFFF + 1
        self._pending[rid] = future
        raw = os.fsencode(path)
        frame = REQUEST.pack(rid, len(payload), len(raw), (SPARE if spare else 0) | (FSYNC if fsync else 0))
        self._send(frame + raw + payload)
        return future

    def _send(self, data: bytes) -> None:
        if self._unsent:
            self._unsent += data
            return
        try:
            sent = os.write(self._in, data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._stopped(f"cannot reach it: {exc}")
            return
        if sent < len(data):
            self._unsent += data[sent:]
            assert self._loop is not None
            self._loop.add_writer(self._in, self._writable)

    def _writable(self) -> None:
        try:
            sent = os.write(self._in, self._unsent)
        except BlockingIOError:
            return
        except OSError as exc:
            self._stopped(f"cannot reach it: {exc}")
            return
        del self._unsent[:sent]
        if not self._unsent and self._loop is not None:
            self._loop.remove_writer(self._in)

    def _readable(self) -> None:
        try:
            chunk = os.read(self._out, 1 << 16)
        except BlockingIOError:
            return
        except OSError as exc:
            self._stopped(str(exc))
            return
        if not chunk:
            self._stopped("it ended")
            return
        self._buf += chunk
        whole = len(self._buf) - len(self._buf) % ANSWER.size
        for at in range(0, whole, ANSWER.size):
            rid, err, ino, mtime, size = ANSWER.unpack_from(self._buf, at)
            if rid == READY:
                self.ready = True
                continue
            future = self._pending.pop(rid, None)
            if future is None or future.done():
                continue
            if err:
                future.set_exception(OSError(err, os.strerror(err)))
            else:
                future.set_result((ino, mtime, size))
        del self._buf[:whole]

    def _stopped(self, why: str) -> None:
        if self.alive:
            log.warning("the store's writer process stopped (%s); writing from worker threads", why)
        self.alive = False
        self._detach()
        self._unsent.clear()
        self._fail(StoreError(f"the store's writer process stopped ({why})"))

    def _detach(self) -> None:
        """Stop watching the pipes from the loop they were watched from (it may be closed already)."""
        if self._loop is None:
            return
        for remove, fd in ((self._loop.remove_reader, self._out), (self._loop.remove_writer, self._in)):
            with contextlib.suppress(Exception):
                remove(fd)

    def _fail(self, exc: BaseException) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(exc)

    async def close(self, timeout: float = 10.0) -> None:
        """End its input, let it finish the writes it has, and wait for it to exit."""
        self._detach()
        if self._unsent:   # the loop is going away: what is left goes out blocking
            with contextlib.suppress(OSError):
                os.set_blocking(self._in, True)
                write_all(self._in, bytes(self._unsent))
            self._unsent.clear()
        self.alive = False
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        try:
            await asyncio.to_thread(self._proc.wait, timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            await asyncio.to_thread(self._proc.wait)
        with contextlib.suppress(OSError):
            self._proc.stdout.close()
        self._fail(StoreError("the store was closed"))


if __name__ == "__main__":
    main()
