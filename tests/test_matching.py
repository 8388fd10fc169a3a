"""Unit tests: matching free text to roles, skills and choices; ranking of the plan's skills."""

from __future__ import annotations

import pytest

from bot.matching import is_confident, pick_choice, pick_many, says_no, says_yes, split_list
from bot.recommend import Recommender, RoleRef
from bot.types import Choice
from dialogs.parsing import parse_goal, recommend_path
from dialogs.words import G, global_command, progress_report


@pytest.fixture(scope="module")
def rec(catalog) -> Recommender:
    return Recommender(catalog)


@pytest.mark.parametrize("text,role_id", [
    ("journalist", "journalist"),
    ("Journalist", "journalist"),
    ("software engineer", "software-developer"),
    ("marketing specialist", "marketing-specialist"),
    ("data analyst", "data-analyst"),
    ("jornalist", "journalist"),          # typo
])
def test_confident_role_matches(rec, text, role_id):
    matches = rec.roles.match(text)
    assert matches[0].role.id == role_id
    assert is_confident(matches)


@pytest.mark.parametrize("text,fragment", [
    ("I do social media for our brand", "social"),
    ("senior backend dev", "backend"),
])
def test_described_roles_are_among_the_best_few(rec, text, fragment):
    matches = rec.roles.match(text)
    assert any(fragment in m.role.id for m in matches[:3]), [(m.role.id, m.score) for m in matches]


def test_nonsense_role_is_not_confident_and_no_family_is_chosen_for_the_person(rec):
    matches = rec.roles.match("zxqv plorb")
    assert not is_confident(matches)
    assert rec.custom_role("payroll wizard") == RoleRef(None, "Payroll wizard", None)
    assert rec.custom_role("I am a payroll wizard", "finance") == RoleRef(None, "Payroll wizard", "finance")
    assert rec.likely_families("payroll wizard")[0] == "finance"


def test_skills_from_free_text(rec):
    found, unknown = rec.skills.match_list("SQL, public speaking and flurbing")
    assert "sql" in found
    assert unknown == ["flurbing"]
    assert rec.skills.match_one("r") is None  # one letter is too little to name a skill


def test_split_list():
    assert split_list("a, b and c; d\ne") == ["a", "b", "c", "d", "e"]
    assert split_list("") == []


def test_pick_choice():
    choices = [Choice("grow", "Grow in my current role"), Choice("switch", "Move to a different role"),
               Choice("unsure", "Not sure")]
    assert pick_choice("2", choices).value == "switch"
    assert pick_choice("not sure", choices).value == "unsure"
    assert pick_choice("move to a diferent role", choices).value == "switch"
    assert pick_choice("4", choices) is None
    assert pick_choice("", choices) is None
    assert pick_choice("banana", choices) is None
    yes_no = [Choice("yes", "Yes, that's me"), Choice("no", "No, something else")]
    assert pick_choice("yep", yes_no).value == "yes"
    assert pick_choice("nope", yes_no).value == "no"
    # the same yes / no everywhere: a yes or no in a few more words picks it too
    assert pick_choice("yes, that is me", yes_no).value == "yes"
    assert pick_choice("no, I'd rather not", yes_no).value == "no"


def test_one_yes_and_one_no_for_every_question():
    for text in ("yes", "Sure!", "let's go", "yep, that's right", "correct, that one", "yes that is me"):
        assert says_yes(text) and not says_no(text), text
    for text in ("no", "Nope.", "not really", "no thanks", "no, I'd rather not"):
        assert says_no(text) and not says_yes(text), text
    for text in ("yes and no", "nurse", "I'm not sure", ""):
        assert not says_yes(text) and not says_no(text), text


def test_pick_many():
    choices = [Choice("courses", "Courses"), Choice("mentoring", "Mentoring"), Choice("shadowing", "Job shadowing")]
    picked, rest = pick_many("1, mentoring and basket weaving", choices)
    assert [c.value for c in picked] == ["courses", "mentoring"]
    assert rest == ["basket weaving"]
    assert pick_many("all", choices)[0] == choices
    assert pick_many("none", choices) == ([], [])
    assert [c.value for c in pick_many("1 3", choices)[0]] == ["courses", "shadowing"]


@pytest.mark.parametrize("text,goal,target", [
    ("I want to become a software developer", "switch", "software developer"),
    ("move into product management", "switch", "product management"),
    ("I'd like to switch to data science", "switch", "data science"),
    ("get better at my job", "grow", None),
    ("I'm not sure", "unsure", None),
    ("banana", None, None),
])
def test_parse_goal(text, goal, target):
    assert parse_goal(text) == (goal, target)


def test_recommend_path():
    assert recommend_path("yes", "same", "no") == "grow"
    assert recommend_path("no", "different", "yes") == "switch"
    assert recommend_path("some", "dunno", None) == "grow"


def test_global_commands_and_progress():
    assert global_command("Forget me!") is G.FORGET
    assert global_command("my plan") is G.MY_PLAN
    assert global_command("forget the plan, I am a journalist") is None
    assert progress_report("I finished the SQL course") == "the sql course"
    assert progress_report("journalist") is None


def test_ranking_prefers_important_trending_gaps(rec):
    current = RoleRef("marketing-specialist", "Marketing specialist", "marketing")
    plan = rec.plan(current, [], "grow")
    ids = [s.id for s in plan.skills]
    assert {"digital-marketing-trends", "data-analytics", "social-media-advertising"} <= set(ids)
    assert 3 <= len(ids) <= 5
    # what you already have is never suggested again
    plan2 = rec.plan(current, ["data-analytics"], "grow")
    assert "data-analytics" not in [s.id for s in plan2.skills]
    for s in plan.skills:
        assert s.reason and s.options, s


def test_reskill_plan_names_transferable_strengths(rec):
    current = RoleRef("journalist", "Journalist", "content-communications")
    target = RoleRef("software-developer", "Software developer", "engineering")
    plan = rec.plan(current, [], "switch", target, hours_per_week=5)
    assert plan.path == "reskill"
    assert {"Programming languages", "Web development", "Software engineering fundamentals"} <= {
        s.name for s in plan.skills}
    assert "Writing" in plan.strengths and "Research" in plan.strengths
    import math

    assert plan.weeks == math.ceil(plan.total_hours / 5)


@pytest.mark.parametrize("text,among", [
    ("pm", None),                              # product or project manager: ask, don't guess
    ("CEO", None),                             # not an executive assistant
    ("I run the office", "office-manager"),
    ("HR", "hr-manager"),
])
def test_short_or_vague_roles_are_asked_not_guessed(rec, text, among):
    matches = rec.roles.match(text)
    assert not is_confident(matches), [(m.role.id, m.score) for m in matches]
    if among:
        assert among in [m.role.id for m in matches[:3]]


def test_exact_title_beats_the_same_words_without_seniority(rec):
    matches = rec.roles.match("head of marketing")
    assert matches[0].role.id == "marketing-manager" and is_confident(matches)


def test_learning_options_follow_preferences_and_are_not_repeated(rec):
    current = RoleRef("journalist", "Journalist", "content-communications")
    target = RoleRef("software-developer", "Software developer", "engineering")
    plan = rec.plan(current, [], "switch", target, prefs=["courses"])
    firsts = [s.options[0] for s in plan.skills if s.options]
    assert all(o.type in ("course", "program", "workshop", "certification", "book") for o in firsts)
    assert len({o.id for o in firsts}) == len(firsts)          # one course is not suggested for every skill
    # the estimate counts each suggested option once
    assert plan.total_hours == sum({o.id: o.hours for o in firsts}.values())
    practice = rec.plan(current, [], "switch", target, prefs=["mentoring"])
    assert practice.skills[0].options[0].type == "practice"


def test_time_in_the_role_shifts_essentials_and_trends(rec):
    current = RoleRef("software-developer", "Software developer", "engineering")
    have = ["programming-languages", "web-development", "software-engineering-fundamentals"]
    new = [s.id for s in rec.plan(current, have, "grow", tenure="lt1").skills]
    seasoned = [s.id for s in rec.plan(current, have, "grow", tenure="5plus").skills]
    trending = set(rec.catalog.families["engineering"].trending)
    assert sum(s in trending for s in seasoned) > sum(s in trending for s in new)
    weights = rec.catalog.roles["software-developer"].skills
    assert sum(weights.get(s, 0) for s in new) > sum(weights.get(s, 0) for s in seasoned)


def test_ambiguous_abbreviations_offer_each_reading(rec):
    ids = [m.role.id for m in rec.roles.match("pm")[:3]]
    assert {"product-manager", "project-manager"} <= set(ids)
    assert not is_confident(rec.roles.match("senior pm"))
    matches = rec.roles.match("product manager")   # the whole title typed out stays confident
    assert matches[0].role.id == "product-manager" and matches[0].score == 100.0 and is_confident(matches)
