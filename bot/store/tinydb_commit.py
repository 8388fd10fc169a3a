"""Group commit for the TinyDB store: shard writes that wait together share one worker-thread job.

Every write of a shard (a `put`, an `add_once`, a job's change) must reach the disk before it is
answered: temporary file, fsync, rename (bot/store/tinydb_files.py). Done one write per thread job,
concurrent turns each pay a thread hand-off of their own, and on a busy machine the hand-offs
dominate; done one job at a time, the fsyncs of independent users queue behind each other, although
the file system commits fsyncs that arrive together in one journal transaction (`python
bench/store_writes.py` on this project's machines: 0.37 ms a write from one thread, 0.22 ms from 4). So
up to `PARALLEL` jobs run at once in worker threads, and writes that arrive while all of them are busy
wait and form the next group. A group's job applies each write's change and writes its temporary file,
then fsyncs all of them, then renames them over their shard files, and only then are the writes
answered. Each write is still its own file, synced before it replaces the old one, so a crash at any
point leaves every shard old or new; a write that fails fails alone.

The caller holds the shard's lock while its write waits, so the writes of jobs running at once are to
different shards; if it is cancelled, it still waits for the job to finish before giving the lock back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from bot.store.tinydb_files import Shard

T = TypeVar("T")

PARALLEL = 4   # group jobs at once (the loop's default executor has min(32, cores + 4) threads)

# one pending write: what to do, on which shard, and the future that answers its caller
_Write = tuple[Callable[[Shard], Any], Shard, "asyncio.Future[Any]"]


class GroupCommit:
    """Runs shard writes in worker threads, in groups (see the module docstring)."""

    def __init__(self, parallel: int = PARALLEL) -> None:
        self._pending: list[_Write] = []
        self._jobs: set[asyncio.Task[None]] = set()
        self._parallel = max(1, parallel)

    async def write(self, fn: Callable[[Shard], T], shard: Shard) -> T:
        """`fn(shard)` with its write made durable; waits for the job even if cancelled."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((fn, shard, future))
        self._start()
        return await wait_to_the_end(future)

    def _start(self) -> None:
        """A job for the waiting writes, unless `PARALLEL` jobs are running (one that ends starts the next)."""
        if not self._pending or len(self._jobs) >= self._parallel:
            return
        group, self._pending = self._pending, []
        job = asyncio.ensure_future(self._commit(group))
        self._jobs.add(job)
        job.add_done_callback(functools.partial(self._ended, group))

    def _ended(self, group: list[_Write], job: asyncio.Task[None]) -> None:
        """A job ended (its done callback, a moment later). Normally the writes that waited meanwhile get
        the next job. A job cancelled (the loop is shutting down, possibly before the job ran at all) gives
        up its own writes that never reached a worker thread and those still waiting, so their callers stop
        waiting (no shard was touched)."""
        self._jobs.discard(job)
        if not job.cancelled():
            self._start()
            return
        left, self._pending = group + self._pending, []
        for _fn, _shard, future in left:
            if not future.done():
                future.cancel()

    async def _commit(self, group: list[_Write]) -> None:
        job = asyncio.ensure_future(asyncio.to_thread(commit_group, group))
        stopped = False
        try:
            await wait_to_the_end(job)
        except asyncio.CancelledError:
            stopped = True  # the loop is shutting down: the group is still answered below
        except BaseException:  # noqa: S110 - read from the job below
            pass
        if job.cancelled():
            outcomes: list[tuple[Any, BaseException | None]] = [(None, None)] * len(group)
        elif job.exception() is not None:
            outcomes = [(None, job.exception())] * len(group)
        else:
            outcomes = job.result()
        for (_fn, _shard, future), (value, error) in zip(group, outcomes):
            if future.done():
                continue
            if job.cancelled():
                future.cancel()
            elif error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
        if stopped:
            raise asyncio.CancelledError()


def commit_group(group: list[_Write]) -> list[tuple[Any, BaseException | None]]:
    """In the worker thread: apply and stage every write, fsync them all, then rename them all."""
    outcomes: list[tuple[Any, BaseException | None]] = []
    for fn, shard, _future in group:
        try:
            with shard.storage.staged():
                outcomes.append((fn(shard), None))
        except BaseException as exc:
            outcomes.append((None, exc))
    for step in ("sync_staged", "install_staged"):
        for i, (_fn, shard, _future) in enumerate(group):
            if not shard.storage.has_staged:
                continue
            if outcomes[i][1] is not None:
                shard.storage.discard_staged()
                continue
            try:
                getattr(shard.storage, step)()
            except BaseException as exc:
                outcomes[i] = (None, exc)
    return outcomes


async def wait_to_the_end(future: asyncio.Future[T]) -> T:
    """Await `future`; if the caller is cancelled, still wait for it, then re-raise the cancel.

    The shard lock must not be released while a thread is changing the shard.
    """
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(future)
        if not future.cancelled():
            future.exception()  # retrieved: the caller is gone, the error (if any) was the shard's
        raise
