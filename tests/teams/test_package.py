"""`skillcoach teams-package`: the zip admins upload, with the ids filled in and the manifest checked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from adapters.teams.package import MANIFEST_DIR, build_package, check_manifest, png_info
from bot.cli import main
from bot.errors import ConfigError

APP_ID = "12345678-90ab-cdef-1234-567890abcdef"


def test_cli_writes_a_zip_with_the_ids_filled_in(tmp_path, capsys):
    out = tmp_path / "pkg" / "skillcoach.zip"
    assert main(["teams-package", "--app-id", APP_ID, "--out", str(out),
                 "--domain", "https://bot.example.org/api/messages"]) == 0
    printed = capsys.readouterr()
    assert str(out.resolve()) in printed.out
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        assert png_info(zf.read("color.png"))[:2] == (192, 192)
        width, height, colour_type = png_info(zf.read("outline.png"))
        assert (width, height, colour_type) == (32, 32, 6)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.example.org"]
    assert float(manifest["manifestVersion"]) >= 1.17
    assert set(manifest["bots"][0]["scopes"]) >= {"personal", "team"}
    titles = {c["title"] for lst in manifest["bots"][0]["commandLists"] for c in lst["commands"]}
    assert titles >= {"grow", "my plan", "help", "restart", "forget me", "my data", "stop reminders",
                      "nudge team", "team skills"}
    assert check_manifest(manifest, {"color": (MANIFEST_DIR / "color.png").read_bytes(),
                                     "outline": (MANIFEST_DIR / "outline.png").read_bytes()}) == []
    assert "placeholders" in printed.err  # the developer URLs are still to fill in


def test_python_m_bot_entry_point(tmp_path):
    out = tmp_path / "x.zip"
    result = subprocess.run([sys.executable, "-m", "bot", "teams-package", "--app-id", APP_ID, "--out", str(out)],
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_a_bad_app_id_is_refused(tmp_path, capsys):
    assert main(["teams-package", "--app-id", "my-bot", "--out", str(tmp_path / "x.zip")]) == 2
    assert "GUID" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def _template(tmp_path: Path) -> Path:
    source = tmp_path / "teams"
    shutil.copytree(MANIFEST_DIR, source)
    return source


def test_wrong_icon_size_and_missing_fields_are_reported(tmp_path):
    source = _template(tmp_path)
    shutil.copy(source / "outline.png", source / "color.png")  # a 32×32 colour icon
    manifest = json.loads((source / "manifest.json").read_text())
    del manifest["developer"]["privacyUrl"]
    manifest["bots"][0]["commandLists"][0]["commands"] *= 2  # 18 commands
    (source / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError) as err:
        build_package(APP_ID, tmp_path / "out.zip", source=source)
    message = str(err.value)
    assert "icons.color must be 192×192" in message
    assert "developer.privacyUrl is required" in message
    assert "between 1 and 10 commands" in message
    assert not (tmp_path / "out.zip").exists()
