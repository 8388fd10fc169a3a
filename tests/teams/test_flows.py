"""Teams scenarios through the real server: Teams-shaped activities in, calls at the fake connector out."""

from __future__ import annotations

import pytest

from adapters.teams import TEAMS
from adapters.teams.runtime import TEAMS_COLLECTION
from bot import mydata
from bot.delivery import DeliveryError
from bot.store import ADDRESSES, CONVERSATIONS
from bot.types import Card, CardSection, Choice, Reply
from tests.fakes.bf_connector import member
from tests.teams import activities as A
from tests.teams.conftest import Server


def personal_id(user) -> str:
    return A.personal_conversation(user)["id"]


async def test_personal_message_is_answered_in_the_chat_and_the_address_is_stored(server, connector):
    user = member(1)
    status, _ = await server.post(A.message(connector.url, user, "hello"))
    assert status == 201
    sent = connector.messages(personal_id(user))
    assert sent, "the bot answered in the personal chat"
    assert all(c.body["conversation"]["id"] == personal_id(user) for c in sent)
    record = await server.the_coach.store.get(ADDRESSES, "teams:aad-01")
    assert record is not None
    address = record.data["address"]
    assert address["conversation"]["id"] == personal_id(user)
    assert address["serviceUrl"] == connector.url
    assert address["conversation"]["tenantId"] == A.TENANT
    assert "activityId" not in address  # stable between turns
    assert record.data["email"] == "report-01@example.com"  # from the roster (GET …/members/{id})


async def test_the_same_activity_twice_is_answered_once(server, connector):
    activity = A.message(connector.url, member(1), "hello")
    await server.post(activity)
    first = len(connector.messages())
    status, _ = await server.post(activity)
    assert status == 201
    assert len(connector.messages()) == first
    convo = await server.the_coach.store.get(CONVERSATIONS, f"teams:{activity['from']['aadObjectId']}")
    assert convo.data["events"] == [A.event_key(activity)], "the key the tests check, kept with the conversation"
    # the same id in another conversation is another event
    other = A.message(connector.url, member(2), "hello", id=activity["id"])
    await server.post(other)
    assert len(connector.messages()) > first


async def test_the_same_channel_mention_twice_is_answered_once(server, connector):
    user = member(3)
    activity = A.channel_message(connector.url, user, "my plan")
    assert (await server.post(activity))[0] == 201
    private, public = len(connector.messages(personal_id(user))), connector.messages()
    status, body = await server.post(activity)
    assert status == 201
    assert len(connector.messages(personal_id(user))) == private == 1
    assert connector.messages() == public   # no second pointer in the channel, no second private answer


async def test_welcome_on_personal_install_once(server, connector):
    user = member(2)
    assert (await server.post(A.bot_installed_personal(connector.url, user)))[0] == 201
    assert (await server.post(A.installation_update(connector.url, user)))[0] == 201
    sent = connector.messages(personal_id(user))
    assert len(sent) == 1, "conversationUpdate and installationUpdate welcome once"
    card = sent[0].cards[0]
    assert card["version"] == "1.5"
    assert any("grow" in t for t in sent[0].texts)
    # the welcome button starts the interview as the `grow` command would
    assert card["actions"][0]["data"] == {"command": "grow"}
    assert (await server.the_coach.store.get(ADDRESSES, "teams:aad-02")) is not None


async def test_bot_added_to_a_team_greets_the_channel_and_new_members_privately(server, connector):
    status, _ = await server.post(A.team_members_added(connector.url, [A.BOT]))
    assert status == 201
    channel = connector.messages(A.GENERAL)
    assert len(channel) == 1 and "private" in channel[0].texts[0]
    stored = await server.the_coach.store.get(TEAMS_COLLECTION, A.TEAM["id"])
    assert stored is not None and stored.data["tenant_id"] == A.TENANT
    assert stored.data["service_url"] == connector.url

    connector.clear()
    newcomer = member(4)
    status, _ = await server.post(A.team_members_added(connector.url, [newcomer]))
    assert status == 201
    created = connector.created()
    assert len(created) == 1
    assert created[0].body["members"][0]["id"] == newcomer["id"]
    assert created[0].body["channelData"]["tenant"]["id"] == A.TENANT
    assert created[0].body["bot"]["id"] == A.BOT["id"]
    welcome = connector.messages(personal_id(newcomer))
    assert len(welcome) == 1 and welcome[0].cards
    assert not connector.messages(A.GENERAL), "nothing public about the newcomer"


async def test_channel_mention_is_stripped_and_answered_privately(server, connector, monkeypatch):
    seen = []
    coach = server.the_coach
    original = coach.handle

    async def spy(incoming, **kw):
        seen.append(incoming)
        return await original(incoming, **kw)

    monkeypatch.setattr(coach, "handle", spy)
    user = member(3)
    status, _ = await server.post(A.channel_message(connector.url, user, "my plan"))
    assert status == 201
    assert len(seen) == 1
    incoming = seen[0]
    assert incoming.text == "my plan" and incoming.command is None
    assert incoming.is_private is False and incoming.user_id == "aad-03"
    assert incoming.address is None, "a channel is not where private answers go"
    # the answer went to a new 1:1 chat; the channel only got a pointer
    assert connector.created() and connector.created()[0].body["members"][0]["id"] == user["id"]
    private = connector.messages(personal_id(user))
    assert private
    public = [c for c in connector.messages() if c.conversation_id.startswith(A.GENERAL)]
    assert len(public) == 1
    assert public[0].texts == ["I've answered you in our private chat."]
    assert public[0].activity_id is not None, "the pointer is a reply in the thread"
    # the private chat is now the user's address
    record = await coach.store.get(ADDRESSES, "teams:aad-03")
    assert record.data["address"]["conversation"]["id"] == personal_id(user)


async def test_other_mentions_keep_their_names(server, connector, monkeypatch):
    seen = []

    async def answer(incoming):
        seen.append(incoming)
        return [Reply("ok")]

    spy = core_stand_in(answer)

    monkeypatch.setattr(server.the_coach, "handle", spy)
    text = "nudge team <at>Report 02</at>   and\n<at>Report 03</at> &amp; co"
    await server.post(A.channel_message(connector.url, member(1), text, others=(member(2), member(3))))
    assert (seen[0].command, seen[0].text) == ("nudge-team", "Report 02 and\nReport 03 & co")


async def test_channel_message_without_mention_is_ignored(server, connector):
    status, _ = await server.post(A.channel_message(connector.url, member(3), "grow", mention=False))
    assert status == 201
    assert connector.messages() == []


async def test_command_words_become_commands(server, connector, monkeypatch):
    seen = []
    coach = server.the_coach

    async def answer(incoming):
        seen.append(incoming)
        return [Reply("ok")]

    spy = core_stand_in(answer)

    monkeypatch.setattr(coach, "handle", spy)
    for text in ("grow", "Nudge team please update your plans", "team skills", "my plan", "forget me",
                 "stop reminders", "/grow restart"):
        await server.post(A.message(connector.url, member(1), text))
    got = [(i.command, i.text) for i in seen]
    assert got == [
        ("grow", ""),
        ("nudge-team", "please update your plans"),
        ("team-skills", ""),
        (None, "my plan"),
        (None, "forget me"),
        (None, "stop reminders"),
        ("grow", "restart"),
    ]


def core_stand_in(answer):
    """A stand-in for `Coach.handle` answering with `answer(incoming)`, keeping the core's contract: the
    adapter's `before` runs (a new activity) and every reply goes out through its `deliver`."""

    async def handle(incoming, *, before=None, deliver=None, **kw):
        if before is not None:
            await before()
        replies = await answer(incoming)
        if deliver is None:
            return replies
        await deliver(replies)
        return []

    return handle


def question(prompt_id="p-1", n=3, multi=False):
    return Reply("What is your goal?", choices=tuple(
        Choice(f"v{i},x", f"Option {i}") for i in range(n)), multi=multi, prompt_id=prompt_id)


async def test_card_submits_become_choices_and_the_card_is_updated(server, connector, monkeypatch):
    seen = []
    coach = server.the_coach
    answers = [[question(n=3)], [question("p-2", n=8)], [question("p-3", n=4, multi=True)], [Reply("thanks")]]

    async def fake_answer(incoming):
        seen.append(incoming)
        return answers[len(seen) - 1]

    monkeypatch.setattr(coach, "handle", core_stand_in(fake_answer))
    user = member(1)
    await server.post(A.message(connector.url, user, "grow"))
    card_call = connector.messages()[-1]
    card = card_call.cards[0]
    buttons = card["actions"]
    assert [b["title"] for b in buttons] == ["Option 0", "Option 1", "Option 2"]
    await server.post(A.submit(connector.url, buttons[1]["data"], card_call.response_id, user))
    assert seen[1].choice == "v1,x" and seen[1].prompt_id == "p-1"
    update = connector.updates()[-1]
    assert update.activity_id == card_call.response_id
    assert "Option 1" in " ".join(update.texts) and "actions" not in update.cards[0]

    # more than five single choices: a compact choice set and a Submit button
    card_call = connector.messages()[-1]
    card = card_call.cards[0]
    choice_set = next(e for e in card["body"] if e["type"] == "Input.ChoiceSet")
    assert choice_set["style"] == "compact" and choice_set["isMultiSelect"] is False
    await server.post(A.submit(connector.url, card["actions"][0]["data"], card_call.response_id, user,
                               selection="6"))
    assert seen[2].choice == "v6,x" and seen[2].prompt_id == "p-2"

    # a multi-select: values with commas survive (the set's values are indexes)
    card_call = connector.messages()[-1]
    card = card_call.cards[0]
    choice_set = next(e for e in card["body"] if e["type"] == "Input.ChoiceSet")
    assert choice_set["isMultiSelect"] is True and choice_set["style"] == "expanded"
    await server.post(A.submit(connector.url, card["actions"][0]["data"], card_call.response_id, user,
                               selection="0,3"))
    assert seen[3].choices == ("v0,x", "v3,x") and seen[3].prompt_id == "p-3"
    assert "Option 0, Option 3" in " ".join(connector.updates()[-1].texts)


async def test_stale_or_foreign_submits_are_passed_to_the_core(server, connector, monkeypatch):
    seen = []

    async def fake_answer(incoming):
        seen.append(incoming)
        return [Reply("That question has moved on.")]

    monkeypatch.setattr(server.the_coach, "handle", core_stand_in(fake_answer))
    await server.post(A.submit(connector.url, {"choice": "old", "prompt_id": "p-old"}, "activity-x"))
    assert seen[-1].choice == "old" and seen[-1].prompt_id == "p-old"
    status, _ = await server.post(A.submit(connector.url, {"something": "else"}, "activity-y"))
    assert status == 201 and seen[-1].choice is None  # not one of our cards: handled as (empty) text


async def test_plan_card_and_export_render_within_teams_limits(server, connector, monkeypatch):
    long_lines = tuple(f"• Skill {i}: " + "practice " * 40 for i in range(120))
    plan = Card("Your plan", "Upskilling: grow in your role", (
        CardSection("Skills to build", long_lines),
        CardSection("People who can help", facts=(("Mentor", "mentor-1@example.com"),)),
    ), image_url="https://example.com/plan.png", kind="plan")
    export = {"profile": {"answers": ["x" * 200] * 300}}

    async def fake_answer(incoming):
        return [Reply(card=plan), Reply("Your data", attachment=export, attachment_name="my-data.json")]

    monkeypatch.setattr(server.the_coach, "handle", core_stand_in(fake_answer))
    await server.post(A.message(connector.url, member(1), "my plan"))
    sent = connector.messages()
    import json

    assert all(len(json.dumps(c.body).encode()) < 28_000 for c in sent)
    cards = [c for c in sent if c.cards]
    assert len(cards) >= 2, "a long plan is split over several cards"
    first = cards[0].cards[0]
    assert first["body"][0]["id"] == "card-plan" and first["body"][0]["text"] == "Your plan"
    assert any(e["type"] == "Image" for e in first["body"])
    assert any("Mentor: mentor-1@example.com" in t for c in cards for t in c.texts)
    assert sent[-2].texts == ["Your data"]
    # a large export is no flood of messages: the plan's cards, the summary, one file consent card (the
    # file follows when accepted) — nothing else
    assert len(sent) == len(cards) + 2
    (consent,) = sent[-1].body["attachments"]
    assert consent["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    assert consent["name"] == "my-data.json"
    assert consent["content"]["sizeInBytes"] == len(mydata.as_json(export).encode("utf-8")) > 28_000


async def test_proactive_message_after_restart(tmp_path, connector, catalog):
    from tests.teams.conftest import store_settings

    settings = store_settings(tmp_path)
    shared_store = None
    try:
        import bot.store.tinydb_store  # noqa: F401
    except ImportError:  # no embedded store yet: the same in-memory store stands for the database file
        from bot.store.memory import MemoryStore

        shared_store = MemoryStore()
    first = await Server(settings, coach=_coach(settings, shared_store, catalog)).start()
    user = member(2)
    await first.post(A.message(connector.url, user, "hello"))
    await first.stop()

    connector.clear()
    second = await Server(settings, coach=_coach(settings, shared_store, catalog)).start()
    try:
        await second.the_coach.send_to("teams", "aad-02", [Reply("Your manager asks you to refresh your plan.")])
    finally:
        await second.stop()
    assert not connector.created(), "the stored conversation is used"
    sent = connector.messages(personal_id(user))
    assert len(sent) == 1
    assert sent[0].texts == ["Your manager asks you to refresh your plan."]
    assert sent[0].body["recipient"]["id"] == user["id"]


def _coach(settings, store, catalog):
    from bot.server import build_coach

    return build_coach(settings, store=store, catalog=catalog)  # store None: a new store on the same path


async def test_new_chat_with_a_roster_member_and_email_lookup(server, connector):
    await server.post(A.team_members_added(connector.url, [A.BOT]))
    connector.clear()
    coach = server.the_coach
    messenger = (await server.app[TEAMS].wait()).messenger
    assert await messenger.lookup_email("REPORT-05@example.com") == "aad-05"
    assert await messenger.lookup_email("nobody@example.com") is None
    paged = [c for c in connector.calls if c.path.endswith("/pagedmembers")]
    assert len(paged) == 3, "five members in pages of two"

    await coach.send_to("teams", "aad-05", [Reply("Mentor One would like to introduce themselves.")])
    created = connector.created()
    assert len(created) == 1
    assert created[0].body["members"] == [{"id": "29:member-05"}]
    assert created[0].body["tenantID"] == A.TENANT
    sent = connector.messages(personal_id(member(5)))
    assert sent and sent[0].texts == ["Mentor One would like to introduce themselves."]
    record = await coach.store.get(ADDRESSES, "teams:aad-05")
    assert record.data["address"]["conversation"]["id"] == personal_id(member(5))
    assert record.data["email"] == "report-05@example.com"

    # the next message uses the stored conversation
    connector.clear()
    await coach.send_to("teams", "aad-05", [Reply("A reminder.")])
    assert not connector.created() and connector.messages(personal_id(member(5)))

    with pytest.raises(DeliveryError) as err:
        await coach.send_to("teams", "aad-99", [Reply("nobody")])
    assert err.value.permanent


async def test_delivery_errors_carry_retry_after_and_permanence(server, connector):
    await server.post(A.message(connector.url, member(1), "hello"))
    coach = server.the_coach
    connector.fail_next = [429]
    with pytest.raises(DeliveryError) as err:
        await coach.send_to("teams", "aad-01", [Reply("x")])
    assert err.value.retry_after == 7 and not err.value.permanent
    connector.fail_next = [403]
    with pytest.raises(DeliveryError) as err:
        await coach.send_to("teams", "aad-01", [Reply("x")])
    assert err.value.permanent


async def test_bot_framework_emulator(server, connector):
    """Local development: the Emulator's activities (no Teams channel data, no roster) work too."""
    user = {"id": "emulator-user-1", "name": "User", "role": "user"}
    conversation = {"id": "emulator-conversation-1"}
    update = {"type": "conversationUpdate", "id": "e-1", "channelId": "emulator", "serviceUrl": connector.url,
              "from": user, "recipient": {"id": "bot-1", "name": "Bot", "role": "bot"},
              "conversation": conversation,
              "membersAdded": [{"id": "emulator-user-1", "name": "User"}, {"id": "bot-1", "name": "Bot"}]}
    assert (await server.post(update))[0] == 201
    welcome = connector.messages("emulator-conversation-1")
    assert len(welcome) == 1 and welcome[0].cards
    message = {**update, "type": "message", "id": "e-2", "text": "help"}
    del message["membersAdded"]
    assert (await server.post(message))[0] == 201
    assert len(connector.messages("emulator-conversation-1")) >= 2
    assert not [c for c in connector.calls if c.method == "GET"], "no roster calls outside Teams"
    record = await server.the_coach.store.get(ADDRESSES, "teams:emulator-user-1")
    assert record.data["address"]["channelId"] == "emulator"
