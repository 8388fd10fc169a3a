"""One person, one plan, on both platforms: the interview done by DM in Slack (signed HTTP against the
fake Slack Web API), then `my plan` typed in the Teams personal chat (Activities against the fake Bot
Framework connector) — the same plan, stored once; progress told on either platform lands on it, also
when both turns arrive at the same moment; `my data` and `forget me` from Teams cover the Slack side.
The person's email comes from each platform: Slack's users.info and the Teams roster."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.person import LINKS, read_profile
from bot.server import build_coach, create_app
from bot.store import ADDRESSES, CONVERSATIONS, EMAILS, PROFILES
from bot.store.tinydb_store import TinyDBStore
from tests.fakes.bf_connector import FakeConnector
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import USER, SlackServer, dm_event, settings_for
from tests.slack.test_slack_interview import as_stored, press_for, question_in, typed_answer
from tests.teams import activities as A

EMAIL = "report-07@example.com"
ENTRY = {"id": "29:report-07", "name": "Report 07", "aadObjectId": "aad-report-07", "email": EMAIL.upper(),
         "userPrincipalName": EMAIL, "tenantId": A.TENANT, "userRole": "user"}


async def wait_until(predicate, timeout: float = 10.0) -> None:
    async def loop():
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


async def interview_in_slack(server: SlackServer, slack: FakeSlack) -> str:
    """Answer every question by DM until the plan arrives; the plan's title (its header)."""
    await server.event(dm_event(USER, "hi"))
    await server.idle()
    seen = 0
    for _ in range(40):
        calls = slack.of("chat.postMessage")
        new, seen = calls[seen:], len(calls)
        messages = [as_stored(c) for c in new]
        header = next((b for m in messages for b in m["blocks"] if b["type"] == "header"), None)
        if header is not None:
            return header["text"]["text"]
        asking = next((m for m in reversed(messages) if question_in(m)), None)
        if asking is not None:
            assert (await server.interact(press_for(asking, question_in(asking))))[0] == 200
        else:
            assert (await server.event(dm_event(USER, typed_answer(messages[-1]["text"]))))[0] == 200
        await server.idle()
    raise AssertionError("no plan after 40 steps")


class Both:
    """One skillcoach server with Slack and Teams mounted, on one store."""

    def __init__(self, slack: FakeSlack, connector: FakeConnector, tmp_path, catalog) -> None:
        self.connector = connector
        settings = settings_for(slack, tmp_path / "db", teams_enabled=True)
        self.coach = build_coach(settings, store=TinyDBStore(tmp_path / "db", fsync=False), catalog=catalog)
        self.app = create_app(settings, coach=self.coach)

    async def start(self) -> Both:
        self.test_server = TestServer(self.app, host="127.0.0.1")
        await self.test_server.start_server()
        self.slack = SlackServer(self.app, self.test_server, aiohttp.ClientSession())
        return self

    async def stop(self) -> None:
        await self.slack.session.close()
        await self.test_server.close()

    async def teams(self, text: str) -> int:
        url = str(self.test_server.make_url("/api/messages"))
        async with self.slack.session.post(url, json=A.message(self.connector.url, ENTRY, text)) as resp:
            return resp.status

    def teams_texts(self) -> list[str]:
        return [t for c in self.connector.messages(f"a:personal-{ENTRY['id']}") for t in c.texts]


def skills_done(profile: dict[str, Any]) -> list[str]:
    return [s["name"] for s in profile["plan"]["skills"] if s.get("done")]


async def test_the_plan_made_in_slack_is_the_plan_shown_in_teams(tmp_path, catalog):
    async with FakeSlack(users={USER: {"email": EMAIL, "name": "Report 07"}}) as slack:
        connector = FakeConnector(roster=[ENTRY])
        await connector.start()
        both = await Both(slack, connector, tmp_path, catalog).start()
        try:
            title = await interview_in_slack(both.slack, slack)
            slack_key = f"slack:{USER}"
            made = (await both.coach.store.get(PROFILES, slack_key)).data
            skills = [s["name"] for s in made["plan"]["skills"]]

            assert await both.teams("my plan") == 201
            await wait_until(lambda: any(title in t for t in both.teams_texts()))
            assert all(name in "\n".join(both.teams_texts()) for name in skills)
            teams_key = next(r.key for r in [rec async for rec in both.coach.store.scan(LINKS)])
            assert teams_key.startswith("teams:")
            assert (await both.coach.store.get(LINKS, teams_key)).data["person"] == slack_key
            assert await both.coach.store.get(PROFILES, teams_key) is None          # stored once
            joined = (await both.coach.store.get(PROFILES, slack_key)).data
            assert joined["identities"] == [slack_key, teams_key] and joined["plan"] == made["plan"]
            found = await both.coach.profiles_by_email([EMAIL])
            assert len(found[EMAIL]) == 1                                             # counted once in reports

            # progress told in Teams lands on the one plan; Slack and Teams at the same moment both land
            assert await both.teams(f"I finished {skills[0]}") == 201
            await wait_until(lambda: f"Well done! **{skills[0]}** is marked done" in "\n".join(both.teams_texts()))
            assert skills_done((await read_profile(both.coach.store, slack_key)).data) == [skills[0]]
            statuses = await asyncio.gather(both.slack.event(dm_event(USER, f"I finished {skills[1]}")),
                                            both.teams(f"I finished {skills[2]}"))
            assert (statuses[0][0], statuses[1]) == (200, 201)
            await both.slack.idle()

            async def both_landed() -> bool:
                return len(skills_done((await read_profile(both.coach.store, teams_key)).data)) == 3

            for _ in range(200):
                if await both_landed():
                    break
                await asyncio.sleep(0.02)
            assert sorted(skills_done((await read_profile(both.coach.store, teams_key)).data)) == sorted(skills[:3])

            # my data from Teams holds the Slack side too; forget me from Teams removes both
            export = await both.coach.export(teams_key)
            assert export["profiles"]["plan"]["skills"][0]["done"] is True
            assert export["other_identities"][slack_key]["conversations"]["state"]
            assert await both.teams("forget me") == 201
            await wait_until(lambda: any("Delete everything?" in t for t in both.teams_texts()[-2:]))
            assert await both.teams("yes") == 201

            async def gone() -> list[tuple[str, str]]:
                left = []
                for collection, key in [(PROFILES, slack_key), (LINKS, teams_key), (CONVERSATIONS, slack_key),
                                        (CONVERSATIONS, teams_key), (ADDRESSES, slack_key),
                                        (ADDRESSES, teams_key), (EMAILS, EMAIL)]:
                    if await both.coach.store.get(collection, key) is not None:
                        left.append((collection, key))
                return left

            for _ in range(200):
                if not await gone():
                    break
                await asyncio.sleep(0.02)
            assert await gone() == []
        finally:
            await both.stop()
            await connector.stop()
