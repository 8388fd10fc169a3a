"""The store contract (`bot.store.base`), run against every backend in `conftest.BACKENDS`."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import ConflictError
from bot.store.base import PROFILES, Store, update

T0 = 1_000_000.0  # a fixed clock for queue and lease tests


async def collect(store: Store, collection: str, prefix: str = "") -> list[tuple[str, dict, int]]:
    return sorted([(r.key, r.data, r.version) async for r in store.scan(collection, prefix)])


# -- records -----------------------------------------------------------------------------------
async def test_get_missing_is_none(store: Store) -> None:
    assert await store.get(PROFILES, "slack:U1") is None


async def test_put_get_delete(store: Store) -> None:
    record = await store.put(PROFILES, "slack:U1", {"role": "Report 07", "skills": ["sql", "python"]})
    assert (record.key, record.version) == ("slack:U1", 1)
    got = await store.get(PROFILES, "slack:U1")
    assert got is not None and got.data == {"role": "Report 07", "skills": ["sql", "python"]}
    assert got.version == 1
    assert await store.delete(PROFILES, "slack:U1") is True
    assert await store.get(PROFILES, "slack:U1") is None
    assert await store.delete(PROFILES, "slack:U1") is False


async def test_collections_and_keys_are_independent(store: Store) -> None:
    await store.put("profiles", "k", {"n": 1})
    await store.put("conversations", "k", {"n": 2})
    await store.put("profiles", "k2", {"n": 3})
    assert (await store.get("profiles", "k")).data == {"n": 1}
    assert (await store.get("conversations", "k")).data == {"n": 2}
    await store.delete("profiles", "k")
    assert (await store.get("conversations", "k")).data == {"n": 2}
    assert (await store.get("profiles", "k2")).data == {"n": 3}


async def test_returned_and_given_data_are_copies(store: Store) -> None:
    given = {"plan": {"skills": ["sql"]}}
    returned = await store.put(PROFILES, "u", given)
    given["plan"]["skills"].append("changed after put")
    returned.data["plan"]["skills"].append("changed the returned record")
    got = await store.get(PROFILES, "u")
    got.data["plan"]["skills"].append("changed the read record")
    assert (await store.get(PROFILES, "u")).data == {"plan": {"skills": ["sql"]}}


async def test_version_zero_creates_only(store: Store) -> None:
    assert (await store.put(PROFILES, "u", {"n": 1}, version=0)).version == 1
    with pytest.raises(ConflictError):
        await store.put(PROFILES, "u", {"n": 2}, version=0)
    assert (await store.get(PROFILES, "u")).data == {"n": 1}


async def test_stale_version_conflicts(store: Store) -> None:
    await store.put(PROFILES, "u", {"n": 1})
    assert (await store.put(PROFILES, "u", {"n": 2}, version=1)).version == 2
    with pytest.raises(ConflictError):
        await store.put(PROFILES, "u", {"n": 3}, version=1)
    with pytest.raises(ConflictError):
        await store.put(PROFILES, "u", {"n": 3}, version=7)
    with pytest.raises(ConflictError):
        await store.put(PROFILES, "absent", {"n": 1}, version=1)
    got = await store.get(PROFILES, "u")
    assert (got.data, got.version) == ({"n": 2}, 2)
    assert await store.get(PROFILES, "absent") is None


async def test_unconditional_upsert_bumps_version(store: Store) -> None:
    assert (await store.put(PROFILES, "u", {"n": 1})).version == 1
    assert (await store.put(PROFILES, "u", {"n": 2})).version == 2
    assert (await store.put(PROFILES, "u", {"n": 3}, version=None)).version == 3
    assert (await store.get(PROFILES, "u")).data == {"n": 3}


async def test_delete_then_create_only(store: Store) -> None:
    await store.put(PROFILES, "u", {"n": 1})
    await store.put(PROFILES, "u", {"n": 2})
    await store.delete(PROFILES, "u")
    record = await store.put(PROFILES, "u", {"n": 3}, version=0)
    assert record.version == 1


async def test_update_has_no_lost_updates_under_20_tasks(store: Store) -> None:
    async def increment(data):
        await asyncio.sleep(0)  # let the others read the same version
        data = data or {"count": 0}
        data["count"] += 1
        return data

    await asyncio.gather(*(update(store, PROFILES, "counter", increment) for _ in range(20)))
    got = await store.get(PROFILES, "counter")
    assert got.data == {"count": 20}
    assert got.version == 20


async def test_update_returning_none_changes_nothing(store: Store) -> None:
    await store.put(PROFILES, "u", {"n": 1})
    record = await update(store, PROFILES, "u", lambda data: None)
    assert (record.data, record.version) == ({"n": 1}, 1)
    assert await update(store, PROFILES, "absent", lambda data: None) is None
    assert await store.get(PROFILES, "absent") is None


async def test_many_tasks_on_many_keys(store: Store) -> None:
    await asyncio.gather(*(store.put(PROFILES, f"slack:U{i:03d}", {"i": i}) for i in range(60)))
    got = await asyncio.gather(*(store.get(PROFILES, f"slack:U{i:03d}") for i in range(60)))
    assert [g.data["i"] for g in got] == list(range(60))
    deleted = await asyncio.gather(*(store.delete(PROFILES, f"slack:U{i:03d}") for i in range(0, 60, 2)))
    assert all(deleted)
    assert len(await collect(store, PROFILES)) == 30


async def test_scan_with_prefix(store: Store) -> None:
    for key in ("slack:U1", "slack:U2", "teams:29:abc", "slack|x"):
        await store.put(PROFILES, key, {"key": key})
    await store.put("conversations", "slack:U3", {"key": "other collection"})
    await store.put(PROFILES, "slack:U2", {"key": "slack:U2", "again": True})
    await store.delete(PROFILES, "slack|x")
    assert await collect(store, PROFILES, "slack:") == [
        ("slack:U1", {"key": "slack:U1"}, 1),
        ("slack:U2", {"key": "slack:U2", "again": True}, 2),
    ]
    assert [key for key, _, _ in await collect(store, PROFILES)] == ["slack:U1", "slack:U2", "teams:29:abc"]
    assert await collect(store, PROFILES, "nobody") == []
    assert await collect(store, "never-written") == []


# -- dedupe ------------------------------------------------------------------------------------
async def test_add_once(store: Store) -> None:
    assert await store.add_once("slack", "Ev01") is True
    assert await store.add_once("slack", "Ev01") is False
    assert await store.add_once("teams", "Ev01") is True  # namespaces are separate
    assert await store.add_once("slack", "Ev02") is True


async def test_add_once_again_after_ttl(store: Store) -> None:
    assert await store.add_once("slack", "Ev01", ttl=0.05) is True
    assert await store.add_once("slack", "Ev01", ttl=0.05) is False
    await asyncio.sleep(0.1)
    assert await store.add_once("slack", "Ev01", ttl=60) is True
    assert await store.add_once("slack", "Ev01", ttl=60) is False


async def test_add_once_concurrently_admits_one(store: Store) -> None:
    results = await asyncio.gather(*(store.add_once("slack", "Ev09") for _ in range(15)))
    assert results.count(True) == 1


# -- work queue --------------------------------------------------------------------------------
async def test_enqueue_is_idempotent(store: Store) -> None:
    assert await store.enqueue("nudges", "j1", {"user": "slack:U1"}) is True
    assert await store.enqueue("nudges", "j1", {"user": "changed"}) is False
    state = await store.job("nudges", "j1")
    assert state["payload"] == {"user": "slack:U1"}
    assert await store.enqueue("other", "j1", {"user": "slack:U2"}) is True  # queues are separate


async def test_job_states(store: Store) -> None:
    assert await store.job("nudges", "missing") is None
    await store.enqueue("nudges", "j1", {"n": 1}, due=T0)
    assert await store.job("nudges", "j1") == {
        "payload": {"n": 1}, "done": False, "result": None, "attempts": 0,
        "due": T0, "owner": None, "lease_until": 0.0,
    }
    [job] = await store.claim("nudges", "worker-1", lease=30, now=T0)
    assert (job.queue, job.key, job.payload, job.attempts, job.due) == ("nudges", "j1", {"n": 1}, 1, T0)
    state = await store.job("nudges", "j1")
    assert (state["owner"], state["lease_until"], state["attempts"], state["done"]) == (
        "worker-1", T0 + 30, 1, False)
    assert await store.release("nudges", "j1", "worker-1", due=T0 + 100) is True
    state = await store.job("nudges", "j1")
    assert (state["owner"], state["lease_until"], state["due"]) == (None, 0.0, T0 + 100)
    [job] = await store.claim("nudges", "worker-1", lease=30, now=T0 + 100)
    assert job.attempts == 2
    assert await store.complete("nudges", "j1", "worker-1", {"sent": True}) is True
    state = await store.job("nudges", "j1")
    assert (state["done"], state["result"], state["attempts"]) == (True, {"sent": True}, 2)
    assert await store.enqueue("nudges", "j1", {"n": 2}) is False  # done jobs are never enqueued again


async def test_claim_limit_and_order(store: Store) -> None:
    for i, due in enumerate([T0 + 3, T0 + 1, T0 + 2, T0 + 1, T0 + 50]):
        await store.enqueue("q", f"j{i}", {"i": i}, due=due)
    first = await store.claim("q", "w", limit=2, now=T0 + 10)
    assert [j.key for j in first] == ["j1", "j3"]  # earliest due first, then by key
    second = await store.claim("q", "w", limit=5, now=T0 + 10)
    assert [j.key for j in second] == ["j2", "j0"]  # j4 is not due yet
    assert await store.claim("q", "w", limit=5, now=T0 + 10) == []
    assert [j.key for j in await store.claim("q", "w", now=T0 + 50)] == ["j4"]
    assert await store.claim("q", "w", limit=0, now=T0 + 50) == []


async def test_claimed_job_waits_for_lease_expiry(store: Store) -> None:
    await store.enqueue("q", "j", {"x": 1})
    assert [j.key for j in await store.claim("q", "worker-1", lease=60, now=T0)] == ["j"]
    assert await store.claim("q", "worker-2", lease=60, now=T0 + 59) == []
    again = await store.claim("q", "worker-2", lease=60, now=T0 + 61)  # worker-1 died
    assert [(j.key, j.attempts) for j in again] == [("j", 2)]
    assert await store.complete("q", "j", "worker-1") is False  # lost its lease
    assert await store.complete("q", "j", "worker-2", {"ok": 1}) is True
    assert await store.claim("q", "worker-3", now=T0 + 1000) == []


async def test_complete_and_release_by_the_holder_only(store: Store) -> None:
    await store.enqueue("q", "j", {})
    assert await store.complete("q", "j", "worker-1") is False  # never claimed
    await store.claim("q", "worker-1", now=T0)
    assert await store.complete("q", "j", "worker-2") is False
    assert await store.release("q", "j", "worker-2") is False
    assert (await store.job("q", "j"))["owner"] == "worker-1"
    assert await store.complete("q", "j", "worker-1") is True
    assert await store.complete("q", "j", "worker-1") is False
    assert await store.release("q", "j", "worker-1") is False
    assert await store.complete("q", "missing", "worker-1") is False


async def test_released_job_is_claimable_at_due(store: Store) -> None:
    await store.enqueue("q", "j", {})
    await store.claim("q", "worker-1", lease=600, now=T0)
    assert await store.release("q", "j", "worker-1", due=T0 + 30) is True
    assert await store.claim("q", "worker-2", now=T0 + 29) == []
    assert [j.key for j in await store.claim("q", "worker-2", now=T0 + 30)] == ["j"]


async def test_concurrent_claims_share_out_jobs(store: Store) -> None:
    for i in range(7):
        await store.enqueue("q", f"j{i}", {"i": i})
    batches = await asyncio.gather(*(store.claim("q", f"worker-{w}", limit=2, now=T0) for w in range(6)))
    keys = [job.key for batch in batches for job in batch]
    assert sorted(keys) == [f"j{i}" for i in range(7)]  # every job once, none twice


# -- leases ------------------------------------------------------------------------------------
async def test_try_lease_is_exclusive_until_expiry(store: Store) -> None:
    assert await store.try_lease("nudges", "process-a", 10, now=T0) is True
    assert await store.try_lease("nudges", "process-b", 10, now=T0 + 5) is False
    assert await store.try_lease("digest", "process-b", 10, now=T0 + 5) is True  # other name
    assert await store.try_lease("nudges", "process-a", 10, now=T0 + 5) is True  # renewed to T0+15
    assert await store.try_lease("nudges", "process-b", 10, now=T0 + 12) is False
    assert await store.try_lease("nudges", "process-b", 10, now=T0 + 16) is True
    assert await store.try_lease("nudges", "process-a", 10, now=T0 + 17) is False


async def test_try_lease_concurrently_admits_one(store: Store) -> None:
    results = await asyncio.gather(*(store.try_lease("cron", f"p{i}", 30, now=T0) for i in range(10)))
    assert results.count(True) == 1


async def test_get_many_returns_records_in_order_with_none_for_missing(store):
    await store.put("profiles", "a", {"n": 1})
    await store.put("conversations", "a", {"n": 2})
    await store.put("profiles", "a", {"n": 3})
    got = await store.get_many([("conversations", "a"), ("profiles", "missing"), ("profiles", "a")])
    assert [r and (r.key, r.data, r.version) for r in got] == [("a", {"n": 2}, 1), None, ("a", {"n": 3}, 2)]
    assert await store.get_many([]) == []


async def test_queue_stats(store: Store) -> None:
    import time as _time

    empty = await store.queue_stats("stats-q", now=T0)
    assert (empty.waiting, empty.leased, empty.oldest_enqueued_at) == (0, 0, None)
    before = _time.time()
    for key, due in (("a", T0), ("b", T0), ("c", T0 + 1000)):
        await store.enqueue("stats-q", key, {"k": key}, due=due)
    after = _time.time()
    await store.enqueue("other-q", "x", {})
    [job] = await store.claim("stats-q", "w1", limit=1, lease=30, now=T0)
    stats = await store.queue_stats("stats-q", now=T0 + 1)
    assert (stats.waiting, stats.leased) == (2, 1)
    assert before <= stats.oldest_enqueued_at <= after
    # a lease that ran out counts as waiting; done jobs are not counted
    assert (await store.queue_stats("stats-q", now=T0 + 31)).leased == 0
    assert await store.complete("stats-q", job.key, "w1") is True
    stats = await store.queue_stats("stats-q", now=T0 + 1)
    assert (stats.waiting, stats.leased) == (2, 0)
