"""Slash commands: /grow and its subcommands, the managers' commands, and the 3-second ack."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from adapters.slack import texts as T
from bot.store.base import Store
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import CHANNEL, USER, SlackServer, make_store, settings_for, start_server, stop_server


@pytest.fixture
def seen(server: SlackServer) -> list:
    """Every Incoming the core receives."""
    received: list = []
    real_handle = server.coach.handle

    async def spy(incoming, **kw):
        received.append(incoming)
        return await real_handle(incoming, **kw)

    server.coach.handle = spy
    return received


async def test_grow_alone_starts_or_resumes_in_the_dm(server: SlackServer, slack: FakeSlack, seen):
    status, text = await server.command("/grow", "", channel=CHANNEL)
    assert status == 200 and T.SEE_DM in text          # from a channel: a pointer to the DM, only to them
    await server.idle()
    [incoming] = seen
    assert (incoming.command, incoming.text) == ("grow", "")
    assert incoming.channel_id == dm_of(USER) and incoming.address == {"channel": dm_of(USER)}
    assert incoming.email == slack.email_of(USER)
    assert slack.posts(dm_of(USER)), "the answer goes to the DM"
    assert slack.posts(CHANNEL) == [], "nothing is posted in the channel"


async def test_grow_in_the_dm_acks_silently(server: SlackServer, slack: FakeSlack, seen):
    await server.command("/grow", "")            # learns the DM channel
    await server.idle()
    status, text = await server.command("/grow", "help")
    assert status == 200 and text == ""
    await server.idle()
    assert [(i.command, i.text) for i in seen] == [("grow", ""), ("grow", "help")]


@pytest.mark.parametrize(
    ("words", "text"),
    [("plan", "my plan"), ("help", "help"), ("restart", "restart"), ("forget me", "forget me"),
     ("my data", "my data"), ("stop reminders", "stop reminders"), ("  My   Plan ", "my plan"),
     ("FORGET ME", "forget me")],
)
async def test_grow_subcommands_become_the_core_words(server: SlackServer, slack: FakeSlack, seen, words, text):
    status, _ = await server.command("/grow", words)
    assert status == 200
    await server.idle()
    [incoming] = seen
    assert (incoming.command, incoming.text) == ("grow", text)
    assert slack.posts(dm_of(USER))


async def test_an_unknown_grow_subcommand_gets_the_usage_and_nothing_else(server: SlackServer, slack: FakeSlack,
                                                                         seen):
    status, text = await server.command("/grow", "dance party")
    assert status == 200
    for sub in ("`/grow plan`", "`/grow help`", "`/grow restart`", "`/grow forget me`", "`/grow my data`",
                "`/grow stop reminders`"):
        assert sub in text
    await server.idle()
    assert seen == [] and slack.posts() == []


@pytest.mark.parametrize("command", ["/nudge-team", "/team-skills"])
async def test_managers_commands_reach_the_core_and_are_answered_in_the_dm(
    server: SlackServer, slack: FakeSlack, seen, command
):
    status, _ = await server.command(command, "  last   quarter ", channel=CHANNEL)
    assert status == 200
    await server.idle()
    [incoming] = seen
    assert (incoming.command, incoming.text) == (command[1:], "last quarter")
    assert slack.posts(dm_of(USER)) and slack.posts(CHANNEL) == []


class SlowStore(Store):
    """Wraps a store; every read waits until the test opens the gate."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.gate = asyncio.Event()

    def __getattribute__(self, name):
        if name in ("inner", "gate", "__class__", "__dict__"):
            return object.__getattribute__(self, name)
        attr = getattr(object.__getattribute__(self, "inner"), name)
        if not callable(attr) or name in ("scan", "open", "close"):
            return attr
        gate = object.__getattribute__(self, "gate")

        async def slow(*args, **kwargs):
            await gate.wait()
            return await attr(*args, **kwargs)

        return slow

    # abstract methods (never reached: __getattribute__ answers first)
    get = put = delete = scan = add_once = enqueue = claim = complete = release = job = try_lease = None


async def test_grow_is_acknowledged_while_the_store_is_stuck(slack: FakeSlack, db_path, catalog):
    store = SlowStore(make_store(db_path))
    srv, _ = await start_server(settings_for(slack, db_path), store, catalog)
    try:
        # (the timeout only turns a hang into a failure; it is not a speed assertion)
        status, _ = await asyncio.wait_for(srv.command("/grow", ""), 30)
        assert status == 200                        # answered although no store call has returned
        assert slack.posts() == []
        store.gate.set()
        await srv.idle()
        assert slack.posts(dm_of(USER))             # and the work still happens once the store answers
    finally:
        store.gate.set()
        await stop_server(srv)


async def test_grow_my_data_is_a_summary_and_a_json_file_in_the_dm(server: SlackServer, slack: FakeSlack):
    await server.command("/grow", "")
    await server.idle()
    await server.command("/grow", "my data")
    await server.idle()
    # files_upload_v2: a URL for the file, its bytes, then the share into the DM
    (url_call,) = slack.of("files.getUploadURLExternal")
    (complete,) = slack.of("files.completeUploadExternal")
    ((meta, content),) = slack.shared_files(dm_of(USER))
    assert meta["filename"] == url_call.args["filename"]
    assert re.fullmatch(r"skillcoach-my-data-\d{4}-\d\d-\d\d\.json", meta["filename"])
    assert int(url_call.args["length"]) == len(content)
    assert complete.args["channel_id"] == dm_of(USER)
    assert complete.args["files"] == [{"id": meta["id"], "title": meta["filename"]}]
    data = json.loads(content.decode("utf-8"))
    assert data["user"] == f"slack:{USER}" and "profiles" in data
    # the conversation gets a few lines, not the JSON
    texts = [b["text"]["text"] for p in slack.posts(dm_of(USER)) for b in p["blocks"] if b["type"] == "section"]
    summary = next(t for t in texts if t.startswith("Here's everything I keep about you"))
    assert meta["filename"] in summary and len(summary.splitlines()) <= 8
    assert not any(t.startswith("```") for t in texts)


async def test_my_data_without_files_write_is_sent_as_text(server: SlackServer, slack: FakeSlack):
    slack.refuse_files = "missing_scope"      # an app installed before the manifest asked for files:write
    await server.command("/grow", "my data")
    await server.idle()
    assert slack.shared_files() == []
    code = [b["text"]["text"] for p in slack.posts(dm_of(USER)) for b in p["blocks"]
            if b["type"] == "section" and b["text"]["text"].startswith("```")]
    exported = "".join(c.removeprefix("```\n").removesuffix("\n```") for c in code)
    data = json.loads(exported.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    assert data["user"] == f"slack:{USER}"
