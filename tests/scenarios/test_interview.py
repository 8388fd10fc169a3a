"""Whole conversations through `Coach.handle` (the core, as every adapter uses it)."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core import Coach
from dialogs.conversation import Conversation
from bot.people import Directory, Person
from bot.settings import Settings
from bot.store import ADDRESSES, CONVERSATIONS, PROFILES
from bot.store.memory import MemoryStore
from bot.types import Incoming
from tests.scenarios.chat import Chat


@pytest.fixture
def directory() -> Directory:
    return Directory.of([
        Person("mentor-1@example.com", "Mentor One", "Software developer", offers=("mentoring",), capacity=2,
               skills=("programming-languages", "web-development")),
        Person("host-1@example.com", "Host One", "Software developer", offers=("shadowing",), capacity=1,
               skills=("software-engineering-fundamentals",)),
        Person("coach-1@example.com", "Coach One", "Marketing specialist", offers=("peer_coaching",), capacity=1,
               skills=("data-analytics",)),
        Person("busy-1@example.com", "Busy One", "Software developer", offers=("mentoring",), capacity=0,
               skills=("programming-languages",)),
    ])


@pytest.fixture
def coach(catalog, directory) -> Coach:
    return Coach(Settings(database_url="memory:"), MemoryStore(), catalog, directory, dialog=Conversation())


def skill_names(card) -> str:
    section = next(s for s in card.sections if s.heading == "Skills to build")
    return "\n".join(section.lines)


def section(card, heading):
    return next((s for s in card.sections if s.heading == heading), None)


async def interview(chat: Chat, role: str, goal: str, *, target: str | None = None, skills=(), prefs=None,
                    consent: str = "Yes") -> None:
    """Answer every question of the interview with the given answers, pressing buttons."""
    await chat.send("hi")
    await chat.press("start")
    await chat.send(role)
    q = chat.question()
    assert q is not None
    if q.choices[0].value == "yes":
        await chat.press("yes")
    else:
        await chat.press(q.choices[0].value)
    await chat.press("1–3 years")
    if skills:
        await chat.pick(list(skills))
    else:
        await chat.send("none")
    if goal == "grow":
        await chat.press("Grow")
    else:
        await chat.send(f"I want to become a {target}")
        q = chat.question()
        await chat.press("yes" if q.choices[0].value == "yes" else q.choices[0].value)
    await chat.press("3–5 hours")
    if prefs:
        await chat.pick(prefs)
    else:
        await chat.send("all")
    await chat.press(consent)


async def up_to_the_goal(chat: Chat, role: str, tenure: str) -> None:
    """Start, give the role (confirming the first match), the time in it and no skills."""
    await chat.send("hi")
    await chat.press("start")
    await chat.send(role)
    await chat.press(chat.question().choices[0].value)
    await chat.press(tenure)
    await chat.send("none")


async def test_marketing_specialist_who_grows_gets_the_seed_skills(coach):
    chat = Chat(coach)
    await interview(chat, "marketing specialist", "grow")
    card = chat.plan()
    assert card is not None, chat.texts()
    names = skill_names(card)
    for skill in ("Digital marketing trends", "Data analytics", "Social media advertising"):
        assert skill in names
    assert "upskilling" in card.summary.lower()
    assert section(card, "Strengths that transfer") is None
    assert 3 <= len([l for l in section(card, "Skills to build").lines if not l.startswith("    ")]) <= 5
    # a peer coach who knows data analytics is offered
    people = "\n".join(section(card, "People who can help").lines)
    assert "Coach One" in people and "peer coaching" in people
    assert section(card, "Professional association").lines


async def test_journalist_moving_into_software_development(coach):
    chat = Chat(coach)
    await interview(chat, "journalist", "switch", target="software developer", prefs=["Courses", "Mentoring",
                                                                                     "Job shadowing"])
    card = chat.plan()
    assert card is not None, chat.texts()
    names = skill_names(card)
    for skill in ("Programming languages", "Web development", "Software engineering fundamentals"):
        assert skill in names
    strengths = section(card, "Strengths that transfer").lines[0]
    assert "Writing" in strengths and "Research" in strengths
    assert "reskilling" in card.summary.lower()
    people = "\n".join(section(card, "People who can help").lines)
    assert "Mentor One" in people and "Host One" in people
    assert "Busy One" not in people  # no capacity left
    profile = (await coach.store.get(PROFILES, chat.key)).data
    assert profile["plan"]["path"] == "reskill"
    assert profile["target"]["id"] == "software-developer"
    assert profile["consent_share"] is True
    assert profile["plan"]["weeks"] >= 1


async def test_plan_says_when_no_one_is_listed(catalog):
    # an organisation file is loaded, but nobody in it offers help with this plan's skills
    directory = Directory({"someone@example.com": Person("someone@example.com", "Someone", "Accountant", offers=("mentoring",),
                                  capacity=1, skills=("bookkeeping",))})
    coach = Coach(Settings(database_url="memory:"), MemoryStore(), catalog, directory, dialog=Conversation())
    chat = Chat(coach)
    await interview(chat, "data analyst", "grow", consent="No")
    card = chat.plan()
    assert "No one is listed yet" in section(card, "People who can help").lines[0]
    profile = (await coach.store.get(PROFILES, chat.key)).data
    assert profile["consent_share"] is False


async def test_plan_without_an_organisation_file_says_what_to_do(catalog):
    coach = Coach(Settings(database_url="memory:"), MemoryStore(), catalog, Directory(), dialog=Conversation())
    chat = Chat(coach)
    await interview(chat, "data analyst", "grow", consent="No")
    line = section(chat.plan(), "People who can help").lines[0]
    assert "SKILLCOACH_ORG" in line and "professional association" in line and "shadow" in line


async def test_free_text_role_descriptions_are_understood(coach):
    for text, expected in (("I do social media for our brand", "social"), ("senior backend dev", "backend"),
                           ("journalist", "journalist")):
        chat = Chat(coach, user=f"U-{expected}")
        await chat.send("hi")
        await chat.press("start")
        await chat.send(text)
        q = chat.question()
        labels = " ".join(c.label.lower() for c in q.choices) + " " + q.text.lower()
        assert expected in labels, (text, chat.texts())


async def test_custom_role_still_gets_a_plan(coach):
    chat = Chat(coach)
    await chat.send("hi")
    await chat.press("start")
    await chat.send("chief happiness wrangler of llamas")
    q = chat.question()
    # nothing fits: the coach says so and asks for the closest field instead of guessing one
    assert "rather ask than guess" in q.text
    assert "customer-support" in [c.value for c in q.choices] and q.choices[-1].value == "none"
    await chat.press("Customer support")
    assert "isn't in my catalog" in chat.texts() and "Customer support" in chat.texts()
    await chat.press("Less than a year")
    await chat.send("writing, budgeting")
    await chat.press("Grow")
    await chat.send("2 hours")
    await chat.send("courses")
    await chat.press("No")
    card = chat.plan()
    assert card is not None, chat.texts()
    assert "Chief happiness wrangler of llamas" in card.title
    profile = (await coach.store.get(PROFILES, chat.key)).data
    assert profile["role"] == {"id": None, "title": "Chief happiness wrangler of llamas",
                               "family": "customer-support"}
    assert "starting point" in card.summary


async def test_not_sure_explains_and_recommends_a_path(coach):
    chat = Chat(coach)
    await up_to_the_goal(chat, "journalist", "More than 5")
    await chat.press("Not sure")
    text = chat.texts()
    assert "Upskilling" in text and "Reskilling" in text and "journalist" in text.lower()
    await chat.press("Not really")
    await chat.press("A different kind of work")
    await chat.press("Yes, there is")
    assert "I'd suggest *reskilling*" in chat.texts()
    await chat.press("Yes, let's reskill")
    assert "Which role would you like to move into" in chat.texts()
    await chat.send("software developer")
    await chat.press("yes")
    await chat.press("1–2 hours")
    await chat.send("1, 2")
    await chat.press("Yes")
    card = chat.plan()
    assert card is not None and "reskilling" in card.summary.lower()


async def test_not_sure_can_lead_to_upskilling(coach):
    chat = Chat(coach)
    await up_to_the_goal(chat, "accountant", "1–3")
    await chat.send("I'm not sure")
    await chat.press("Yes, mostly")
    await chat.press("same kind")
    await chat.press("Not really")
    assert "I'd suggest *upskilling*" in chat.texts()


async def test_typed_answers_work_like_buttons(coach):
    chat = Chat(coach)
    await chat.send("hello")
    await chat.send("1")                      # number
    await chat.send("data analyst")
    await chat.send("yes")                    # yes/no words
    await chat.send("2 years")                # free text mapped to a bucket
    await chat.send("1, sql, python")         # number + names + free text skills
    assert "Noted:" in chat.texts()
    await chat.send("grow in my current role")  # label
    await chat.send("6-10 hours")
    await chat.send("mentoring and courses")
    await chat.send("yes")
    assert chat.plan() is not None, chat.texts()
    profile = (await coach.store.get(PROFILES, chat.key)).data
    assert "sql" in profile["skills"]
    assert set(profile["prefs"]) == {"mentoring", "courses"}
    assert profile["hours_per_week"] == 8


async def test_free_text_switch_goal_is_understood_with_its_target(coach):
    chat = Chat(coach)
    await up_to_the_goal(chat, "journalist", "1–3")
    await chat.send("I want to become a software developer")
    assert "Software developer" in chat.texts()
    await chat.press("yes")
    assert "you'd like to become a *software developer*." in chat.texts()
    assert "move into *Software developer*" not in chat.texts()


async def test_stale_button_press_gets_a_polite_answer(coach):
    chat = Chat(coach)
    await chat.send("hi")
    first = chat.question()
    await chat.press("start")
    # press the welcome button again (an old message)
    replies = await chat.send(choice="start", prompt_id=first.prompt_id)
    assert "already answered" in chat.texts()
    assert chat.question() is None  # the role question is typed: no stale prompt stays open
    convo = (await coach.store.get(CONVERSATIONS, chat.key)).data
    assert convo["state"] == "role"
    assert replies


async def test_unknown_choice_value_is_not_an_error(coach):
    chat = Chat(coach)
    await chat.send("hi")
    q = chat.question()
    await chat.send(choice="no-such-value", prompt_id=q.prompt_id)
    again = chat.question()
    assert again.text == "Shall we start? It takes about two minutes." and again.choices == q.choices   # asked again


async def test_global_commands(coach):
    chat = Chat(coach)
    await chat.send("help")
    assert "forget me" in chat.texts()
    await chat.send("upskilling or reskilling?")
    assert "*Upskilling* means" in chat.texts()
    await chat.send("my plan")
    assert "don't have a plan yet" in chat.texts()
    await interview(chat, "data analyst", "grow")
    await chat.send("my plan")
    assert chat.plan() is not None
    await chat.send("stop reminders")
    assert (await coach.store.get(PROFILES, chat.key)).data["reminders"] is False
    await chat.send("resume reminders")
    assert (await coach.store.get(PROFILES, chat.key)).data["reminders"] is True
    await chat.send("stop sharing")
    assert (await coach.store.get(PROFILES, chat.key)).data["consent_share"] is False
    await chat.send("share my progress")
    assert (await coach.store.get(PROFILES, chat.key)).data["consent_share"] is True
    assert "never your name" in chat.texts()
    await chat.send("restart")
    assert "What's your current role" in chat.texts()
    await chat.send("help")  # help in the middle re-asks the open question
    assert "What's your current role" in chat.texts()
    await chat.send("cancel")
    assert "stopped" in chat.texts()
    await chat.send("start")
    assert "What's your current role" in chat.texts()
    # the plan survives a restart of the interview until a new one replaces it
    await chat.send("my plan")
    assert chat.plan() is not None
    await chat.send("my data")
    export = chat.last[0].attachment
    assert export["profiles"]["plan"]["path"] == "upskill"
    json.dumps(export)  # JSON-serialisable


async def test_progress_marks_a_step_done(coach):
    chat = Chat(coach)
    await interview(chat, "marketing specialist", "grow")
    profile = (await coach.store.get(PROFILES, chat.key)).data
    first = profile["plan"]["skills"][0]
    await chat.send(f"I finished the {first['name']} course")
    assert "marked done — 1 of" in chat.texts()
    await chat.send("my plan")
    card = chat.plan()
    assert "✓ *" + first["name"] in skill_names(card)
    facts = dict(section(card, "At a glance").facts)
    assert facts["Progress"].startswith("1 of")
    await chat.send("I finished underwater basket weaving")
    assert "couldn't find" in chat.texts()
    # the button path
    await chat.send("start")
    await chat.press("Mark a skill done")
    await chat.press(profile["plan"]["skills"][1]["name"])
    assert "2 of" in chat.texts()


async def test_forget_me_leaves_nothing_behind(coach):
    chat = Chat(coach)
    await coach.handle(Incoming("console", chat.user, text="hi", address={"channel": "D1"}))
    await interview(chat, "journalist", "grow")
    assert await coach.store.get(ADDRESSES, chat.key) is not None
    await chat.send("forget me")
    assert "can't be undone" in chat.texts()
    await chat.press("No")
    assert await coach.store.get(PROFILES, chat.key) is not None
    await chat.send("forget me")
    await chat.press("Yes")
    assert "everything I kept about you is deleted" in chat.texts()
    for collection in (PROFILES, CONVERSATIONS, ADDRESSES):
        assert await coach.store.get(collection, chat.key) is None
    async for record in coach.store.scan(PROFILES):
        assert record.key != chat.key
    await chat.send("hi")
    assert "I'm *skillcoach*" in chat.texts()  # a fresh start


async def test_huge_and_empty_text_get_answers(coach):
    chat = Chat(coach)
    await chat.send("")
    await chat.send("x" * 100_000)
    await chat.send("\x00\u202e<script>alert(1)</script>")
    convo = (await coach.store.get(CONVERSATIONS, chat.key)).data
    assert len(json.dumps(convo)) < 20_000


async def test_conversation_resumes_after_a_restart(catalog, tmp_path):
    from bot.store.tinydb_store import TinyDBStore

    async def new_coach():
        store = TinyDBStore(tmp_path / "db")
        await store.open()
        return Coach(Settings(database_url=""), store, catalog, Directory(), dialog=Conversation())

    first = await new_coach()
    chat = Chat(first)
    await chat.send("hi")
    await chat.press("start")
    await chat.send("data analyst")
    await chat.press("yes")
    tenure_q = chat.question()
    await first.store.close()

    second = await new_coach()
    chat.coach = second
    await chat.send(choice="1to3", prompt_id=tenure_q.prompt_id)  # the button from before the restart
    assert "use with confidence" in chat.texts()
    await second.store.close()


async def test_two_users_are_kept_apart(coach):
    a, b = Chat(coach, user="UA"), Chat(coach, user="UB")
    await a.send("hi")
    await b.send("hi")
    await a.press("start")
    await a.send("journalist")
    await b.press("start")
    assert "What's your current role" in b.texts()
    assert (await coach.store.get(CONVERSATIONS, a.key)).data["state"] == "role_confirm"


async def test_paused_helpers_are_not_suggested_and_my_data_covers_every_feature(catalog, directory):
    from bot.server import register_features

    coach = Coach(Settings(database_url="memory:"), MemoryStore(), catalog, directory, dialog=Conversation())
    register_features(coach)
    mentor = Chat(coach, user="UM", email="mentor-1@example.com")
    await mentor.send("mentoring pause")
    assert "pause" in mentor.texts().lower()
    chat = Chat(coach)
    await interview(chat, "journalist", "switch", target="software developer")
    people = "\n".join(section(chat.plan(), "People who can help").lines)
    assert "Mentor One" not in people and "Host One" in people
    # the plan's next steps offer to ask the suggested people
    assert any(c.value.startswith("intro:ask:host-1@example.com") for c in chat.question().choices)
    await chat.send("my data")
    export = chat.last[0].attachment
    assert {"profiles", "conversations", "addresses", "nudges", "introductions"} <= set(export)


async def test_once_answers_a_repeated_event_with_nothing_and_stores_nothing(coach):
    first = await coach.handle(Incoming("slack", "U9", text="hi", event_id="Ev1"), once=True)
    assert first
    convo = await coach.store.get(CONVERSATIONS, "slack:U9")
    again = await coach.handle(Incoming("slack", "U9", text="1", event_id="Ev1"), once=True)
    assert again == []
    assert await coach.store.get(CONVERSATIONS, "slack:U9") == convo
    # a delegated command is checked too
    await coach.handle(Incoming("slack", "U9", command="team-skills", event_id="Ev2"), once=True)
    assert await coach.handle(Incoming("slack", "U9", command="team-skills", event_id="Ev2"), once=True) == []


class SlowPuts(MemoryStore):
    """Records when each conversation write starts and ends; writes take a moment (as on disk)."""

    def __init__(self, events: list) -> None:
        super().__init__()
        self.events = events
        self.fail = False

    async def put(self, collection, key, data, *, version=None):
        if collection == CONVERSATIONS:
            self.events.append("save starts")
        await asyncio.sleep(0.01)
        if self.fail:
            from bot.errors import StoreUnavailable

            raise StoreUnavailable("disk gone")
        record = await super().put(collection, key, data, version=version)
        if collection == PROFILES:
            self.events.append("profile saved")
        if collection == CONVERSATIONS:
            self.events.append("saved")
        return record


async def test_deliver_is_the_one_way_out_and_sends_while_the_conversation_is_saved(catalog):
    events: list = []

    async def deliver(replies):
        events.append(("delivered", replies[0].text))

    coach = Coach(Settings(database_url="memory:"), SlowPuts(events), catalog, Directory(), dialog=Conversation())
    assert await coach.handle(Incoming("slack", "UD", text="hi"), deliver=deliver) == []
    # the first turn also creates the profile: that is saved first (a conflict there would run the turn
    # again), then the replies go out while the conversation is being written
    assert [e if isinstance(e, str) else e[0] for e in events] == [
        "profile saved", "save starts", "delivered", "saved"]
    events.clear()
    assert await coach.handle(Incoming("slack", "UD", text="1"), deliver=deliver) == []
    # only the conversation changed: the replies go out while it is being written
    assert [e if isinstance(e, str) else e[0] for e in events] == ["save starts", "delivered", "saved"]
    assert "current role" in events[1][1]
    convo = (await coach.store.get(CONVERSATIONS, "slack:UD")).data
    assert convo["state"] == "role"           # saved as well as sent


async def test_deliver_waits_for_the_save_on_a_shared_store_and_hears_when_the_save_fails(catalog):
    events: list = []

    async def deliver(replies):
        events.append(("delivered", replies[0].text))

    class Shared(SlowPuts):
        shared = True

    shared = Coach(Settings(database_url="memory:"), Shared(events), catalog, Directory(), dialog=Conversation())
    await shared.handle(Incoming("slack", "U1", text="hi"), deliver=deliver)
    events.clear()
    assert await shared.handle(Incoming("slack", "U1", text="1"), deliver=deliver) == []
    assert [e if isinstance(e, str) else e[0] for e in events] == ["save starts", "saved", "delivered"]

    events.clear()
    failing_store = SlowPuts(events)
    failing = Coach(Settings(database_url="memory:"), failing_store, catalog, Directory(), dialog=Conversation())
    await failing.handle(Incoming("slack", "U1", text="hi"), deliver=deliver)
    failing_store.fail = True
    events.clear()
    assert await failing.handle(Incoming("slack", "U1", text="1"), deliver=deliver) == []
    delivered = [e[1] for e in events if not isinstance(e, str)]
    assert len(delivered) == 2 and "current role" in delivered[0]
    assert "try again" in delivered[1]     # after the question went out, the person hears it was not kept


async def test_one_person_on_two_platforms_has_one_profile_and_forget_me_removes_every_entry(coach):
    from bot.person import LINKS
    from bot.store import EMAILS

    slack = Chat(coach, user="US", platform="slack", email="person-1@example.com")
    teams = Chat(coach, user="aad-1", platform="teams", email="Person-1@example.com")
    await slack.send("hi")
    await teams.send("hi")
    found = await coach.profiles_by_email(["PERSON-1@example.com", "nobody@example.com"])
    assert [p["identities"] for p in found["person-1@example.com"]] == [["slack:US", "teams:aad-1"]]
    assert "nobody@example.com" not in found
    assert (await coach.store.get(LINKS, "teams:aad-1")).data == {"person": "slack:US", "email": "Person-1@example.com"}
    assert await coach.store.get(PROFILES, "teams:aad-1") is None
    assert (await coach.store.get(EMAILS, "person-1@example.com")).data == {"keys": ["slack:US", "teams:aad-1"]}
    # a new email on the identity the profile is stored under moves the entry
    moved = Chat(coach, user="US", platform="slack", email="person-2@example.com")
    await moved.send("help")
    assert (await coach.store.get(EMAILS, "person-2@example.com")).data == {"keys": ["slack:US"]}
    assert (await coach.store.get(EMAILS, "person-1@example.com")).data == {"keys": ["teams:aad-1"]}
    await moved.send("forget me")
    await moved.press("Yes")
    for collection, key in [(EMAILS, "person-2@example.com"), (EMAILS, "person-1@example.com"),
                            (PROFILES, "slack:US"), (LINKS, "teams:aad-1"), (ADDRESSES, "teams:aad-1"),
                            (CONVERSATIONS, "teams:aad-1")]:
        assert await coach.store.get(collection, key) is None, (collection, key)


async def test_finishing_something_mid_interview_is_news_not_an_answer(coach):
    chat = Chat(coach)
    await chat.send("hi")
    await chat.press("start")
    role_question = chat.question() or chat.last[-1]
    replies = await chat.send("I finished the SQL course")
    assert replies[0].text == ("Well done on finishing the SQL course! Once we've made your plan I'll keep track "
                               "of what you finish — let's get through these questions first.")
    assert replies[-1].text == role_question.text                # the role question, asked again
    convo = (await coach.store.get(CONVERSATIONS, chat.key)).data
    assert convo["state"] == "role" and not convo.get("data", {}).get("role")
    # a description that only sounds like news is still an answer
    await chat.send("I did social media for our brand")
    assert "Social media manager" in [c.label for c in chat.question().choices]
