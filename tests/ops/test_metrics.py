"""GET /metrics over HTTP on the real server: off without a token, bearer-protected, and counting turns,
platform API calls (429s included), store operations, nudges, queues — with no personal data in it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import yaml

from bot import outbox
from bot.metrics import connector_method, slack_method
from bot.types import Reply
from tests.fakes.bf_connector import FakeConnector, member
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import command_form, dm_event, settings_for, start_server, stop_server
from tests.slack.conftest import make_store
from tests.teams import activities as A
from tests.teams.conftest import Server as TeamsServer
from tests.teams.conftest import store_settings

from .conftest import METRICS_TOKEN, samples, scrape, total, value

MANAGER = "U0OPSMGR01"
REPORTS = ["U0OPSRPT01", "U0OPSRPT02", "U0OPSRPT03"]
LOST = "lost-report@example.com"   # in the organisation file, unknown to Slack: unreachable
SECRET_WORDS = "my secret career plan: leave for Acme"


def write_org(folder: Path) -> Path:
    people = [{"email": "ops-manager@example.com", "name": "Ops Manager", "role": "Engineering manager",
               "slack_id": MANAGER}]
    people += [{"email": f"ops-report-{n}@example.com", "name": f"Ops Report {n}", "role": "Software developer",
                "manager": "ops-manager@example.com", "slack_id": user} for n, user in enumerate(REPORTS, 1)]
    people.append({"email": LOST, "name": "Lost Report", "role": "Software developer",
                   "manager": "ops-manager@example.com"})
    path = folder / "org.yaml"
    path.write_text(yaml.safe_dump({"people": people}, sort_keys=False))
    return path


def slack_users() -> dict[str, dict[str, str]]:
    users = {MANAGER: {"email": "ops-manager@example.com", "name": "Ops Manager"}}
    users.update({u: {"email": f"ops-report-{n}@example.com", "name": f"Ops Report {n}"}
                  for n, u in enumerate(REPORTS, 1)})
    return users


async def test_metrics_are_not_served_without_a_token(tmp_path: Path, catalog) -> None:
    async with FakeSlack() as slack:
        server, session = await start_server(settings_for(slack, tmp_path / "db"), make_store(tmp_path / "db"),
                                             catalog)
        try:
            base = str(server.test_server.make_url("/"))
            for token in (None, METRICS_TOKEN, ""):
                status, _, _ = await scrape(session, base, token)
                assert status == 404
        finally:
            await stop_server(server)


async def test_slack_turns_calls_nudges_and_queues(tmp_path: Path, catalog) -> None:
    async with FakeSlack(users=slack_users()) as slack:
        settings = settings_for(slack, tmp_path / "db", metrics_token=METRICS_TOKEN, org_file=write_org(tmp_path),
                                nudge_rate="slack=50")
        server, session = await start_server(settings, make_store(tmp_path / "db"), catalog)
        try:
            base = str(server.test_server.make_url("/"))
            # the token is required, and only that token
            assert (await scrape(session, base, None))[0] == 401
            assert (await scrape(session, base, "not-the-token"))[0] == 401
            async with session.get(base + "metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}) as r:
                assert r.status == 401

            # a turn whose first answer Slack rate-limits once (the client waits and sends it again)
            slack.rate_limit("chat.postMessage", times=1, retry_after=0)
            status, _ = await server.event(dm_event(REPORTS[0], SECRET_WORDS))
            assert status == 200
            await server.idle()
            await slack.wait_for(lambda s: s.posts(dm_of(REPORTS[0])), timeout=10)

            # a nudge fan-out: three reports reachable, one not
            body = urlencode(command_form("/nudge-team", "", user=MANAGER))
            assert (await server.post(body, "application/x-www-form-urlencoded"))[0] == 200
            await slack.wait_for(lambda s: any(p.get("text", "").startswith("Nudge finished")
                                               for p in s.posts(dm_of(MANAGER))), timeout=20)
            await server.idle()
            # a message waiting in the outbox (due later), read from the store when scraped
            await outbox.service(server.coach).enqueue("answer:wait:1", "slack", REPORTS[0], [Reply("Later.")],
                                                       due=server.coach.clock() + 3600)

            # the fan-out's last jobs are completed just after its summary is posted
            for _ in range(100):
                status, content_type, text = await scrape(session, base)
                if value(text, "skillcoach_queue_jobs", queue="nudges", state="leased") == 0:
                    break
                await asyncio.sleep(0.05)
            assert status == 200 and content_type.startswith("text/plain")
            assert value(text, "skillcoach_turns_total", platform="slack", outcome="answered") == 2  # DM + command
            assert value(text, "skillcoach_turn_seconds_count", platform="slack") == 2
            assert value(text, "skillcoach_platform_api_calls_total", platform="slack", method="chat.postMessage",
                         status="429") == 1
            posted = len(slack.of("chat.postMessage"))
            assert value(text, "skillcoach_platform_api_calls_total", platform="slack", method="chat.postMessage",
                         status="200") == posted
            # every call the fake answered is counted once (auth.test: ours at start-up, and bolt's)
            assert value(text, "skillcoach_platform_api_calls_total", platform="slack", method="auth.test",
                         status="200") == len(slack.of("auth.test")) >= 1
            assert value(text, "skillcoach_nudges_total", outcome="sent", reason="") == 3
            assert value(text, "skillcoach_nudges_total", outcome="skipped", reason="unreachable") == 1
            assert value(text, "skillcoach_nudges_total", outcome="failed", reason="") == 0
            assert total(text, "skillcoach_store_operation_seconds_count", backend="tinydb", operation="get") > 0
            assert total(text, "skillcoach_store_operation_seconds_count", backend="tinydb", operation="claim") > 0
            assert value(text, "skillcoach_queue_jobs", queue="outbox", state="waiting") == 1
            assert value(text, "skillcoach_queue_jobs", queue="nudges", state="waiting") == 0
            assert value(text, "skillcoach_queue_jobs", queue="nudges", state="leased") == 0
            assert 0 <= value(text, "skillcoach_queue_oldest_age_seconds", queue="outbox") < 600
            assert value(text, "skillcoach_queue_oldest_age_seconds", queue="nudges") == 0

            # no personal data anywhere: no user id, email, name or message text
            for private in [MANAGER, *REPORTS, LOST, "ops-manager@example.com", "Ops Report", "secret", "Acme"]:
                assert private not in text
            label_values = {v for _, labels, _ in samples(text) for v in labels.values()}
            assert not [v for v in label_values if "@" in v or v.startswith("U0")]
        finally:
            await stop_server(server)


async def test_teams_connector_calls_are_counted(tmp_path: Path, catalog) -> None:
    connector = FakeConnector(roster=[member(n) for n in range(1, 3)])
    await connector.start()
    server = await TeamsServer(store_settings(tmp_path, metrics_token=METRICS_TOKEN), catalog=catalog).start()
    try:
        status, _ = await server.post(A.message(connector.url, member(1), "hello"))
        assert status == 201
        sent = connector.messages()
        assert sent
        async with aiohttp.ClientSession() as session:
            status, _, text = await scrape(session, server.url)
        assert status == 200
        assert value(text, "skillcoach_turns_total", platform="teams", outcome="answered") == 1
        replies = total(text, "skillcoach_platform_api_calls_total", platform="teams", status="200",
                        method="POST /v3/conversations/{id}/activities/{id}")
        plain = total(text, "skillcoach_platform_api_calls_total", platform="teams", status="200",
                      method="POST /v3/conversations/{id}/activities")
        assert replies + plain == len(sent)
        assert member(1)["id"] not in text and member(1)["name"] not in text
        assert json.dumps(member(1)["id"])[1:-1] not in text
    finally:
        await server.stop()
        await connector.stop()


def test_method_labels_hold_no_ids() -> None:
    assert slack_method("/api/chat.postMessage") == "chat.postMessage"
    assert slack_method("/api/../U0SECRET") == "other"
    assert connector_method("POST", "/v3/conversations/a:1xyz/activities/17?x=1") == (
        "POST /v3/conversations/{id}/activities/{id}")
    assert connector_method("GET", "/v3/conversations/19:abc@thread.tacv2/pagedmembers") == (
        "GET /v3/conversations/{id}/pagedmembers")


async def test_introductions_are_counted_by_status(tmp_path: Path, catalog) -> None:
    from bot.store import PROFILES
    from tests.managers.conftest import ADMIN, report_email, slack_id, write_org
    from tests.managers.test_http_slack import press_button
    from tests.managers.test_http_slack import slack_users as manager_users

    requester, helper = slack_id(report_email(1)), slack_id(report_email(13))
    async with FakeSlack(users=manager_users()) as slack:
        settings = settings_for(slack, tmp_path / "db", org_file=write_org(tmp_path / "org.yaml"), admins=ADMIN,
                                metrics_token=METRICS_TOKEN)
        server, session = await start_server(settings, make_store(tmp_path / "db"), catalog)
        try:
            base = str(server.test_server.make_url("/"))
            await server.coach.store.put(PROFILES, f"slack:{requester}", {
                "email": report_email(1), "platform": "slack", "user_id": requester, "consent_share": False,
                "reminders": True, "plan": {"path": "upskill", "skills": [{"id": "sql", "done": False}],
                                            "people": [{"email": report_email(13), "name": "Report 13",
                                                        "offer": "mentoring", "skills": ["sql"]}]}})
            await server.event(dm_event(requester, "ask Report 13 to mentor me"))
            request = (await slack.wait_for(lambda s: s.posts(dm_of(helper))))[0]
            _, _, text = await scrape(session, base)
            assert value(text, "skillcoach_introductions_total", status="pending") == 1
            assert value(text, "skillcoach_introductions_total", status="accepted") == 0
            assert (await server.interact(press_button(helper, request, "Yes, happy to")))[0] == 200
            await slack.wait_for(lambda s: [p for p in s.posts(dm_of(requester)) if "Good news" in p.get("text", "")])
            _, _, text = await scrape(session, base)
            assert value(text, "skillcoach_introductions_total", status="pending") == 1
            assert value(text, "skillcoach_introductions_total", status="accepted") == 1
            assert report_email(13) not in text and helper not in text
        finally:
            await stop_server(server)
