"""`/team-skills` latency for a team of 50 in an organisation of 10,000 people, with 10,000 introductions
stored against the same with 100 (TinyDB store): the report reads by key, so the ratio should be near 1.

    python bench/report.py [--people 10000] [--team 50] [--runs 40]

Also printed, for scale: one scan over the introductions, which is what the report did before it read
introduction histories by key; counting the team live (what a request did before the report read its
snapshot); and taking the scheduled snapshot of the whole organisation.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from bot import intros, report, snapshot  # noqa: E402
from bot.catalog import load_catalog  # noqa: E402
from bot.core import Coach  # noqa: E402
from bot.org import load_directory  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import PROFILES  # noqa: E402
from bot.store.tinydb_store import TinyDBStore  # noqa: E402
from bot.types import Incoming  # noqa: E402
from dialogs.conversation import Conversation  # noqa: E402

PATHS = ("upskill", "reskill")
SKILLS = ("sql", "python", "data-literacy", "leadership", "public-speaking", "stakeholder-management")


def uid(n: int) -> str:
    return f"U{n:06d}"


def email(n: int) -> str:
    return f"person-{n:06d}@example.com"


def write_org(path: Path, people: int, team: int) -> None:
    entries = [{"email": email(0), "name": "Manager", "role": "Engineering manager", "slack_id": uid(0)}]
    for n in range(1, people):
        entry = {"email": email(n), "name": f"Person {n}", "role": "Data analyst", "slack_id": uid(n)}
        if n <= team:
            entry["manager"] = email(0)
        elif n > team + 1:
            entry["manager"] = email(team + 1)  # the rest of the organisation, in another tree
        entries.append(entry)
    path.write_text(yaml.safe_dump({"people": entries}, sort_keys=False))


async def build(folder: Path, people: int, team: int, introductions: int):
    catalog = load_catalog()
    org = folder / "org.yaml"
    write_org(org, people, team)
    directory = load_directory(org, catalog)
    store = TinyDBStore(folder / "db")
    await store.open()
    coach = Coach(Settings(_env_file=None, database_url="memory:", slack_bot_token="", teams_enabled=False),
                  store, catalog, directory, dialog=Conversation())
    report.register(coach)
    for n in range(1, team + 1):
        key = f"slack:{uid(n)}"
        await coach.index_email(key, old=None, new=email(n))
        skills = [{"id": s, "name": s, "done": (n + i) % 3 == 0} for i, s in enumerate(SKILLS[n % 3:n % 3 + 3])]
        await store.put(PROFILES, key, {"email": email(n), "platform": "slack", "user_id": uid(n),
                                        "consent_share": True, "updated_at": 1.0,
                                        "plan": {"path": PATHS[n % 2], "skills": skills}})
    for i in range(introductions):
        requester = 1 + (i * 7919) % (people - 1)
        await store.put(intros.INTROS, f"intro-{i}", {"status": "accepted" if i % 2 else "declined",
                                                      "requester": {"email": email(requester),
                                                                    "user_key": f"slack:{uid(requester)}"}})
        if i % 2:
            await store.put(intros.HISTORY, f"slack:{uid(requester)}", {"accepted": [f"intro-{i}"]})
    return coach, store


async def latency(coach, runs: int) -> tuple[float, float]:
    incoming = Incoming("slack", uid(0), command="team-skills", text="")
    await coach.handle(incoming)  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        replies = await coach.handle(incoming)
        times.append((time.perf_counter() - t) * 1000)
        assert replies and replies[0].card is not None, replies
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


async def scan_ms(store) -> float:
    t = time.perf_counter()
    async for _ in store.scan(intros.INTROS):
        pass
    return (time.perf_counter() - t) * 1000


async def live_count_ms(coach, runs: int) -> float:
    """Counting the team's snapshot on a request, as a caller with none yet has it done."""
    incoming = Incoming("slack", uid(0), command="team-skills", text="")
    times = []
    for _ in range(max(3, runs // 4)):
        await coach.store.delete(snapshot.SNAPSHOTS, email(0))
        t = time.perf_counter()
        await coach.handle(incoming)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


async def take_s(coach) -> tuple[float, int]:
    t = time.perf_counter()
    callers = await snapshot.take(coach)
    return time.perf_counter() - t, callers


async def main_async(args) -> None:
    results = {}
    for introductions in (100, args.introductions):
        with tempfile.TemporaryDirectory() as tmp:
            coach, store = await build(Path(tmp), args.people, args.team, introductions)
            p50, p95 = await latency(coach, args.runs)
            scan = await scan_ms(store)
            live = await live_count_ms(coach, args.runs)
            results[introductions] = p50
            print(f"{introductions:>7,} introductions: /team-skills p50 {p50:.2f} ms p95 {p95:.2f} ms "
                  f"(team {args.team}, organisation {args.people:,}) | counting the team on a request "
                  f"{live:.1f} ms | one scan of the introductions {scan:.1f} ms")
            if introductions == args.introductions:
                seconds, callers = await take_s(coach)
                print(f"the scheduled snapshot of the organisation ({args.people:,} people, {callers} managers "
                      f"and admins): {seconds:.2f} s")
            await store.close()
    ratio = results[args.introductions] / results[100]
    print(f"ratio p50 {args.introductions:,} / 100 introductions: {ratio:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--team", type=int, default=50)
    ap.add_argument("--introductions", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=40)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
