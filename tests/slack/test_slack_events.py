"""Events API scenarios: DMs, the bot's own messages, mentions, App Home, retries, 429 storms."""

from __future__ import annotations

import asyncio
import json

from bot import messages as T
from bot.store import ADDRESSES
from tests.fakes.slack_api import BOT_ID, BOT_USER, FakeSlack, dm_of
from tests.slack.conftest import (
    CHANNEL, OTHER, USER, SlackServer, dm_event, envelope, make_store, settings_for, start_server,
    stop_server,
)


async def test_a_dm_gets_an_answer_in_the_dm_with_blocks_and_fallback_text(server: SlackServer, slack: FakeSlack):
    seen = []
    real_handle = server.coach.handle

    async def spy(incoming, **kw):
        seen.append(incoming)
        return await real_handle(incoming, **kw)

    server.coach.handle = spy
    status, _ = await server.event(dm_event(USER, "help"))
    assert status == 200
    await server.idle()

    posts = slack.posts(dm_of(USER))
    assert posts, "the DM got no answer"
    for post in posts:
        assert post["text"].strip(), "every message needs a fallback text"
        assert isinstance(post["blocks"], list) and post["blocks"]
    [incoming] = seen
    assert (incoming.platform, incoming.user_id, incoming.text) == ("slack", USER, "help")
    assert incoming.email == slack.email_of(USER)          # from users.info
    assert incoming.address == {"channel": dm_of(USER)}
    assert incoming.is_private and incoming.channel_id == dm_of(USER)
    assert incoming.event_id
    stored = await server.coach.store.get(ADDRESSES, f"slack:{USER}")
    assert stored is not None and stored.data["address"] == {"channel": dm_of(USER)}


async def test_users_info_is_cached_per_user(server: SlackServer, slack: FakeSlack):
    for text in ("help", "help", "help"):
        await server.event(dm_event(USER, text))
        await server.idle()
    assert [c.args["user"] for c in slack.of("users.info")] == [USER]
    await server.event(dm_event(OTHER, "help"))
    await server.idle()
    assert [c.args["user"] for c in slack.of("users.info")] == [USER, OTHER]


async def test_slack_escapes_are_undone_before_the_core_sees_the_text(server: SlackServer, slack: FakeSlack):
    seen = []
    real_handle = server.coach.handle

    async def spy(incoming, **kw):
        seen.append(incoming.text)
        return await real_handle(incoming, **kw)

    server.coach.handle = spy
    await server.event(dm_event(USER, "R&amp;D &lt;team&gt;"))
    await server.idle()
    assert seen == ["R&D <team>"]


async def test_the_bots_own_messages_bots_and_subtypes_are_ignored(server: SlackServer, slack: FakeSlack):
    ignored = [
        dm_event(BOT_USER, "I am the bot", bot_id=BOT_ID),                       # our own message
        dm_event(USER, "from another bot", bot_id="B0OTHER"),                   # any bot
        dm_event(USER, "edited", subtype="message_changed"),
        dm_event(USER, "joined", subtype="channel_join"),
        dm_event(USER, "a bot message", subtype="bot_message"),
        dm_event(USER, "in a channel", channel=CHANNEL, channel_type="channel"),
    ]
    for payload in ignored:
        status, _ = await server.event(payload)
        assert status == 200
    await server.idle()
    assert slack.posts() == []
    assert slack.of("users.info") == []


async def test_a_retried_event_is_processed_once(server: SlackServer, slack: FakeSlack):
    payload = dm_event(USER, "help")
    assert (await server.event(payload))[0] == 200
    await server.idle()
    first = len(slack.posts())
    assert first >= 1
    for retry in (1, 2, 3):
        assert (await server.event(payload, retry=retry))[0] == 200
    await server.idle()
    assert len(slack.posts()) == first


async def test_the_same_event_delivered_twice_at_once_is_processed_once(server: SlackServer, slack: FakeSlack):
    payload = dm_event(USER, "help")
    statuses = await asyncio.gather(server.event(payload), server.event(payload), server.event(payload, retry=1))
    assert [s for s, _ in statuses] == [200, 200, 200]
    await server.idle()
    alone = len(slack.posts())
    await server.event(dm_event(OTHER, "help"))
    await server.idle()
    assert len(slack.posts()) == 2 * alone     # the same number of replies as one new event gets


async def _in_a_new_process(slack: FakeSlack, db_path, catalog, payload: dict, **delivery) -> int:
    """Start a server on the store (an empty memory of events), deliver `payload`, stop it; posts since."""
    before = len(slack.posts())
    srv, _ = await start_server(settings_for(slack, db_path), make_store(db_path), catalog)
    try:
        assert (await srv.event(payload, **delivery))[0] == 200
        await srv.idle()
    finally:
        await stop_server(srv)
    return len(slack.posts()) - before


async def test_every_processed_event_is_recorded_in_the_store(slack: FakeSlack, db_path, catalog):
    """Not only in the process's memory: after a restart the same event, even without Slack's retry
    headers, is known (the turn kept its id in the conversation's save) and answered with nothing."""
    payload = dm_event(USER, "help")
    assert await _in_a_new_process(slack, db_path, catalog, payload) >= 1
    assert await _in_a_new_process(slack, db_path, catalog, payload) == 0


async def test_a_retry_after_a_restart_is_still_processed_once(slack: FakeSlack, db_path, catalog):
    payload = dm_event(USER, "help")
    assert await _in_a_new_process(slack, db_path, catalog, payload) >= 1
    assert await _in_a_new_process(slack, db_path, catalog, payload, retry=1) == 0
    # and a new event still gets its answer after the restart
    assert await _in_a_new_process(slack, db_path, catalog, dm_event(USER, "help")) > 0


async def test_a_mention_gets_a_short_public_pointer_and_the_conversation_goes_to_the_dm(
    server: SlackServer, slack: FakeSlack
):
    ts = "1700000000.000100"
    event = {"type": "app_mention", "user": USER, "text": f"<@{BOT_USER}> my goals are secret", "ts": ts,
             "channel": CHANNEL, "event_ts": ts}
    status, _ = await server.event(envelope(event))
    assert status == 200
    await server.idle()
    public = slack.posts(CHANNEL)
    assert len(public) == 1
    assert f"<@{USER}>" in public[0]["text"] and "direct message" in public[0]["text"]
    assert public[0].get("thread_ts") == ts
    assert "blocks" not in public[0] or not public[0]["blocks"]
    assert "secret" not in json.dumps(public)
    private = slack.posts(dm_of(USER))
    assert private, "the conversation continues in the DM"
    # nothing the core said went to the channel
    assert all(p["channel"] in (CHANNEL, dm_of(USER)) for p in slack.posts())


async def test_opening_app_home_publishes_the_home_view(server: SlackServer, slack: FakeSlack):
    event = {"type": "app_home_opened", "user": USER, "channel": dm_of(USER), "tab": "home",
             "event_ts": "1700000000.000200"}
    assert (await server.event(envelope(event)))[0] == 200
    await server.idle()
    [call] = slack.of("views.publish")
    assert call.args["user_id"] == USER
    view = call.args["view"]
    assert view["type"] == "home"
    action_ids = {e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]}
    action_ids |= {b["accessory"]["action_id"] for b in view["blocks"] if "accessory" in b}
    assert "home_start" in action_ids
    assert {"home_reminders_off", "home_reminders_on"} & action_ids
    assert {"home_sharing_on", "home_sharing_off"} & action_ids
    # the messages tab opening publishes nothing
    event2 = dict(event, tab="messages", event_ts="1700000000.000300")
    assert (await server.event(envelope(event2)))[0] == 200
    await server.idle()
    assert len(slack.of("views.publish")) == 1


async def test_a_change_notified_by_the_core_republishes_app_home(server: SlackServer, slack: FakeSlack):
    await server.coach.notify(f"slack:{USER}", "settings")
    await server.coach.notify("teams:someone", "settings")
    await server.idle()
    assert [c.args["user_id"] for c in slack.of("views.publish")] == [USER]


async def test_a_429_storm_still_delivers_every_reply_exactly_once(server: SlackServer, slack: FakeSlack):
    # a calm run first, to know what the answers look like
    await server.event(dm_event(OTHER, "help"))
    await server.idle()
    calm = [p["text"] for p in slack.posts(dm_of(OTHER))]
    assert calm

    slack.rate_limit("chat.postMessage", times=3, retry_after=0)
    slack.rate_limit("users.info", times=1, retry_after=0)
    await server.event(dm_event(USER, "help"))
    await server.idle()
    stormy = [p["text"] for p in slack.posts(dm_of(USER))]
    assert len(slack.limited) == 4          # the fake really answered 429 four times
    assert stormy == calm                   # every reply once, in order
    assert [c.args["user"] for c in slack.of("users.info")] == [OTHER, USER]


async def test_a_failing_core_still_leaves_the_person_with_an_answer(server: SlackServer, slack: FakeSlack):
    async def broken(incoming, **kw):
        raise RuntimeError("a bug")

    server.coach.handle = broken
    status, _ = await server.event(dm_event(USER, "help"))
    assert status == 200
    await server.idle()
    assert [p["text"] for p in slack.posts(dm_of(USER))] == [T.TURN_FAILED]


async def test_a_storm_longer_than_the_retries_parks_the_answer_in_the_outbox(server: SlackServer, slack: FakeSlack):
    # the client retries a 429 five times; a sixth refusal used to drop the answer
    await server.event(dm_event(OTHER, "help"))
    await server.idle()
    calm = [p["text"] for p in slack.posts(dm_of(OTHER))]
    slack.rate_limit("chat.postMessage", times=6, retry_after=0)
    await server.event(dm_event(USER, "help"))
    await server.idle()
    posted = await slack.wait_for(lambda s: len(s.posts(dm_of(USER))) >= len(calm) and s.posts(dm_of(USER)))
    await asyncio.sleep(0.3)                # a duplicate, if there were one, would show up now
    assert [p["text"] for p in slack.posts(dm_of(USER))] == calm
    assert len(slack.limited) == 6 and posted
