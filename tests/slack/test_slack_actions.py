"""Block actions: buttons, selects and checkboxes become choices; pressed messages are updated."""

from __future__ import annotations

import asyncio

import pytest

from adapters.slack import texts as T
from adapters.slack.blocks import PICK_MANY
from bot.types import Choice, Reply
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import USER, SlackServer, action_payload, dm_event

DM = dm_of(USER)


class Script:
    """Stands in for the core: records every Incoming and answers with the next scripted replies."""

    def __init__(self, server: SlackServer, *answers: list[Reply]) -> None:
        self.seen: list = []
        self.answers = list(answers)
        server.coach.handle = self.handle

    async def handle(self, incoming, *, before=None, deliver=None, **kw):
        self.seen.append(incoming)
        if before is not None:  # the core runs the adapter's own calls for a new event
            await before()
        replies = self.answers.pop(0) if self.answers else [Reply("ok")]
        if deliver is not None:  # and hands every reply to the adapter's `deliver`
            await deliver(replies)
            return []
        return replies


def choices(n: int) -> tuple[Choice, ...]:
    return tuple(Choice(f"v{i}", f"Option {i}") for i in range(n))


async def ask(server: SlackServer, slack: FakeSlack, reply: Reply) -> dict:
    """Have the 'core' ask a question in the DM; return the posted message as Slack would store it."""
    Script(server, [reply])
    before = len(slack.of("chat.postMessage"))
    await server.event(dm_event(USER, "hi"))
    await server.idle()
    call = slack.of("chat.postMessage")[before:][-1]
    return {"type": "message", "text": call.args["text"], "blocks": call.args["blocks"], "ts": call.result["ts"],
            "user": "UBOTSKILL", "bot_id": "BSKILL01"}


def actions_block(message: dict) -> dict:
    [block] = [b for b in message["blocks"] if b["type"] == "actions"]
    return block


async def test_a_button_press_is_a_choice_with_its_prompt_and_the_message_is_updated(
    server: SlackServer, slack: FakeSlack
):
    message = await ask(server, slack, Reply("Which way?", choices=choices(3), prompt_id="goal#1"))
    block = actions_block(message)
    button = block["elements"][1]
    script = Script(server, [Reply("Noted.")])
    status, _ = await server.interact(action_payload(USER, message, DM, {
        "type": "button", "action_id": button["action_id"], "block_id": block["block_id"],
        "text": button["text"], "value": button["value"]}))
    assert status == 200
    await server.idle()
    [incoming] = script.seen
    assert (incoming.choice, incoming.prompt_id, incoming.text) == ("v1", "goal#1", "Option 1")
    assert incoming.choices is None and incoming.address == {"channel": DM}
    [update] = slack.of("chat.update")
    assert update.args["channel"] == DM and update.args["ts"] == message["ts"]
    assert not [b for b in update.args["blocks"] if b["type"] == "actions"], "the buttons are gone"
    assert T.YOU_CHOSE.format(label="Option 1") in str(update.args["blocks"])
    assert update.args["text"]
    assert slack.posts(DM)[-1]["text"] == "Noted."


async def test_the_same_press_delivered_twice_is_handled_once(server: SlackServer, slack: FakeSlack):
    message = await ask(server, slack, Reply("Which way?", choices=choices(2), prompt_id="p"))
    block = actions_block(message)
    del server.coach.handle          # the real core from here: its first step deduplicates the press
    posts, updates = len(slack.posts(DM)), len(slack.of("chat.update"))
    payload = action_payload(USER, message, DM, {"type": "button", "action_id": "choose:0",
                                                 "block_id": block["block_id"], "value": "v0",
                                                 "text": {"type": "plain_text", "text": "Option 0"}})
    for _ in range(2):
        assert (await server.interact(payload))[0] == 200
    await server.idle()
    assert len(slack.of("chat.update")) - updates == 1    # the pressed message updated once
    new = [p["text"] for p in slack.posts(DM)[posts:]]
    # one turn's answer, one message (this press is for a question the real core never asked: it says so, once)
    assert new == ["That question was already answered — here's where we are now.\n\n"
                   "No problem. Whenever you're ready, say *start* (or use /grow). Say *help* to see what I can do."]


async def test_more_than_five_choices_become_a_select(server: SlackServer, slack: FakeSlack):
    message = await ask(server, slack, Reply("Pick a role", choices=choices(7), prompt_id="role#2"))
    block = actions_block(message)
    [select] = block["elements"]
    assert select["type"] == "static_select" and len(select["options"]) == 7
    script = Script(server)
    option = select["options"][5]
    await server.interact(action_payload(USER, message, DM, {
        "type": "static_select", "action_id": select["action_id"], "block_id": block["block_id"],
        "selected_option": option}))
    await server.idle()
    [incoming] = script.seen
    assert (incoming.choice, incoming.prompt_id) == ("v5", "role#2")
    assert T.YOU_CHOSE.format(label="Option 5") in str(slack.of("chat.update")[0].args["blocks"])


@pytest.mark.parametrize(("n", "element"), [(4, "checkboxes"), (12, "multi_static_select")])
async def test_a_multi_select_submit_sends_all_picks(server: SlackServer, slack: FakeSlack, n, element):
    message = await ask(server, slack, Reply("Your skills?", choices=choices(n), multi=True, prompt_id="skills#3"))
    block = actions_block(message)
    picker, submit = block["elements"]
    assert picker["type"] == element and picker["action_id"] == PICK_MANY
    script = Script(server)
    # ticking boxes only changes state: acknowledged, nothing else
    assert (await server.interact(action_payload(USER, message, DM, {
        "type": element, "action_id": PICK_MANY, "block_id": block["block_id"],
        "selected_options": picker["options"][:1]})))[0] == 200
    picked = [picker["options"][0], picker["options"][2]]
    state = {block["block_id"]: {PICK_MANY: {"type": element, "selected_options": picked}}}
    await server.interact(action_payload(USER, message, DM, {
        "type": "button", "action_id": submit["action_id"], "block_id": block["block_id"],
        "value": submit["value"], "text": submit["text"]}, state=state))
    await server.idle()
    [incoming] = script.seen
    assert (incoming.choices, incoming.prompt_id, incoming.choice) == (("v0", "v2"), "skills#3", None)
    assert T.YOU_CHOSE.format(label="Option 0, Option 2") in str(slack.of("chat.update")[0].args["blocks"])


async def test_submitting_nothing_is_an_empty_choice(server: SlackServer, slack: FakeSlack):
    message = await ask(server, slack, Reply("Your skills?", choices=choices(3), multi=True, prompt_id="s"))
    block = actions_block(message)
    submit = block["elements"][1]
    script = Script(server)
    await server.interact(action_payload(USER, message, DM, {
        "type": "button", "action_id": submit["action_id"], "block_id": block["block_id"], "value": "s"}))
    await server.idle()
    [incoming] = script.seen
    assert incoming.choices == () and incoming.prompt_id == "s"


async def test_an_unknown_action_gets_a_polite_answer(server: SlackServer, slack: FakeSlack):
    script = Script(server)
    status, _ = await server.interact(action_payload(USER, None, DM, {
        "type": "button", "action_id": "launch_rockets", "block_id": "b1", "value": "x"}))
    assert status == 200
    status, _ = await server.interact(action_payload(USER, None, DM, {
        "type": "button", "action_id": "home_launch_rockets", "block_id": "b1", "value": "x"}))
    assert status == 200
    await server.idle()
    assert script.seen == []
    ephemerals = slack.of("chat.postEphemeral")
    assert [(c.args["channel"], c.args["user"], c.args["text"]) for c in ephemerals] == [
        (DM, USER, T.UNKNOWN_ACTION)] * 2


@pytest.mark.parametrize(
    ("action_id", "command", "text"),
    [("home_start", "grow", ""), ("home_plan", None, "my plan"), ("home_reminders_off", None, "stop reminders"),
     ("home_reminders_on", None, "resume reminders"), ("home_data", None, "my data"),
     ("home_forget", None, "forget me")],
)
async def test_app_home_buttons_are_answered_in_the_dm(server: SlackServer, slack: FakeSlack, action_id, command,
                                                       text):
    script = Script(server, [Reply("Done.")])
    status, _ = await server.interact(action_payload(
        USER, None, DM, {"type": "button", "action_id": action_id, "block_id": "home_x", "value": action_id},
        container={"type": "view", "view_id": "V0HOME"}))
    assert status == 200
    await server.idle()
    [incoming] = script.seen
    assert (incoming.command, incoming.text) == (command, text)
    assert incoming.channel_id == DM
    assert [p["text"] for p in slack.posts()] == ["Done."] and slack.posts()[0]["channel"] == DM


async def test_a_press_on_an_old_question_reaches_the_real_core_and_gets_an_answer(
    server: SlackServer, slack: FakeSlack, caplog
):
    # an old message whose prompt the core no longer waits for
    message = {"type": "message", "text": "old", "ts": "1700000000.000001", "blocks": [
        {"type": "actions", "block_id": "prompt|long-gone", "elements": [
            {"type": "button", "action_id": "choose:0", "value": "grow",
             "text": {"type": "plain_text", "text": "Grow"}}]}]}
    status, _ = await server.interact(action_payload(USER, message, DM, {
        "type": "button", "action_id": "choose:0", "block_id": "prompt|long-gone", "value": "grow",
        "text": {"type": "plain_text", "text": "Grow"}}))
    assert status == 200
    await server.idle()
    assert slack.posts(DM), "a stale press still gets an answer"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_turns_replies_go_out_as_one_message(server: SlackServer, slack: FakeSlack):
    Script(server, [Reply("Noted: you lead a team."), Reply("Which way?", choices=choices(2), prompt_id="p")])
    await server.event(dm_event(USER, "hi"))
    await server.idle()
    [post] = slack.of("chat.postMessage")
    assert post.args["text"] == "Noted: you lead a team.\n\nWhich way?"
    assert [b["type"] for b in post.args["blocks"]] == ["section", "section", "actions"]
    assert [b["text"]["text"] for b in post.args["blocks"][:2]] == ["Noted: you lead a team.", "Which way?"]


async def test_an_answer_of_more_than_fifty_blocks_takes_as_many_messages_as_slack_needs(server: SlackServer,
                                                                                        slack: FakeSlack):
    Script(server, [Reply(f"Part {i}.") for i in range(55)])
    await server.event(dm_event(USER, "hi"))
    await server.idle()
    posts = slack.of("chat.postMessage")
    assert [len(p.args["blocks"]) for p in posts] == [50, 5]
    shown = [b["text"]["text"] for p in posts for b in p.args["blocks"]]
    assert shown == [f"Part {i}." for i in range(55)]


async def test_a_rate_limited_answer_waits_in_the_outbox_and_arrives_once_as_one_message(server: SlackServer,
                                                                                         slack: FakeSlack):
    Script(server, [Reply("First."), Reply("Second.")])
    slack.rate_limit("chat.postMessage", times=6, retry_after=0)   # one more than the client retries
    await server.event(dm_event(USER, "hi"))
    await server.idle()
    await slack.wait_for(lambda s: s.posts(DM))
    await asyncio.sleep(0.3)                # a second copy, if there were one, would show up now
    assert len(slack.limited) == 6
    [post] = slack.posts(DM)
    assert post["text"] == "First.\n\nSecond."
    assert [b["text"]["text"] for b in post["blocks"]] == ["First.", "Second."]
