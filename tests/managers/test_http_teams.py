"""Managers over HTTP on Teams: the real server against the fake Bot Framework connector — `nudge team`
typed in the personal chat, delivery to reports found in the roster by email (new 1:1 chats), the
summary back to the manager, a report who is not in the roster, and `team skills`."""

from __future__ import annotations

import asyncio
from typing import Any

from bot import intros, nudges, report
from bot.server import build_coach
from tests.fakes.bf_connector import FakeConnector
from tests.teams import activities as A
from tests.teams.conftest import Server, store_settings

from .conftest import ADMIN, report_email


def roster_entry(email: str, name: str) -> dict[str, Any]:
    local = email.split("@")[0]
    return {"id": f"29:{local}", "name": name, "aadObjectId": f"aad-{local}", "email": email,
            "userPrincipalName": email, "tenantId": A.TENANT, "userRole": "user"}


MANAGER = roster_entry("manager-a@example.com", "Manager A")
# Manager A's direct reports are Report 01..08 and Lead A1; Lead A1 is not in this tenant's roster
ROSTER = [MANAGER] + [roster_entry(report_email(n), f"Report {n:02d}") for n in range(1, 9)]


def personal(entry: dict[str, Any]) -> str:
    return f"a:personal-{entry['id']}"


def texts(connector: FakeConnector, entry: dict[str, Any]) -> list[str]:
    return [t for c in connector.messages(personal(entry)) for t in c.texts]


async def wait_until(predicate, timeout: float = 10.0) -> None:
    async def loop():
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


async def test_nudge_team_over_teams(tmp_path, org_file, catalog):
    connector = FakeConnector(roster=ROSTER)
    await connector.start()
    settings = store_settings(tmp_path, org_file=org_file, admins=ADMIN)
    coach = build_coach(settings, catalog=catalog)
    for module in (nudges, report, intros):
        module.register(coach)
    nudges.configure(coach, rates={"teams": 200.0, "teams:lookup": 500.0})
    server = await Server(settings, coach=coach).start()
    try:
        await server.post(A.team_members_added(connector.url, [A.BOT]))   # the app is installed in the team
        status, _ = await server.post(A.message(connector.url, MANAGER, "nudge team Please update your plans"))
        assert status == 201
        await wait_until(lambda: any("I'll nudge" in t for t in texts(connector, MANAGER)))
        ack = next(t for t in texts(connector, MANAGER) if "I'll nudge" in t)
        assert "I'll nudge **9** people on Teams now" in ack          # Teams markdown bold
        await wait_until(lambda: any("finished" in t for t in texts(connector, MANAGER)))
        summary = next(t for t in texts(connector, MANAGER) if "finished" in t)
        assert "8 sent" in summary and "1 not reachable on Teams" in summary
        for entry in ROSTER[1:]:
            got = [t for t in texts(connector, entry) if "asked me to check in" in t]
            assert len(got) == 1, entry["email"]
            assert any("Please update your plans" in t for t in texts(connector, entry))
        created = {c.body["members"][0]["id"] for c in connector.created()}
        assert created >= {e["id"] for e in ROSTER[1:]}    # new 1:1 chats with people never seen before

        status, _ = await server.post(A.message(connector.url, MANAGER, "team skills"))
        await wait_until(lambda: any("Fewer than 5" in t for t in texts(connector, MANAGER)))
    finally:
        await server.stop()
        await connector.stop()
