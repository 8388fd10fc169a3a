"""Invokes: `adaptiveCard/action` (Action.Execute, Universal Actions) is answered with a 200 invoke response
carrying a card or a message; every other invoke gets a 4xx invoke response; never a 5xx, never an empty
body."""

from __future__ import annotations

import json

import pytest

from adapters.teams import messages as T
from tests.fakes.bf_connector import member
from tests.teams import activities as A
from tests.teams.test_interview import answer, open_question

CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
ERROR = "application/vnd.microsoft.error"


def personal_id(user) -> str:
    return A.personal_conversation(user)["id"]


async def first_question(server, connector, user):
    await server.post(A.message(connector.url, user, "grow"))
    found = open_question(connector.messages(personal_id(user)))
    assert found is not None, "the interview asks a question with a card"
    return found


async def test_action_execute_answers_with_the_answered_card_and_the_turn_goes_on(server, connector):
    user = member(1)
    call, card = await first_question(server, connector, user)
    data, inputs = answer(card)
    connector.clear()
    status, body = await server.post(A.execute(connector.url, {**data, **inputs}, user, reply_to=call.response_id))
    assert status == 200
    response = json.loads(body)
    assert response["statusCode"] == 200 and response["type"] == CARD
    shown = [e["text"] for e in response["value"]["body"] if e["type"] == "TextBlock"]
    assert shown[-1].startswith("✓ "), "the card is replaced by a read-only copy showing the choice"
    assert "actions" not in response["value"]
    assert connector.updates() == [], "the invoke response replaces the card: no separate update"
    following = connector.messages(personal_id(user))
    assert following, "the next step of the interview is sent into the chat"
    assert {c.conversation_id for c in connector.messages()} == {personal_id(user)}


async def test_action_execute_from_the_welcome_card_starts_the_interview(server, connector):
    user = member(2)
    status, body = await server.post(A.execute(connector.url, {"command": "grow"}, user))
    assert status == 200
    assert json.loads(body) == {"statusCode": 200, "type": MESSAGE, "value": T.DONE}
    assert open_question(connector.messages(personal_id(user))) is not None


async def test_the_same_press_twice_runs_one_turn(server, connector):
    user = member(3)
    activity = A.execute(connector.url, {"command": "grow"}, user)
    await server.post(activity)
    sent = len(connector.messages())
    status, body = await server.post(activity)
    assert status == 200 and json.loads(body)["statusCode"] == 200
    assert len(connector.messages()) == sent


async def test_action_execute_in_a_channel_answers_privately(server, connector):
    user = member(4)
    conversation = {"isGroup": True, "conversationType": "channel", "tenantId": A.TENANT,
                    "id": f"{A.GENERAL};messageid=1"}
    channel_data = {"channel": {"id": A.GENERAL}, "team": A.TEAM, "tenant": {"id": A.TENANT}}
    status, body = await server.post(A.execute(connector.url, {"command": "grow"}, user,
                                               conversation=conversation, channel_data=channel_data))
    assert status == 200
    assert json.loads(body) == {"statusCode": 200, "type": MESSAGE, "value": T.ANSWERED_PRIVATELY}
    assert [c.conversation_id for c in connector.messages()][:1] == [personal_id(user)]
    assert all(not c.conversation_id.startswith(A.GENERAL) for c in connector.messages()), \
        "nothing is posted in the channel: the pointer is the invoke response, seen by the presser only"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "a string",
        {},
        {"action": "submit"},
        {"action": {}},
        {"action": {"type": "Action.Submit", "data": {"command": "grow"}}},
        {"action": {"type": "Action.Execute", "data": {"command": "rm -rf"}}},
        {"action": {"type": "Action.Execute", "data": "grow"}},
        {"action": {"type": "Action.Execute", "verb": "x", "data": {"_values": [1], "selection": "0"}}},
    ],
)
async def test_malformed_card_actions_get_a_400_invoke_response(server, connector, value):
    activity = A.execute(connector.url, {})
    activity["value"] = value
    if value is None:
        activity.pop("value")
    status, body = await server.post(activity)
    assert status == 400
    response = json.loads(body)
    assert response["statusCode"] == 400 and response["type"] == ERROR and response["value"]["code"]
    assert connector.messages() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (None, {"data": 1}),                                          # legacy card action invoke
        ("composeExtension/query", {"commandId": "search", "parameters": [{"name": "q", "value": "x"}]}),
        ("composeExtension/fetchTask", {"commandId": "Test", "commandContext": "compose"}),
        ("task/fetch", {"data": {"type": "task/fetch"}}),
        ("task/submit", {"data": {}}),
        ("signin/verifyState", {"state": "123"}),
        ("signin/tokenExchange", {"id": "x", "token": "y"}),
        ("fileConsent/invoke", {"type": "fileUpload", "action": "accept"}),
        ("actionableMessage/executeAction", {"body": "{}", "actionId": "1"}),
        ("config/fetch", {}),
        ("message/submitAction", {"actionName": "feedback", "actionValue": {"reaction": "like"}}),
        ("healthCheck", None),
        ("something/unknown", {"x": [1, 2]}),
        ("composeExtension/query", "not an object"),
    ],
)
async def test_other_invokes_get_a_4xx_invoke_response_never_5xx(server, connector, caplog, name, value):
    status, body = await server.post(A.invoke(connector.url, name, value))
    assert 400 <= status < 500
    response = json.loads(body)
    assert isinstance(response, dict) and response["type"] == ERROR
    assert "Teams turn failed" not in caplog.text
    assert connector.messages() == []
