"""Private stays private on Teams: the documented payloads of a personal chat, a group chat, a channel
mention and a channel thread without `conversationType` are replayed, and the calls at the fake connector
show where each answer went."""

from __future__ import annotations

import pytest
from botbuilder.schema import Activity

from adapters.teams import TEAMS
from adapters.teams import messages as T
from adapters.teams.conversations import is_personal, is_personal_address
from bot.store import ADDRESSES
from bot.types import Reply
from tests.fakes.bf_connector import member
from tests.teams import activities as A
from tests.teams.conftest import Server, store_settings

POINTER = T.ANSWERED_PRIVATELY


def personal_id(user) -> str:
    return A.personal_conversation(user)["id"]


def shared_calls(connector, conversation_prefix: str):
    return [c for c in connector.messages() if c.conversation_id.startswith(conversation_prefix)]


@pytest.mark.parametrize(
    ("build", "personal"),
    [
        (lambda url, u: A.message(url, u, "hi"), True),
        (lambda url, u: A.emulator_chat(url, u), True),
        (lambda url, u: A.group_chat_mention(url, u), False),
        (lambda url, u: A.channel_message(url, u), False),
        (lambda url, u: A.mentions_sample(url, u), False),
        (lambda url, u: A.channel_thread_without_type(url, u), False),
    ],
    ids=["personal", "emulator", "group-chat", "channel", "mentions-sample", "thread-without-type"],
)
def test_which_documented_conversations_are_personal(build, personal):
    payload = build("http://127.0.0.1:9/", member(1))
    assert is_personal(Activity().deserialize(payload)) is personal
    # the same conversation, stored as an address, is judged the same way
    assert is_personal_address({"conversation": payload["conversation"]}) is personal


@pytest.mark.parametrize(
    "conversation",
    [
        {"id": "a:1abc", "conversationType": "channel"},                 # the type wins over a plain id
        {"id": "a:1abc", "isGroup": True},
        {"id": "19:abc@thread.tacv2"},
        {"id": "19:abc@thread.skype;messageid=1"},
        {"id": "29:xyz;messageid=1"},
        {"id": "19:meeting@thread.v2", "conversationType": "groupchat"},  # lower-case, as some samples spell it
    ],
)
def test_anything_that_marks_a_channel_or_group_is_not_personal(conversation):
    assert is_personal_address({"conversation": conversation}) is False


def test_personal_type_is_personal_and_broken_addresses_are_not():
    assert is_personal_address({"conversation": {"id": "a:1", "conversationType": "personal"}}) is True
    assert is_personal_address({"conversation": {"id": "a:1", "conversationType": "Personal"}}) is True
    for broken in (None, "a:1", {}, {"conversation": "a:1"}, {"conversation": {}}):
        assert is_personal_address(broken) is False


@pytest.mark.parametrize(
    ("build", "shared"),
    [
        (A.group_chat_mention, A.GROUP_CHAT),
        (A.channel_message, A.GENERAL),
        (A.channel_thread_without_type, A.THREAD_CHANNEL),
    ],
    ids=["group-chat", "channel", "thread-without-type"],
)
async def test_a_mention_is_answered_in_the_private_chat_and_the_pointer_is_true(server, connector, build, shared):
    user = member(3)
    status, _ = await server.post(build(connector.url, user, "grow"))
    assert status == 201
    created = connector.created()
    assert [c.body["members"][0]["id"] for c in created] == [user["id"]]
    private = connector.messages(personal_id(user))
    assert private, "the interview starts in the private chat"
    public = shared_calls(connector, shared)
    assert [c.texts for c in public] == [[POINTER]], "the shared conversation gets the pointer and nothing else"
    record = await server.the_coach.store.get(ADDRESSES, "teams:aad-03")
    assert record.data["address"]["conversation"]["id"] == personal_id(user)


async def test_the_mentions_sample_without_a_tenant_gets_a_neutral_reply(server, connector):
    # no tenant anywhere: no private chat can be opened, so the channel hears only that (and nothing private)
    user = member(2)
    status, _ = await server.post(A.mentions_sample(connector.url, user, "my plan"))
    assert status == 201
    assert connector.created() == []
    public = shared_calls(connector, A.THREAD_CHANNEL)
    assert [c.texts for c in public] == [[T.CANT_REACH_PRIVATELY]]
    assert len(connector.messages()) == 1, "nothing else was posted anywhere"
    record = await server.the_coach.store.get(ADDRESSES, "teams:aad-02")
    assert record is None, "a channel thread is nobody's private address"


async def test_a_failed_private_send_never_claims_a_private_answer(server, connector):
    user = member(4)
    connector.fail_next = [403]  # the first send (into the new private chat) is refused
    status, _ = await server.post(A.channel_message(connector.url, user, "grow"))
    assert status == 201
    public = shared_calls(connector, A.GENERAL)
    assert [c.texts for c in public] == [[T.CANT_REACH_PRIVATELY]]
    assert POINTER not in [t for c in connector.messages() for t in c.texts]


async def test_the_personal_chat_is_answered_where_it_was_asked(server, connector):
    user = member(1)
    await server.post(A.message(connector.url, user, "hi"))
    assert connector.messages() and {c.conversation_id for c in connector.messages()} == {personal_id(user)}
    assert connector.created() == []


def channel_address(user) -> dict:
    """What older versions stored for someone who first spoke in a channel thread."""
    return {"platform": "teams", "user_id": user["aadObjectId"], "email": user["email"], "address": {
        "bot": A.BOT, "user": A.sender(user), "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9/",
        "conversation": {"id": f"{A.THREAD_CHANNEL};messageid=1481567603816"}}}


async def test_stored_channel_addresses_are_dropped_at_start_up(tmp_path, connector, catalog):
    settings = store_settings(tmp_path, database_url="")
    try:
        import bot.store.tinydb_store  # noqa: F401
    except ImportError:
        pytest.skip("needs the embedded store to restart on")
    first = await Server(settings, catalog=catalog).start()
    store = first.the_coach.store
    await store.put(ADDRESSES, "teams:aad-05", channel_address(member(5)))
    good = {"platform": "teams", "user_id": "aad-01", "address": {
        "bot": A.BOT, "user": A.sender(member(1)), "channelId": "msteams", "serviceUrl": connector.url,
        "conversation": {"id": personal_id(member(1)), "conversationType": "personal"}}}
    await store.put(ADDRESSES, "teams:aad-01", good)
    await first.stop()

    second = await Server(settings, catalog=catalog).start()
    try:
        repaired = await second.the_coach.store.get(ADDRESSES, "teams:aad-05")
        assert "address" not in repaired.data
        assert repaired.data["email"] == "report-05@example.com", "what else the record held is kept"
        kept = await second.the_coach.store.get(ADDRESSES, "teams:aad-01")
        assert kept.data["address"] == good["address"]
        # that person's next mention opens a private chat instead of answering in the old thread
        status, _ = await second.post(A.channel_message(connector.url, member(5), "grow"))
        assert status == 201
        assert [c.body["members"][0]["id"] for c in connector.created()] == [member(5)["id"]]
        assert shared_calls(connector, A.THREAD_CHANNEL) == []
        assert [c.texts for c in shared_calls(connector, A.GENERAL)] == [[POINTER]]
    finally:
        await second.stop()


async def test_a_channel_address_is_never_stored_nor_used_for_proactive_messages(server, connector):
    runtime = await server.app[TEAMS].wait()
    user = member(5)
    bad = channel_address(user)["address"]
    await runtime.remember_address("aad-05", bad, user["email"])
    assert await server.the_coach.store.get(ADDRESSES, "teams:aad-05") is None
    # one written behind the adapter's back (as older versions did) is not used either
    await server.the_coach.store.put(ADDRESSES, "teams:aad-05", channel_address(user))
    await server.post(A.team_members_added(connector.url, [A.BOT]))  # the team whose roster finds them
    connector.clear()
    await server.the_coach.send_to("teams", "aad-05", [Reply("A nudge.")])
    assert [c.conversation_id for c in connector.messages()] == [personal_id(user)]
    assert connector.messages()[0].texts == ["A nudge."]
