"""Team nudges: `/nudge-team` (Slack) and `nudge team` (Teams).

A manager (someone with reports in the organisation file, or an admin in SKILLCOACH_ADMINS) asks the
coach to remind their reports (`--all`: their whole reporting tree) to make or refresh a growth plan,
with an optional note. The command is answered at once with what will happen; delivery runs after it:

1. `start_fanout` classifies the team (opted out / nudged within the period / known to be unreachable
   / to nudge), writes one fan-out record and one job in the durable queue ``nudge-fanouts`` — both
   before the acknowledgement, so an acknowledged nudge is never lost.
2. The worker (`worker_task`, started with the server; any process may run it) expands a fan-out into
   one job per person in the queue ``nudges`` (key ``<fanout>:<email>``, enqueue is idempotent), claims
   due jobs with a lease, and for each: resolves the person's platform id (file, else cached email
   lookup), re-checks opt-out and the frequency cap, waits for the platform's pacing, reserves the
   person's nudge slot (an optimistic write of ``nudge_state/<email>``, which is what makes the cap hold
   across managers and processes), and sends through the outbox (`bot.outbox.send_once`: reserved
   right before the platform call, the platform's answer recorded right after; a reservation left by
   a dead process is resolved by asking the platform), then completes the job. Exactly once on Slack
   whatever moment the process dies; on Teams the one nudge in flight may be sent twice (at least once).
   The reserve-send step is shielded from task cancellation, so a shutdown finishes it.
3. `DeliveryError.retry_after` (Slack 429 / Teams throttling) releases the job with due = now +
   retry_after, blocks the platform's bucket for that long and lowers its rate by 10% (recovering by
   1% per successful send up to the configured rate).
4. Results are merged into the fan-out record; progress messages (teams of 50 or more, at 25/50/75%)
   and the final summary to the manager are jobs in the same queue, so they are durable too and sent once.

Recurring nudges (`/nudge-team every 2 weeks`, `/nudge-team stop`) are stored in ``nudge_schedules``;
`schedule_task` fires due schedules while it holds the lease ``nudge-schedule`` (one process at a time,
and each firing has a deterministic fan-out id, so a double firing creates nothing twice).

Rates: messages per second per platform, from ``coach.settings.nudge_rate`` when that setting exists
("slack=4,teams=10"), else DEFAULT_RATES; `configure(coach, rates=...)` overrides them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot import outbox
from bot.delivery import DeliveryError
from bot.outbox import DEFAULT_RATES, LOOKUP_RATES, Busy, TokenBucket  # noqa: F401 - part of this module's API
from bot.org import IDENTITIES, NEGATIVE_TTL, Caller, caller_of, email_of, person_of, platform_user_id, team_for
from bot.people import Person
from bot.store import PROFILES, update
from bot.types import Choice, FollowUp, Incoming, Reply
from bot.messages import Nudges as T

log = logging.getLogger("skillcoach.nudges")

FANOUT_QUEUE = "nudge-fanouts"
NUDGE_QUEUE = "nudges"
FANOUTS = "nudge_fanouts"          # fan-out records, key = fan-out id
NUDGE_STATE = "nudge_state"        # per person (lower-case email): last nudge, its fan-out, opt-out
SCHEDULES = "nudge_schedules"      # recurring nudges, key = manager email
SCHEDULE_LEASE = "nudge-schedule"

RECENT_PLAN_DAYS = 60              # a plan updated within this many days gets the "check in" variant
PROGRESS_MIN_TEAM = 50             # teams at least this big get progress messages
MAX_ATTEMPTS = 6                   # transient failures (not rate limits) before a nudge counts as failed
LEASE_SECONDS = 120.0


def lease_seconds(coach) -> float:
    """How long a claimed nudge job stays leased (SKILLCOACH_NUDGE_LEASE, else LEASE_SECONDS)."""
    configured = getattr(coach.settings, "nudge_lease", 0) or 0
    return float(configured) if float(configured) > 0 else LEASE_SECONDS
IDLE_POLL = 1.0
SCHEDULE_POLL = 30.0
MAX_NOTE = 600
REASONS = ("opted_out", "recent", "unreachable")

@dataclass
class NudgeRequest:
    whole_tree: bool = False
    every_days: float | None = None
    stop: bool = False
    help: bool = False
    status: bool = False
    targets: list[str] = field(default_factory=list)
    note: str = ""
    error: str | None = None


_EVERY = re.compile(r"^(?:--)?every\s+(?:(\d+)\s*)?(day|days|week|weeks|wk|wks|w|month|months)\b[\s,.:;-]*", re.I)
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^<?(?:mailto:)?([^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+?)(?:\|[^>]*)?>?$")


def parse_args(text: str) -> NudgeRequest:
    """`--all`, `every N weeks`, `stop`, leading emails / Slack mentions, and a free note."""
    req = NudgeRequest()
    text = (text or "").strip()
    lowered = text.lower()
    if lowered in ("help", "--help", "?"):
        req.help = True
        return req
    if lowered in ("stop", "--stop", "stop schedule", "off", "unschedule"):
        req.stop = True
        return req
    if lowered in ("status", "--status", "schedule"):
        req.status = True
        return req
    words = text.split()
    if "--all" in words or lowered == "all":
        req.whole_tree = True
        words = [w for w in words if w != "--all"] if lowered != "all" else []
    text = " ".join(words)
    m = _EVERY.match(text)
    if m:
        n = int(m.group(1) or 1)
        unit = m.group(2).lower()
        days = n * (1 if unit.startswith("day") else 30 if unit.startswith("month") else 7)
        if not 7 <= days <= 84:
            req.error = T.BAD_SCHEDULE
        req.every_days = float(days)
        text = text[m.end():]
        if text.lower().startswith("--all"):
            req.whole_tree, text = True, text[5:]
    words = text.split()
    while words:
        mention, email = _MENTION.match(words[0]), _EMAIL.match(words[0])
        if mention:
            req.targets.append(mention.group(1))
        elif email:
            req.targets.append(email.group(1).lower())
        else:
            break
        words.pop(0)
    req.note = " ".join(words)[:MAX_NOTE].strip()
    return req


# -- the service (one per coach) ---------------------------------------------------------------------
class NudgeService:
    def __init__(self, coach) -> None:
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

    # -- starting a fan-out -------------------------------------------------------------------
    async def start_fanout(
        self, *, caller: Caller, platform: str, reply_to: str | None, people: list[Person], note: str,
        fanout_id: str | None = None, scheduled: bool = False,
    ) -> dict[str, Any]:
        """Classify the team, record the fan-out and its job; returns the fan-out record."""
        coach = self.coach
        now = coach.clock()
        fanout_id = fanout_id or f"n{int(now)}-{uuid.uuid4().hex[:8]}"
        skipped: Counter[str] = Counter()
        to_nudge: list[str] = []
        reachable_platform = platform in coach.messengers
        for start in range(0, len(people), 100):  # reads in parallel, a hundred at a time
            chunk = people[start:start + 100]
            reasons = await asyncio.gather(*(self._skip_reason(p, platform, now, reachable_platform) for p in chunk))
            for person, reason in zip(chunk, reasons):
                if reason:
                    skipped[reason] += 1
                else:
                    to_nudge.append(person.email)
        record = {
            "id": fanout_id, "platform": platform, "manager": caller.email, "manager_name": caller.name,
            "reply_to": reply_to, "note": note, "created_at": now, "scheduled": scheduled,
            "team": len(people), "targets": to_nudge, "skipped": dict(skipped), "results": {},
            "progress": 0,
        }
        from bot.errors import ConflictError

        try:
            await coach.store.put(FANOUTS, fanout_id, record, version=0)
        except ConflictError:  # this fan-out (a scheduled firing) exists already
            existing = await coach.store.get(FANOUTS, fanout_id)
            return existing.data if existing else record
        if to_nudge:
            await coach.store.enqueue(FANOUT_QUEUE, fanout_id, {"fanout": fanout_id}, due=0.0)
            self.wake.set()
        return record

    async def _skip_reason(self, person: Person, platform: str, now: float, reachable_platform: bool) -> str | None:
        store = self.coach.store
        state = await store.get(NUDGE_STATE, person.email)
        if state and state.data.get("opted_out"):
            return "opted_out"
        user_id = _known_id(person, platform)
        if user_id is None:
            cached = await store.get(IDENTITIES, f"{platform}:{person.email}")
            if cached is not None:
                user_id = cached.data.get("user_id")
                if not user_id and now - float(cached.data.get("at", 0)) < NEGATIVE_TTL:
                    return "unreachable"
        if user_id:
            profile = await store.get(PROFILES, f"{platform}:{user_id}")
            if profile and profile.data.get("reminders") is False:
                return "opted_out"
            by_user = await store.get(NUDGE_STATE, f"user:{platform}:{user_id}")
            if by_user and by_user.data.get("opted_out"):
                return "opted_out"
        if state and _recent(state.data, now, self.period):
            return "recent"
        if not reachable_platform:
            return "unreachable"
        return None

    # -- the worker ------------------------------------------------------------------------------
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
        """Turn due fan-outs into one job per person (idempotent: a job key is enqueued once)."""
        coach, store = self.coach, self.coach.store
        jobs = await store.claim(FANOUT_QUEUE, self.worker_id, limit=5, lease=lease_seconds(coach), now=coach.clock())
        for job in jobs:
            record = await store.get(FANOUTS, job.key)
            if record is not None:
                targets = record.data["targets"]
                for start in range(0, len(targets), 100):
                    await asyncio.gather(*(
                        store.enqueue(NUDGE_QUEUE, f"{job.key}:{email}", {"fanout": job.key, "email": email})
                        for email in targets[start:start + 100]))
            await store.complete(FANOUT_QUEUE, job.key, self.worker_id)
        return len(jobs)

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
        if state and state.data.get("opted_out"):
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
        profile_rec = await store.get(PROFILES, f"{platform}:{user_id}")
        profile = profile_rec.data if profile_rec else None
        if profile and profile.get("reminders") is False:
            return "opted_out"
        by_user = await store.get(NUDGE_STATE, f"user:{platform}:{user_id}")
        if by_user and by_user.data.get("opted_out"):
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
        recent = False

        def reserve(current: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal recent
            recent = False
            current = current or {}
            if current.get("fanout") == fid and current.get("status") == "sending":
                # reserved for this very nudge already (by a worker that stopped, or one whose lease ran
                # out): the outbox item says whether it was sent, and the outbox resolves it
                return None
            if current.get("opted_out"):
                recent = True
                return None
            if current.get("fanout") != fid and _recent(current, now, self.period):
                recent = True
                return None
            previous = current.get("previous") if current.get("fanout") == fid else current.get("last_nudged_at")
            return {**current, "last_nudged_at": now, "fanout": fid, "status": "sending", "previous": previous}

        await update(store, NUDGE_STATE, email, reserve)
        if recent:
            latest = await store.get(NUDGE_STATE, email)
            return "opted_out" if latest and latest.data.get("opted_out") else "recent"
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
                await _set_status(store, email, fid, "retry")
                await self._retry(job, exc.retry_after)
                return None
            if exc.permanent or job.attempts >= MAX_ATTEMPTS:
                await _undo_reservation(store, email, fid)
                return "unreachable" if exc.permanent else "failed"
            await _set_status(store, email, fid, "retry")
            await self._retry(job, min(60.0, 2.0 ** job.attempts))
            return None
        except Exception:
            log.exception("sending nudge %s failed", job.key)
            await _set_status(store, email, fid, "retry")
            if job.attempts >= MAX_ATTEMPTS:
                await _undo_reservation(store, email, fid)
                return "failed"
            await self._retry(job, min(60.0, 2.0 ** job.attempts))
            return None
        if outcome.how == "dropped":   # `forget me` after the fan-out began: keep nothing but an opt-out
            state = await store.get(NUDGE_STATE, email)
            if state is not None and not state.data.get("opted_out"):
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

    # -- schedules --------------------------------------------------------------------------------
    async def fire_due_schedules(self) -> int:
        """Start the fan-outs of every due schedule (the caller holds the schedule lease)."""
        coach = self.coach
        now = coach.clock()
        fired = 0
        async for record in coach.store.scan(SCHEDULES):
            sched = record.data
            if float(sched.get("next_at", 0)) > now:
                continue
            person = coach.directory.by_email(sched["manager"])
            caller = Caller(sched["manager"], sched.get("name") or (person.name if person else ""),
                            sched["manager"] in coach.settings.admin_emails,
                            coach.directory.is_manager(sched["manager"]))
            people = team_for(coach, caller, whole_tree=bool(sched.get("whole_tree")))
            slot = int(sched["next_at"])
            period = float(sched["every_days"]) * 86400.0
            next_at = float(sched["next_at"]) + period
            while next_at <= now:
                next_at += period

            def advance(data, slot=slot, next_at=next_at):
                if data is None or int(data.get("next_at", 0)) != slot:
                    return None
                data["next_at"] = next_at
                return data

            if not caller.may_manage or not people:
                log.info("schedule of %s stopped: no longer a manager of anyone", sched["manager"])
                await coach.store.delete(SCHEDULES, record.key)
                continue
            await self.start_fanout(
                caller=caller, platform=sched["platform"], reply_to=sched.get("reply_to"), people=people,
                note=sched.get("note", ""), fanout_id=f"s{slot}-{uuid.uuid5(uuid.NAMESPACE_URL, record.key).hex[:12]}",
                scheduled=True,
            )
            await update(coach.store, SCHEDULES, record.key, advance)
            fired += 1
        return fired


def _known_id(person: Person, platform: str) -> str | None:
    return person.slack_id if platform == "slack" else person.teams_id if platform == "teams" else None


def _recent(state: dict[str, Any], now: float, period: float) -> bool:
    last = state.get("last_nudged_at")
    return last is not None and now - float(last) < period


async def _set_status(store, email: str, fid: str, status: str) -> None:
    def change(data):
        if data is None or data.get("fanout") != fid:
            return None
        data["status"] = status
        return data

    await update(store, NUDGE_STATE, email, change)


async def _undo_reservation(store, email: str, fid: str) -> None:
    def change(data):
        if data is None or data.get("fanout") != fid:
            return None
        data.update(last_nudged_at=data.get("previous"), status="undelivered", fanout=None)
        return data

    await update(store, NUDGE_STATE, email, change)


def service(coach) -> NudgeService:
    """The coach's nudge service (created on first use)."""
    svc = getattr(coach, "_nudge_service", None)
    if svc is None:
        svc = NudgeService(coach)
        coach._nudge_service = svc
    return svc


def configure(coach, *, rates: dict[str, float] | None = None) -> NudgeService:
    svc = service(coach)
    if rates:
        svc.rates.update(rates)
        svc.buckets.clear()
    return svc


# -- messages ------------------------------------------------------------------------------------------
def nudge_reply(fanout: dict[str, Any], profile: dict[str, Any] | None, now: float) -> Reply:
    """The direct message one report gets: the manager's note, why it matters, and three choices."""
    plan = (profile or {}).get("plan")
    parts = [T.NUDGE_INTRO.format(manager=fanout.get("manager_name") or "Your manager")]
    if fanout.get("note"):
        parts.append("> " + fanout["note"].replace("\n", "\n> "))
    if plan:
        updated = float(plan.get("updated_at") or plan.get("created_at") or 0)
        if now - updated < RECENT_PLAN_DAYS * 86400:
            parts.append(T.NUDGE_CHECKIN)
            label = T.LABEL_CHECKIN
        else:
            parts.append(T.NUDGE_UPDATE)
            label = T.LABEL_UPDATE
    else:
        parts.append(T.NUDGE_NEW)
        label = T.LABEL_START
    return Reply(
        "\n".join(parts),
        choices=(Choice("nudge:start", label), Choice("nudge:later", T.LABEL_LATER), Choice("nudge:stop", T.LABEL_STOP)),
        prompt_id=f"nudge:{fanout.get('id', '')}",
    )


def _every(days: float) -> str:
    weeks = days / 7
    if weeks == 1:
        return "week"
    return f"{weeks:g} weeks" if weeks == int(weeks) else f"{days:g} days"


def _platform_name(platform: str) -> str:
    return {"slack": "Slack", "teams": "Teams"}.get(platform, platform)


def _skipped_phrase(counts: dict[str, int], platform: str) -> str:
    labels = {"opted_out": "opted out", "recent": "nudged recently",
              "unreachable": f"not reachable on {_platform_name(platform)}"}
    parts = [f"{counts[r]} {labels[r]}" for r in REASONS if counts.get(r)]
    return ", ".join(parts) if parts else "none"


def ack_text(record: dict[str, Any], period_days: float) -> str:
    n = len(record["targets"])
    who = "person" if n == 1 else "people"
    head = (f"I'll nudge *{n}* {who} on {_platform_name(record['platform'])} now."
            if n else "Nobody to nudge right now.")
    skipped = record["skipped"]
    text = f"{head}\nSkipped: {_skipped_phrase(skipped, record['platform'])}."
    if skipped.get("recent"):
        text += f" (Nobody gets more than one nudge every {period_days:g} days.)"
    if n:
        text += "\nI'll send you a summary when it's done."
    return text


def _final_counts(data: dict[str, Any]) -> tuple[int, Counter[str], int]:
    skipped = Counter(data.get("skipped", {}))
    outcomes = Counter(data.get("results", {}).values())
    for reason in REASONS:
        skipped[reason] += outcomes.get(reason, 0)
    return outcomes.get("sent", 0), skipped, outcomes.get("failed", 0)


def summary_text(data: dict[str, Any]) -> str:
    sent, skipped, failed = _final_counts(data)
    kind = "Scheduled nudge" if data.get("scheduled") else "Nudge"
    text = f"{kind} finished: *{sent} sent*.\nSkipped: {_skipped_phrase(skipped, data['platform'])}."
    if failed:
        text += f"\nFailed: {failed} (I couldn't deliver these after several tries)."
    else:
        text += "\nFailed: 0."
    return text


def progress_text(data: dict[str, Any]) -> str:
    done, total = data["done"], data["total"]
    return f"Nudging your team: {done} of {total} done so far."


# -- the command and the buttons --------------------------------------------------------------------------
async def nudge_team_command(coach, incoming: Incoming, person: Person | None) -> list[Reply]:
    svc = service(coach)
    req = parse_args(incoming.text)
    if req.help:
        return [Reply(T.HELP.format(days=f"{coach.settings.nudge_period_days:g}"))]
    caller = caller_of(coach, incoming, await person_of(coach, incoming, person))
    if not caller.may_manage:
        return [Reply(T.NOT_A_MANAGER if person is not None else T.NOT_A_MANAGER_UNKNOWN)]
    if req.error:
        return [Reply(req.error)]
    if req.stop:
        removed = bool(caller.email) and await coach.store.delete(SCHEDULES, caller.email)
        return [Reply(T.SCHEDULE_STOPPED if removed else T.NO_SCHEDULE)]
    if req.status:
        record = await coach.store.get(SCHEDULES, caller.email) if caller.email else None
        if record is None:
            return [Reply(T.NO_SCHEDULE)]
        sched = record.data
        days = max(0, round((float(sched["next_at"]) - coach.clock()) / 86400))
        return [Reply(T.SCHEDULE_STATUS.format(
            every=_every(float(sched["every_days"])), scope="whole reporting tree" if sched.get("whole_tree")
            else "direct reports", days=days, note=f"\nNote: {sched['note']}" if sched.get("note") else ""))]
    people = team_for(coach, caller, whole_tree=req.whole_tree or bool(req.targets))
    if req.targets:
        allowed = {p.email: p for p in people}
        chosen, unknown, outside = [], [], []
        for target in req.targets:
            p = coach.directory.by_email(target) if "@" in target else coach.directory.by_platform(
                incoming.platform, target)
            if p is None:
                unknown.append(target)
            elif p.email in allowed:
                chosen.append(p)
            else:
                outside.append(p.name)
        if outside:
            return [Reply(T.OUTSIDE_TEAM.format(who=", ".join(outside)))]
        if unknown:
            return [Reply(T.UNKNOWN_TARGETS.format(who=", ".join(unknown)))]
        people = list({p.email: p for p in chosen}.values())
    if not people:
        return [Reply(T.ADMIN_NO_TEAM)]
    if incoming.platform not in coach.messengers:
        return [Reply(T.NO_PLATFORM.format(platform=_platform_name(incoming.platform)))]
    replies: list[Reply] = []
    if req.every_days:
        now = coach.clock()
        await coach.store.put(SCHEDULES, caller.email or incoming.user_key, {
            "manager": caller.email, "name": caller.name, "platform": incoming.platform,
            "reply_to": incoming.user_id, "every_days": req.every_days, "whole_tree": req.whole_tree,
            "note": req.note, "next_at": now + req.every_days * 86400.0, "created_at": now,
        })
        replies.append(Reply(T.SCHEDULED.format(every=_every(req.every_days))))
    record = await svc.start_fanout(caller=caller, platform=incoming.platform, reply_to=incoming.user_id,
                                    people=people, note=req.note)
    replies.append(Reply(ack_text(record, coach.settings.nudge_period_days)))
    return replies


async def nudge_action(coach, incoming: Incoming) -> list[Reply]:
    """A report pressed a button on a nudge: start / not now / stop these reminders."""
    action = (incoming.choice or "").partition(":")[2]
    profile = await coach.store.get(PROFILES, incoming.user_key)
    email = await email_of(coach, incoming)
    if action == "stop":
        if profile is not None:
            def off(data):
                if data is None:
                    return None
                data["reminders"] = False
                return data

            await update(coach.store, PROFILES, incoming.user_key, off)
        # by email (what the fan-out checks) or, when the email is unknown, by platform user
        await update(coach.store, NUDGE_STATE, email.lower() if email else f"user:{incoming.user_key}",
                     lambda data: {**(data or {}), "opted_out": True, "opted_out_at": coach.clock()})
        await coach.notify(incoming.user_key, "settings")
        return [Reply(T.STOPPED)]
    if action == "start":
        # the conversation goes on as if the person had typed it (the turn runs the dialog on it)
        return FollowUp("my plan" if profile and profile.data.get("plan") else "start")
    return [Reply(T.LATER)]


async def _on_change(coach, user_key: str, what: str) -> None:
    """Keep the email-keyed opt-out and the identity cache in step with the user's profile."""
    if what == "forgotten":
        await _forget(coach, user_key)
        return
    if what not in ("settings", "plan"):
        return
    record = await coach.store.get(PROFILES, user_key)
    if record is None:
        return
    data = record.data
    email = (data.get("email") or "").lower()
    platform, _, user_id = user_key.partition(":")
    if not email:
        return
    from bot.org import remember_identity

    await remember_identity(coach, platform, email, user_id)
    if data.get("reminders", True):
        def resume(state):
            if state is None or not state.get("opted_out"):
                return None
            state["opted_out"] = False
            return state

        await update(coach.store, NUDGE_STATE, email, resume)


async def _forget(coach, user_key: str) -> None:
    """`forget me`: drop what nudges keep about this user, except an opt-out (so it stays honoured)."""
    store = coach.store
    platform, _, user_id = user_key.partition(":")
    known = await store.get(IDENTITIES, f"{platform}#{user_id}")
    person = coach.directory.by_platform(platform, user_id)
    email = person.email if person else (known.data.get("email") if known else None)
    await outbox.drop_user(coach, user_key)   # nothing queued for them is sent any more
    await store.delete(IDENTITIES, f"{platform}#{user_id}")
    if email:
        await store.delete(IDENTITIES, f"{platform}:{email}")
        state = await store.get(NUDGE_STATE, email)
        if state is not None:
            if state.data.get("opted_out"):
                await store.put(NUDGE_STATE, email, {"opted_out": True})
            else:
                await store.delete(NUDGE_STATE, email)


def register(coach) -> None:
    """Install `/nudge-team` / `nudge team` and the nudge buttons on a coach (once; calling again is harmless)."""
    if coach.command_handlers.get("nudge-team") is nudge_team_command:
        return
    service(coach)
    coach.command_handlers["nudge-team"] = nudge_team_command
    coach.action_handlers["nudge"] = nudge_action

    async def listener(user_key: str, what: str) -> None:
        await _on_change(coach, user_key, what)

    coach.on_change(listener)
    coach.exporters.append(_export)


async def _export(coach, user_key: str) -> dict[str, Any]:
    """`my data`: what nudges keep about this user (when they were last nudged, an opt-out)."""
    platform, _, user_id = user_key.partition(":")
    known = await coach.store.get(IDENTITIES, f"{platform}#{user_id}")
    person = coach.directory.by_platform(platform, user_id)
    email = person.email if person else (known.data.get("email") if known else None)
    state = await coach.store.get(NUDGE_STATE, email.lower()) if email else None
    return {"nudges": state.data if state else None}


# -- background tasks (see bot/background.py) ----------------------------------------------------------------
async def worker_task(coach) -> None:
    """Deliver nudges (and finish whatever a previous process left) until cancelled."""
    svc = service(coach)
    while not svc.stopping:
        try:
            await svc.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("nudge worker crashed; restarting in 5 s")
            await asyncio.sleep(5)


async def schedule_task(coach, *, interval: float = SCHEDULE_POLL) -> None:
    """Fire recurring nudges while this process holds the schedule lease."""
    svc = service(coach)
    while True:
        try:
            if await coach.store.try_lease(SCHEDULE_LEASE, svc.worker_id, interval * 3, now=coach.clock()):
                await svc.fire_due_schedules()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("nudge schedule failed; trying again later")
        await asyncio.sleep(interval)
