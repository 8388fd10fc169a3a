"""Learning options fit the field: an option made for particular families only shows up in their plans, every
skill keeps a way to learn it in each field that needs it, and a developer's plan names a first language."""

from __future__ import annotations

import itertools

import pytest

from bot.recommend import PREFS, Recommender
from tests.scenarios.test_cli import run


@pytest.fixture(scope="module")
def rec(catalog) -> Recommender:
    return Recommender(catalog)


def _ref(rec, role_id):
    return rec.role_ref(rec.catalog.roles[role_id])


def _offered(plan):
    return [(ps.id, o.id) for ps in plan.skills for o in ps.options]


def _foreign(catalog, plan, family):
    return sorted((skill, oid) for skill, oid in _offered(plan)
                  if catalog.learning[oid].families and family not in catalog.learning[oid].families)


def test_no_upskilling_plan_offers_an_option_made_for_another_field(catalog, rec):
    foreign = {}
    for role in catalog.roles.values():
        ref = _ref(rec, role.id)
        for have, senior in (([], False), (rec.top_skills(ref, 5), False), ([], True)):
            plan = rec.plan(ref, have, "grow", senior=senior)
            assert plan.skills, role.id
            wrong = _foreign(catalog, plan, role.family)
            if wrong:
                foreign[(role.id, senior, len(have))] = wrong
    assert foreign == {}


def test_no_reskilling_plan_offers_an_option_made_for_the_old_field(catalog, rec):
    current = _ref(rec, "marketing-manager")
    foreign = {}
    for role in catalog.roles.values():
        if role.id == current.id:
            continue
        plan = rec.plan(current, [], "switch", _ref(rec, role.id))
        assert plan.path == "reskill"
        wrong = _foreign(catalog, plan, role.family)
        if wrong:
            foreign[role.id] = wrong
    assert foreign == {}


def test_every_skill_a_role_needs_has_an_option_that_fits_its_field(catalog):
    """Where the catalog has a way to learn a skill, a role's own field is offered at least one of them."""
    missing = sorted(
        (role.family, skill)
        for role in catalog.roles.values()
        for skill in set(role.skills) | set(catalog.families[role.family].trending)
        if catalog.options_for(skill)
        and not [o for o in catalog.options_for(skill) if not o.families or role.family in o.families]
    )
    assert missing == []


def test_marketing_managers_get_no_operations_or_tech_lead_programme(catalog, rec):
    ref = _ref(rec, "marketing-manager")
    for (have, senior), prefs in itertools.product((([], False), (rec.top_skills(ref, 5), False), ([], True)),
                                                  [list(PREFS)] + [[p] for p in PREFS]):
        plan = rec.plan(ref, have, "grow", senior=senior, prefs=prefs)
        titles = [o.title for ps in plan.skills for o in ps.options]
        assert "Operations leadership programme" not in titles
        assert "Tech lead programme" not in titles
    # budgeting is in the marketing manager's plan, learnt from something a marketer would take
    plan = rec.plan(ref, [], "grow")
    budgeting = next(ps for ps in plan.skills if ps.id == "budgeting")
    assert budgeting.options and "operations-leadership" not in [o.id for o in budgeting.options]
    for oid in ("operations-leadership", "tech-lead-programme"):
        assert "marketing" not in catalog.learning[oid].families
    assert "finance" not in catalog.learning["marketing-trends-circle"].families


def test_finance_plans_have_no_marketing_reading_circle(catalog, rec):
    checked = 0
    for role in (r for r in catalog.roles.values() if r.family == "finance"):
        ref = _ref(rec, role.id)
        # with the role's essentials already held, the field's trends (generative AI tools among them) come in
        # and each way of learning a person may prefer (a reading circle is a community: "associations")
        for prefs in [list(PREFS)] + [[p] for p in PREFS]:
            plan = rec.plan(ref, rec.top_skills(ref, 8), "grow", prefs=prefs)
            skills = {ps.id: ps for ps in plan.skills}
            if "generative-ai-tools" in skills:
                checked += 1
                assert skills["generative-ai-tools"].options
            titles = [o.title for ps in plan.skills for o in ps.options]
            assert not [t for t in titles if "marketing" in t.lower()], (role.id, prefs, titles)
    assert checked >= len(PREFS)


@pytest.mark.parametrize("role_id", ["software-developer", "backend-developer"])
def test_a_new_developer_is_told_which_language_to_start_with(rec, role_id):
    plan = rec.plan(_ref(rec, role_id), [], "grow", tenure="lt1")
    languages = next(ps for ps in plan.skills if ps.id == "programming-languages")
    assert languages.options[0].title.startswith("Start with Python")
    assert languages.options[0].url.startswith("https://docs.python.org/")


def test_someone_moving_into_software_development_is_told_which_language_to_start_with(rec):
    plan = rec.plan(_ref(rec, "marketing-manager"), [], "switch", _ref(rec, "software-developer"))
    languages = next(ps for ps in plan.skills if ps.id == "programming-languages")
    assert languages.options[0].title.startswith("Start with Python")


def test_advise_names_python_for_a_junior_developer_and_a_switch_into_development(tmp_path):
    for args in (["advise", "--role", "junior developer"],
                 ["advise", "--role", "marketing manager", "--goal", "switch", "--target", "software developer"]):
        out = run(args, tmp_path=tmp_path)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        i = next(n for n, line in enumerate(lines) if "Programming languages" in line)
        assert lines[i + 1].strip().startswith("Learn: Start with Python, the official tutorial"), lines[i:i + 3]


def test_a_plan_as_stored_is_what_dataclasses_asdict_makes_of_it(catalog, rec):
    """`Plan.as_dict` walks the plan itself (it is on a turn's path): the same data as `asdict`."""
    import dataclasses

    roles = sorted(catalog.roles)[:40]
    for current, target in zip(roles, reversed(roles)):
        for plan in (rec.plan(_ref(rec, current), [], "grow"),
                     rec.plan(_ref(rec, current), [], "switch", _ref(rec, target), prefs=["mentoring"])):
            assert plan.as_dict() == dataclasses.asdict(plan)
