"""Slack turn benchmark: one DM turn, signed event in → chat.postMessage out at the fake Web API.

    python bench/slack_turn.py [--turns 300] [--profiles 10000] [--users 30] [--concurrency 8]
                               [--store tinydb|memory] [--serve-runs 3] [--rounds 1]
                               [--profile FILE.html]

Everything runs on 127.0.0.1 in this process, in the same run and through the same fake Slack Web API
(tests/fakes/slack_api.py):

* skillcoach: the real server (`bot.server.create_app`) on the embedded store holding `--profiles`
  profiles (written through the store API first). Two kinds of turn: `help` from users who already
  talked to it, and whole interviews (the typed script of bench/dialog.py) by new users — every step
  reads and writes the store, the last one builds a plan.
* reference: a minimal bolt AsyncApp behind the same aiohttp adapter that verifies the signature, acks
  and posts one fixed reply — the floor any bolt app pays.

Latency = from sending the signed event to the fake recording the first chat.postMessage of the turn
(turns are sequential; the next starts once all replies of the previous one are out). The sides are
measured in alternating blocks so load from other programs hits both alike. Throughput adds
`--concurrency` users sending at once, each going through the interview script `--rounds` times (new
users each round), skillcoach and the minimal app alternating round by round. Targets: skillcoach p50
≤ 3× the reference p50; throughput ≥ 50 % of the reference's.

`--profile FILE.html` records the concurrent phase of skillcoach with pyinstrument (a development tool,
not a dependency of skillcoach: `pip install pyinstrument`) and writes its HTML report there.

Last, `skillcoach serve` is started as a subprocess on the same store and polled until GET /healthz
answers: the time from starting the process to the first 200.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402
from slack_bolt.app.async_app import AsyncApp  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from adapters.slack import SLACK_ADAPTER  # noqa: E402
from bot.lifecycle import warm_and_settle  # noqa: E402
from bot.server import build_coach, create_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import PROFILES, open_store  # noqa: E402
from tests.fakes.slack_api import TEAM, FakeSlack, dm_of  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
# a typed interview, as in bench/dialog.py: every step is a real turn that reads and writes the store
SCRIPT = ["hi", "1", "journalist", "yes", "2", "none", "I want to become a software developer", "yes", "2",
          "courses, mentoring", "yes", "my plan"]


def profile(i: int) -> dict[str, Any]:
    return {
        "platform": "slack", "user_id": f"U{i:08d}", "email": f"report-{i:05d}@example.com",
        "role": {"id": "marketing-specialist", "title": "Marketing specialist", "family": "marketing"},
        "skills": ["social-media", "copywriting", "campaign-planning", "seo"], "goal": "grow",
        "hours_per_week": 4, "prefs": ["courses", "mentoring"], "reminders": True, "consent_share": i % 3 == 0,
        "plan": {"path": "upskill", "title": "Your upskilling plan", "skills": [
            {"id": s, "done": j == 0} for j, s in enumerate(["data-analytics", "digital-marketing-trends",
                                                             "social-media-advertising"])]},
        "created_at": 1.7e9, "updated_at": 1.7e9,
    }


async def populate(settings: Settings, n: int) -> float:
    store = open_store(settings)
    await store.open()
    t0 = time.perf_counter()
    batch = 200
    for start in range(0, n, batch):
        await asyncio.gather(*(store.put(PROFILES, f"slack:U{i:08d}", profile(i))
                               for i in range(start, min(n, start + batch))))
    took = time.perf_counter() - t0
    await store.close()
    return took


def signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


_n = 0


def dm_event(user: str, text: str) -> dict[str, Any]:
    global _n
    _n += 1
    ts = f"{time.time():.6f}"
    return {"type": "event_callback", "team_id": TEAM, "api_app_id": "A0SKILL", "event_id": f"EvB{_n:09d}",
            "event_time": int(time.time()), "authorizations": [{"team_id": TEAM, "user_id": "UBOTSKILL",
                                                                 "is_bot": True}],
            "event": {"type": "message", "channel": dm_of(user), "channel_type": "im", "user": user,
                      "text": text, "ts": ts, "event_ts": ts}}


class Side:
    """One app under test: where to POST, and how to wait until a turn's replies are all out."""

    def __init__(self, name: str, url: str, idle: Callable[[], Awaitable[None]]) -> None:
        self.name, self.url, self.idle = name, url, idle
        self.wall = 0.0   # seconds spent in measured sequential turns, all replies out
        self.turns = 0


async def one_turn(session: aiohttp.ClientSession, fake: FakeSlack, side: Side, user: str, text: str) -> float:
    before = len(fake.calls)
    raw, headers = signed(dm_event(user, text))
    t0 = time.monotonic()
    async with session.post(side.url, data=raw, headers=headers) as response:
        assert response.status == 200, (side.name, response.status, await response.text())
    first = await fake.wait_for(lambda f: next((c for c in f.calls[before:] if c.method == "chat.postMessage"
                                                and c.args.get("channel") == dm_of(user)), None), timeout=30)
    await side.idle()
    side.wall += time.monotonic() - t0
    side.turns += 1
    return first.at - t0


async def start_reference(fake: FakeSlack) -> tuple[web.AppRunner, str, aiohttp.ClientSession]:
    """The minimal bolt app: verify, ack, post one fixed reply."""
    session = aiohttp.ClientSession()
    bolt = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=fake.api_url, session=session),
                    signing_secret=SECRET)

    @bolt.event("message")
    async def reply(event, client):
        await client.chat_postMessage(channel=event["channel"], text="Thanks!")

    async def endpoint(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/slack/events", session


async def start_skillcoach(settings: Settings) -> tuple[web.AppRunner, str, Any]:
    coach = build_coach(settings)
    app = create_app(settings, coach=coach)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/slack/events", app[SLACK_ADAPTER]


def stats(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100)
    return statistics.median(values) * 1000, q[98] * 1000


async def throughput(session, fake, side: Side, users: list[str], texts: list[str]) -> float:
    async def worker(user: str) -> None:
        for text in texts:
            await one_turn_no_idle(session, fake, side, user, text)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(u) for u in users))
    await side.idle()
    return len(users) * len(texts) / (time.perf_counter() - t0)


async def one_turn_no_idle(session, fake, side, user, text) -> None:
    before = len(fake.calls)
    raw, headers = signed(dm_event(user, text))
    async with session.post(side.url, data=raw, headers=headers) as response:
        assert response.status == 200
    await fake.wait_for(lambda f: any(c.method == "chat.postMessage" and c.args.get("channel") == dm_of(user)
                                      for c in f.calls[before:]), timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def serve_startup(settings: Settings, fake: FakeSlack, runs: int, *, slack: bool = True) -> list[float]:
    """Seconds from starting `skillcoach serve` to the first 200 from /healthz."""
    exe = Path(sys.executable).with_name("skillcoach")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    times = []
    async with aiohttp.ClientSession() as session:
        for _ in range(runs):
            port = free_port()
            env = dict(os.environ, SLACK_BOT_TOKEN=TOKEN if slack else "", SLACK_SIGNING_SECRET=SECRET,
                       SLACK_API_URL=fake.api_url, SKILLCOACH_DB=str(settings.db_path),
                       SKILLCOACH_LOG_LEVEL="WARNING")
            t0 = time.perf_counter()
            proc = subprocess.Popen([*cmd, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(ROOT))
            try:
                while True:
                    if proc.poll() is not None:
                        raise RuntimeError(f"skillcoach serve exited: {proc.stderr.read().decode()[-2000:]}")
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                            if r.status == 200:
                                body = await r.json()
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.005)
                times.append(time.perf_counter() - t0)
                assert ("slack" in body["platforms"]) == slack, body
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return times


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as fake:
            settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                                slack_api_url=fake.api_url, db_path=Path(tmp) / "skillcoach.db",
                                database_url="memory:" if args.store == "memory" else "", teams_enabled=False)
            if args.store == "memory":
                print("store: memory (profiles are not kept across processes; --profiles ignored)")
            else:
                took = await populate(settings, args.profiles)
                print(f"store: tinydb at {settings.db_path}, {args.profiles:,} profiles written in {took:.1f} s")

            ref_runner, ref_url, ref_session = await start_reference(fake)
            sc_runner, sc_url, adapter = await start_skillcoach(settings)

            async def nothing() -> None:
                return None

            core_times: list[float] = []
            real_handle = adapter.coach.handle

            async def timed_handle(incoming, **kw):  # how much of a turn is the core (dialogs + store)
                t0 = time.perf_counter()
                try:
                    return await real_handle(incoming, **kw)
                finally:
                    core_times.append(time.perf_counter() - t0)

            adapter.coach.handle = timed_handle
            reference = Side("minimal bolt app", ref_url, nothing)
            ours = Side("skillcoach", sc_url, adapter.drain)
            users = [f"U9{i:07d}" for i in range(args.users)]
            async with aiohttp.ClientSession() as session:
                # warm-up: auth.test, users.info cache, connections
                for user in users:
                    await one_turn(session, fake, ours, user, "help")
                    await one_turn(session, fake, reference, user, "help")

                warm_and_settle(adapter.coach.catalog)   # as `skillcoach serve` does once it listens
                for side in (ours, reference):
                    side.wall, side.turns = 0.0, 0
                core_times.clear()
                block = 20
                ref_help: list[float] = []
                our_help: list[float] = []
                done = 0
                while done < args.turns:
                    for i in range(block):
                        user = users[(done + i) % len(users)]
                        our_help.append(await one_turn(session, fake, ours, user, "help"))
                    for i in range(block):
                        user = users[(done + i) % len(users)]
                        ref_help.append(await one_turn(session, fake, reference, user, "help"))
                    done += block

                seq = {side.name: side.turns / side.wall for side in (ours, reference)}
                core_help = list(core_times)
                core_times.clear()
                interview: list[float] = []
                ref_interview: list[float] = []
                n_interviews = max(1, args.turns // len(SCRIPT))
                for k in range(n_interviews):
                    user = f"U8{k:07d}"
                    for text in SCRIPT:
                        interview.append(await one_turn(session, fake, ours, user, text))
                        ref_interview.append(await one_turn(session, fake, reference, user, text))

                core_interview = list(core_times)
                profiler = None
                if args.profile:
                    from pyinstrument import Profiler  # optional development tool

                    profiler = Profiler(async_mode="disabled", interval=0.0005)
                our_rates: list[float] = []
                ref_rates: list[float] = []
                for r in range(args.rounds):
                    conc_users = [f"U7{r:03d}{i:04d}" for i in range(args.concurrency)]
                    conc_ref = [f"U6{r:03d}{i:04d}" for i in range(args.concurrency)]
                    if profiler is not None:
                        profiler.start()
                    our_rates.append(await throughput(session, fake, ours, conc_users, SCRIPT))
                    if profiler is not None:
                        profiler.stop()
                    ref_rates.append(await throughput(session, fake, reference, conc_ref, SCRIPT))
                our_tps, ref_tps = statistics.median(our_rates), statistics.median(ref_rates)

            await sc_runner.cleanup()
            await ref_runner.cleanup()
            await ref_session.close()

            r50, r99 = stats(ref_help)
            h50, h99 = stats(our_help)
            i50, i99 = stats(interview)
            ri50, ri99 = stats(ref_interview)
            print(f"turns measured: {len(our_help)} help + {len(interview)} interview steps per side")
            print(f"{'':38} {'p50 ms':>8} {'p99 ms':>8} {'turns/s':>8}")
            print(f"{'minimal bolt app (fixed reply)':38} {r50:8.2f} {r99:8.2f} {seq[reference.name]:8.0f}")
            print(f"{'skillcoach, help':38} {h50:8.2f} {h99:8.2f} {seq[ours.name]:8.0f}")
            print(f"{'minimal bolt app, interview texts':38} {ri50:8.2f} {ri99:8.2f}")
            print(f"{'skillcoach, interview steps':38} {i50:8.2f} {i99:8.2f}")
            print(f"{'  of which Coach.handle, help':38} {stats(core_help)[0]:8.2f} {stats(core_help)[1]:8.2f}")
            print(f"{'  of which Coach.handle, interview':38} {stats(core_interview)[0]:8.2f} "
                  f"{stats(core_interview)[1]:8.2f}")
            print(f"p50 ratio skillcoach/minimal: help {h50 / r50:.2f}x, interview steps {i50 / ri50:.2f}x "
                  f"(target <= 3x)")
            print(f"throughput with {args.concurrency} users at once (interview script, median of "
                  f"{args.rounds} round(s)): skillcoach {our_tps:.0f} turns/s, minimal bolt app "
                  f"{ref_tps:.0f} turns/s ({our_tps / ref_tps:.0%}; target >= 50 %)")
            if profiler is not None:
                Path(args.profile).write_text(profiler.output_html())
                print(profiler.output_text(unicode=False, color=False, show_all=False))
                if os.environ.get("BENCH_PROFILE_FLAT"):
                    from pyinstrument.renderers import ConsoleRenderer

                    print(profiler.output(ConsoleRenderer(flat=True, show_all=True))[:6000])
                print(f"profile of skillcoach's concurrent phase: {args.profile}")

            if args.serve_runs:
                with_slack: list[float] = []
                without: list[float] = []
                for _ in range(args.serve_runs):  # alternating, so load from other programs hits both
                    with_slack += await serve_startup(settings, fake, 1)
                    without += await serve_startup(settings, fake, 1, slack=False)
                print("skillcoach serve → first 200 from /healthz (Teams as configured by the environment):")
                print("  with Slack:    " + ", ".join(f"{t:.2f} s" for t in with_slack)
                      + f"  (median {statistics.median(with_slack):.2f} s; target <= 1.5 s)")
                print("  without Slack: " + ", ".join(f"{t:.2f} s" for t in without)
                      + f"  (median {statistics.median(without):.2f} s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--turns", type=int, default=300)
    p.add_argument("--profiles", type=int, default=10_000)
    p.add_argument("--users", type=int, default=30)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--store", choices=("tinydb", "memory"), default="tinydb")
    p.add_argument("--serve-runs", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1, help="concurrent interview rounds per side")
    p.add_argument("--profile", help="write a pyinstrument report of skillcoach's concurrent phase here")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
