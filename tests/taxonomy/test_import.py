"""`skillcoach catalog import onet|esco`: the published files in, catalog files the shipped loader takes out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalog import load_catalog
from bot.cli import main
from bot.matching import RoleMatcher
from bot.recommend import Recommender
from bot.taxonomy import cache

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for key in ("SKILLCOACH_ORG", "SKILLCOACH_CATALOG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SKILLCOACH_DB", str(tmp_path / "db"))
    monkeypatch.chdir(tmp_path)  # no .env of the checkout


def run_import(*args: str) -> int:
    return main(["catalog", "import", *args])


@pytest.fixture(scope="module")
def onet_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("onet") / "catalog"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out)) == 0
    return out


@pytest.fixture(scope="module")
def esco_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("esco") / "catalog"
    assert run_import("esco", str(FIXTURES / "esco"), "--out", str(out), "--language", "en") == 0
    return out


# -- O*NET -------------------------------------------------------------------------------------
def test_onet_import_loads_with_the_shipped_catalog(onet_dir):
    catalog = load_catalog([onet_dir])
    imported = {rid: r for rid, r in catalog.roles.items() if rid.startswith("onet-")}
    assert len(imported) == 12
    boiler = imported["onet-47-2011-00"]
    assert boiler.title == "Boilermaker"                       # the plural O*NET title, in the singular
    assert "Boilermakers" in boiler.alt_titles and "Boiler Mechanic" in boiler.alt_titles
    assert boiler.family == "onet-47"
    assert catalog.families["onet-47"].name == "Construction and extraction occupations"
    assert catalog.families["onet-47"].associations[0].name == \
        "A professional association of construction and extraction occupations"
    assert boiler.level == 3                                   # its job zone
    assert boiler.skills["repairing"] == 5                     # importance 4.75
    assert boiler.skills["quality-control-analysis"] == 3      # importance 3.15
    assert "science" not in boiler.skills                      # rated below "important" (3)
    # related occupations that were imported, closest first; 49-9021.00 is not in the download
    assert boiler.adjacent == ["onet-17-2141-00", "onet-47-2111-00"]
    # a title with commas stays as published
    assert imported["onet-25-2021-00"].title == "Elementary School Teachers, Except Special Education"
    # Short Title is an alternate title too, "n/a" is not
    accountants = imported["onet-13-2011-00"]
    assert "CPA" in accountants.alt_titles and "n/a" not in accountants.alt_titles


def test_onet_skills_merge_with_shipped_ones_and_keep_their_learning_options(onet_dir):
    shipped = load_catalog()
    catalog = load_catalog([onet_dir])
    developer = catalog.roles["onet-15-1252-00"]
    # Python (a hot, in-demand technology) and Git are the shipped skills, by name and by alias
    assert developer.skills["python"] == 4
    assert developer.skills["version-control"] == 3
    assert "onet-python" not in catalog.skills and catalog.skills["python"] == shipped.skills["python"]
    assert [o.id for o in catalog.options_for("python")] == [o.id for o in shipped.options_for("python")]
    # a skill nobody lists a course for gets the honest generic ways to learn it
    repairing = [o.id for o in catalog.options_for("repairing")]
    assert repairing == ["onet-47-association", "onet-employer-training"]
    association = catalog.learning["onet-47-association"]
    assert association.families == ["onet-47"] and association.type == "community"
    assert catalog.learning["onet-employer-training"].cost == "employer"
    # knowledge areas are not transferable, basic skills are
    assert catalog.skills["repairing"].transferable is True
    assert catalog.skills["mechanical"].transferable is False


def test_onet_hot_and_in_demand_technologies_are_the_familys_trending_skills(onet_dir):
    catalog = load_catalog([onet_dir])
    # in demand (Python, Kubernetes, Tableau) before only hot (Git, Excel, R)
    assert catalog.families["onet-15"].trending == ["python", "kubernetes", "bi-tools", "version-control",
                                                    "spreadsheets", "r"]
    assert "erlang" not in catalog.skills                      # neither hot nor in demand: not imported


def test_onet_notice_and_console_name_the_source_and_licence(tmp_path, capsys):
    out = tmp_path / "cat"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "source: O*NET 30.1 Database" in printed and "CC BY 4.0" in printed
    notice = (out / "NOTICE").read_text(encoding="utf-8")
    assert ("includes information from the O*NET 30.1 Database by the U.S. Department of Labor, Employment and\n"
            "Training Administration (USDOL/ETA). Used under the CC BY 4.0 license") in notice
    assert "USDOL/ETA has not approved, endorsed, or tested these" in notice
    marker = json.loads((out / ".skillcoach-import.json").read_text())
    assert marker["source"] == "onet" and marker["roles"] == 12


# -- ESCO --------------------------------------------------------------------------------------
def test_esco_import_loads_with_the_shipped_catalog(esco_dir):
    catalog = load_catalog([esco_dir])
    imported = {rid: r for rid, r in catalog.roles.items() if rid.startswith("esco-")}
    assert len(imported) == 12
    lock = imported["esco-7222-3"]
    assert lock.title == "Locksmith"
    assert lock.alt_titles == ["lock fitter", "key cutter", "safe technician"]  # newline-separated altLabels
    assert lock.description.startswith("Locksmiths install mechanical and electronic locking systems")
    assert "They cut and duplicate keys" in lock.description   # the description's second line
    assert lock.skills["cut-keys"] == 5 and lock.skills["security-systems"] == 2  # essential / optional
    assert lock.family == "esco-72"
    assert catalog.families["esco-72"].name == "Metal, machinery and related trades workers"
    assert lock.level == 2                                     # ISCO major group 7: skill level 2
    assert imported["esco-2411-1"].level == 4 and imported["esco-3434-1"].level == 3
    # the same ISCO unit group: adjacent
    assert imported["esco-2411-1"].adjacent == ["esco-2411-2"]
    assert imported["esco-3434-2"].adjacent == ["esco-3434-1"]
    assert imported["esco-2512-4"].adjacent == []
    # quoted text with quotes inside survives
    assert 'standards of the "house"' in imported["esco-3434-1"].description
    # "work in teams" is the shipped teamwork skill (by alias)
    assert imported["esco-2512-4"].skills["teamwork"] == 2
    assert catalog.skills["cut-keys"].aliases == ["duplicate keys", "key cutting"]
    notice = (esco_dir / "NOTICE").read_text(encoding="utf-8")
    assert "uses the ESCO classification of the European Commission" in notice


# -- selection ---------------------------------------------------------------------------------
def test_only_keeps_the_codes_asked_for(tmp_path):
    out = tmp_path / "cat"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out), "--only", "47-,17-2141.00") == 0
    catalog = load_catalog([out])
    assert sorted(r for r in catalog.roles if r.startswith("onet-")) == [
        "onet-17-2141-00", "onet-47-2011-00", "onet-47-2111-00"]
    assert sorted(f for f in catalog.families if f.startswith("onet-")) == ["onet-17", "onet-47"]
    # adjacent roles outside the selection are dropped
    assert catalog.roles["onet-17-2141-00"].adjacent == ["onet-47-2011-00", "onet-47-2111-00"]
    esco_out = tmp_path / "esco"
    assert run_import("esco", str(FIXTURES / "esco"), "--out", str(esco_out), "--only", "2411") == 0
    assert sorted(r for r in load_catalog([esco_out]).roles if r.startswith("esco-")) == ["esco-2411-1", "esco-2411-2"]


def test_only_matching_nothing_is_an_error(tmp_path, capsys):
    out = tmp_path / "cat"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out), "--only", "99-") == 2
    assert "--only: no occupation has a code starting with any of 99-" in capsys.readouterr().err
    assert not out.exists()


ORG = """email,name,role,manager
ana@example.com,Ana,Software Engineer,
ben@example.com,Ben,staff nurse,ana@example.com
cy@example.com,Cy,Boilermaker,ana@example.com
di@example.com,Di,Underwater basket weaver,ana@example.com
"""


def test_match_org_keeps_the_occupations_of_the_organisations_roles(tmp_path, capsys, monkeypatch):
    org = tmp_path / "org.csv"
    org.write_text(ORG, encoding="utf-8")
    out = tmp_path / "cat"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out), "--match-org", str(org)) == 0
    printed = capsys.readouterr().out
    assert "no occupation matched the organisation's role 'Underwater basket weaver'" in printed
    ids = sorted(r for r in load_catalog([out]).roles if r.startswith("onet-"))
    assert ids == ["onet-15-1252-00", "onet-29-1141-00", "onet-47-2011-00"]
    # without a file name: SKILLCOACH_ORG, as the rest of skillcoach
    monkeypatch.setenv("SKILLCOACH_ORG", str(org))
    again = tmp_path / "again"
    assert run_import("esco", str(FIXTURES / "esco"), "--out", str(again), "--match-org") == 0
    ids = sorted(r for r in load_catalog([again]).roles if r.startswith("esco-"))
    assert ids == ["esco-2221-1", "esco-2512-4"]


def test_match_org_without_a_file_is_an_error(tmp_path, capsys):
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(tmp_path / "c"), "--match-org") == 2
    assert "--match-org needs an organisation file" in capsys.readouterr().err


# -- broken downloads ----------------------------------------------------------------------------
def _copy(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / f"download-{source}"
    shutil.copytree(FIXTURES / source, folder)
    return folder


def _edit_line(path: Path, number: int, change) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = change(lines[number - 1])
    path.write_bytes(b"\n".join(lines))


def _fails(tmp_path, capsys, source: str, folder: Path, expected: str) -> None:
    out = tmp_path / "out"
    assert run_import(source, str(folder), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skillcoach: "), err
    assert expected in err, err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # no half-written folder


def test_missing_file(tmp_path, capsys):
    folder = _copy(tmp_path, "onet")
    (folder / "Job Zones.txt").unlink()
    _fails(tmp_path, capsys, "onet", folder, f"{folder / 'Job Zones.txt'}: file not found")


def test_missing_column_names_the_header_line(tmp_path, capsys):
    folder = _copy(tmp_path, "onet")
    _edit_line(folder / "Skills.txt", 1, lambda b: b.replace(b"Data Value", b"Value"))
    _fails(tmp_path, capsys, "onet", folder, f"{folder / 'Skills.txt'}: line 1: the header has no column 'Data Value'")


def test_short_row_names_its_line(tmp_path, capsys):
    folder = _copy(tmp_path, "onet")
    _edit_line(folder / "Knowledge.txt", 40, lambda b: b.rsplit(b"\t", 2)[0] + b"\r")
    _fails(tmp_path, capsys, "onet", folder,
           f"{folder / 'Knowledge.txt'}: line 40: expected 14 tab-separated fields as in the header, found 12")


def test_value_out_of_range_names_its_line(tmp_path, capsys):
    folder = _copy(tmp_path, "onet")
    _edit_line(folder / "Job Zones.txt", 5, lambda b: b.replace(b"\t2\t", b"\t7\t").replace(b"\t3\t", b"\t7\t")
               .replace(b"\t4\t", b"\t7\t").replace(b"\t5\t", b"\t7\t"))
    _fails(tmp_path, capsys, "onet", folder, f"{folder / 'Job Zones.txt'}: line 5: column 'Job Zone' should be between 1 and 5")


def test_not_utf8_names_its_line(tmp_path, capsys):
    folder = _copy(tmp_path, "onet")
    _edit_line(folder / "Alternate Titles.txt", 3, lambda b: b[:20] + b"\xe9" + b[20:])
    _fails(tmp_path, capsys, "onet", folder, f"{folder / 'Alternate Titles.txt'}: line 3: not UTF-8 text")


def test_esco_unclosed_quote_names_where_the_record_starts(tmp_path, capsys):
    folder = _copy(tmp_path, "esco")
    path = folder / "ISCOGroups_en.csv"
    _edit_line(path, 4, lambda b: b.replace(b",Software", b',"Software'))
    _fails(tmp_path, capsys, "esco", folder, f"{path}: line 4: not valid CSV")


def test_esco_unknown_relation_type(tmp_path, capsys):
    folder = _copy(tmp_path, "esco")
    path = folder / "occupationSkillRelations_en.csv"
    _edit_line(path, 6, lambda b: b.replace(b",essential,", b",required,").replace(b",optional,", b",required,"))
    _fails(tmp_path, capsys, "esco", folder,
           f"{path}: line 6: column 'relationType' should be essential or optional, found 'required'")


def test_esco_other_language_files_missing(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_import("esco", str(FIXTURES / "esco"), "--out", str(out), "--language", "de") == 2
    assert f"{FIXTURES / 'esco' / 'ISCOGroups_de.csv'}: file not found" in capsys.readouterr().err


def test_a_failed_reimport_leaves_the_previous_catalog_in_place(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out)) == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    folder = _copy(tmp_path, "onet")
    (folder / "Skills.txt").write_text("", encoding="utf-8")
    assert run_import("onet", str(folder), "--out", str(out)) == 2
    assert "Skills.txt: the file is empty" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    # and a successful one replaces it
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out), "--only", "15-") == 0
    assert sorted(r for r in load_catalog([out]).roles if r.startswith("onet-")) == ["onet-15-1252-00", "onet-15-2051-00"]


def test_a_folder_that_is_not_an_import_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "roles.yaml").write_text("roles: []\n", encoding="utf-8")
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out)) == 2
    assert "is not a folder written by `skillcoach catalog import`" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["roles.yaml"]


def test_one_line_error_and_exit_2_from_the_command_line(tmp_path):
    folder = _copy(tmp_path, "onet")
    (folder / "Occupation Data.txt").unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCOACH_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "bot", "catalog", "import", "onet", str(folder), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"skillcoach: {folder / 'Occupation Data.txt'}: file not found (is this the right download folder?)\n"


# -- start-up: the indexes stored beside the import ----------------------------------------------
def test_matching_indexes_are_read_from_the_import_and_rebuilt_when_the_catalog_changes(tmp_path):
    out = tmp_path / "out"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out)) == 0
    catalog = load_catalog([out])
    fp = cache.fingerprint(catalog)
    stored = cache.load(catalog, "roles", fp)
    assert stored is not None and "onet-47-2011-00" in stored["_owner"]
    assert RoleMatcher(catalog).match("boiler mechanic")[0].role.id == "onet-47-2011-00"
    # an edited role file: the stored index no longer fits, a fresh one is built and stored
    path = out / "roles" / "onet-47.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["roles"][0]["alt_titles"].append("Steam Vessel Fitter")
    path.write_text(json.dumps(data), encoding="utf-8")
    changed = load_catalog([out])
    assert cache.load(changed, "roles", cache.fingerprint(changed)) is None
    assert RoleMatcher(changed).match("steam vessel fitter")[0].role.id == "onet-47-2011-00"
    assert cache.load(changed, "roles", cache.fingerprint(changed)) is not None


# -- the imported roles in every flow ------------------------------------------------------------
def _cli(args, stdin, tmp_path, catalog):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "DATABASE_URL", "SKILLCOACH_"))}
    env.update({"SKILLCOACH_DB": str(tmp_path / "db"), "SKILLCOACH_CATALOG": str(catalog), "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)


def test_whole_interview_on_an_imported_role_in_the_terminal_chat(tmp_path, onet_dir):
    script = "\n".join(["1", "boilermaker", "yes", "2", "none", "grow in my current role", "2", "all", "yes", ""])
    done = _cli(["chat"], script, tmp_path, onet_dir)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Boilermaker" in text
    assert "YOUR UPSKILLING PLAN" in text
    for skill in ("Repairing", "Equipment Maintenance"):          # its most important O*NET skills
        assert skill in text
    assert "Training arranged with your employer's learning and development team" in text
    assert "keeping up with the latest in construction and extraction occupations" in text
    assert "A professional association of construction and extraction occupations" in text
    assert "Traceback" not in text + done.stderr


def test_advise_reskilling_between_imported_esco_roles(tmp_path, esco_dir):
    done = _cli(["advise", "--role", "shop assistant", "--goal", "switch", "--target", "locksmith", "--json"],
                "", tmp_path, esco_dir)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["path"] == "reskill"
    assert plan["current"]["id"] == "esco-5223-1" and plan["target"]["id"] == "esco-7222-3"
    assert {s["name"] for s in plan["skills"]} >= {"Cut keys", "Install locks", "Open locks without a key"}
    assert all(s["importance"] == 5 for s in plan["skills"][:3])
    assert all(s["options"] for s in plan["skills"])               # never a skill without a way to learn it
    assert "Communicate with customers" in plan["strengths"]      # shared with the shop assistant


def test_a_big_step_up_between_imported_levels_is_named(esco_dir):
    rec = Recommender(load_catalog([esco_dir]))
    shop = rec.role_ref(rec.catalog.roles["esco-5223-1"])
    accountant = rec.role_ref(rec.catalog.roles["esco-2411-1"])
    plan = rec.plan(shop, [], "switch", accountant)
    assert "Accountant usually takes a good deal more preparation than Shop assistant (level 4 of 5 against 2)" \
        in plan.path_reason
    down = rec.plan(accountant, [], "switch", shop)
    assert "more preparation" not in down.path_reason


def test_stored_parse_results_are_used_only_for_unchanged_files(tmp_path):
    from bot.errors import CatalogError

    out = tmp_path / "out"
    assert run_import("onet", str(FIXTURES / "onet"), "--out", str(out)) == 0
    load_catalog([out])
    assert (out / ".index" / "files.pickle").is_file()
    path = out / "roles" / "onet-47.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["roles"][0]["skills"]["repairing"] = 9
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"onet-47\.json: roles entry onet-47-2011-00: .*weight 9"):
        load_catalog([out])
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"onet-47\.json: not valid JSON: line 1 column 2"):
        load_catalog([out])
