"""What start-up keeps between starts: the validated catalog (a snapshot keyed by its files' hash) and the
matching indexes. A changed catalog is read and built again; a corrupt or foreign cache file is rebuilt
with one log line and never a traceback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import catalog as catalog_module
from bot.catalog import load_catalog
from bot.cli import main
from bot.matching import RoleMatcher, SkillMatcher, warm

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]

ORG_ROLES = {"roles": [{"id": "ward-clerk", "title": "Ward Clerk", "family": "healthcare",
                        "alt_titles": ["Hospital Ward Receptionist"], "skills": {"communication": 4},
                        "description": "Keeps the ward's records and greets visitors."}]}


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "skillcoach"


@pytest.fixture
def own_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "roles.json").write_text(json.dumps(ORG_ROLES), encoding="utf-8")
    return folder


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> object:
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(catalog_module, "_parse", refuse)


def test_an_unchanged_catalog_is_read_from_its_snapshot(cache_home, own_folder, monkeypatch) -> None:
    first = load_catalog([own_folder])
    assert len(list(cache_home.glob("*-catalog.pickle"))) == 1
    _no_parsing(monkeypatch)
    again = load_catalog([own_folder])
    assert again.roles == first.roles and again.skills == first.skills and again.learning == first.learning
    assert again.families == first.families and again.by_skill == first.by_skill
    assert again.key == first.key != ""
    assert again.folders == first.folders
    assert again.sources[("roles", "ward-clerk")] == str((own_folder / "roles.json").resolve())


def test_a_changed_file_is_read_again(cache_home, own_folder, caplog) -> None:
    load_catalog([own_folder])
    changed = json.loads(json.dumps(ORG_ROLES))
    changed["roles"][0]["title"] = "Ward Administrator"
    (own_folder / "roles.json").write_text(json.dumps(changed), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="skillcoach.catalog"):
        again = load_catalog([own_folder])
    assert again.roles["ward-clerk"].title == "Ward Administrator"
    assert any("changed" in r.getMessage() for r in caplog.records)


def test_a_changed_file_that_is_broken_is_still_an_error(cache_home, own_folder) -> None:
    from bot.errors import CatalogError

    load_catalog([own_folder])
    broken = json.loads(json.dumps(ORG_ROLES))
    broken["roles"][0]["skills"] = {"communication": 9}
    (own_folder / "roles.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"roles\.json: roles entry ward-clerk: .*weight 9"):
        load_catalog([own_folder])


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", b"\x80\x05\x95\xff\xff\xff", None])
def test_a_corrupt_snapshot_is_rebuilt_with_a_log_line(cache_home, own_folder, caplog, content) -> None:
    first = load_catalog([own_folder])
    (path,) = cache_home.glob("*-catalog.pickle")
    if content is None:  # a valid pickle of something else
        import pickle

        content = pickle.dumps({"key": first.key, "catalog": "not a catalog"})
    path.write_bytes(content)
    with caplog.at_level(logging.INFO, logger="skillcoach.catalog"):
        again = load_catalog([own_folder])
    assert again.roles == first.roles
    assert [r.levelname for r in caplog.records if str(path) in r.getMessage()] == ["WARNING"]
    assert "Traceback" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="skillcoach.catalog"):
        load_catalog([own_folder])  # written again, readable
    assert not [r for r in caplog.records if str(path) in r.getMessage()]


def test_matching_indexes_are_kept_and_rebuilt_when_the_catalog_changes(cache_home, own_folder) -> None:
    catalog = load_catalog([own_folder])
    assert RoleMatcher(catalog).match("hospital ward receptionist")[0].role.id == "ward-clerk"
    assert (next(cache_home.glob("*-roles.pickle"))).is_file()
    changed = json.loads(json.dumps(ORG_ROLES))
    changed["roles"][0]["alt_titles"].append("Patient Records Keeper")
    (own_folder / "roles.json").write_text(json.dumps(changed), encoding="utf-8")
    again = load_catalog([own_folder])
    assert RoleMatcher(again).match("patient records keeper")[0].role.id == "ward-clerk"


def test_a_corrupt_matching_index_is_rebuilt_with_a_log_line(cache_home, own_folder, caplog) -> None:
    warm(load_catalog([own_folder]))
    for path in cache_home.glob("*-roles.pickle"):
        path.write_bytes(b"\x80\x05garbage")
    for path in cache_home.glob("*-skills.pickle"):
        path.write_bytes(b"")
    with caplog.at_level(logging.INFO, logger="skillcoach.catalog"):
        catalog = load_catalog([own_folder])
        assert RoleMatcher(catalog).match("ward clerk")[0].role.id == "ward-clerk"
        assert SkillMatcher(catalog).match_one("communication") == "communication"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and all("matching index" in w and "building it again" in w for w in warnings)


def test_the_import_keeps_its_snapshot_and_indexes_for_the_folder_it_is_moved_to(tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    assert main(["catalog", "import", "onet", str(FIXTURES / "onet"), "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / ".index").iterdir()) == ["catalog.pickle", "files.pickle",
                                                                  "roles.pickle", "skills.pickle"]
    _no_parsing(monkeypatch)
    catalog = load_catalog([out])
    assert catalog.folders[-1] == out.resolve()
    role_id = "onet-47-2011-00"
    assert catalog.sources[("roles", role_id)] == str((out / "roles" / "onet-47.json").resolve())
    built = []
    monkeypatch.setattr(RoleMatcher, "_build", staticmethod(lambda c: built.append(c) or {}))
    assert RoleMatcher(catalog).match("boiler mechanic")[0].role.id == role_id
    assert built == []


def test_a_corrupt_cache_gives_no_traceback_on_the_command_line(tmp_path, own_folder) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "DATABASE_URL", "SKILLCOACH_"))}
    env.update({"XDG_CACHE_HOME": str(tmp_path / "cache"), "SKILLCOACH_DB": str(tmp_path / "db"),
                "SKILLCOACH_CATALOG": str(own_folder), "PYTHONPATH": str(ROOT)})
    args = [sys.executable, "-m", "bot", "advise", "--role", "hospital ward receptionist", "--skills", "communication",
            "--json"]
    first = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert first.returncode == 0, first.stderr
    files = list((tmp_path / "cache" / "skillcoach").glob("*.pickle"))
    assert {p.name.split("-", 1)[1] for p in files} == {"catalog.pickle", "roles.pickle", "skills.pickle"}
    for path in files:
        path.write_bytes(b"\x80\x05 truncated")
    again = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert again.returncode == 0
    assert "Traceback" not in again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)
