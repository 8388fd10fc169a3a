"""`/team-skills`: aggregates only, and only for groups of at least 5 people who agreed to share."""

from __future__ import annotations

import re

from bot import intros
from bot.store import PROFILES
from bot.types import card_text

from .conftest import cmd, report_email, slack_id

MANAGER_B = slack_id("manager-b@")
TEAM_B = list(range(13, 23))


def plan(path: str, skills: list[tuple[str, bool]]) -> dict:
    return {"path": path, "skills": [{"id": s, "name": s, "done": done} for s, done in skills],
            "people": [{"email": report_email(13), "name": "Report 13", "offer": "mentoring", "skills": ["sql"]}],
            "weeks": 8, "created_at": 1.0, "updated_at": 1.0}


async def add_profile(coach, n: int, *, consent: bool, the_plan: dict | None, platform: str = "slack",
                      updated_at: float = 10.0) -> None:
    # as a turn does: the profile, and its key in the email index
    await coach.index_email(f"{platform}:{slack_id(report_email(n))}", old=None, new=report_email(n))
    await coach.store.put(PROFILES, f"{platform}:{slack_id(report_email(n))}", {
        "email": report_email(n), "name": f"Report {n:02d}", "platform": platform,
        "user_id": slack_id(report_email(n)), "consent_share": consent, "reminders": True,
        "goal": "grow", "plan": the_plan, "updated_at": updated_at,
    })


async def team_with(coach, consenting: int) -> None:
    plans = [
        plan("upskill", [("sql", True), ("python", False), ("public-speaking", False)]),
        plan("upskill", [("sql", False), ("python", False)]),
        plan("reskill", [("sql", False), ("data-literacy", True), ("leadership", False)]),
        plan("upskill", [("python", True), ("sql", False)]),
        None,
        plan("upskill", [("sql", False)]),
    ]
    for i, n in enumerate(TEAM_B[:consenting]):
        await add_profile(coach, n, consent=True, the_plan=plans[i % len(plans)])
    for n in TEAM_B[consenting:consenting + 3]:      # plans of people who did not agree to share
        await add_profile(coach, n, consent=False, the_plan=plan("reskill", [("leadership", False)]))


async def test_four_people_show_nothing(make_coach):
    coach = make_coach()
    await team_with(coach, 4)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    assert len(replies) == 1 and replies[0].card is None
    text = replies[0].text
    assert text.startswith("Fewer than 5 people in your team have agreed to share")
    assert set(re.findall(r"\d+", text)) == {"5"}         # not even how many agreed


async def test_five_people_show_aggregates_only(make_coach):
    coach = make_coach()
    await team_with(coach, 5)
    # one of them found a mentor (an accepted introduction)
    await coach.store.put(intros.INTROS, "i1", {"status": "accepted", "requester": {"email": report_email(14)}})
    await coach.store.put(intros.INTROS, "i2", {"status": "declined", "requester": {"email": report_email(15)}})
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    card = replies[0].card
    assert card is not None and card.kind == "report"
    assert card.summary == "5 people who agreed to share"
    facts = {label: value for section in card.sections for label, value in section.facts}
    assert facts["Have a plan"] == "4 of 5"
    assert facts["Upskilling (growing in their role)"] == "3"
    assert facts["Reskilling (moving to a new role)"] == "1"
    assert facts["Found a mentor, peer coach or shadowing host"] == "1 of 5"
    assert facts["Skills done"] == "3 of 10 (30%)"
    assert facts["People who finished at least one skill"] == "3 of 5"
    top = next(s for s in card.sections if s.heading == "Skills most being built").lines
    assert top == ("• SQL — 3 people", "• Python — 2 people")  # skills of a single person are left out
    everything = replies[0].text + card_text(card)
    assert "Report" not in everything and "@example.com" not in everything   # no names, no emails
    assert "Public speaking" not in everything and "Leadership" not in everything


async def test_latest_profile_per_person_and_consent_withdrawn(make_coach):
    coach = make_coach()
    await team_with(coach, 5)
    # Report 13 also uses Teams, more recently, and withdrew consent there
    await add_profile(coach, 13, consent=False, the_plan=None, platform="teams", updated_at=99.0)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    assert replies[0].card is None and "Fewer than 5" in replies[0].text


async def test_only_managers_and_their_tree(make_coach):
    coach = make_coach()
    await team_with(coach, 5)
    replies = await coach.handle(cmd("team-skills", user=slack_id(report_email(13))))
    assert "The team view is for managers" in replies[0].text
    # Manager A's tree has nobody who agreed: Manager B's consenting reports do not count there
    replies = await coach.handle(cmd("team-skills", "--all", user=slack_id("manager-a@")))
    assert "Fewer than 5 people in your reporting tree" in replies[0].text
    # the head of department sees the whole tree, which includes Manager B's team
    replies = await coach.handle(cmd("team-skills", "--all", user=slack_id("head@")))
    assert replies[0].card.summary == "5 people who agreed to share"
    assert replies[0].card.title == "Team skills — your reporting tree"


async def test_min_group_size_is_a_setting(make_coach):
    coach = make_coach(min_group_size=3)
    await team_with(coach, 3)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    assert replies[0].card.summary == "3 people who agreed to share"


def test_chart_png_is_a_valid_image():
    import struct
    import zlib

    from bot.report import bar_chart_png

    png = bar_chart_png([("SQL", 4), ("Python", 3)], title="Skills", width=300)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert width == 300 and height == 12 * 2 + 30 * 3
    start = png.index(b"IDAT") + 4
    length = struct.unpack(">I", png[start - 8:start - 4])[0]
    raw = zlib.decompress(png[start:start + length])
    assert len(raw) == height * (1 + 3 * width)
    assert bytes((74, 111, 165)) in raw                  # the bars are drawn


async def test_report_chart_served_by_the_app(directory, catalog):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.core import Coach
    from dialogs.conversation import Conversation
    from bot.report import register
    from bot.server import create_app
    from bot.settings import Settings
    from bot.store.memory import MemoryStore

    settings = Settings(_env_file=None, database_url="memory:", slack_bot_token="", teams_enabled=False,
                        public_url="https://coach.example.com/")
    coach = Coach(settings, MemoryStore(), catalog, directory, dialog=Conversation())
    register(coach)
    await team_with(coach, 5)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    url = replies[0].card.image_url
    assert url.startswith("https://coach.example.com/charts/") and url.endswith(".png")
    assert replies[0].card.image_alt
    app = create_app(settings, coach=coach)                # mounts GET /charts/{token}.png
    async with TestClient(TestServer(app)) as client:
        response = await client.get(url.removeprefix("https://coach.example.com"))
        assert response.status == 200 and response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")
        assert (await client.get("/charts/" + "0" * 32 + ".png")).status == 404
        assert (await client.get("/charts/..%2Fsecrets.png")).status == 404


async def test_no_public_url_no_chart(make_coach):
    coach = make_coach()
    await team_with(coach, 5)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    assert replies[0].card.image_url is None
