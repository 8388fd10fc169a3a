"""Group commit for the TinyDB store: shard writes that wait together share one worker-thread job.

Every write of a shard (a `put`, an `add_once`, a job's change) must reach the disk before it is
answered: temporary file, fsync, rename (bot/store/tinydb_files.py). Done one write per thread job,
concurrent turns each pay a thread hand-off and a journal commit of their own, and on a busy machine
the hand-offs dominate. Here one job at a time runs in a worker thread; writes that arrive while it
runs wait and form the next group. A group's job applies each write's change and writes its
temporary file, then fsyncs all of them (the file system commits them in one journal transaction),
then renames them over their shard files, and only then are the writes answered. Each write is still
its own file, synced before it replaces the old one, so a crash at any point leaves every shard old
or new; a write that fails fails alone.

The caller holds the shard's lock while its write waits (writes in one group are to different
shards) and, if it is cancelled, still waits for the job to finish before giving the lock back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from bot.store.tinydb_files import Shard

T = TypeVar("T")

# one pending write: what to do, on which shard, and the future that answers its caller
_Write = tuple[Callable[[Shard], Any], Shard, "asyncio.Future[Any]"]


class GroupCommit:
    """Runs shard writes in a worker thread, one group at a time (see the module docstring)."""

    def __init__(self) -> None:
        self._pending: list[_Write] = []
        self._runner: asyncio.Task[None] | None = None

    async def write(self, fn: Callable[[Shard], T], shard: Shard) -> T:
        """`fn(shard)` with its write made durable; waits for the job even if cancelled."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((fn, shard, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._run())
            self._runner.add_done_callback(self._stopped)
        return await wait_to_the_end(future)

    def _stopped(self, runner: asyncio.Task[None]) -> None:
        """The runner ended (the loop is shutting down, possibly before it ran at all): writes that never
        reached a worker thread are given up, so their callers stop waiting (no shard was touched).

        A write that arrives after the runner finished but before this callback runs has started a new
        runner: its writes are the new runner's, and are left alone."""
        if runner is not self._runner:
            return
        left, self._pending = self._pending, []
        for _fn, _shard, future in left:
            if not future.done():
                future.cancel()

    async def _run(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
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
