"""A whole interview by DM, as a Slack user does it: typing and pressing until the plan arrives."""

from __future__ import annotations

from typing import Any

from adapters.slack import blocks as B
from tests.fakes.slack_api import FakeSlack, dm_of
from tests.slack.conftest import USER, SlackServer, action_payload, dm_event

DM = dm_of(USER)
PREFERRED = ("start", "yes", "grow", "1to3", "4")   # sensible answers where offered
TYPED = {  # free-text questions (no buttons): a keyword of the question → what the person types
    "role": "Marketing specialist",
    "move into": "Software developer",
    "skills": "data analytics, social media advertising",
    "time": "4 hours",
}


def as_stored(call: Any) -> dict[str, Any]:
    return {"type": "message", "text": call.args["text"], "blocks": call.args["blocks"], "ts": call.result["ts"],
            "user": "UBOTSKILL", "bot_id": "BSKILL01"}


def question_in(message: dict[str, Any]) -> dict[str, Any] | None:
    for block in message["blocks"]:
        if block["type"] == "actions" and B.prompt_of(block.get("block_id")):
            return block
    return None


def press_for(message: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    """The block_actions payload of a sensible answer to this question."""
    elements = block["elements"]
    first = elements[0]
    if first["type"] == "button":
        button = next((e for v in PREFERRED for e in elements if e["value"] == v), first)
        action = {"type": "button", "action_id": button["action_id"], "block_id": block["block_id"],
                  "text": button["text"], "value": button["value"]}
        return action_payload(USER, message, DM, action)
    if first["type"] == "static_select":
        option = next((o for v in PREFERRED for o in first["options"] if o["value"] == v), first["options"][0])
        action = {"type": "static_select", "action_id": first["action_id"], "block_id": block["block_id"],
                  "selected_option": option}
        return action_payload(USER, message, DM, action)
    picker, submit = elements  # checkboxes / multi_static_select + Submit
    state = {block["block_id"]: {picker["action_id"]: {"type": picker["type"],
                                                       "selected_options": picker["options"][:2]}}}
    action = {"type": "button", "action_id": submit["action_id"], "block_id": block["block_id"],
              "text": submit["text"], "value": submit["value"]}
    return action_payload(USER, message, DM, action, state=state)


def typed_answer(text: str) -> str:
    lowered = text.lower()
    return next((answer for key, answer in TYPED.items() if key in lowered), "4")


async def test_a_whole_interview_by_dm_with_button_presses_ends_with_the_plan(server: SlackServer, slack: FakeSlack):
    await server.event(dm_event(USER, "hi"))
    await server.idle()
    seen = 0
    presses = typed = 0
    for _ in range(40):
        calls = slack.of("chat.postMessage")
        new, seen = calls[seen:], len(calls)
        assert new, "every step gets an answer"
        assert all(c.args["channel"] == DM for c in new)
        messages = [as_stored(c) for c in new]
        if any(b["type"] == "header" for m in messages for b in m["blocks"]):
            break
        asking = next((m for m in reversed(messages) if question_in(m)), None)
        if asking is not None:
            assert (await server.interact(press_for(asking, question_in(asking))))[0] == 200
            presses += 1
        else:
            assert (await server.event(dm_event(USER, typed_answer(messages[-1]["text"]))))[0] == 200
            typed += 1
        await server.idle()
    else:
        raise AssertionError("no plan after 40 steps")

    plan = next(m for m in messages for b in m["blocks"] if b["type"] == "header")
    kinds = [b["type"] for b in plan["blocks"]]
    assert kinds[0] in ("section", "header") and "header" in kinds and kinds.count("section") >= 2
    assert plan["text"].strip()
    assert presses >= 4 and typed >= 1
    # every pressed question was updated to show the answer, so it cannot be pressed twice
    updates = slack.of("chat.update")
    assert len(updates) == presses
    assert all(not any(b["type"] == "actions" and B.prompt_of(b.get("block_id")) for b in u.args["blocks"])
               for u in updates)
    # a new plan refreshes App Home
    await server.idle()
    homes = slack.of("views.publish")
    assert homes and homes[-1].args["user_id"] == USER
    home_actions = {e["action_id"] for b in homes[-1].args["view"]["blocks"] if b["type"] == "actions"
                    for e in b["elements"]}
    assert "home_plan" in home_actions
