"""Teams turn benchmark: one personal-chat turn, Activity in → message posted at the connector.

    python bench/teams_turn.py [--turns 400] [--profiles 10000] [--users 50] [--store tinydb|memory] [--text help]

Both sides run in this process on 127.0.0.1, in the same run and through the same fake Bot Framework
connector (tests/fakes/bf_connector.py):

* skillcoach: the real server (`create_app`), store holding `--profiles` profiles, the turn `--text`
  (default `help`) from one of `--users` users (each user's roster lookup is cached after a warm-up turn);
* reference: a minimal botbuilder echo bot (CloudAdapter + ActivityHandler, `send_activity(text)`).

The two are measured in alternating blocks so drift hits both. Latency is the HTTP round trip of the
POST; the reply has been posted to the connector when it returns (checked). Target: p50 below the echo
bot's (skillcoach's replies go through one pooled aiohttp session; the echo bot's through botbuilder's
msrest client, a new `requests` session per turn).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from botbuilder.core import ActivityHandler, TurnContext  # noqa: E402
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication  # noqa: E402

from bot.settings import Settings  # noqa: E402
from bot.store import PROFILES  # noqa: E402
from tests.fakes.bf_connector import FakeConnector, member  # noqa: E402
from tests.teams import activities as A  # noqa: E402


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")


class _EchoConfig:
    APP_ID = ""
    APP_PASSWORD = ""


def echo_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_EchoConfig()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/api/messages"


def profile(n: int) -> dict:
    return {
        "role": "marketing-specialist", "role_text": "Marketing specialist", "goal": "grow",
        "skills": ["data-analytics", "copywriting"], "hours": 3, "consent": n % 2 == 0,
        "plan": {"path": "upskilling", "skills": ["social-media-advertising", "campaign-management"]},
    }


async def fill(store, profiles: int) -> float:
    t0 = time.perf_counter()
    items = ((f"teams:aad-filler-{n:05d}", profile(n)) for n in range(profiles))
    if hasattr(store, "import_records"):
        await store.import_records(PROFILES, items)
    else:
        for key, data in items:
            await store.put(PROFILES, key, data)
    return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(turns: int, profiles: int, users: int, kind: str, text: str = "help") -> None:
    from bot.server import COACH, create_app

    roster = [member(n) for n in range(1, users + 1)]
    connector = FakeConnector(roster=roster)
    await connector.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, microsoft_app_id="", teams_enabled=True, slack_bot_token="", slack_signing_secret="",
            slack_app_token="", org_file=None,
            **({"database_url": "memory:"} if kind == "memory" else {"database_url": "", "db_path": Path(tmp) / "db"}),
        )
        app = create_app(settings)
        runner, url = await serve(app)
        store = app[COACH].store
        fill_s = await fill(store, profiles)
        echo_runner, echo_url = await serve(echo_app())

        async with aiohttp.ClientSession() as session:
            async def turn(target: str, n: int) -> float:
                user = roster[n % users]
                body = json.dumps(A.message(connector.url, user, text)).encode()
                before = len(connector.calls)
                t0 = time.perf_counter()
                async with session.post(target, data=body, headers={"Content-Type": "application/json"}) as resp:
                    await resp.read()
                    elapsed = time.perf_counter() - t0
                    assert resp.status in (200, 201), resp.status
                assert any(c.method == "POST" and "/activities" in c.path for c in connector.calls[before:]), \
                    "the reply reached the connector"
                return elapsed

            for n in range(users):  # warm-up: every user's first turn (roster lookup, new conversation)
                await turn(url, n)
                await turn(echo_url, n)
            connector.clear()

            coach_lat: list[float] = []
            echo_lat: list[float] = []
            block = 50
            t_coach = t_echo = 0.0
            done = 0
            while done < turns:
                size = min(block, turns - done)
                t0 = time.perf_counter()
                echo_lat.extend([await turn(echo_url, done + i) for i in range(size)])
                t_echo += time.perf_counter() - t0
                t0 = time.perf_counter()
                coach_lat.extend([await turn(url, done + i) for i in range(size)])
                t_coach += time.perf_counter() - t0
                connector.clear()
                done += size

        await echo_runner.cleanup()
        await runner.cleanup()
    await connector.stop()

    def line(name: str, lat: list[float], total: float) -> str:
        return (f"{name:<22} p50 {statistics.median(lat) * 1000:7.2f} ms   p99 {pct(lat, 0.99) * 1000:7.2f} ms"
                f"   {len(lat) / total:7.1f} turns/s")

    print(f"Teams turn benchmark: {turns} turns of {text!r} each, {users} users, {profiles} profiles stored "
          f"({kind} store, filled in {fill_s:.1f} s)")
    print(line("skillcoach (Teams)", coach_lat, t_coach))
    print(line("botbuilder echo bot", echo_lat, t_echo))
    ratio = statistics.median(coach_lat) / statistics.median(echo_lat)
    print(f"p50 ratio skillcoach / echo: {ratio:.2f}×  (target < 1×: {'met' if ratio < 1 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--store", choices=("tinydb", "memory"), default="tinydb")
    parser.add_argument("--text", default="help", help="what each user says (e.g. 'my plan')")
    args = parser.parse_args()
    asyncio.run(run(args.turns, args.profiles, args.users, args.store, args.text))


if __name__ == "__main__":
    main()
