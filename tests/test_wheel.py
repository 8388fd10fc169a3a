"""The wheel holds everything the commands need: built from this checkout, installed into an empty folder,
and run from elsewhere (so nothing of the checkout can be imported), `chat`, `advise` and `teams-package`
work — `teams-package` reads the Teams manifest template, which must ship in the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(work / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next((work / "dist").glob("skillcoach-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "manifest/teams/manifest.json" in names and "bot/catalog_data/families/healthcare.yaml" in names
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return target


def run(installed: Path, tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCOACH_")}
    env.update(PYTHONPATH=str(installed), SKILLCOACH_DATABASE_URL=str(tmp_path / "db"))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_the_commands_run_from_the_wheel(installed, tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True, text=True)
    assert probe.stdout.strip().startswith(str(installed))

    chat = run(installed, tmp_path, "chat", stdin="hi\nquit\n")
    assert chat.returncode == 0 and "I'm skillcoach, your career-growth coach" in chat.stdout
    assert "Traceback" not in chat.stderr

    advise = run(installed, tmp_path, "advise", "--role", "registered nurse")
    assert advise.returncode == 0 and "GROWING AS REGISTERED NURSE" in advise.stdout

    package = run(installed, tmp_path, "teams-package", "--app-id", "00000000-0000-0000-0000-000000000001",
                  "--out", str(tmp_path / "app.zip"))
    assert package.returncode == 0, package.stderr
    assert set(zipfile.ZipFile(tmp_path / "app.zip").namelist()) == {"manifest.json", "color.png", "outline.png"}
