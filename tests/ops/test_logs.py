"""The log of a real `skillcoach serve` process: SKILLCOACH_LOG_FORMAT=json gives one JSON object per line
with the request id and platform; what an employee writes never appears; bolt's start-up warning is gone;
a bad format is one clear line and exit status 2."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import FakeSlack, dm_of
from tests.multiproc.conftest import ROOT, free_port
from tests.slack.conftest import SECRET, dm_event, sign

USER = "U0LOGUSER1"
PRIVATE_TEXT = "I want to quit and join the circus next spring"
BOLT_WARNING = "`token` will be unused"


def env_for(slack: FakeSlack, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "SKILLCOACH_"))}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
               SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN="xoxb-log-test", SLACK_SIGNING_SECRET=SECRET,
               MicrosoftAppId="", SKILLCOACH_TEAMS="false", SKILLCOACH_DB=str(tmp_path / "skillcoach.db"),
               SKILLCOACH_LOG_LEVEL="INFO")
    env.update(extra)
    return env


async def run_serve(env: dict[str, str], tmp_path: Path, slack: FakeSlack, request_id: str) -> tuple[int, str]:
    """Start `skillcoach serve`, send one signed DM (with an X-Request-Id), SIGTERM; (exit status, log)."""
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, cwd=str(tmp_path), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    async with session.get(url + "/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                await asyncio.sleep(0.05)
            raw = json.dumps(dm_event(USER, PRIVATE_TEXT)).encode()
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": sign(raw, ts), "X-Request-Id": request_id}
            async with session.post(url + "/slack/events", data=raw, headers=headers) as r:
                assert r.status == 200
                assert r.headers["X-Request-Id"] == request_id
            await slack.wait_for(lambda s: s.posts(dm_of(USER)), timeout=15)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, log_path.read_text()


async def test_json_log_lines_carry_request_id_and_no_message_text(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        code, log = await run_serve(env_for(slack, tmp_path, SKILLCOACH_LOG_FORMAT="json"), tmp_path, slack,
                                    "req-logtest-0001")
    assert code == 0, log
    lines = [line for line in log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"timestamp", "level", "logger", "message", "platform", "request_id"} <= record.keys()
        assert record["timestamp"].endswith("Z") and record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR")
    access = [r for r in records if r["logger"] == "skillcoach.access" and "/slack/events" in r["message"]]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-logtest-0001" and access[0]["platform"] == "slack"
    assert any(r["message"].startswith("SIGTERM: stopping") for r in records)
    assert PRIVATE_TEXT not in log and "circus" not in log
    assert BOLT_WARNING not in log


async def test_text_log_is_the_default_and_has_no_bolt_warning(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        code, log = await run_serve(env_for(slack, tmp_path), tmp_path, slack, "req-logtest-0002")
    assert code == 0, log
    assert "Slack mounted at POST /slack/events" in log
    assert not log.lstrip().startswith("{")
    assert BOLT_WARNING not in log
    assert "circus" not in log


def test_a_bad_log_format_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCOACH_")}
    env.update(PYTHONPATH=str(ROOT), SKILLCOACH_LOG_FORMAT="yaml", SKILLCOACH_DB=str(tmp_path / "db"))
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", str(free_port())], env=env,
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "skillcoach: bad setting SKILLCOACH_LOG_FORMAT='yaml': expected text or json"
    assert done.stdout == ""
