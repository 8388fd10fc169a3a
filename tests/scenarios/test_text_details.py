"""The small things a person reads: ranges of hours and years, a done skill, a role in a sentence, one
mention of each unknown skill, one "Welcome back!" — through the core and through `skillcoach chat`."""

from __future__ import annotations

import json

import pytest

from bot.core import Coach
from bot.people import Directory
from bot.recommend import article, role_noun
from bot.settings import Settings
from bot.store import PROFILES
from bot.store.memory import MemoryStore
from dialogs.conversation import Conversation
from dialogs.parsing import hours_from_text, tenure_from_text
from tests.scenarios.chat import Chat
from tests.scenarios.test_cli import run
from tests.scenarios.test_interview import interview, section, skill_names, up_to_the_goal


@pytest.fixture
def coach(catalog) -> Coach:
    return Coach(Settings(database_url="memory:"), MemoryStore(), catalog, Directory.of([]), dialog=Conversation())


@pytest.mark.parametrize("text", ["3-5", "3-5 hours", "3–5 h", "3—5", "3‑5 hours", "3 to 5", "between 3 and 5 hours",
                                  "three to five hours", "3 - 5h"])
def test_a_range_of_hours_is_its_middle(text):
    assert hours_from_text(text) == 4.0


@pytest.mark.parametrize("text, bucket", [("1-3 years", "1to3"), ("2 to 3 years", "1to3"), ("3-5 years", "3to5"),
                                          ("between 1 and 3 years", "1to3"), ("6-12 months", "lt1"),
                                          ("5+ years", "5plus"), ("ten years", "5plus"), ("a year", "1to3")])
def test_a_range_of_years_is_read_whole(text, bucket):
    assert tenure_from_text(text).value == bucket


async def test_typed_3_5_hours_makes_a_plan_of_4_hours_a_week(coach):
    chat = Chat(coach)
    await up_to_the_goal(chat, "journalist", "1–3")
    await chat.press("Grow")
    await chat.send("3-5 hours")
    assert "didn't catch" not in chat.texts()
    await chat.send("all")
    await chat.press("Yes")
    card = chat.plan()
    assert dict(section(card, "At a glance").facts)["Time a week"] == "4 h"


async def test_a_done_skill_is_not_called_missing_from_your_strengths(coach):
    chat = Chat(coach)
    await interview(chat, "marketing specialist", "grow")
    first = (await coach.store.get(PROFILES, chat.key)).data["plan"]["skills"][0]["name"]
    await chat.send(f"I finished the {first} course")
    await chat.send("my plan")
    lines = skill_names(chat.plan()).splitlines()
    done = [line for line in lines if line.startswith("✓")]
    assert done == [f"✓ *{first}* — done"]
    assert any("not yet among your strengths" in line for line in lines if not line.startswith("✓"))


async def test_the_target_role_reads_as_a_noun_phrase(coach):
    chat = Chat(coach)
    await up_to_the_goal(chat, "journalist", "1–3")
    await chat.send("I want to become a software developer")
    await chat.press("yes")
    assert "Understood — you'd like to become a *software developer*." in chat.texts()
    await chat.press("3–5 hours")
    await chat.send("all")
    await chat.press("Yes")
    assert chat.plan().summary.startswith("You want to go from a journalist to a software developer: that is reskilling")


@pytest.mark.parametrize("title, phrase", [("Software developer", "a software developer"),
                                           ("HR business partner", "an HR business partner"),
                                           ("UX designer", "a UX designer"), ("Urban planner", "an urban planner"),
                                           ("University lecturer", "a university lecturer"),
                                           ("DevOps engineer", "a DevOps engineer"), ("SEO specialist", "an SEO specialist")])
def test_role_titles_as_noun_phrases(title, phrase):
    assert role_noun(title) == phrase
    assert article(title) == phrase.split()[0]


async def test_an_unknown_skill_typed_twice_is_named_once(coach):
    chat = Chat(coach)
    await chat.send("hi")
    await chat.press("start")
    await chat.send("journalist")
    await chat.press("yes")
    await chat.press("1–3 years")
    await chat.send("writing, zorbling, Zorbling, interviewing")
    assert "I didn't recognise \"zorbling\"; I kept the rest." in chat.texts()


async def test_cancel_then_start_then_hi_says_welcome_back_once(coach):
    chat = Chat(coach)
    await chat.send("hi")
    await chat.press("start")
    await chat.send("journalist")
    await chat.send("cancel")
    await chat.send("start")
    assert chat.texts().count("Welcome back!") == 1
    assert "Sounds like you're a *journalist*" in chat.texts()
    for again in ("start", "hi"):
        await chat.send(again)
        assert "Welcome back!" not in chat.texts()
        assert "Sounds like you're a *journalist*" in chat.texts()       # the open question, asked again
    await chat.press("yes")                                             # an answer, then away and back
    await chat.send("cancel")
    await chat.send("start")
    assert chat.texts().count("Welcome back!") == 1


def test_the_terminal_chat_resumed_says_welcome_back_once(tmp_path):
    first = run(["chat"], stdin="1\njournalist\n", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run(["chat"], stdin="hi\n", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("Welcome back!") == 1
    assert again.stdout.count("Sounds like you're a journalist. Is that right?") == 2


def test_my_data_in_the_terminal_is_a_file_never_written_over(tmp_path):
    out = run(["chat"], stdin="my data\nmy data\n", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    files = sorted(tmp_path.glob("skillcoach-my-data-*.json"), key=lambda f: len(f.name))
    assert len(files) == 2 and files[1].name == files[0].name.replace(".json", "-2.json")
    for f in files:
        assert f"The whole export is in {f}" in out.stdout
        assert json.loads(f.read_text(encoding="utf-8"))["user"] == "console:local"
    assert '"user"' not in out.stdout


def test_my_data_when_the_file_cannot_be_written_is_given_in_full(tmp_path):
    from bot.console import save_attachment
    from bot.mydata import reply

    answer = save_attachment(reply({"user": "console:local", "profiles": None}, 0.0), tmp_path / "missing")
    first, rest = answer.split("\n", 1)
    assert first == "I couldn't write the file (No such file or directory), so here it is in full:"
    assert json.loads(rest) == {"user": "console:local", "profiles": None}


async def test_grow_twice_in_a_row_welcomes_once_and_again_after_a_while(catalog):
    now = [1000.0]
    coach = Coach(Settings(database_url="memory:"), MemoryStore(), catalog, Directory.of([]),
                  clock=lambda: now[0], dialog=Conversation())
    chat = Chat(coach)
    await chat.send("hi")
    await chat.press("start")
    await chat.send("journalist")
    await chat.send(command="grow")
    assert chat.texts().count("Welcome back!") == 1
    now[0] += 60
    await chat.send(command="grow")          # a second /grow a minute later: the question alone
    assert "Welcome back!" not in chat.texts() and "Sounds like you're a *journalist*" in chat.texts()
    now[0] += 3600
    await chat.send(command="grow")          # an hour later it is a return
    assert chat.texts().count("Welcome back!") == 1
