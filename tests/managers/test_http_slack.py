"""Managers over HTTP on Slack: the real server (create_app with its background tasks) against the fake
Slack Web API — a signed `/nudge-team`, delivery by the server's own worker through chat.postMessage
(with a 429 storm), a report pressing a nudge button, `/team-skills`, and a restart mid-fan-out."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot import intros, nudges, report
from bot.nudges.state import NUDGE_STATE
from bot.server import build_coach, create_app
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import SlackServer, action_payload, settings_for

from .conftest import ADMIN, org_entries, report_email, slack_id

MANAGER_A = slack_id("manager-a@")
TEAM_A = [slack_id(report_email(n)) for n in range(1, 9)] + [slack_id("lead-a1@")]


def slack_users() -> dict[str, dict[str, Any]]:
    return {slack_id(e["email"]): {"email": e["email"], "name": e["name"]} for e in org_entries()}


async def start(slack: FakeSlack, db: Path, org_file: Path, catalog) -> SlackServer:
    from bot.store.tinydb_store import TinyDBStore

    settings = settings_for(slack, db, org_file=org_file, admins=ADMIN)
    coach = build_coach(settings, store=TinyDBStore(db, fsync=False), catalog=catalog)
    nudges.register(coach)
    report.register(coach)
    intros.register(coach)
    nudges.configure(coach, rates={"slack": 200.0, "slack:lookup": 500.0})
    app = create_app(settings, coach=coach)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    return SlackServer(app, test_server, aiohttp.ClientSession())


async def stop(server: SlackServer) -> None:
    await server.session.close()
    await server.test_server.close()


def nudges_to(slack: FakeSlack) -> Counter[str]:
    return Counter(p["channel"] for p in slack.posts() if "asked me to check in" in p.get("text", ""))


def summary_posted(slack: FakeSlack) -> list[dict[str, Any]]:
    return [p for p in slack.posts(dm_of(MANAGER_A)) if "finished" in p.get("text", "")]


async def test_nudge_team_over_slack_with_a_429_storm(tmp_path, org_file, catalog):
    async with FakeSlack(users=slack_users()) as slack:
        server = await start(slack, tmp_path / "db", org_file, catalog)
        try:
            slack.rate_limit("chat.postMessage", times=4, retry_after=0)
            status, _ = await server.command("/nudge-team", "Please take 10 minutes this week", user=MANAGER_A)
            assert status == 200
            ack = await slack.wait_for(lambda s: [p for p in s.posts(dm_of(MANAGER_A)) if "I'll nudge" in p["text"]])
            assert "I'll nudge *9* people on Slack now" in ack[0]["text"]
            await slack.wait_for(summary_posted)
            assert "*9 sent*" in summary_posted(slack)[0]["text"]
            sent = nudges_to(slack)
            assert sorted(sent) == sorted(dm_of(uid) for uid in TEAM_A) and set(sent.values()) == {1}
            assert len(slack.limited) == 4                  # the storm was answered, then paced
            # even-numbered reports have no Slack id in the file: found with users.lookupByEmail
            looked_up = {c.args["email"] for c in slack.of("users.lookupByEmail")}
            assert report_email(2) in looked_up and report_email(1) not in looked_up

            # the nudge carries real buttons; Report 03 presses "Stop these reminders"
            post = next(p for p in slack.posts(dm_of(slack_id(report_email(3)))) if "asked me" in p["text"])
            buttons = [e for b in post["blocks"] if b.get("type") == "actions" for e in b["elements"]]
            stop_button = next(b for b in buttons if b["value"].endswith("nudge:stop") or "nudge:stop" in b["value"])
            message = {"ts": "1.0", "text": post["text"], "blocks": post["blocks"]}
            status, _ = await server.interact(action_payload(
                slack_id(report_email(3)), message, dm_of(slack_id(report_email(3))),
                {"type": "button", "action_id": stop_button["action_id"], "block_id": "b",
                 "value": stop_button["value"], "text": stop_button["text"]}))
            assert status == 200
            await slack.wait_for(lambda s: [p for p in s.posts(dm_of(slack_id(report_email(3))))
                                            if "won't get these reminders" in p.get("text", "")])
            state = await server.coach.store.get(NUDGE_STATE, report_email(3))
            assert state.data["opted_out"] is True
        finally:
            await stop(server)


async def test_team_skills_over_slack_says_too_few(tmp_path, org_file, catalog):
    async with FakeSlack(users=slack_users()) as slack:
        server = await start(slack, tmp_path / "db", org_file, catalog)
        try:
            status, _ = await server.command("/team-skills", "", user=MANAGER_A)
            assert status == 200
            posts = await slack.wait_for(lambda s: s.posts(dm_of(MANAGER_A)))
            assert "Fewer than 5 people in your team" in posts[0]["text"]
            status, _ = await server.command("/nudge-team", "", user=slack_id(report_email(5)))
            posts = await slack.wait_for(lambda s: s.posts(dm_of(slack_id(report_email(5)))))
            assert "Only managers can nudge a team" in posts[0]["text"]
        finally:
            await stop(server)


async def test_server_restarted_mid_fanout_sends_each_nudge_once(tmp_path, org_file, catalog):
    db = tmp_path / "db"
    async with FakeSlack(users=slack_users()) as slack:
        server = await start(slack, db, org_file, catalog)
        coach = server.coach
        nudges.configure(coach, rates={"slack": 30.0, "slack:lookup": 500.0})
        try:
            await server.command("/nudge-team", "--all", user=slack_id(ADMIN))
            await slack.wait_for(lambda s: sum(nudges_to(s).values()) >= 8)
        finally:
            await stop(server)                              # the server goes away in the middle
        first = sum(nudges_to(slack).values())
        assert 8 <= first < 35
        # the new process: its worker finds the jobs once the dead worker's leases expire
        server = await start(slack, db, org_file, catalog)
        try:
            server.coach.clock = lambda: time.time() + 600  # later than the dead worker's leases
            nudges.service(server.coach).wake.set()
            await slack.wait_for(lambda s: [p for p in s.posts(dm_of(slack_id(ADMIN))) if "finished" in p["text"]],
                                 timeout=20)
        finally:
            await stop(server)
        sent = nudges_to(slack)
        assert len(sent) == 35 and set(sent.values()) == {1}, "each person received the nudge exactly once"


def press_button(user: str, post: dict[str, Any], label: str) -> dict[str, Any]:
    """The block_actions payload Slack sends when `user` presses the button labelled `label` on `post`."""
    block = next(b for b in post["blocks"] if b.get("type") == "actions")
    button = next(e for e in block["elements"] if e["text"]["text"] == label)
    message = {"ts": post.get("ts", "1.0"), "text": post["text"], "blocks": post["blocks"]}
    return action_payload(user, message, post["channel"], {
        "type": "button", "action_id": button["action_id"], "block_id": block["block_id"],
        "text": button["text"], "value": button["value"]})


async def test_mentor_introduction_over_slack(tmp_path, org_file, catalog):
    from bot.store import PROFILES
    from tests.slack.conftest import dm_event

    requester, helper = slack_id(report_email(1)), slack_id(report_email(13))
    async with FakeSlack(users=slack_users()) as slack:
        server = await start(slack, tmp_path / "db", org_file, catalog)
        try:
            await server.coach.store.put(PROFILES, f"slack:{requester}", {
                "email": report_email(1), "platform": "slack", "user_id": requester, "consent_share": False,
                "reminders": True, "plan": {"path": "upskill", "skills": [{"id": "sql", "done": False}],
                                            "people": [{"email": report_email(13), "name": "Report 13",
                                                        "offer": "mentoring", "skills": ["sql"]}]}})
            await server.event(dm_event(requester, "ask Report 13 to mentor me"))
            await slack.wait_for(lambda s: [p for p in s.posts(dm_of(requester)) if "I've asked" in p["text"]])
            request = (await slack.wait_for(lambda s: s.posts(dm_of(helper))))[0]
            assert "would like you to mentor them" in request["text"]
            status, _ = await server.interact(press_button(helper, request, "Yes, happy to"))
            assert status == 200
            thanks = await slack.wait_for(
                lambda s: [p for p in s.posts(dm_of(helper)) if "introduced you" in p.get("text", "")])
            assert report_email(1) in thanks[0]["text"]
            intro = await slack.wait_for(
                lambda s: [p for p in s.posts(dm_of(requester)) if "Good news" in p.get("text", "")])
            assert report_email(13) in intro[0]["text"]
        finally:
            await stop(server)
