"""`skillcoach chat` and `skillcoach advise` as a person runs them: subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(args, stdin="", env_extra=None, tmp_path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "DATABASE_URL"))}
    env["SKILLCOACH_DB"] = str(tmp_path / "db") if tmp_path else env.get("SKILLCOACH_DB", "")
    env.pop("SKILLCOACH_ORG", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path or ROOT, env=env, timeout=120)


SEED_MARKETING = "\n".join([
    "1", "marketing specialist", "yes", "2", "none", "grow in my current role", "2", "all", "yes", "",
])


def test_chat_subprocess_whole_interview_and_resume(tmp_path):
    out = run(["chat"], stdin=SEED_MARKETING, tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "I'm skillcoach" in text
    assert "1. Let's start" in text                      # choices as numbered lines
    assert "YOUR UPSKILLING PLAN" in text
    for skill in ("Digital marketing trends", "Data analytics", "Social media advertising"):
        assert skill in text
    assert "Traceback" not in text + out.stderr
    # a second run on the same store remembers the plan
    again = run(["chat"], stdin="my plan\n", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "YOUR UPSKILLING PLAN" in again.stdout


def test_chat_subprocess_journalist_to_developer_and_forget(tmp_path):
    script = "\n".join(["1", "journalist", "yes", "3", "none", "I want to become a software developer", "yes",
                        "2", "courses, mentoring", "no", "my data", "forget me", "1", "my plan"]) + "\n"
    out = run(["chat"], stdin=script, tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "YOUR RESKILLING PLAN" in text
    for skill in ("Programming languages", "Web development", "Software engineering fundamentals"):
        assert skill in text
    assert "Writing" in text and "Research" in text
    # my data: a summary in the chat, the whole export in a file in the current directory
    (written,) = tmp_path.glob("skillcoach-my-data-*.json")
    assert f"The whole export is in {written}" in text
    assert json.loads(written.read_text(encoding="utf-8"))["profiles"]["consent_share"] is False
    assert '"consent_share"' not in text and "• Not counted in your manager's team summary" in text
    assert written.stat().st_mode & 0o077 == 0          # the owner's only
    assert "everything I kept about you is deleted" in text
    assert text.rstrip().endswith("it takes about two minutes.")  # no plan any more


def test_advise_json(tmp_path):
    out = run(["advise", "--role", "journalist", "--goal", "switch", "--target", "software developer", "--json"],
              tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["path"] == "reskill"
    assert plan["matched_roles"]["current"][0]["id"] == "journalist"
    assert plan["matched_roles"]["current"][0]["score"] == 100.0
    assert {s["name"] for s in plan["skills"]} >= {"Programming languages", "Web development",
                                                  "Software engineering fundamentals"}
    assert all(s["reason"] for s in plan["skills"])
    assert "Writing" in plan["strengths"]
    assert plan["people"] == []


def test_advise_text_and_errors(tmp_path):
    out = run(["advise", "--role", "marketing specialist", "--skills", "data analytics, flurbing"], tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Digital marketing trends" in out.stdout
    assert "Data analytics" not in out.stdout.split("Skills to build")[1].split("At a glance")[0]
    assert "flurbing" in out.stdout
    assert "*" not in out.stdout                      # plain text: none of Slack's *bold* marks
    bad = run(["advise", "--role", "journalist", "--goal", "switch"], tmp_path=tmp_path)
    assert bad.returncode == 2 and "--target" in bad.stderr and "Traceback" not in bad.stderr


def _pyproject_version():
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_version(tmp_path):
    out = run(["--version"], tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"skillcoach {_pyproject_version()}\n"
    assert out.stderr == ""


def test_version_falls_back_to_pyproject_when_not_installed(monkeypatch):
    from importlib import metadata

    from bot import cli

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert cli.version() == _pyproject_version()


def test_advise_into_a_closed_pipe_exits_quietly(tmp_path):
    """`skillcoach advise … | head -1`: the reader goes away after one line; no traceback, exit 0."""
    import fcntl

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "DATABASE_URL"))}
    env["SKILLCOACH_DB"] = str(tmp_path / "db")
    env.pop("SKILLCOACH_ORG", None)
    read_end, write_end = os.pipe()
    # a small pipe: the plan (about 6 kB of JSON) cannot all fit before the reader closes it
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "advise", "--role", "journalist", "--goal", "switch",
         "--target", "software developer", "--json"],
        stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=tmp_path, env=env)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()
    _, err = proc.communicate(timeout=120)
    assert first == b"{\n"
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert err == b""
    assert proc.returncode == 0


def test_chat_opening_line_names_the_way_out(tmp_path):
    out = run(["chat"], stdin="", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "skillcoach chat — type quit or exit (or press Ctrl-D) to leave."
    assert "Traceback" not in out.stderr


def test_chat_help_names_the_way_out(tmp_path):
    out = run(["chat"], stdin="help\n", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "• *cancel* — stop what we're doing" not in out.stdout       # rendered without the * markers
    assert "• cancel — stop what we're doing" in out.stdout
    assert out.stdout.rstrip().endswith("In this terminal: type quit or exit (or press Ctrl-D) to leave the chat.")


def test_chat_quit_and_exit_leave_with_a_goodbye(tmp_path):
    for word in ("quit", "exit", "  Quit  ", "/exit"):
        # the line after the way out is never read as a message
        out = run(["chat"], stdin=f"1\n{word}\nmy plan\n", tmp_path=tmp_path)
        assert out.returncode == 0, out.stderr
        assert out.stdout.rstrip().endswith("Goodbye — your answers are kept; run skillcoach chat to continue."), word
        assert out.stdout.count("Goodbye") == 1
        assert "Okay, stopped." not in out.stdout                        # leaving is not the dialog's cancel
        assert "Traceback" not in out.stderr


def test_chat_end_of_input_leaves_quietly(tmp_path):
    out = run(["chat"], stdin="1\n", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Goodbye" not in out.stdout
    assert "Traceback" not in out.stderr


def test_chat_cancel_keeps_its_dialog_meaning(tmp_path):
    out = run(["chat"], stdin="1\ncancel\nquit\n", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Okay, stopped. Your answers so far are saved — say start whenever you want to continue." in out.stdout
    assert out.stdout.rstrip().endswith("Goodbye — your answers are kept; run skillcoach chat to continue.")


def test_bad_setting_is_one_clear_line(tmp_path):
    out = run(["serve", "--port", "0"], env_extra={"SKILLCOACH_TEAMS": "bogus"}, tmp_path=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.splitlines() == [
        "skillcoach: bad setting SKILLCOACH_TEAMS='bogus': expected true, false, local or auto"]
    assert out.stdout == ""


def test_bad_setting_in_any_command_and_a_dotenv_file(tmp_path):
    out = run(["advise", "--role", "journalist"], env_extra={"SKILLCOACH_MIN_GROUP": "five"}, tmp_path=tmp_path)
    assert out.returncode == 2
    assert out.stderr.splitlines() == ["skillcoach: bad setting SKILLCOACH_MIN_GROUP='five': expected a whole number"]
    (tmp_path / ".env").write_text("SKILLCOACH_NUDGE_PERIOD_DAYS=soon\n", encoding="utf-8")
    out = run(["chat"], tmp_path=tmp_path)
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        "skillcoach: bad setting SKILLCOACH_NUDGE_PERIOD_DAYS='soon': expected a number of days"]
