"""The sending side of nudges: a worker (any process may run one; several share the work) that claims
due jobs of the queue ``nudges`` with a lease and, for each person, resolves their platform id (the
organisation file, else a cached email lookup), re-checks the opt-out and the frequency cap, waits for
the platform's pacing, reserves the person's nudge slot (an optimistic write of ``nudge_state/<email>``)
and sends through the outbox (`bot.outbox.send_once`: exactly once on Slack whenever the process dies,
at least once on Teams), shielded from cancellation so a shutdown finishes it. A rate limit
(`DeliveryError.retry_after`) puts the job back for that long and slows the platform's bucket. Results
are merged into the fan-out record, which queues the manager's progress messages (teams of 50 or more,
at 25/50/75 %) and final summary in the same queue, so they are durable and sent once too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from bot import outbox
from bot.core import Coach
from bot.delivery import DeliveryError
from bot.nudges.fanout import expand
from bot.nudges.privacy import opted_out, user_opted_out
from bot.nudges.replies import nudge_reply, progress_text, summary_text
from bot.nudges.state import FANOUTS, NUDGE_QUEUE, NUDGE_STATE, recent, set_status, undo_reservation
from bot.org import platform_user_id
from bot.outbox import Busy
from bot.pacing import TokenBucket
from bot.people import Person
from bot.person import read_profile
from bot.store import PROFILES, update
from bot.types import Reply

log = logging.getLogger("skillcoach.nudges")

PROGRESS_MIN_TEAM = 50             # teams at least this big get progress messages
MAX_ATTEMPTS = 6                   # transient failures (not rate limits) before a nudge counts as failed
LEASE_SECONDS = 120.0
IDLE_POLL = 1.0


def lease_seconds(coach: Coach) -> float:
    """How long a claimed nudge job stays leased (SKILLCOACH_NUDGE_LEASE, else LEASE_SECONDS)."""
    configured = coach.settings.nudge_lease or 0
    return float(configured) if float(configured) > 0 else LEASE_SECONDS


class Worker:
    """One process's nudge worker: what it holds, what it is sending, and the platforms' pacing."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self.worker_id = f"nudger-{uuid.uuid4().hex[:10]}"
        self.outbox = outbox.service(coach)   # the pacing of each platform, shared with every proactive message
        self.wake = asyncio.Event()
        self.retry_due: dict[str, float] = {}   # jobs this worker put back, by key -> when due
        self.max_batch = 200                     # jobs claimed at once (about 2 s of sending)
        self._finishing: set[asyncio.Task] = set()
        # stopping (bot/background.py): claim nothing more, finish what is in flight, then return
        self.stopping = False
        self.held: dict[str, Any] = {}              # claimed nudge jobs not yet completed or released
        self.sending: set[asyncio.Future] = set()   # shielded reserve-and-send steps running now
        self._fanouts: dict[str, dict[str, Any]] = {}   # fan-out records by id (their fields never change)

    @property
    def next_due(self) -> float | None:
        return min(self.retry_due.values(), default=None)

    @property
    def period(self) -> float:
        return float(self.coach.settings.nudge_period_days) * 86400.0

    @property
    def rates(self) -> dict[str, float]:
        return self.outbox.rates

    @property
    def buckets(self) -> dict[str, TokenBucket]:
        return self.outbox.buckets

    def bucket(self, name: str) -> TokenBucket:
        """The pacing of messages on a platform ("slack"), or of its email lookups ("slack:lookup")."""
        return self.outbox.bucket(name)

    def batch_size(self) -> int:
        fastest = max((self.rates.get(p, 1.0) for p in self.coach.messengers), default=1.0)
        return int(min(self.max_batch, max(10, fastest * 2)))

    async def run(self, *, until_idle: bool = False) -> None:
        """Process jobs until cancelled (or, with `until_idle`, until nothing is left to do).

        A pipeline: up to `batch_size()` jobs are in flight (each waits for the platform's bucket,
        then sends); more are claimed as soon as half of them are done, and finished jobs are recorded
        and completed in groups while others are still sending.
        """
        inflight: set[asyncio.Task] = set()
        done: list[tuple[Any, str | None]] = []
        try:
            while True:
                self.wake.clear()   # cleared before looking for work: a wake-up during the look is kept
                size = self.batch_size()
                claimed = 0
                if len(inflight) <= size // 2 and not self.stopping:
                    claimed += await self._expand_fanouts()
                    for job in await self._claim(size - len(inflight)):
                        task = asyncio.create_task(self._job_and_keep(job, done))
                        inflight.add(task)
                        task.add_done_callback(inflight.discard)
                        claimed += 1
                if len(done) >= max(1, size // 4) or (done and not inflight):
                    batch, done[:] = list(done), []
                    self._spawn_finish([j for j, _ in batch], [o for _, o in batch])
                if claimed:
                    continue
                if inflight:
                    await asyncio.wait(list(inflight), return_when=asyncio.FIRST_COMPLETED)
                    continue
                if self._finishing:
                    await asyncio.gather(*list(self._finishing), return_exceptions=True)
                    continue
                if self.stopping or (until_idle and not await self._pending()):
                    return
                self._fanouts.clear()
                delay = IDLE_POLL
                if self.next_due is not None:
                    delay = max(0.0, min(delay, self.next_due - self.coach.clock()))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=max(delay, 0.001))
        finally:
            for task in inflight:  # their shielded reserve-and-send parts still finish
                task.cancel()

    async def _pending(self) -> bool:
        return bool(self.retry_due)

    async def _expand_fanouts(self) -> int:
        return await expand(self.coach, self.worker_id, lease_seconds(self.coach))

    async def _claim(self, limit: int) -> list:
        if limit <= 0:
            return []
        now = self.coach.clock()
        jobs = await self.coach.store.claim(NUDGE_QUEUE, self.worker_id, limit=limit, lease=lease_seconds(self.coach), now=now)
        for job in jobs:
            self.retry_due.pop(job.key, None)
            self.held[job.key] = job
        if len(jobs) < limit:  # every due job was free to take: a due one not taken is done or elsewhere
            self.retry_due = {key: due for key, due in self.retry_due.items() if due > now}
        return jobs

    async def _fanout(self, job) -> dict[str, Any]:
        fid = job.payload["fanout"]
        if fid not in self._fanouts:
            record = await self.coach.store.get(FANOUTS, fid)
            self._fanouts[fid] = record.data if record else {}
        return self._fanouts[fid]

    async def _job_and_keep(self, job, done: list) -> None:
        outcome = await self._run_job(job, await self._fanout(job))
        done.append((job, outcome))

    def _spawn_finish(self, jobs, outcomes) -> None:
        task = asyncio.create_task(self._finish(jobs, outcomes))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _finish(self, jobs, outcomes) -> None:
        """Record a group's results in its fan-outs, then complete its jobs."""
        store = self.coach.store
        by_fanout: dict[str, dict[str, str]] = {}
        for job, outcome in zip(jobs, outcomes):
            if outcome is not None and "email" in job.payload:
                by_fanout.setdefault(job.payload["fanout"], {})[job.payload["email"]] = outcome
        for fid, results in by_fanout.items():
            await self._record(fid, results)
        await asyncio.gather(*(store.complete(NUDGE_QUEUE, job.key, self.worker_id, {"outcome": outcome})
                               for job, outcome in zip(jobs, outcomes) if outcome is not None))
        for job in jobs:
            self.held.pop(job.key, None)

    async def _run_job(self, job, fanout: dict[str, Any]) -> str | None:
        try:
            if "kind" in job.payload:
                return await self._send_report(job, fanout)
            return await self._deliver(job, fanout)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug or an unexpected store failure: retry later, then count as failed
            log.exception("nudge job %s failed", job.key)
            if job.attempts >= MAX_ATTEMPTS:
                return "failed"
            await self._retry(job, 2.0 ** job.attempts)
            return None

    async def _retry(self, job, delay: float) -> None:
        due = self.coach.clock() + delay
        await self.coach.store.release(NUDGE_QUEUE, job.key, self.worker_id, due=due)
        self.held.pop(job.key, None)
        self.retry_due[job.key] = due

    async def _deliver(self, job, fanout: dict[str, Any]) -> str | None:
        coach, store = self.coach, self.coach.store
        email = job.payload["email"]
        platform = fanout.get("platform", "")
        state = await store.get(NUDGE_STATE, email)
        if opted_out(state.data if state else None):
            return "opted_out"
        person = coach.directory.by_email(email) or Person(email=email, name=email)
        lookups = self.bucket(f"{platform}:lookup")
        try:
            user_id = await platform_user_id(coach, person, platform, before_lookup=lookups.acquire)
        except DeliveryError as exc:
            if exc.retry_after is not None:
                lookups.penalize(exc.retry_after)
                await self._retry(job, exc.retry_after)
                return None
            return "unreachable"
        if not user_id or platform not in coach.messengers:
            return "unreachable"
        profile_rec = await read_profile(store, f"{platform}:{user_id}")
        profile = profile_rec.data if profile_rec else None
        if await user_opted_out(store, platform, user_id, profile):
            return "opted_out"
        await self.bucket(platform).acquire()
        # Reserving, sending and marking run shielded: cancelling the worker (shutdown) lets them finish
        # and be recorded, so a restart never sends the nudge again and never finds a half-done one.
        step = asyncio.ensure_future(self._reserve_and_send(job, fanout, platform, user_id, email, profile_rec))
        self.sending.add(step)
        step.add_done_callback(self.sending.discard)
        return await asyncio.shield(step)

    async def _reserve_and_send(self, job, fanout, platform, user_id, email, profile_rec) -> str | None:
        store, fid = self.coach.store, job.payload["fanout"]
        now = self.coach.clock()
        taken = False   # the slot is someone else's: opted out, or nudged within the period

        def reserve(current: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal taken
            taken = False
            current = current or {}
            if current.get("fanout") == fid and current.get("status") == "sending":
                # reserved for this very nudge already (by a worker that stopped, or one whose lease ran
                # out): the outbox item says whether it was sent, and the outbox resolves it
                return None
            if opted_out(current):
                taken = True
                return None
            if current.get("fanout") != fid and recent(current, now, self.period):
                taken = True
                return None
            previous = current.get("previous") if current.get("fanout") == fid else current.get("last_nudged_at")
            return {**current, "last_nudged_at": now, "fanout": fid, "status": "sending", "previous": previous}

        await update(store, NUDGE_STATE, email, reserve)
        if taken:
            latest = await store.get(NUDGE_STATE, email)
            return "opted_out" if opted_out(latest.data if latest else None) else "recent"
        reply = nudge_reply(fanout, profile_rec.data if profile_rec else None, now)
        return await self._send_and_mark(job, platform, user_id, email, fid, reply, profile_rec)

    async def _send_and_mark(self, job, platform, user_id, email, fid, reply, profile_rec) -> str | None:
        coach, store = self.coach, self.coach.store
        fanout = await self._fanout(job)
        try:
            outcome = await outbox.send_once(coach, f"nudge:{job.key}", platform, user_id, [reply],
                                             holder=self.worker_id, lease=lease_seconds(coach),
                                             queued_at=fanout.get("created_at"))
        except Busy as busy:
            # another worker holds this nudge's reservation (its job lease ran out while it sent)
            await self._retry(job, max(0.0, busy.until - coach.clock()))
            return None
        except DeliveryError as exc:
            if exc.retry_after is not None:
                self.bucket(platform).penalize(exc.retry_after)
                await set_status(store, email, fid, "retry")
                await self._retry(job, exc.retry_after)
                return None
            if exc.permanent or job.attempts >= MAX_ATTEMPTS:
                await undo_reservation(store, email, fid)
                return "unreachable" if exc.permanent else "failed"
            await set_status(store, email, fid, "retry")
            await self._retry(job, min(60.0, 2.0 ** job.attempts))
            return None
        except Exception:
            log.exception("sending nudge %s failed", job.key)
            await set_status(store, email, fid, "retry")
            if job.attempts >= MAX_ATTEMPTS:
                await undo_reservation(store, email, fid)
                return "failed"
            await self._retry(job, min(60.0, 2.0 ** job.attempts))
            return None
        if outcome.how == "dropped":   # `forget me` after the fan-out began: keep nothing but an opt-out
            state = await store.get(NUDGE_STATE, email)
            if state is not None and not opted_out(state.data):
                await store.delete(NUDGE_STATE, email)
            return "opted_out"
        self.bucket(platform).succeeded()
        if profile_rec is not None:
            now = coach.clock()

            def stamp(data):
                if data is None:
                    return None
                data["last_nudged_at"] = now
                return data

            with contextlib.suppress(Exception):
                await update(store, PROFILES, profile_rec.key, stamp)
        return "sent"

    async def _record(self, fid: str, results: dict[str, str]) -> None:
        """Merge results into the fan-out; queue progress messages and the final summary (once each)."""
        queued: list[tuple[str, dict[str, Any]]] = []

        def merge(data):
            queued.clear()  # update() may call this again on a conflicting write
            if data is None:
                return None
            data["results"].update(results)
            total, done = len(data["targets"]), len(data["results"])
            if total >= PROGRESS_MIN_TEAM:
                mark = (4 * done) // total
                if 0 < mark < 4 and mark > data.get("progress", 0):
                    data["progress"] = mark
                    queued.append((f"{fid}:~progress-{mark}",
                                   {"fanout": fid, "kind": "progress", "done": done, "total": total}))
            if done >= total:
                queued.append((f"{fid}:~summary", {"fanout": fid, "kind": "summary"}))
            return data

        await update(self.coach.store, FANOUTS, fid, merge)
        for key, payload in queued:  # due before the remaining nudges: sent when they are true
            await self.coach.store.enqueue(NUDGE_QUEUE, key, payload, due=-1.0)
        if queued:
            self.wake.set()

    async def _send_report(self, job, fanout: dict[str, Any]) -> str | None:
        """Send a progress message or the final summary to the manager who asked."""
        record = await self.coach.store.get(FANOUTS, job.payload["fanout"])
        if record is None or not record.data.get("reply_to"):
            return "done"
        data = record.data
        text = summary_text(data) if job.payload["kind"] == "summary" else progress_text(job.payload)
        platform = data["platform"]
        await self.bucket(platform).acquire()
        try:
            await asyncio.shield(outbox.send_once(
                self.coach, f"nudge:{job.key}", platform, data["reply_to"], [Reply(text)],
                holder=self.worker_id, lease=lease_seconds(self.coach)))
        except Busy as busy:
            await self._retry(job, max(0.0, busy.until - self.coach.clock()))
            return None
        except DeliveryError as exc:
            if exc.retry_after is not None:
                self.bucket(platform).penalize(exc.retry_after)
                await self._retry(job, exc.retry_after)
                return None
            if not exc.permanent and job.attempts < MAX_ATTEMPTS:
                await self._retry(job, min(60.0, 2.0 ** job.attempts))
                return None
            log.warning("could not send the nudge %s to %s: %s", job.payload["kind"], data.get("manager"), exc)
        return "done"
