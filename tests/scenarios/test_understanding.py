"""Understanding people in their own words, and being honest when unsure (the role questions)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.catalog import load_catalog
from bot.core import Coach
from dialogs.conversation import Conversation
from bot.people import Directory
from bot.settings import Settings
from bot.store import CONVERSATIONS
from bot.store.memory import MemoryStore
from tests.scenarios.chat import Chat

_CATALOG = []


def catalog():
    if not _CATALOG:
        _CATALOG.append(load_catalog())
    return _CATALOG[0]


def make_coach() -> Coach:
    return Coach(Settings(database_url="memory:"), MemoryStore(), catalog(), Directory(), dialog=Conversation())


async def at_role_question(chat: Chat) -> None:
    await chat.send("hi")
    await chat.press("start")


async def journalist_not_sure(chat: Chat) -> None:
    """From the role question: a journalist of less than a year, who writes, not sure of the goal."""
    await chat.send("journalist")
    await chat.press("yes")
    await chat.press("Less than a year")
    await chat.send("writing")
    await chat.press("Not sure")


async def convo(coach: Coach, chat: Chat) -> dict:
    return (await coach.store.get(CONVERSATIONS, chat.key)).data


@settings(max_examples=80, deadline=None)
@given(text=st.one_of(
    st.text(min_size=1, max_size=80),
    st.lists(st.sampled_from(["nurse", "lead", "i", "work", "in", "a", "the", "quantum", "llama", "data",
                              "school", "kitchen", "wrangler", "senior", "something", "maybe", "hr", "shop",
                              "farm", "paper", "stories", "zq", "plumbing", "ward", "accounts"]),
             min_size=1, max_size=7).map(" ".join),
))
def test_a_role_is_offered_or_the_field_is_asked_never_placed_silently(text):
    async def run():
        coach = make_coach()
        chat = Chat(coach)
        await at_role_question(chat)
        await chat.send(text)
        c = await convo(coach, chat)
        state = c["state"]
        assert state in ("role", "role_confirm", "role_pick", "role_field"), (text, state)
        # no role, custom or not, is stored before the person said which it is
        assert "role" not in c.get("data", {}), (text, c.get("data"))
        if state == "role_field":
            values = [v for v, _ in c["prompt"]["choices"]]
            assert set(values) == set(coach.catalog.families) | {"none"}
        if state in ("role_confirm", "role_pick"):
            assert c["data"]["role_candidates"]

    asyncio.run(run())


async def test_nothing_fits_then_the_person_picks_the_field():
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("chief llama whisperer")
    q = chat.question()
    assert "rather ask than guess" in q.text
    await chat.press("None of these")
    assert "isn't in any field I know" in chat.texts()
    assert (await convo(coach, chat))["data"]["role"] == {"id": None, "title": "Chief llama whisperer",
                                                          "family": None}


async def test_none_of_these_on_a_pick_asks_for_the_field():
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("I write news stories for a local paper")
    q = chat.question()
    assert "journalist" in [c.value for c in q.choices]
    await chat.press("None of these")
    assert (await convo(coach, chat))["state"] == "role_field"


@pytest.mark.parametrize("text", ["yes", "ok", "Sure!", "ok let's go", "sounds good"])
async def test_yes_at_shall_we_start_starts(text):
    coach = make_coach()
    chat = Chat(coach)
    await chat.send("hi")
    await chat.send(text)
    assert (await convo(coach, chat))["state"] == "role"


@pytest.mark.parametrize("text", [
    "what's the difference between upskilling and reskilling?", "What is reskilling?",
    "so what does upskilling mean", "reskilling vs upskilling??", "explain up-skilling please",
])
async def test_the_difference_question_in_natural_words(text):
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send(text)
    texts = chat.texts()
    assert "Upskilling" in texts and "Reskilling" in texts
    assert (await convo(coach, chat))["state"] == "role"  # and the open question is asked again


async def test_the_difference_is_explained_once_on_the_unsure_path():
    coach = make_coach()
    chat = Chat(coach)
    await chat.send("hi")
    await chat.press("explain")
    await chat.press("start")
    await journalist_not_sure(chat)
    assert "three quick questions" in chat.texts() and "Reskilling" not in chat.texts()


async def test_progress_mid_interview_is_not_an_answer():
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("data analyst")
    await chat.press("yes")
    await chat.press("1")
    await chat.send("sql")
    await chat.press("Grow")
    await chat.send("2")
    await chat.send("courses")
    await chat.press("No")
    assert chat.plan() is not None
    skill = chat.plan().sections[0].lines[0]
    await chat.send("restart")
    await chat.send(f"I finished {skill.split('*')[1]}")
    c = await convo(coach, chat)
    assert c["state"] == "role" and "role_text" not in c["data"]
    assert "1 of" in chat.texts()


async def test_a_vague_target_offers_the_roles_of_that_field():
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("marketing specialist")
    await chat.press("yes")
    await chat.press("1")
    await chat.send("none")
    await chat.press("switch")
    await chat.send("something in HR maybe")
    c = await convo(coach, chat)
    assert c["state"] == "target_pick"
    offered = c["data"]["target_candidates"]
    assert offered and all(coach.catalog.roles[r].family == "people-hr" for r in offered)
    assert "custom" not in chat.texts().lower()


async def test_a_senior_person_is_not_told_to_learn_the_basics_of_their_job():
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("senior backend dev")
    await chat.press("yes")
    await chat.press("1")
    await chat.send("none")
    await chat.press("Grow")
    await chat.send("4")
    await chat.send("courses")
    await chat.press("No")
    card = chat.plan()
    assert card is not None, chat.texts()
    skills = {line.split("*")[1] for s in card.sections if s.heading == "Skills to build" for line in s.lines
              if line[:1].isdigit()}
    role = coach.catalog.roles["backend-developer"]
    trending = set(coach.catalog.families[role.family].trending)
    fundamentals = {coach.catalog.skill_name(s) for s, w in role.skills.items() if w >= 4 and s not in trending}
    assert fundamentals and not skills & fundamentals, skills & fundamentals
    assert skills & {"Leadership", "Coaching and mentoring", "Strategic thinking", "People management",
                     "Influencing", "Change management"}
    assert "experienced in the role" in card.summary, card.summary


async def test_yes_to_the_one_role_offered_picks_it():
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("I look after patients on a surgical ward")
    assert [c.value for c in chat.question().choices] == ["registered-nurse", "none"]
    await chat.send("yes")
    c = await convo(coach, chat)
    assert (c["state"], c["data"]["role"]["id"]) == ("tenure", "registered-nurse")


async def test_no_to_the_roles_offered_asks_for_the_field():
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("I write news stories for a local paper")
    await chat.send("no")
    assert (await convo(coach, chat))["state"] == "role_field"


@pytest.mark.parametrize("text", ["3-5 years", "about 4 hours", "yes", "2 to 3 hrs a week", "idk"])
async def test_an_amount_or_a_yes_is_not_taken_for_a_job_title(text):
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("chief llama whisperer")             # the field question: nothing fits
    await chat.send(text)                               # typed where a field (or a clearer title) goes
    c = await convo(coach, chat)
    assert (c["state"], c["data"]["role_text"]) == ("role_field", "chief llama whisperer")  # nothing re-matched
    assert chat.texts().startswith("Sorry, I didn't catch that.")


@pytest.mark.parametrize("text", ["yes that is me", "Yep, that's right", "correct", "that's me"])
async def test_a_yes_in_more_words_to_several_roles_asks_which(text):
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("chef")                             # several kinds of chef: a pick, not a confirm
    offered = [c.value for c in chat.question().choices]
    assert (await convo(coach, chat))["state"] == "role_pick" and len(offered) == 4
    await chat.send(text)
    c = await convo(coach, chat)
    assert (c["state"], c["data"]["role_candidates"], "role" in c["data"]) == ("role_pick", offered[:-1], False)
    assert chat.texts().startswith("Sorry, I didn't catch that.")


@pytest.mark.parametrize("text", ["yes that is me", "Yep, that's right", "that's me"])
async def test_a_yes_in_more_words_confirms_a_role(text):
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await chat.send("registered nurse")
    assert (await convo(coach, chat))["state"] == "role_confirm"
    await chat.send(text)
    c = await convo(coach, chat)
    assert (c["state"], c["data"]["role"]["id"]) == ("tenure", "registered-nurse")


@pytest.mark.parametrize("text, goal, state", [("yes", "grow", "hours"), ("sounds good", "grow", "hours"),
                                               ("no", "switch", "target"), ("not really", "switch", "target")])
async def test_yes_or_no_to_the_suggested_path(text, goal, state):
    coach = make_coach()
    chat = Chat(coach)
    await at_role_question(chat)
    await journalist_not_sure(chat)
    for answer in ("Yes, mostly", "The same kind of work, at a higher level", "Not really"):
        await chat.press(answer)
    assert "I'd suggest *upskilling*" in chat.texts()
    await chat.send(text)
    c = await convo(coach, chat)
    assert (c["state"], c["data"]["goal"]) == (state, goal)
