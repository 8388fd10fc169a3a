"""The team report over HTTP, Slack and Teams: the issue's example (five reports share; four grow in
their role, one wants to move to another) shows no split, and a plan changed after the snapshot does not
change the report until the next period.

The five reports' profiles are written to the store as a finished interview leaves them (the interview
itself is covered in tests/scenarios); the change after the snapshot is made by one of them telling the
coach, over HTTP, that they finished a skill."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from bot import intros, nudges, report, snapshot
from bot.advise import advise
from bot.server import build_coach
from bot.store import PROFILES
from tests.fakes.bf_connector import FakeConnector
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import dm_event
from tests.teams import activities as A
from tests.teams.conftest import Server, store_settings

from .conftest import ADMIN, report_email, slack_id
from .test_http_slack import slack_users, start, stop
from .test_http_teams import roster_entry, wait_until
from .test_report import add_profile

HELD = "not shown (fewer than 5 on one side)"
FIVE = range(13, 18)       # five of Manager B's reports share first
LATER = range(18, 23)      # the other five make their plans after the snapshot
DAY = 86400.0


def real_plan(coach, target: str = "") -> dict[str, Any]:
    """The plan the recommender makes for a marketing manager (growing, or moving to `target`)."""
    made, _ = advise(coach.recommender, "Marketing manager", goal="switch" if target else "grow",
                     target_text=target)
    data = made.as_dict()
    data.update(created_at=coach.clock(), updated_at=coach.clock())
    for skill in data["skills"]:
        skill["done"] = False
    return data


async def reports_share(coach, numbers: range, *, one_moves: bool) -> None:
    for i, n in enumerate(numbers):
        moves = one_moves and i == len(numbers) - 1          # "I want to become a software developer"
        await add_profile(coach, n, consent=True, updated_at=coach.clock(),
                          the_plan=real_plan(coach, "Software developer" if moves else ""))


def figures(text: str) -> set[str]:
    """The numbers a report shows, apart from the date it was taken."""
    return set(re.findall(r"\d+", re.sub(r"Figures as of [^.]*\.", "", text)))


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


async def first_skill(coach, key: str) -> dict[str, Any]:
    return (await coach.store.get(PROFILES, key)).data["plan"]["skills"][0]


async def test_the_example_over_slack_and_plans_made_after_the_snapshot(tmp_path, org_file, catalog):
    manager = slack_id("manager-b@")
    async with FakeSlack(users=slack_users()) as slack:
        server = await start(slack, tmp_path / "db", org_file, catalog)
        try:
            now = await a_new_period(server.coach)
            await reports_share(server.coach, FIVE, one_moves=True)
            await snapshot.take(server.coach)          # what the server's task does when the period begins

            def reports(s: FakeSlack) -> list[dict[str, Any]]:
                return [p for p in s.posts(dm_of(manager)) if p.get("blocks")]

            status, _ = await server.command("/team-skills", "", user=manager)
            assert status == 200
            first = blocks_text((await slack.wait_for(reports))[0]["blocks"])
            assert "5 people who agreed to share" in first
            assert "Upskilling (growing in their role)" in first and "Reskilling (moving to a new role)" in first
            assert first.count(HELD) == 6                      # every split of the five is held back
            assert figures(first) == {"5"}                      # the group's size and k: no 4, no 1
            assert "No skill is being built by 5 or more people yet" in first   # four share theirs: not listed

            # after the snapshot: one of the five finishes a skill (telling the coach over HTTP) ...
            reporter = slack_id(report_email(13))
            skill = await first_skill(server.coach, f"slack:{reporter}")
            status, _ = await server.event(dm_event(reporter, f"I finished {skill['name']}"))
            assert status == 200
            await slack.wait_for(lambda s: len(s.posts(dm_of(reporter))) >= 1)
            assert (await first_skill(server.coach, f"slack:{reporter}"))["done"] is True
            # ... and five more make plans and share: the manager's report, later that week, is the same
            server.coach.clock = lambda: min(now + 2 * DAY, _next_monday(now) - 1)
            await reports_share(server.coach, LATER, one_moves=False)
            await server.command("/team-skills", "", user=manager)
            second = await slack.wait_for(lambda s: reports(s)[1:] and reports(s))
            assert second[1]["blocks"] == second[0]["blocks"]

            # the next period: the new figures
            server.coach.clock = lambda: _next_monday(now) + 60
            await server.command("/team-skills", "", user=manager)
            third = blocks_text((await slack.wait_for(lambda s: reports(s)[2:] and reports(s)))[2]["blocks"])
            assert "10 people who agreed to share" in third
            assert "No skill is being built" not in third and "— 5 or more people" in third  # nine share skills
        finally:
            await stop(server)


async def a_new_period(coach) -> float:
    """Wait for the snapshot the server takes when it starts (nobody shares yet), then move the clock to
    the start of the next period; the new time."""
    await wait_until_async(lambda: coach.store.get(snapshot.TAKEN, "latest"))
    now = _next_monday(time.time()) + 60
    coach.clock = lambda: now
    return now


async def wait_until_async(probe, timeout: float = 10.0) -> None:
    async def loop():
        while not await probe():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


def _next_monday(now: float) -> float:
    monday = 4 * DAY
    return monday + ((now - monday) // (7 * DAY) + 1) * 7 * DAY


async def test_the_example_over_teams_and_plans_made_after_the_snapshot(tmp_path, org_file, catalog):
    manager = roster_entry("manager-b@example.com", "Manager B")
    connector = FakeConnector(roster=[manager])
    await connector.start()
    settings = store_settings(tmp_path, org_file=org_file, admins=ADMIN)
    coach = build_coach(settings, catalog=catalog)
    for module in (nudges, report, intros):
        module.register(coach)
    server = await Server(settings, coach=coach).start()
    try:
        now = await a_new_period(coach)
        await reports_share(coach, FIVE, one_moves=True)
        await snapshot.take(coach)
        await server.post(A.team_members_added(connector.url, [A.BOT]))

        def reports() -> list[str]:
            cards = ["\n".join(c.texts) for c in connector.messages(f"a:personal-{manager['id']}")]
            return [t for t in cards if "Skills most being built" in t]

        status, _ = await server.post(A.message(connector.url, manager, "team skills"))
        assert status == 201
        await wait_until(reports)
        first = reports()[0]
        assert "5 people who agreed to share" in first
        assert first.count(HELD) == 6 and figures(first) == {"5"}

        coach.clock = lambda: min(now + DAY, _next_monday(now) - 1)
        await reports_share(coach, LATER, one_moves=False)
        await server.post(A.message(connector.url, manager, "team skills"))
        await wait_until(lambda: len(reports()) == 2)
        assert reports()[1] == first

        coach.clock = lambda: _next_monday(now) + 60
        await server.post(A.message(connector.url, manager, "team skills"))
        await wait_until(lambda: len(reports()) == 3)
        assert "10 people who agreed to share" in reports()[2]
    finally:
        await server.stop()
        await connector.stop()
