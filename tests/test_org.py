"""The organisation file: the three formats, every validation problem with its line, the CLI check,
and the hot reload that never replaces a good directory with a bad file."""

from __future__ import annotations

import io
import json
import logging
import os
from argparse import Namespace
from pathlib import Path

import pytest

from bot.catalog import load_catalog
from bot.core import Coach
from dialogs.conversation import Conversation
from bot.cli import run_check
from bot.org.file import load_directory_for, parse_text, read_org_file, split_list
from bot.org.watch import OrgWatcher, watch_org_file
from bot.settings import Settings
from bot.store.memory import MemoryStore

SKILLS_YAML = """
skills:
  - id: python
    name: Python
    aliases: [py, python3]
  - id: sql
    name: SQL
    aliases: [structured query language]
  - id: data-analysis
    name: Data analysis
    aliases: [analytics]
"""


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "skills.yaml").write_text(SKILLS_YAML)
    return load_catalog([folder], include_default=False)  # a small catalog of its own


GOOD_YAML = """\
people:
  - email: head@example.com
    name: Head A
    role: Director
  - email: Manager-A@example.com
    name: Manager A
    role: Engineering manager
    manager: head@example.com
    skills: [Python, "data analysis"]
    offers: [mentoring, shadowing]
    capacity: 2
  - email: report-01@example.com
    name: Report 01
    manager: manager-a@example.com
    slack_id: U001
    teams_id: 00000000-0000-0000-0000-000000000001
    skills: "SQL; Pyhton; underwater basket weaving"
    offers: peer coaching
    location: Site 1
"""


def test_yaml_parses_people_and_matches_skills(catalog):
    report = parse_text(GOOD_YAML, source="org.yaml", fmt="yaml", catalog=catalog)
    assert report.ok, report.problems
    directory = report.directory()
    assert len(directory) == 3
    manager = directory.by_email("manager-a@example.com")
    assert manager.email == "manager-a@example.com"            # emails are kept lower-case
    assert manager.skills == ("python", "data-analysis")
    assert manager.offers == ("mentoring", "shadowing") and manager.capacity == 2
    report_01 = directory.by_platform("slack", "U001")
    assert report_01.skills == ("sql", "python")                 # "Pyhton" is a close fuzzy match
    assert report_01.offers == ("peer_coaching",) and report_01.capacity == 1  # default for helpers
    assert directory.by_platform("teams", "00000000-0000-0000-0000-000000000001") is report_01
    assert [p.email for p in directory.reports_of("head@example.com", recursive=True)] == [
        "manager-a@example.com", "report-01@example.com"]
    # an unknown skill is left out with a warning naming its line; the file stays valid
    assert [(w.line, "basket" in w.message) for w in report.warnings] == [(12, True)]


def test_json_same_shape_with_lines(catalog):
    text = json.dumps({"people": [
        {"email": "head@example.com", "name": "Head A"},
        {"email": "report-01@example.com", "name": "Report 01", "manager": "head@example.com",
         "skills": ["analytics", "sql"], "capacity": "x"},
    ]}, indent=2)
    report = parse_text(text, source="org.json", fmt="json", catalog=catalog)
    assert [(p.line, p.message) for p in report.problems] == [(7, "bad capacity 'x' (a whole number, 0 or more)")]
    good = text.replace('"x"', "0")
    report = parse_text(good, source="org.json", fmt="json", catalog=catalog)
    assert report.ok
    assert report.directory().by_email("report-01@example.com").skills == ("data-analysis", "sql")


def test_csv_with_semicolons_pipes_and_commas(catalog):
    text = (
        "email,name,role,manager,slack_id,teams_id,skills,offers,capacity,location\n"
        "head@example.com,Head A,Director,,,,,,,\n"
        'mentor-1@example.com,Mentor 1,Analyst,head@example.com,U100,,"python; sql",mentoring|shadowing,3,Site 2\n'
        'mentor-2@example.com,Mentor 2,Analyst,head@example.com,,,"SQL, Analytics","peer_coaching",,\n'
    )
    report = parse_text(text, source="org.csv", fmt="csv", catalog=catalog)
    assert report.ok, report.problems
    d = report.directory()
    assert d.by_email("mentor-1@example.com").offers == ("mentoring", "shadowing")
    assert d.by_email("mentor-1@example.com").capacity == 3
    assert d.by_email("mentor-2@example.com").skills == ("sql", "data-analysis")
    assert [p.email for p in d.helpers("shadowing")] == ["mentor-1@example.com"]


def test_split_list():
    assert split_list("a; b|c") == ["a", "b", "c"]
    assert split_list("a, b") == ["a", "b"]
    assert split_list(["a", " ", None, "b"]) == ["a", "b"]
    assert split_list(None) == []


BAD_CSV = (
    "email,name,role,manager,skills,offers,capacity,favourite\n"     # 1: unknown column
    "head@example.com,Head A,Director,,,,,\n"                          # 2
    "dup@example.com,Report 01,Dev,head@example.com,,,,\n"             # 3
    "dup@example.com,Report 02,Dev,head@example.com,,,,\n"             # 4: duplicate
    ",Report 03,Dev,head@example.com,,,,\n"                            # 5: missing email
    "not-an-email,,Dev,head@example.com,,,,\n"                         # 6: bad email, missing name
    "report-04@example.com,Report 04,Dev,gone@example.com,,,,\n"       # 7: manager not in file
    "loop-1@example.com,Loop 1,Dev,loop-2@example.com,,,,\n"           # 8: cycle
    "loop-2@example.com,Loop 2,Dev,loop-1@example.com,,,,\n"           # 9
    "self@example.com,Self,Dev,self@example.com,,,,\n"                 # 10: own manager
    "report-05@example.com,Report 05,Dev,head@example.com,,teaching,,\n"  # 11: unknown offer
    "report-06@example.com,Report 06,Dev,head@example.com,,mentoring,-2,\n"  # 12: bad capacity
    "report-07@example.com,Report 07,Dev,head@example.com,,mentoring,1.5,\n"  # 13: bad capacity
)


def test_every_problem_with_its_line(catalog):
    report = parse_text(BAD_CSV, source="org.csv", fmt="csv", catalog=catalog)
    found = [(p.line, p.message.split(" (")[0]) for p in report.problems]
    assert found == [
        (1, "unknown column 'favourite'"),
        (4, "duplicate email dup@example.com"),
        (5, "missing email"),
        (6, "bad email 'not-an-email'"),
        (6, "missing name"),
        (7, "manager gone@example.com is not in the file"),
        (8, "reporting cycle: loop-1@example.com -> loop-2@example.com -> loop-1@example.com"),
        (10, "reporting cycle: self@example.com -> self@example.com"),
        (11, "unknown offer 'teaching'"),
        (12, "bad capacity '-2'"),
        (13, "bad capacity '1.5'"),
    ]
    assert not report.ok


def test_yaml_problems_carry_entry_lines(catalog):
    text = (
        "people:\n"
        "  - email: a@example.com\n"       # 2
        "    name: A\n"
        "    capacity: -1\n"
        "  - email: b@example.com\n"       # 5
        "    name: B\n"
        "    manager: a@example.com\n"
        "    colour: blue\n"
        "    capacity: true\n"
    )
    report = parse_text(text, source="o.yaml", fmt="yaml", catalog=catalog)
    assert [(p.line, p.message.split(" (")[0]) for p in report.problems] == [
        (2, "bad capacity -1"), (5, "unknown column 'colour'"), (5, "bad capacity True")]


def test_unreadable_and_malformed_files(tmp_path, catalog):
    assert "cannot be read" in read_org_file(tmp_path / "missing.yaml", catalog).problems[0].message
    broken = tmp_path / "broken.yaml"
    broken.write_text("people:\n  - email: a@example.com\n    name: [unclosed\n")
    report = read_org_file(broken, catalog)
    assert not report.ok and "not valid YAML" in report.problems[0].message
    j = tmp_path / "broken.json"
    j.write_text('{"people": [\n{"email": "a@example.com",}\n]}')
    report = read_org_file(j, catalog)
    assert report.problems[0].line == 2 and "not valid JSON" in report.problems[0].message
    shape = tmp_path / "shape.yaml"
    shape.write_text("staff:\n  - email: a@example.com\n")
    assert "people" in read_org_file(shape, catalog).problems[0].message


def _check(path) -> tuple[int, str]:
    out = io.StringIO()
    code = run_check(Settings(database_url="memory:"), Namespace(file=str(path), out=out))
    return code, out.getvalue()


def test_run_check_exit_codes_and_output(tmp_path):
    bad = tmp_path / "org.csv"
    bad.write_text(BAD_CSV)
    code, out = _check(bad)
    assert code == 1
    lines = out.strip().splitlines()
    assert f"{bad}:4: duplicate email dup@example.com (first on line 3)" in lines
    assert f"{bad}:7: manager gone@example.com is not in the file" in lines
    assert lines[-1] == f"{bad}: 11 problem(s), 0 warning(s); the file was not accepted"
    good = tmp_path / "org.yaml"
    good.write_text(GOOD_YAML)
    code, out = _check(good)
    assert code == 0
    assert out.strip().splitlines()[-1].startswith(f"{good}: OK — 3 people, 2 managers, 2 offering help")


def test_cli_entry_point(tmp_path, capsys):
    from bot.cli import main

    bad = tmp_path / "org.csv"
    bad.write_text(BAD_CSV)
    assert main(["org", "check", str(bad)]) == 1
    assert "reporting cycle" in capsys.readouterr().out


def _coach(path: Path, catalog) -> Coach:
    settings = Settings(database_url="memory:", org_file=path)
    return Coach(settings, MemoryStore(), catalog, load_directory_for(settings, catalog), dialog=Conversation())


def _touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))  # a visibly new mtime


def test_hot_reload_keeps_last_good_file(tmp_path, catalog, caplog):
    path = tmp_path / "org.yaml"
    path.write_text(GOOD_YAML)
    coach = _coach(path, catalog)
    assert len(coach.directory) == 3
    watcher = OrgWatcher(coach, path)
    assert watcher.check() is None                      # loaded at start: nothing new

    _touch_later(path, GOOD_YAML + "  - email: report-02@example.com\n    name: Report 02\n"
                 "    manager: manager-a@example.com\n")
    assert watcher.check() is True
    assert len(coach.directory) == 4 and coach.directory.by_email("report-02@example.com")

    good = coach.directory
    with caplog.at_level(logging.ERROR, logger="skillcoach.org"):
        _touch_later(path, GOOD_YAML + "  - email: report-02@example.com\n    name: Report 02\n"
                     "    manager: nobody@example.com\n")
        assert watcher.check() is False
    assert coach.directory is good                       # the bad file did not replace it
    assert "manager nobody@example.com is not in the file" in caplog.text
    assert "keeping the previous directory (4 people)" in caplog.text
    assert watcher.check() is None                      # an unchanged bad file is not re-read

    path.unlink()
    assert watcher.check() is None and coach.directory is good

    path.write_text(GOOD_YAML)                           # back again, valid
    assert watcher.check() is True and len(coach.directory) == 3


def test_broken_file_at_start_serves_empty_directory_then_loads_fix(tmp_path, catalog, caplog):
    path = tmp_path / "org.csv"
    path.write_text(BAD_CSV)
    with caplog.at_level(logging.ERROR, logger="skillcoach.org"):
        coach = _coach(path, catalog)
    assert len(coach.directory) == 0
    assert "serving with an empty directory" in caplog.text and "duplicate email" in caplog.text
    watcher = OrgWatcher(coach, path)
    watcher.check()                                      # may look once more at the broken file
    assert watcher.check() is None and len(coach.directory) == 0  # then leaves it alone
    _touch_later(path, "email,name,manager\nhead@example.com,Head A,\nr@example.com,Report 01,head@example.com\n")
    assert watcher.check() is True and len(coach.directory) == 2


def test_no_org_file_configured(catalog):
    assert len(load_directory_for(Settings(database_url="memory:"), catalog)) == 0


async def test_watch_task_reloads_in_the_background(tmp_path, catalog):
    import asyncio

    path = tmp_path / "org.yaml"
    path.write_text(GOOD_YAML)
    coach = _coach(path, catalog)
    task = asyncio.create_task(watch_org_file(coach, interval=0.01))
    try:
        _touch_later(path, GOOD_YAML + "  - email: report-02@example.com\n    name: Report 02\n")
        for _ in range(500):
            if len(coach.directory) == 4:
                break
            await asyncio.sleep(0.01)
        assert coach.directory.by_email("report-02@example.com") is not None
    finally:
        task.cancel()
