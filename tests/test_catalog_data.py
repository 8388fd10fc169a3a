"""The default catalog's content: sizes, shapes, the seed examples, and the loader's handling of overrides."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from bot.catalog import DEFAULT_DIR, LEARNING_TYPES, load_catalog
from bot.errors import CatalogError

REQUIRED_FAMILIES = {
    "engineering", "it-infrastructure", "data", "design", "product", "project-management", "marketing",
    "sales", "customer-support", "people-hr", "learning-development", "finance", "operations",
    "administration", "content-communications",
}
ID_SHAPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


# -- sizes -------------------------------------------------------------------------------------

def test_counts_meet_the_issue(catalog):
    counts = catalog.counts()
    assert counts["roles"] >= 60
    assert counts["skills"] >= 250
    assert counts["learning"] >= 150
    assert counts["families"] >= 12
    assert REQUIRED_FAMILIES <= set(catalog.families)
    families_with_roles = {r.family for r in catalog.roles.values()}
    assert len(families_with_roles) >= 12
    assert REQUIRED_FAMILIES <= families_with_roles


def test_one_role_file_per_family():
    files = {p.stem for p in (DEFAULT_DIR / "roles").glob("*.yaml")}
    assert files == REQUIRED_FAMILIES
    for path in (DEFAULT_DIR / "roles").glob("*.yaml"):
        cat = load_catalog([path])
        family_of_file = {r.family for r in cat.roles.values() if cat.sources[("roles", r.id)] == str(path)}
        assert family_of_file == {path.stem}, path


def test_every_data_file_names_its_sources():
    for path in sorted(DEFAULT_DIR.rglob("*.yaml")):
        header = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
        assert header.startswith("#"), path
        assert "Written for skillcoach" in header, path
    notice = (Path(__file__).parent.parent / "NOTICE").read_text(encoding="utf-8")
    for source in ("O*NET", "ESCO", "written for skillcoach", "own website"):
        assert source in notice


# -- shapes of every entry -----------------------------------------------------------------------

def test_ids_are_lower_case_words_and_dashes(catalog):
    for kind in ("families", "skills", "roles", "learning"):
        for item_id in getattr(catalog, kind):
            assert ID_SHAPE.match(item_id), (kind, item_id)


def test_every_role_is_complete(catalog):
    for role in catalog.roles.values():
        assert len(role.alt_titles) >= 3, role.id
        assert len(role.skills) >= 8, role.id
        assert len(role.adjacent) >= 2, role.id
        assert role.id not in role.adjacent, role.id
        assert role.description and "\n" not in role.description, role.id
        assert role.family in catalog.families, role.id
        assert max(role.skills.values()) == 5, f"{role.id} has no essential skill"
        assert all(1 <= w <= 5 for w in role.skills.values()), role.id


def test_every_skill_has_aliases_and_a_readable_name(catalog):
    for skill in catalog.skills.values():
        assert skill.aliases, skill.id
        assert skill.name[0].isupper() or skill.name[0].isdigit() or skill.name.startswith("iOS"), skill.id
        assert not skill.name.endswith("."), skill.id


def test_every_skill_is_used_by_some_role(catalog):
    used = {s for r in catalog.roles.values() for s in r.skills}
    assert set(catalog.skills) - used == set()


def test_broadly_transferable_skills_are_flagged(catalog):
    for skill_id in ("writing", "research", "communication", "stakeholder-management", "project-planning",
                     "presentation", "analytical-thinking", "customer-empathy", "interviewing", "storytelling",
                     "problem-solving", "negotiation", "facilitation"):
        assert catalog.skills[skill_id].transferable, skill_id
    for skill_id in ("programming-languages", "sql", "technical-writing", "fact-checking", "paid-search"):
        assert not catalog.skills[skill_id].transferable, skill_id
    assert sum(s.transferable for s in catalog.skills.values()) >= 30


def test_every_family_has_trending_skills_and_associations(catalog):
    for family in catalog.families.values():
        assert 3 <= len(family.trending) <= 6, family.id
        assert len(set(family.trending)) == len(family.trending), family.id
        assert 1 <= len(family.associations) <= 3, family.id
        for assoc in family.associations:
            assert assoc.url.startswith("https://") and assoc.url.endswith("/"), (family.id, assoc.name)
            assert assoc.description and len(assoc.description) < 200, (family.id, assoc.name)


def test_learning_options_are_complete(catalog):
    for option in catalog.learning.values():
        assert option.type in LEARNING_TYPES, option.id
        assert option.cost in ("free", "paid", "employer"), option.id
        assert option.provider, option.id
        assert 0.5 <= option.hours <= 1500, option.id
        assert option.url == "" or option.url.startswith("https://"), option.id
    # each learning type is represented
    assert {o.type for o in catalog.learning.values()} == set(LEARNING_TYPES)


def test_every_important_role_skill_has_a_learning_option(catalog):
    missing_top = sorted({(r.id, s) for r in catalog.roles.values() for s, w in r.skills.items()
                          if w >= 4 and not catalog.options_for(s)})
    assert missing_top == []
    missing_any = sorted({s for r in catalog.roles.values() for s, w in r.skills.items()
                          if w >= 3 and not catalog.options_for(s)})
    assert missing_any == []


def test_adjacent_roles_point_both_ways_often(catalog):
    pairs = {(r.id, a) for r in catalog.roles.values() for a in r.adjacent}
    mutual = sum((b, a) in pairs for a, b in pairs)
    assert mutual / len(pairs) >= 0.6


ONLINE_PLATFORMS = {
    "coursera", "edx", "linkedin learning", "udemy", "futurelearn", "hubspot academy", "canva design school",
    "domestika", "interaction design foundation", "corporate finance institute", "linux foundation training",
}


def test_no_learning_option_has_a_generic_provider(catalog):
    generic = sorted(o.id for o in catalog.learning.values() if o.provider.strip().lower() == "online course")
    assert generic == []
    on_platforms = [o for o in catalog.learning.values() if o.provider.strip().lower() in ONLINE_PLATFORMS]
    assert on_platforms
    assert sorted(o.id for o in on_platforms if not o.url.startswith("https://")) == []


# -- no ambiguity between entries ------------------------------------------------------------------

def _owners(entries, phrases_of):
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        for phrase in phrases_of(entry):
            owners[" ".join(phrase.lower().split())].add(entry.id)
    return {phrase: ids for phrase, ids in owners.items() if len(ids) > 1}


def test_no_alias_names_two_skills(catalog):
    clashes = _owners(catalog.skills.values(), lambda s: [s.name, s.id.replace("-", " "), *s.aliases])
    assert clashes == {}


def test_no_alt_title_names_two_roles(catalog):
    clashes = _owners(catalog.roles.values(), lambda r: [r.title, *r.alt_titles])
    assert clashes == {}


# -- the seed examples --------------------------------------------------------------------------

def test_marketing_specialist_grows_into_trends_analytics_and_social_ads(catalog):
    role = catalog.roles["marketing-specialist"]
    assert role.family == "marketing"
    alts = {a.lower() for a in role.alt_titles}
    assert {"marketing professional", "marketing specialist", "marketer", "digital marketer"} <= alts
    top = {"digital-marketing-trends", "data-analytics", "social-media-advertising"}
    assert {s for s, w in role.skills.items() if w == 5} == top
    assert all(3 <= w <= 4 for s, w in role.skills.items() if s not in top)
    assert catalog.skill_name("digital-marketing-trends") == "Digital marketing trends"
    assert catalog.skill_name("data-analytics") == "Data analytics"
    assert catalog.skill_name("social-media-advertising") == "Social media advertising"
    assert top <= set(catalog.families["marketing"].trending)
    for skill in top:
        assert catalog.options_for(skill), skill


def test_software_developer_needs_languages_web_and_fundamentals(catalog):
    role = catalog.roles["software-developer"]
    assert role.family == "engineering"
    alts = {a.lower() for a in role.alt_titles}
    assert {"software engineer", "developer", "programmer", "software development"} <= alts
    top = {"programming-languages", "web-development", "software-engineering-fundamentals"}
    assert {s for s, w in role.skills.items() if w == 5} == top
    assert catalog.skill_name("programming-languages") == "Programming languages"
    assert catalog.skill_name("web-development") == "Web development"
    assert catalog.skill_name("software-engineering-fundamentals") == "Software engineering fundamentals"
    for skill in ("version-control", "software-testing", "debugging", "sql"):
        assert 3 <= role.skills[skill] <= 4, skill
    # trending skills must not lift a lesser skill above the three essentials when reskilling
    trending = set(catalog.families["engineering"].trending)
    assert all(role.skills.get(s, 0) <= 3 for s in trending - top)
    for other in ("backend-developer", "frontend-developer", "full-stack-developer"):
        assert catalog.roles[other].family == "engineering"


def test_journalist_brings_writing_and_research_to_software(catalog):
    journalist = catalog.roles["journalist"]
    developer = catalog.roles["software-developer"]
    assert journalist.family == "content-communications"
    assert {"reporter", "news writer", "correspondent"} <= {a.lower() for a in journalist.alt_titles}
    assert journalist.skills["writing"] == 5 and journalist.skills["research"] == 5
    for skill in ("interviewing", "fact-checking", "storytelling"):
        assert skill in journalist.skills
    assert catalog.skills["writing"].transferable and catalog.skills["research"].transferable
    # writing and research are the strongest transferable skills, and nothing is shared outright,
    # so they are what the plan names as strengths that carry over
    transferable = sorted(
        (s for s in journalist.skills if catalog.skills[s].transferable),
        key=lambda s: (-journalist.skills[s], s),
    )
    assert set(transferable[:2]) == {"writing", "research"}
    assert set(journalist.skills) & set(developer.skills) == set()
    assert "writing" not in developer.skills and "research" not in developer.skills
    assert "technical-writing" in catalog.skills


def test_social_media_work_has_a_role(catalog):
    role = catalog.roles["social-media-manager"]
    alts = {a.lower() for a in role.alt_titles}
    assert {"social media person", "social media specialist", "community manager", "social media"} <= alts
    assert role.family == "marketing"


def test_common_roles_exist(catalog):
    for role_id in (
        "data-analyst", "data-scientist", "product-manager", "project-manager", "ux-designer",
        "hr-business-partner", "recruiter", "account-executive", "customer-success-manager",
        "support-specialist", "accountant", "financial-analyst", "operations-manager", "office-manager",
        "executive-assistant", "instructional-designer", "learning-and-development-specialist",
        "it-support-technician", "systems-administrator", "devops-engineer", "cloud-engineer",
        "security-analyst", "content-writer", "copywriter", "communications-manager", "editor",
        "backend-developer", "frontend-developer", "full-stack-developer",
    ):
        assert role_id in catalog.roles, role_id
    sql = catalog.skills["sql"]
    assert sql.name == "SQL" and "structured query language" in sql.aliases
    assert "sql" in catalog.roles["data-analyst"].skills
    assert "js" in catalog.skills["javascript"].aliases
    assert "ppc" in catalog.skills["paid-search"].aliases
    assert "senior backend dev" in catalog.roles["backend-developer"].alt_titles


# -- broken and overriding files -------------------------------------------------------------------

def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_yaml_names_the_file(tmp_path):
    path = _write(tmp_path, "broken.yaml", "roles:\n  - id: x\n    skills: {a: 1\n")
    with pytest.raises(CatalogError) as err:
        load_catalog([tmp_path])
    assert str(path) in str(err.value)
    assert "YAML" in str(err.value)


def test_unknown_skill_names_file_role_and_skill(tmp_path):
    path = _write(tmp_path, "ours.yaml", """
roles:
  - id: night-baker
    title: Night baker
    family: operations
    alt_titles: [baker, bread maker, pastry person]
    skills: {sourdough-whispering: 5, time-management: 3}
    adjacent: [operations-manager]
""")
    with pytest.raises(CatalogError) as err:
        load_catalog([tmp_path])
    message = str(err.value)
    assert str(path) in message and "night-baker" in message and "sourdough-whispering" in message


def test_negative_hours_names_file_option_and_field(tmp_path):
    path = _write(tmp_path, "learning.yaml", """
learning:
  - {id: time-travel-course, title: Time travel, provider: Online course, type: course, hours: -3, skills: [sql]}
""")
    with pytest.raises(CatalogError) as err:
        load_catalog([tmp_path])
    message = str(err.value)
    assert str(path) in message and "time-travel-course" in message and "hours" in message


def test_unknown_type_and_bad_weight_are_caught(tmp_path):
    _write(tmp_path, "a.yaml", """
roles:
  - id: data-analyst
    title: Data analyst
    family: data
    skills: {sql: 9}
""")
    with pytest.raises(CatalogError, match=r"a\.yaml.*data-analyst.*weight 9"):
        load_catalog([tmp_path])


def test_override_folder_replaces_a_role_and_adds_an_option(tmp_path):
    _write(tmp_path, "org.yaml", """
roles:
  - id: data-analyst
    title: Data analyst
    family: data
    alt_titles: [numbers person, insight analyst, reporting person]
    skills: {sql: 5, bi-tools: 5, spreadsheets: 4, statistics: 3, data-cleaning: 3, data-visualisation: 4,
             data-storytelling: 3, python: 2}
    adjacent: [business-intelligence-analyst, data-scientist]
    description: Our analysts answer questions from the warehouse.
learning:
  - {id: our-sql-academy, title: SQL at our company, provider: Internal L&D academy, type: course,
     hours: 6, skills: [sql], cost: employer}
""")
    default = load_catalog()
    merged = load_catalog([tmp_path])
    role = merged.roles["data-analyst"]
    assert role.skills["bi-tools"] == 5 and "numbers person" in role.alt_titles
    assert merged.sources[("roles", "data-analyst")].endswith("org.yaml")
    assert "our-sql-academy" in {o.id for o in merged.options_for("sql")}
    assert merged.counts()["learning"] == default.counts()["learning"] + 1
    assert merged.counts()["roles"] == default.counts()["roles"]
    # the other defaults are untouched
    assert merged.roles["journalist"] == default.roles["journalist"]
