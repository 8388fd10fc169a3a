"""Throughput of two `skillcoach serve` processes against one, on the same PostgreSQL database.

    eval "$(SKILLCOACH_TEST_PG_DURABLE=1 bash .ci/postgres.sh)"     # a cluster with fsync on
    python bench/pg_throughput.py [--users 32] [--seconds 10] [--rounds 2] [--turn interview|hi]
                                  [--profiles 10000]
    bash .ci/postgres.sh stop "$SKILLCOACH_TEST_PG_DATA"

Two `python -m bot serve` processes run on one PostgreSQL database (SKILLCOACH_BENCH_DATABASE_URL or
SKILLCOACH_TEST_DATABASE_URL, in a schema of its own holding `--profiles` profiles; dropped at the
end), both posting to one fake Slack Web API (tests/fakes/slack_api.py) that lives in this process
with the load generator.

Closed loop: `--users` simulated users each send a signed DM event, wait until the fake has received
all of that turn's chat.postMessage calls, and send the next. `--turn interview`: each user runs the
typed interview of bench/slack_turn.py (12 turns, every one reads and writes the conversation, the last
builds a plan) again and again as a new user; `--turn hi`: the same user says "hi" again and again (one
reply, one conversation write per turn). With one process every user talks to process A; with two,
users are split between A and B (a load balancer). The two set-ups alternate `--rounds` times, each
for `--seconds` after one second of warm-up, so load from other programs hits both alike.

Prints turns per second and p50/p99 turn latency per phase, the ratio two/one (target >= 1.6), and
the CPU each part used (server processes, the PostgreSQL cluster, this load generator with the fake,
everything else on the machine) in cores, so it is clear what bounds the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import slack_turn as st  # noqa: E402
from store_pg import database_url, percentile, with_search_path  # noqa: E402

from bot.store import PROFILES  # noqa: E402
from bot.store.postgres import PostgresStore, redact  # noqa: E402
from tests.fakes.slack_api import TEAM, Call, FakeSlack, dm_of  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


class CountingSlack(FakeSlack):
    """The fake Web API, keeping counts instead of every call, and waking whoever waits for a channel."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.posts_in: dict[str, int] = {}
        self.waiters: dict[str, tuple[int, asyncio.Future[float]]] = {}

    async def _record(self, call: Call) -> None:
        self.counts[call.method] = self.counts.get(call.method, 0) + 1
        if call.method != "chat.postMessage":
            return
        channel = str(call.args.get("channel", ""))
        n = self.posts_in.get(channel, 0) + 1
        self.posts_in[channel] = n
        waiter = self.waiters.get(channel)
        if waiter is not None and n >= waiter[0] and not waiter[1].done():
            del self.waiters[channel]
            waiter[1].set_result(time.perf_counter())

    def expect(self, channel: str, more: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[channel] = (self.posts_in.get(channel, 0) + more, future)
        return future


def signed_event(user: str, text: str, n: int) -> tuple[bytes, dict[str, str]]:
    ts = f"{time.time():.6f}"
    body = {"type": "event_callback", "team_id": TEAM, "api_app_id": "A0SKILL", "event_id": f"EvT{n:010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOTSKILL", "is_bot": True}],
            "event": {"type": "message", "channel": dm_of(user), "channel_type": "im", "user": user,
                      "text": text, "ts": ts, "event_ts": ts}}
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    sig = "v0=" + hmac.new(st.SECRET.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sig}


# -- CPU accounting from /proc ------------------------------------------------------------------------
def proc_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])   # utime, stime


def children_of(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                out.append(int(entry.name))
    return out


def machine_busy_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    def __init__(self, servers: dict[str, subprocess.Popen[bytes]], postmaster: int | None) -> None:
        self.servers = servers
        self.postmaster = postmaster

    def sample(self) -> dict[str, float]:
        pg = 0
        if self.postmaster:
            pg = proc_ticks(self.postmaster) + sum(proc_ticks(p) for p in children_of(self.postmaster))
        busy, total = machine_busy_ticks()
        out = {f"server {name}": proc_ticks(p.pid) / TICK for name, p in self.servers.items()}
        out.update(postgres=pg / TICK, loadgen=time.process_time(), busy=busy / TICK, wall=time.perf_counter())
        return out


def postmaster_pid() -> int | None:
    data = os.environ.get("SKILLCOACH_TEST_PG_DATA")
    if not data:
        return None
    try:
        return int((Path(data) / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# -- the servers --------------------------------------------------------------------------------------
async def start_server(name: str, url: str, fake: FakeSlack, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = st.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "SKILLCOACH_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=url, SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN=st.TOKEN,
               SLACK_SIGNING_SECRET=st.SECRET, MicrosoftAppId="", SKILLCOACH_TEAMS="false",
               SKILLCOACH_LOG_LEVEL="WARNING", SKILLCOACH_DB=str(folder / "unused.db"))
    log = (folder / f"server-{name}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=str(folder), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server {name} exited: {(folder / f'server-{name}.log').read_text()[-2000:]}")
            try:
                async with session.get(base + "/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {name} did not start")
            await asyncio.sleep(0.1)
    return proc, base + "/slack/events"


# -- the load -----------------------------------------------------------------------------------------
class Load:
    def __init__(self, fake: CountingSlack, session: aiohttp.ClientSession, script: list[str],
                 replies: list[int], turn: str) -> None:
        self.fake, self.session, self.script, self.replies, self.turn = fake, session, script, replies, turn
        self.n = 0

    def bodies(self, user_prefix: str, cycles: int) -> list[tuple[str, int, bytes, dict[str, str]]]:
        """Pre-signed turns for one simulated user: (channel, replies expected, body, headers)."""
        out = []
        for c in range(cycles):
            user = f"{user_prefix}{c:05d}" if self.turn == "interview" else user_prefix
            for text, expected in zip(self.script, self.replies):
                self.n += 1
                raw, headers = signed_event(user, text, self.n)
                out.append((dm_of(user), expected, raw, headers))
        return out

    async def one(self, url: str, channel: str, expected: int, raw: bytes, headers: dict[str, str]) -> float:
        done = self.fake.expect(channel, expected)
        started = time.perf_counter()
        async with self.session.post(url, data=raw, headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}: {await response.text()}")
            await response.read()
        finished = await asyncio.wait_for(done, 60)
        return finished - started

    async def phase(self, urls: list[str], users: int, seconds: float, warm: float, tag: str,
                    meter: CpuMeter) -> dict[str, Any]:
        per_user = int((seconds + warm + 1) * 100)  # turns each user could need (generous)
        cycles = -(-per_user // len(self.script))
        plans = [self.bodies(f"U{tag}{u:03d}", cycles) for u in range(users)]
        stop = asyncio.Event()
        window: list[float] = []
        marks: dict[str, Any] = {}
        ran_out: list[int] = []

        async def user(u: int) -> None:
            url = urls[u % len(urls)]
            for channel, expected, raw, headers in plans[u]:
                if stop.is_set():
                    return
                latency = await self.one(url, channel, expected, raw, headers)
                if "start" in marks and "end" not in marks:
                    window.append(latency)
            ran_out.append(u)

        tasks = [asyncio.create_task(user(u)) for u in range(users)]
        await asyncio.sleep(warm)
        marks["start"], marks["cpu0"] = time.perf_counter(), meter.sample()
        await asyncio.sleep(seconds)
        marks["end"], marks["cpu1"] = time.perf_counter(), meter.sample()
        stop.set()
        await asyncio.gather(*tasks)
        if ran_out:
            print(f"    warning: {len(ran_out)} users ran out of pre-signed turns before the phase ended")
        elapsed = marks["end"] - marks["start"]
        cpu = {k: (marks["cpu1"][k] - marks["cpu0"][k]) / elapsed for k in marks["cpu0"] if k != "wall"}
        return {"turns": len(window), "tps": len(window) / elapsed, "latencies": window, "cpu": cpu}


async def calibrate(fake: CountingSlack, session: aiohttp.ClientSession, url: str, script: list[str],
                    user: str) -> list[int]:
    """How many messages each turn of the script posts (one user, turn by turn, waiting for quiet)."""
    replies = []
    for n, text in enumerate(script):
        before = fake.posts_in.get(dm_of(user), 0)
        raw, headers = signed_event(user, text, 9_000_000_000 + 100 * int(user[-2:]) + n)
        first = fake.expect(dm_of(user), 1)
        async with session.post(url, data=raw, headers=headers) as response:
            assert response.status == 200
        await asyncio.wait_for(first, 30)
        while True:  # calibration only: wait until the turn has been quiet for half a second
            count = fake.posts_in[dm_of(user)]
            await asyncio.sleep(0.5)
            if fake.posts_in[dm_of(user)] == count:
                break
        replies.append(fake.posts_in[dm_of(user)] - before)
    return replies


def show_cpu(cpu: dict[str, float]) -> str:
    servers = sum(v for k, v in cpu.items() if k.startswith("server"))
    each = ", ".join(f"{k.split()[1]} {v:.2f}" for k, v in cpu.items() if k.startswith("server"))
    other = cpu["busy"] - servers - cpu["postgres"] - cpu["loadgen"]
    return (f"servers {servers:.2f} ({each}), postgres {cpu['postgres']:.2f}, "
            f"load generator + fake {cpu['loadgen']:.2f}, everything else {max(0.0, other):.2f}; "
            f"machine busy {cpu['busy']:.2f} of {os.cpu_count()} cores")


async def run(args: argparse.Namespace, url: str) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    pg_settings = {name: await admin.fetchval(f"SHOW {name}")
                   for name in ("server_version", "fsync", "synchronous_commit")}
    db_url = with_search_path(url, schema)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    results: list[tuple[int, dict[str, Any]]] = []
    try:
        store = PostgresStore(db_url, max_size=4)
        await store.open()
        started = time.perf_counter()
        await store.import_records(PROFILES, ((f"slack:U{i:08d}", st.profile(i)) for i in range(args.profiles)))
        print(f"PostgreSQL: {args.profiles:,} profiles stored in {time.perf_counter() - started:.1f} s")
        await store.close()
        with tempfile.TemporaryDirectory(prefix="skillcoach-bench-") as tmp:
            async with CountingSlack() as fake:
                urls = {}
                for name in ("A", "B"):
                    procs[name], urls[name] = await start_server(name, db_url, fake, Path(tmp))
                meter = CpuMeter(procs, postmaster_pid())
                script = st.SCRIPT if args.turn == "interview" else ["hi"]
                connector = aiohttp.TCPConnector(limit=0)
                async with aiohttp.ClientSession(connector=connector) as session:
                    replies = await calibrate(fake, session, urls["A"], script, "UCALIB0001")
                    await calibrate(fake, session, urls["B"], script, "UCALIB0002")  # warm B the same way
                    print(f"messages per turn: {replies} ({args.turn})")
                    load = Load(fake, session, script, replies, args.turn)
                    for r in range(args.rounds):
                        for n in (1, 2):
                            targets = [urls["A"]] if n == 1 else [urls["A"], urls["B"]]
                            res = await load.phase(targets, args.users, args.seconds, 1.0, f"{r}{n}", meter)
                            results.append((n, res))
                            p50 = percentile(res["latencies"], 0.5) * 1000
                            p99 = percentile(res["latencies"], 0.99) * 1000
                            print(f"round {r + 1}, {n} process{'es' if n == 2 else ''}: {res['tps']:7.1f} turns/s "
                                  f"({res['turns']} turns in {args.seconds:g} s, {args.users} users), "
                                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
                            print(f"    CPU in cores: {show_cpu(res['cpu'])}")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()

    print(f"\n{args.users} concurrent users, closed loop, '{args.turn}' turns, {args.profiles:,} profiles; "
          f"PostgreSQL {pg_settings['server_version']} at {redact(url)}: fsync={pg_settings['fsync']}, "
          f"synchronous_commit={pg_settings['synchronous_commit']}")
    one = [res["tps"] for n, res in results if n == 1]
    two = [res["tps"] for n, res in results if n == 2]
    mean1, mean2 = sum(one) / len(one), sum(two) / len(two)
    print(f"1 process:   {mean1:7.1f} turns/s (rounds: {', '.join(f'{v:.1f}' for v in one)})")
    print(f"2 processes: {mean2:7.1f} turns/s (rounds: {', '.join(f'{v:.1f}' for v in two)})")
    verdict = "met" if mean2 / mean1 >= 1.6 else "NOT met"
    print(f"ratio 2/1: {mean2 / mean1:.2f} (target >= 1.6: {verdict})")

    def per_core(n: int) -> float:
        turns = sum(res["turns"] for k, res in results if k == n)
        core_seconds = sum(sum(v for name, v in res["cpu"].items() if name.startswith("server")) * args.seconds
                           for k, res in results if k == n)
        return turns / core_seconds

    def busy(n: int) -> float:
        values = [res["cpu"]["busy"] for k, res in results if k == n]
        return sum(values) / len(values)

    print(f"machine busy: {busy(1):.2f} cores with 1 process, {busy(2):.2f} with 2 (of {os.cpu_count()})")
    print(f"turns per CPU-second of the server processes: 1 process {per_core(1):.0f}, 2 processes "
          f"{per_core(2):.0f} (per-core efficiency of two: {per_core(2) / per_core(1):.2f}; two processes each "
          f"with a core of their own would give about {2 * per_core(2) / per_core(1):.2f}x one - derived, not "
          f"measured)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=32, help="concurrent simulated users")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--rounds", type=int, default=2, help="times the 1- and 2-process phases alternate")
    parser.add_argument("--turn", choices=("interview", "hi"), default="interview")
    parser.add_argument("--profiles", type=int, default=10_000)
    args = parser.parse_args()
    url = database_url()
    if not url:
        return 2
    asyncio.run(run(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
