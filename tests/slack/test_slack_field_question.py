"""The unsure path on Slack, over HTTP against the real core: a title the catalog does not know gets the
field question — every family of the catalog as a select, plus "None of these" — and the field picked in
the select is the one the role is kept in."""

from __future__ import annotations

from typing import Any

from bot import messages as M
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import USER, SlackServer, action_payload, dm_event

DM = dm_of(USER)
ROLE = "chief happiness wrangler of llamas"


async def say(server: SlackServer, slack: FakeSlack, text: str) -> list[Any]:
    before = len(slack.of("chat.postMessage"))
    assert (await server.event(dm_event(USER, text)))[0] == 200
    await server.idle()
    return slack.of("chat.postMessage")[before:]


async def test_an_unknown_title_gets_the_field_question_as_a_select(server: SlackServer, slack: FakeSlack):
    await say(server, slack, "hi")
    await say(server, slack, "start")
    [call] = [c for c in await say(server, slack, ROLE) if c.args.get("blocks")]
    assert M.ASK_FIELD.format(text=ROLE).split("—")[0] in call.args["text"]
    [actions] = [b for b in call.args["blocks"] if b["type"] == "actions"]
    [select] = actions["elements"]
    assert select["type"] == "static_select"
    labels = [o["text"]["text"] for o in select["options"]]
    families = sorted(f.name for f in server.coach.catalog.families.values())
    assert sorted(labels[:-1]) == families and labels[-1] == M.NO_FIELD   # every field, then "None of these"
    assert len(labels) <= 100                                      # Slack's limit for a static_select
    option = next(o for o in select["options"] if o["text"]["text"] == "Customer support and success")
    message = {"type": "message", "text": call.args["text"], "blocks": call.args["blocks"], "ts": call.result["ts"]}
    before = len(slack.of("chat.postMessage"))
    status, _ = await server.interact(action_payload(USER, message, DM, {
        "type": "static_select", "action_id": select["action_id"], "block_id": actions["block_id"],
        "selected_option": option}))
    assert status == 200
    await server.idle()
    texts = [c.args["text"] for c in slack.of("chat.postMessage")[before:]]
    # the turn's answer is one message: the custom role said first, the next question after it
    custom = M.CUSTOM_ROLE.format(title="Chief happiness wrangler of llamas", family="Customer support and success")
    assert texts == [f"{custom}\n\n{M.ASK_TENURE}"]
