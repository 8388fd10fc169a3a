"""`/nudge-team` at the core level: authorization, opt-outs, the frequency cap, the acknowledgement and
summary, a 429 storm, a worker killed mid-fan-out, schedules."""

from __future__ import annotations

import asyncio
import os

import pytest

from bot import nudges
from bot.nudges import worker as nudge_worker
from bot.nudges.command import parse_args
from bot.nudges.state import NUDGE_STATE, SCHEDULE_LEASE
from bot.delivery import DeliveryError
from bot.pacing import LOOKUP_RATES
from bot.store import PROFILES
from bot.store.memory import MemoryStore
from bot.types import Incoming

from .conftest import ADMIN, Clock, RecordingMessenger, cmd, known_ids, press, report_email, slack_id, storm

MANAGER_A = slack_id("manager-a@")
MANAGER_B = slack_id("manager-b@")
TEAM_A = [report_email(n) for n in range(1, 9)] + ["lead-a1@example.com"]
TREE_A = TEAM_A + [report_email(n) for n in range(9, 13)]


async def drain(coach) -> None:
    await nudges.service(coach).run(until_idle=True)


def slack(coach) -> RecordingMessenger:
    return coach.messengers["slack"]


def nudged(coach) -> list[str]:
    return [uid for uid, replies in slack(coach).sent if replies[0].prompt_id and replies[0].prompt_id.startswith("nudge:")]


async def test_manager_nudges_direct_reports_with_note(make_coach):
    coach = make_coach()
    replies = await coach.handle(cmd("nudge-team", "Please take 10 minutes this week", user=MANAGER_A))
    assert len(replies) == 1
    assert "I'll nudge *9* people on Slack now" in replies[0].text
    assert "Skipped: none." in replies[0].text
    assert slack(coach).sent == []                     # delivery happens after the acknowledgement
    await drain(coach)
    assert sorted(nudged(coach)) == sorted(slack_id(e) for e in TEAM_A)
    message = slack(coach).to(slack_id(report_email(1)))[0]
    assert "*Manager A* asked me" in message.text and "> Please take 10 minutes this week" in message.text
    assert [c.value for c in message.choices] == ["nudge:start", "nudge:later", "nudge:stop"]
    assert message.prompt_id.startswith("nudge:")
    summary = slack(coach).to(MANAGER_A)[-1].text
    assert summary.startswith("Nudge finished: *9 sent*.") and "Skipped: none." in summary and "Failed: 0." in summary
    # even-numbered reports were found by email lookup (paced by their own bucket), and the lookups are cached
    assert report_email(2) in slack(coach).lookups and report_email(1) not in slack(coach).lookups
    assert nudges.service(coach).buckets["slack:lookup"].next_slot > 0
    assert LOOKUP_RATES["slack"] * 60 <= 50                # Slack's Tier 3: about 50 a minute


async def test_whole_tree_and_explicit_targets(make_coach):
    coach = make_coach()
    replies = await coach.handle(cmd("nudge-team", "--all", user=MANAGER_A))
    assert "*13* people" in replies[0].text
    await drain(coach)
    assert sorted(nudged(coach)) == sorted(slack_id(e) for e in TREE_A)

    other = make_coach()
    replies = await other.handle(cmd("nudge-team", f"{report_email(10)} <@{slack_id(report_email(3))}|r3> see you",
                                     user=MANAGER_A))
    assert "*2* people" in replies[0].text
    await drain(other)
    assert sorted(nudged(other)) == sorted([slack_id(report_email(10)), slack_id(report_email(3))])
    assert "> see you" in slack(other).to(slack_id(report_email(10)))[0].text


async def test_non_managers_and_outsiders_are_refused(make_coach):
    coach = make_coach()
    # a report with no reports of their own
    replies = await coach.handle(cmd("nudge-team", user=slack_id(report_email(1))))
    assert "Only managers can nudge a team" in replies[0].text
    # someone not in the organisation file at all
    replies = await coach.handle(cmd("nudge-team", user="UNKNOWN", email="visitor@example.com"))
    assert "couldn't match you to the organisation file" in replies[0].text
    # a manager reaching into another team
    replies = await coach.handle(cmd("nudge-team", f"{report_email(14)} hello", user=MANAGER_A))
    assert "I only nudge your own team" in replies[0].text and "Report 14" in replies[0].text
    replies = await coach.handle(cmd("nudge-team", "nobody@example.com", user=MANAGER_A))
    assert "couldn't find nobody@example.com" in replies[0].text
    await drain(coach)
    assert slack(coach).sent == []


async def test_admin_reaches_everyone_with_all(make_coach):
    coach = make_coach()
    admin = slack_id(ADMIN)  # not in the file with a Slack id: matched by the email the adapter gives
    replies = await coach.handle(cmd("nudge-team", user=admin, email=ADMIN))
    assert "As an admin, use `--all`" in replies[0].text
    replies = await coach.handle(cmd("nudge-team", "--all", user=admin, email=ADMIN))
    assert "*35* people" in replies[0].text            # everyone in the file but the admin
    await drain(coach)
    assert len(set(nudged(coach))) == 35 == len(nudged(coach))


async def test_opt_out_and_frequency_cap_across_managers(make_coach):
    clock = Clock()
    coach = make_coach(clock=clock)
    r1, r2, r3 = (slack_id(report_email(n)) for n in (1, 2, 3))
    # Report 01 said "stop reminders" in the chat (profile), Report 02 pressed "stop" on an old nudge
    await coach.store.put(PROFILES, f"slack:{r1}", {"email": report_email(1), "reminders": False})
    from bot.org.identity import user_id_for_email

    assert await user_id_for_email(coach, report_email(2), "slack") == r2   # reached by email before
    replies = await coach.handle(press("nudge:stop", user=r2, prompt_id="nudge:old"))
    assert "won't get these reminders" in replies[0].text
    # Report 03 was nudged 3 days ago by another manager
    await coach.store.put(NUDGE_STATE, report_email(3), {"last_nudged_at": clock() - 3 * 86400})

    replies = await coach.handle(cmd("nudge-team", user=MANAGER_A))
    ack = replies[0].text
    assert "*6* people" in ack and "Skipped: 2 opted out, 1 nudged recently." in ack
    await drain(coach)
    assert not {r1, r2, r3} & set(nudged(coach))
    assert len(nudged(coach)) == 6

    # the head of the department asks an hour later: nobody gets a second nudge
    clock.advance(3600)
    replies = await coach.handle(cmd("nudge-team", "--all", user=slack_id("head@")))
    ack = replies[0].text
    assert "Skipped: 2 opted out, 7 nudged recently." in ack
    await drain(coach)
    counts: dict[str, int] = {}
    for uid in nudged(coach):
        counts[uid] = counts.get(uid, 0) + 1
    assert max(counts.values()) == 1

    # after the period (14 days) Manager A may nudge again; the opted-out still are not
    clock.advance(15 * 86400)
    replies = await coach.handle(cmd("nudge-team", user=MANAGER_A))
    assert "*7* people" in replies[0].text and "2 opted out" in replies[0].text


async def test_resume_reminders_clears_the_opt_out(make_coach):
    coach = make_coach()
    r1 = slack_id(report_email(1))
    await coach.handle(press("nudge:stop", user=r1, prompt_id="nudge:x"))
    state = await coach.store.get(NUDGE_STATE, report_email(1))
    assert state.data["opted_out"] is True
    replies = await coach.handle(cmd("nudge-team", user=MANAGER_A))
    assert "1 opted out" in replies[0].text
    await coach.handle(Incoming("slack", r1, text="resume reminders"))
    state = await coach.store.get(NUDGE_STATE, report_email(1))
    assert state.data["opted_out"] is False


async def test_checkin_variant_for_recent_plans(make_coach):
    clock = Clock()
    coach = make_coach(clock=clock)
    r1, r3 = slack_id(report_email(1)), slack_id(report_email(3))
    await coach.store.put(PROFILES, f"slack:{r1}", {"email": report_email(1), "reminders": True,
                                                    "plan": {"updated_at": clock() - 5 * 86400}})
    await coach.store.put(PROFILES, f"slack:{r3}", {"email": report_email(3), "reminders": True,
                                                    "plan": {"updated_at": clock() - 200 * 86400}})
    await coach.handle(cmd("nudge-team", user=MANAGER_A))
    await drain(coach)
    assert slack(coach).to(r1)[0].choices[0].label == "Check in on my plan"
    assert slack(coach).to(r3)[0].choices[0].label == "Update my plan"
    assert slack(coach).to(slack_id(report_email(5)))[0].choices[0].label == "Start my plan"
    profile = await coach.store.get(PROFILES, f"slack:{r1}")
    assert profile.data["last_nudged_at"] == clock()


async def test_unreachable_and_failed_are_summarised(make_coach):
    known = known_ids("slack")
    del known[report_email(2)]                          # not on Slack at all
    perm = slack_id(report_email(5))

    def fail(user_id, attempt):
        if user_id == perm:
            raise DeliveryError("account deactivated", permanent=True)
        if user_id == slack_id(report_email(7)):
            raise DeliveryError("server error")          # transient, every time

    messenger = RecordingMessenger("slack", known=known, fail=fail)
    coach = make_coach(messengers=[messenger])
    nudge_worker.MAX_ATTEMPTS, saved = 2, nudge_worker.MAX_ATTEMPTS
    try:
        await coach.handle(cmd("nudge-team", user=MANAGER_A))
        # retries are due later: run the worker against a clock moved forward
        for _ in range(5):
            coach.clock = (lambda base=coach.clock: (lambda: base() + 120))()
            await drain(coach)
    finally:
        nudge_worker.MAX_ATTEMPTS = saved
    summary = messenger.to(MANAGER_A)[-1].text
    assert "*6 sent*" in summary
    assert "Skipped: 2 not reachable on Slack." in summary
    assert "Failed: 1" in summary


async def test_429_storm_every_nudge_delivered_once(make_coach):
    messenger = RecordingMessenger("slack", known=known_ids("slack"), fail=storm(every=3, retry_after=0.02))
    coach = make_coach(messengers=[messenger])
    await coach.handle(cmd("nudge-team", "--all", user=slack_id(ADMIN), email=ADMIN))
    await drain(coach)
    delivered = nudged(coach)
    assert len(delivered) == 35 == len(set(delivered))
    assert messenger.attempts > 35 + 10                 # a third of all attempts were rate limited
    assert "*35 sent*" in messenger.to(slack_id(ADMIN))[-1].text
    bucket = nudges.service(coach).buckets["slack"]
    assert bucket.rate < bucket.configured              # it slowed down


class SlowMessenger(RecordingMessenger):
    """Each send takes a moment, so a worker can be stopped in the middle of a fan-out."""

    async def send(self, user_id, address, replies, **kw):
        await asyncio.sleep(0.002)
        await super().send(user_id, address, replies, **kw)


@pytest.mark.parametrize("backend", ["memory", "tinydb", "postgres"])
async def test_worker_killed_mid_fanout_then_restarted(make_coach, backend, tmp_path):
    from bot.store.tinydb_store import TinyDBStore

    def new_store():
        if backend == "postgres":
            from bot.store.postgres import PostgresStore

            return PostgresStore(os.environ["SKILLCOACH_TEST_DATABASE_URL"], max_size=4)
        return MemoryStore() if backend == "memory" else TinyDBStore(tmp_path / "db", fsync=False)

    if backend == "postgres":
        from tests.store.conftest import make_postgres

        store = await make_postgres(tmp_path)            # skipped without SKILLCOACH_TEST_DATABASE_URL
    else:
        store = new_store()
    await store.open()
    messenger = SlowMessenger("slack", known=known_ids("slack"))
    first = make_coach(store=store, messengers=[messenger])
    nudges.configure(first, rates={"slack": 100.0, "slack:lookup": 1000.0})  # paced: the cut lands mid-fan-out
    replies = await first.handle(cmd("nudge-team", "--all", user=slack_id(ADMIN), email=ADMIN))
    assert "*35* people" in replies[0].text
    worker = asyncio.create_task(nudges.worker_task(first))
    while len(nudged(first)) < 12:
        await asyncio.sleep(0.001)
    worker.cancel()                                     # the process stops in the middle
    with pytest.raises(asyncio.CancelledError):
        await worker
    await asyncio.sleep(0.05)                           # shielded in-flight sends finish
    before = len(nudged(first))
    assert 12 <= before < 35
    if backend != "memory":
        await store.close()
        store = new_store()                             # a new process opens the same files / database
        await store.open()
    clock = Clock()
    clock.advance(600)                                  # the dead worker's leases have expired
    second = make_coach(store=store, clock=clock, messengers=[messenger])
    await drain(second)
    delivered = nudged(second)
    assert len(delivered) == 35 == len(set(delivered)), "each report received the nudge exactly once"
    summaries = [r for r in messenger.to(slack_id(ADMIN)) if r.text.startswith("Nudge finished")]
    assert len(summaries) == 1 and "*35 sent*" in summaries[0].text
    await store.close()


async def test_a_stray_cancel_inside_the_worker_does_not_stop_it(make_coach):
    """A CancelledError raised below the worker although nothing stopped it (a library's or a store's
    bug) restarts the worker's loop: the fan-out still finishes."""
    coach = make_coach()
    store = coach.store
    real_claim = store.claim
    strays = []

    async def claim_once_cancelled(*args, **kwargs):
        if not strays:
            strays.append(1)
            raise asyncio.CancelledError()
        return await real_claim(*args, **kwargs)

    store.claim = claim_once_cancelled
    replies = await coach.handle(cmd("nudge-team", "--all", user=slack_id(ADMIN), email=ADMIN))
    assert "*35* people" in replies[0].text
    worker = asyncio.create_task(nudges.worker_task(coach))
    try:
        while not [r for r in coach.messengers["slack"].to(slack_id(ADMIN)) if r.text.startswith("Nudge finished")]:
            assert not worker.done(), "the worker stopped"
            await asyncio.sleep(0.01)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert strays == [1]
    delivered = nudged(coach)
    assert len(delivered) == 35 == len(set(delivered))


async def test_progress_for_large_teams(make_coach, directory):
    coach = make_coach()
    svc = nudges.service(coach)
    from bot.org.authorization import Caller

    svc.max_batch = 5
    people = list(directory.people.values())
    # 36 people is below the progress threshold; lower it for this test
    saved, nudge_worker.PROGRESS_MIN_TEAM = nudge_worker.PROGRESS_MIN_TEAM, 20
    try:
        await svc.start_fanout(caller=Caller(ADMIN, "Admin A", True, False), platform="slack",
                               reply_to="UADMIN", people=people, note="")
        await drain(coach)
    finally:
        nudge_worker.PROGRESS_MIN_TEAM = saved
    to_admin = [r.text for r in slack(coach).to("UADMIN")]
    progress = [t for t in to_admin if t.startswith("Nudging your team")]
    done = [int(t.split(": ")[1].split(" of ")[0]) for t in progress]
    assert len(progress) == 3 and all(t.endswith(" of 36 done so far.") for t in progress)
    assert done == sorted(done) and 9 <= done[0] < done[2] < 36       # at 25%, 50%, 75%
    assert to_admin[-1].startswith("Nudge finished")


async def test_schedule_every_two_weeks_and_stop(make_coach):
    clock = Clock()
    coach = make_coach(clock=clock)
    replies = await coach.handle(cmd("nudge-team", "every 2 weeks Time for a check-in", user=MANAGER_A))
    assert "every 2 weeks" in replies[0].text and "*9* people" in replies[1].text
    await drain(coach)
    assert len(nudged(coach)) == 9
    svc = nudges.service(coach)
    assert await svc.fire_due_schedules() == 0         # not due yet
    clock.advance(14 * 86400 + 1)
    assert await svc.fire_due_schedules() == 1
    assert await svc.fire_due_schedules() == 0         # fired once per period
    await drain(coach)
    assert len(nudged(coach)) == 18
    assert "> Time for a check-in" in slack(coach).to(slack_id(report_email(1)))[-1].text
    assert slack(coach).to(MANAGER_A)[-1].text.startswith("Scheduled nudge finished: *9 sent*")
    replies = await coach.handle(cmd("nudge-team", "status", user=MANAGER_A))
    assert replies[0].text == ("I nudge your direct reports every 2 weeks; the next one is in 14 days."
                               "\nNote: Time for a check-in")
    replies = await coach.handle(cmd("nudge-team", "stop", user=MANAGER_A))
    assert "stopped" in replies[0].text
    replies = await coach.handle(cmd("nudge-team", "status", user=MANAGER_A))
    assert replies[0].text.startswith("You have no scheduled nudges")
    clock.advance(15 * 86400)
    assert await svc.fire_due_schedules() == 0


async def test_schedule_lease_one_process(make_coach):
    store = MemoryStore()
    a, b = make_coach(store=store), make_coach(store=store)
    assert await store.try_lease(SCHEDULE_LEASE, nudges.service(a).worker_id, 60)
    assert not await store.try_lease(SCHEDULE_LEASE, nudges.service(b).worker_id, 60)


def test_parse_args():
    p = parse_args("--all every 2 weeks Please do it")
    assert (p.whole_tree, p.every_days, p.note) == (True, 14.0, "Please do it")
    assert parse_args("stop").stop
    assert parse_args("every 3 days").error
    p = parse_args("report-01@example.com <@U123|someone> hi there")
    assert p.targets == ["report-01@example.com", "U123"] and p.note == "hi there"
    assert parse_args("Ask report-01@example.com for help").targets == []


async def test_nudge_buttons(make_coach):
    coach = make_coach()
    r4 = slack_id(report_email(4))
    replies = await coach.handle(press("nudge:later", user=r4, prompt_id="nudge:f1"))
    assert "won't remind you again for a while" in replies[0].text
    replies = await coach.handle(press("nudge:start", user=r4, prompt_id="nudge:f1"))
    assert replies and replies[-1].choices                # the interview's first question


async def test_forget_me_keeps_only_the_opt_out(make_coach):
    coach = make_coach()
    r1, r2 = slack_id(report_email(1)), slack_id(report_email(2))
    await coach.handle(cmd("nudge-team", user=MANAGER_A))
    await drain(coach)
    await coach.handle(press("nudge:stop", user=r1, prompt_id="nudge:x"))
    await coach.forget(f"slack:{r1}")
    await coach.forget(f"slack:{r2}")
    assert (await coach.store.get(NUDGE_STATE, report_email(1))).data == {"opted_out": True}
    assert await coach.store.get(NUDGE_STATE, report_email(2)) is None
    assert await coach.store.get("identities", f"slack:{report_email(2)}") is None
    assert await coach.store.get("identities", f"slack#{r2}") is None


async def test_forget_me_during_a_fanout_drops_the_queued_nudge(make_coach):
    coach = make_coach()
    r2 = slack_id(report_email(2))
    replies = await coach.handle(cmd("nudge-team", user=MANAGER_A))
    assert "*9* people" in replies[0].text
    await coach.forget(f"slack:{r2}")                     # before the worker gets to it
    await drain(coach)
    assert r2 not in nudged(coach)
    assert sorted(nudged(coach)) == sorted(slack_id(e) for e in TEAM_A if e != report_email(2))
    assert "*8 sent*" in slack(coach).to(MANAGER_A)[-1].text
    assert await coach.store.get(NUDGE_STATE, report_email(2)) is None   # nothing kept by the skip


async def test_a_retry_taken_by_another_worker_does_not_keep_this_one_busy(make_coach):
    coach = make_coach()
    svc = nudges.service(coach)
    svc.retry_due["gone:report-01@example.com"] = coach.clock() - 1   # released here, finished elsewhere
    await asyncio.wait_for(svc.run(until_idle=True), timeout=5)
    assert svc.retry_due == {}


async def test_two_workers_on_one_store_share_the_fanout(make_coach, monkeypatch):
    monkeypatch.setattr(nudge_worker, "IDLE_POLL", 0.005)         # the other process looks for work often
    store = MemoryStore()
    messenger = SlowMessenger("slack", known=known_ids("slack"))
    a = make_coach(store=store, messengers=[messenger])
    b = make_coach(store=store, messengers=[messenger])
    for coach in (a, b):
        nudges.service(coach).max_batch = 4
    workers = [asyncio.create_task(nudges.worker_task(coach)) for coach in (a, b)]
    await a.handle(cmd("nudge-team", "--all", user=slack_id(ADMIN), email=ADMIN))
    nudges.service(b).wake.set()
    try:
        while not [r for r in messenger.to(slack_id(ADMIN)) if r.text.startswith("Nudge finished")]:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)                           # anything more would show up now
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    delivered = nudged(a)
    assert len(delivered) == 35 == len(set(delivered))
    summaries = [r for r in messenger.to(slack_id(ADMIN)) if r.text.startswith("Nudge finished")]
    assert len(summaries) == 1 and "*35 sent*" in summaries[0].text
    owners = {job["owner"] for (queue, _), job in store._jobs.items() if queue == nudges.NUDGE_QUEUE}
    assert owners == {nudges.service(a).worker_id, nudges.service(b).worker_id}   # both took a share


async def test_console_cannot_deliver_nudges(make_coach):
    coach = make_coach()
    replies = await coach.handle(cmd("nudge-team", platform="console", user="local", email="manager-a@example.com"))
    assert replies[0].text == "I can't send messages on console right now, so nobody was nudged."
    replies = await coach.handle(cmd("nudge-team", "help", user=MANAGER_A))
    assert "every 14 days" in replies[0].text


async def test_a_nudge_reserved_by_another_live_worker_is_not_sent_twice(make_coach):
    # Worker A reserved this nudge in the outbox right before its platform call and its job lease ran
    # out; worker B claims the job and gets as far as sending: it must leave the nudge to A.
    from bot import outbox
    from bot.store.base import Job

    coach = make_coach()
    svc = nudges.service(coach)
    email, fid = report_email(1), "fanout-x"
    job = Job(nudges.NUDGE_QUEUE, f"{fid}:{email}", {"email": email, "fanout": fid}, attempts=2)
    until = coach.clock() + 30
    await coach.store.put(outbox.ITEMS, f"nudge:{job.key}", {
        "state": "reserved", "holder": "worker-a", "until": until, "first_at": coach.clock()})
    messenger = coach.messengers["slack"]
    result = await svc._reserve_and_send(job, {"platform": "slack"}, "slack", slack_id(email), email, None)
    assert result is None                                  # not done: retried when A's reservation ends
    assert svc.retry_due[job.key] == pytest.approx(until, abs=0.01)
    assert messenger.recipients() == []


async def test_a_nudge_whose_sender_died_is_sent_again_where_the_platform_cannot_be_asked(make_coach):
    # A messenger without `find_sent` (Teams) cannot say whether the dead worker's call arrived: the
    # nudge is sent again (at least once), and recorded, so a third worker does not send it a third time.
    from bot import outbox
    from bot.store.base import Job

    coach = make_coach()
    svc = nudges.service(coach)
    email, fid = report_email(1), "fanout-y"
    job = Job(nudges.NUDGE_QUEUE, f"{fid}:{email}", {"email": email, "fanout": fid}, attempts=2)
    await coach.store.put(NUDGE_STATE, email, {"fanout": fid, "status": "sending",
                                                      "last_nudged_at": coach.clock()})
    await coach.store.put(outbox.ITEMS, f"nudge:{job.key}", {
        "state": "reserved", "holder": "worker-a", "until": coach.clock() - 1, "first_at": coach.clock() - 5})
    messenger = coach.messengers["slack"]
    assert await svc._reserve_and_send(job, {"platform": "slack"}, "slack", slack_id(email), email, None) == "sent"
    assert await svc._reserve_and_send(job, {"platform": "slack"}, "slack", slack_id(email), email, None) == "sent"
    assert messenger.recipients() == [slack_id(email)]
    item = await coach.store.get(outbox.ITEMS, f"nudge:{job.key}")
    assert item is not None and item.data["state"] == "sent"


def test_the_nudge_lease_is_a_setting(make_coach):
    assert nudge_worker.lease_seconds(make_coach()) == nudge_worker.LEASE_SECONDS
    assert nudge_worker.lease_seconds(make_coach(nudge_lease=7)) == 7.0
