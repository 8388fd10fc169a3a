"""`/team-skills`: aggregates only, and only for groups of at least 5 people who agreed to share."""

from __future__ import annotations

import re

from bot import intros
from bot.store import PROFILES
from bot.types import card_text

from .conftest import Clock, cmd, report_email, slack_id

MANAGER_B = slack_id("manager-b@")
TEAM_B = list(range(13, 23))
HELD = "not shown (fewer than 5 on one side)"


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


# Wednesday 2 December 2026, 15:30 UTC: in the weekly period that began on Monday 30 November
WEDNESDAY = 1_796_225_400.0


async def test_four_people_show_nothing(make_coach):
    coach = make_coach(clock=Clock(WEDNESDAY))
    await team_with(coach, 4)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    assert len(replies) == 1 and replies[0].card is None
    text, when = replies[0].text.split(" Figures as of ")
    assert text.startswith("Fewer than 5 people in your team have agreed to share")
    assert set(re.findall(r"\d+", text)) == {"5"}         # not even how many agreed
    assert when == "Wed 2 Dec 2026, 15:30 UTC; counted once a week, next on Mon 7 Dec 2026."


async def test_five_people_show_no_small_part(make_coach):
    coach = make_coach()
    await team_with(coach, 5)   # 3 upskilling, 1 reskilling, 1 without a plan; 1 found a mentor
    # one of them found a mentor (an accepted introduction)
    await coach.store.put(intros.HISTORY, f"slack:{slack_id(report_email(14))}", {"accepted": ["i1"], "tried": {}})
    await coach.store.put(intros.HISTORY, f"slack:{slack_id(report_email(15))}", {"accepted": [], "tried": {}})
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    card = replies[0].card
    assert card is not None and card.kind == "report"
    assert card.summary == "5 people who agreed to share"
    facts = {label: value for section in card.sections for label, value in section.facts}
    # every split of five has a part of fewer than five: no number but the group's size is shown
    assert facts["Have a plan"] == HELD
    assert facts["Upskilling (growing in their role)"] == HELD
    assert facts["Reskilling (moving to a new role)"] == HELD
    assert facts["Found a mentor, peer coach or shadowing host"] == HELD
    assert facts["Skills done"] == HELD
    assert facts["People who finished at least one skill"] == HELD
    top = next(s for s in card.sections if s.heading == "Skills most being built").lines
    assert top == ("• No skill is being built by 5 or more people yet",)
    everything = replies[0].text + card_text(card).replace(when_of(card), "")
    assert set(re.findall(r"\d+", everything)) == {"5"}   # the group's size and k only (and the date)
    assert "Report" not in everything and "@example.com" not in everything   # no names, no emails
    about = next(s for s in card.sections if s.heading == "About these figures").lines
    assert about[0].startswith("Where a figure is not shown, one side of it holds fewer than 5 people")


async def test_the_example_of_four_growing_and_one_leaving_shows_no_split(make_coach):
    coach = make_coach()
    for i, n in enumerate(TEAM_B[:5]):
        path = "reskill" if i == 4 else "upskill"
        await add_profile(coach, n, consent=True, the_plan=plan(path, [("sql", False), ("python", False)]))
    card = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    facts = {label: value for section in card.sections for label, value in section.facts}
    assert facts["Have a plan"] == HELD
    assert facts["Upskilling (growing in their role)"] == HELD
    assert facts["Reskilling (moving to a new role)"] == HELD
    top = next(s for s in card.sections if s.heading == "Skills most being built").lines
    assert top == ("• Python — 5 or more people", "• SQL — 5 or more people")


async def ten_people(coach) -> None:
    for i, n in enumerate(TEAM_B):   # ten people: five upskilling, five reskilling, all with a plan
        path = "upskill" if i < 5 else "reskill"
        skills = [("sql", i % 2 == 0), ("python", False)] + ([("leadership", False)] if i < 5 else [])
        await add_profile(coach, n, consent=True, the_plan=plan(path, skills))


async def test_a_group_whose_parts_are_all_large_shows_its_numbers(make_coach):
    coach = make_coach()
    await ten_people(coach)
    for n in TEAM_B[:5]:   # five of them found a mentor
        await coach.store.put(intros.HISTORY, f"slack:{slack_id(report_email(n))}", {"accepted": [f"i{n}"]})
    card = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    facts = {label: value for section in card.sections for label, value in section.facts}
    assert card.summary == "10 people who agreed to share"
    assert facts["Found a mentor, peer coach or shadowing host"] == "5 of 10"
    assert facts["Have a plan"] == HELD              # "without a plan" is 0 of 10: a part below 5
    assert facts["Upskilling (growing in their role)"] == HELD
    assert facts["Reskilling (moving to a new role)"] == HELD
    assert facts["People who finished at least one skill"] == "5 of 10"
    assert facts["Skills done"] == "5 of 25 (20%)"
    top = next(s for s in card.sections if s.heading == "Skills most being built").lines
    # Python: all ten (its complement, 0, is below 5); Leadership: five; SQL: five not done
    assert top == ("• Python — 5 or more people", "• Leadership — 5 people", "• SQL — 5 people")


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
    await ten_people(coach)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    # the top skills and plan progress; not upskill vs reskill, whose split is not shown (0 without a plan)
    (url, alt), (progress_url, progress_alt) = replies[0].card.images
    assert url.startswith("https://coach.example.com/charts/") and url.endswith(".png")
    assert alt == "Bar chart of the skills most being built"
    assert progress_alt.startswith("Bar chart of the skills done in plans")
    app = create_app(settings, coach=coach)                # mounts GET /charts/{token}.png
    async with TestClient(TestServer(app)) as client:
        response = await client.get(url.removeprefix("https://coach.example.com"))
        assert response.status == 200 and response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")
        assert (await client.get("/charts/" + "0" * 32 + ".png")).status == 404
        assert (await client.get("/charts/..%2Fsecrets.png")).status == 404


async def test_no_public_url_no_chart(make_coach):
    coach = make_coach()
    await ten_people(coach)
    replies = await coach.handle(cmd("team-skills", user=MANAGER_B))
    assert replies[0].card.images == () and replies[0].card.image_url is None


async def consenting(coach, numbers, the_plan=None) -> None:
    for n in numbers:
        await add_profile(coach, n, consent=True, the_plan=the_plan or plan("upskill", [("sql", False)]))


async def test_a_team_that_differs_from_the_tree_by_fewer_than_k_is_not_shown_beside_it(make_coach):
    coach = make_coach()
    manager_a = slack_id("manager-a@")
    await consenting(coach, [1, 2, 3, 4, 5, 9])          # Report 09 is in Manager A's tree, not the team
    team = (await coach.handle(cmd("team-skills", user=manager_a)))[0]
    tree = (await coach.handle(cmd("team-skills", "--all", user=manager_a)))[0]
    assert team.card.title == tree.card.title == "Team skills — your reporting tree"
    assert team.card.summary == tree.card.summary == "6 people who agreed to share"
    about = next(s for s in team.card.sections if s.heading == "About these figures").lines
    assert about[-1] == ("You asked for your team; it differs from your reporting tree by fewer than 5 people "
                         "who share, so the two could be compared to single someone out. Here is your "
                         "reporting tree instead.")
    # when nobody beyond the team shares, the tree adds no one and the team is shown as asked
    coach = make_coach()
    await consenting(coach, [1, 2, 3, 4, 5])
    await add_profile(coach, 9, consent=False, the_plan=plan("reskill", [("sql", False)]))
    team = (await coach.handle(cmd("team-skills", user=manager_a)))[0]
    assert team.card.title == "Team skills — your team"
    assert team.card.summary == "5 people who agreed to share"
    assert all(s.heading != "About these figures" or not s.lines[-1].startswith("You asked")
               for s in team.card.sections)


# -- the property: no part of 1 … k-1 people can be read from the card ---------------------------------
from hypothesis import given, settings as hsettings, strategies as st   # noqa: E402

from bot.report import visible_figures   # noqa: E402

K = 5


def consistent(label: str, value: int, k: int = K) -> bool:
    if label.isdigit():
        return int(label) == value
    if label == HELD:
        return True      # what "not shown" tells is checked by exact_shown below
    assert label == f"{k} or more", label
    return value >= k


def exact_shown(parts: list[int], k: int = K) -> bool:
    return all(p >= k for p in parts)


@hsettings(max_examples=300, deadline=None)
@given(st.integers(5, 40).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.sampled_from(["upskill", "reskill", None]), min_size=n, max_size=n),
    st.integers(0, n), st.integers(0, n), st.lists(st.integers(0, n), min_size=1, max_size=8))))
def test_no_part_of_fewer_than_k_can_be_read_from_the_card(team):
    n, paths, helped, progressing, skill_counts = team
    stats = {"group": n, "with_plan": sum(p is not None for p in paths), "upskill": paths.count("upskill"),
             "reskill": paths.count("reskill"), "helped": helped, "progressing": progressing,
             "skills_done": progressing, "skills_total": max(progressing, 1),
             "building": sorted(((f"Skill {i}", c) for i, c in enumerate(skill_counts)), key=lambda kv: -kv[1])}
    fig = visible_figures(stats, K)
    # the plan and path splits, read together: every (upskill, reskill, no plan) the card allows
    possible = [(u, r, n - u - r) for u in range(n + 1) for r in range(n + 1 - u)
                if consistent(fig["upskill"], u) and consistent(fig["reskill"], r)
                and consistent(fig["with_plan"], u + r)
                and (exact_shown([u, r, n - u - r]) == fig["upskill"].isdigit())
                and (exact_shown([u + r, n - u - r]) == fig["with_plan"].isdigit())]
    assert (stats["upskill"], stats["reskill"], n - stats["with_plan"]) in possible
    for part in range(3):
        values = {p[part] for p in possible}
        assert not (len(values) == 1 and 0 < values.pop() < K), (fig, part)
        # ... nor any union of two parts (each part's complement)
        others = {n - p[part] for p in possible}
        assert not (len(others) == 1 and 0 < others.pop() < K), (fig, part)
    for label, true in (("helped", helped), ("progressing", progressing)):
        values = [v for v in range(n + 1) if consistent(fig[label].removesuffix(f" of {n}"), v)
                  and exact_shown([v, n - v]) == fig[label].isdigit()]
        assert true in values
        for side in (values, [n - v for v in values]):
            assert not (len(set(side)) == 1 and 0 < side[0] < K), (label, fig[label])
    for name, label in fig["skills"]:
        true = dict(stats["building"])[name]
        values = [v for v in range(n + 1) if v >= K and consistent(label, v)
                  and (label.isdigit() == (n - v >= K))]
        assert true in values
        for side in (values, [n - v for v in values]):
            assert not (len(set(side)) == 1 and 0 < side[0] < K), (name, label)


@hsettings(max_examples=300, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(2, 8))
def test_two_scopes_that_differ_by_fewer_than_k_are_never_both_shown(team_sharing, tree_adds, k):
    from bot.report import scope_to_show

    sharing = {"team": team_sharing, "tree": team_sharing + tree_adds}
    shown = {scope_to_show(asked, sharing, tree_adds, k) for asked in ("team", "tree")}
    # what a manager can get by asking for each scope: one scope, or two that differ by 0 or k or more
    assert len(shown) == 1 or tree_adds == 0 or tree_adds >= k, (team_sharing, tree_adds, k, shown)
    assert "tree" in shown                               # the larger scope is always the one kept


# -- snapshots: the figures are counted once per period, never live on a request -----------------------
def facts_of(card) -> dict[str, str]:
    return {label: value for section in card.sections for label, value in section.facts}


def when_of(card) -> str:
    return next(s for s in card.sections if s.heading == "When").lines[0]


async def test_a_plan_made_after_the_snapshot_changes_nothing_until_the_next_period(make_coach):
    clock = Clock(WEDNESDAY)
    coach = make_coach(clock=clock)
    await ten_people(coach)
    first = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    assert facts_of(first)["People who finished at least one skill"] == "5 of 10"
    assert when_of(first) == "Figures as of Wed 2 Dec 2026, 15:30 UTC; counted once a week, next on Mon 7 Dec 2026."
    # a sixth person finishes a skill, another stops sharing: the report a day later is the same
    await add_profile(coach, TEAM_B[1], consent=True, the_plan=plan("upskill", [("sql", True), ("python", False)]))
    await add_profile(coach, TEAM_B[2], consent=False, the_plan=None, updated_at=20.0)
    clock.advance(86400)
    again = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    assert again == first
    # Monday: a new period, new figures (the one who stopped sharing has left them)
    clock.now = WEDNESDAY + 4 * 86400 + 8.5 * 3600 + 60   # Mon 7 Dec 2026, 00:01 UTC
    later = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    assert later.summary == "9 people who agreed to share"
    assert facts_of(later)["People who finished at least one skill"] == HELD   # 5 of 9: 4 have not
    assert when_of(later) == "Figures as of Mon 7 Dec 2026, 00:01 UTC; counted once a week, next on Mon 14 Dec 2026."


async def test_the_background_snapshot_counts_every_manager_and_admin_at_the_period_start(make_coach):
    import asyncio

    from bot import snapshot

    clock = Clock(WEDNESDAY)
    coach = make_coach(clock=clock)
    await ten_people(coach)
    task = asyncio.create_task(snapshot.snapshot_task(coach, interval=0.01))
    try:
        for _ in range(200):
            if await coach.store.get(snapshot.TAKEN, "latest"):
                break
            await asyncio.sleep(0.01)
        taken = (await coach.store.get(snapshot.TAKEN, "latest")).data
        assert taken["taken_at"] == WEDNESDAY and taken["callers"] == len(coach.directory.managers()) + 1
        stored = (await coach.store.get(snapshot.SNAPSHOTS, "manager-b@example.com")).data
        assert stored["scopes"]["team"]["group"] == 10 and stored["taken_at"] == WEDNESDAY
        assert "Report" not in repr(stored) and "@" not in repr(stored["scopes"])   # counts only
        # a change after the snapshot: the task does not count again within the period
        await add_profile(coach, TEAM_B[0], consent=False, the_plan=None, updated_at=30.0)
        clock.advance(3600)
        await asyncio.sleep(0.05)
        card = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
        assert card.summary == "10 people who agreed to share"
        assert when_of(card).startswith("Figures as of Wed 2 Dec 2026, 15:30 UTC;")
        # the next period begins: the task counts everyone again
        clock.now = WEDNESDAY + 5 * 86400
        for _ in range(200):
            if (await coach.store.get(snapshot.TAKEN, "latest")).data["taken_at"] == clock.now:
                break
            await asyncio.sleep(0.01)
        stored = (await coach.store.get(snapshot.SNAPSHOTS, "manager-b@example.com")).data
        assert stored["taken_at"] == clock.now and stored["scopes"]["team"]["group"] == 9
    finally:
        task.cancel()


async def test_refresh_period_is_a_setting(make_coach):
    clock = Clock(WEDNESDAY)
    coach = make_coach(clock=clock, report_refresh_days=1)
    await ten_people(coach)
    card = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    assert when_of(card) == "Figures as of Wed 2 Dec 2026, 15:30 UTC; counted once a day, next on Thu 3 Dec 2026."
    await add_profile(coach, TEAM_B[0], consent=False, the_plan=None, updated_at=30.0)
    clock.advance(9 * 3600)                               # Thursday 00:30
    card = (await coach.handle(cmd("team-skills", user=MANAGER_B)))[0].card
    assert card.summary == "9 people who agreed to share"
