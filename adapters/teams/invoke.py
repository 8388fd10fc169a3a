"""Invoke activities: the names this bot answers, and the shapes of its invoke responses.

`adaptiveCard/action` (Universal Actions, `Action.Execute`) is answered with a card that replaces the
pressed one, or a short message; anything malformed or not offered gets a 400 with an error body.
`fileConsent/invoke` is answered by the file consent flow (file_consent.py).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import InvokeResponse

from adapters.teams.cards import CARD_CONTENT_TYPE

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
MESSAGE_RESPONSE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_RESPONSE_TYPE = "application/vnd.microsoft.error"


def card_response(card: dict[str, Any]) -> InvokeResponse:
    """The answer to an `adaptiveCard/action` invoke that replaces the card (Universal Actions)."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card})


def message_response(text: str) -> InvokeResponse:
    """The answer to an `adaptiveCard/action` invoke that shows a short message and keeps the card."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": MESSAGE_RESPONSE_TYPE, "value": text})


def error_response(status: int, code: str, message: str) -> InvokeResponse:
    return InvokeResponse(status=status, body={"statusCode": status, "type": ERROR_RESPONSE_TYPE,
                                               "value": {"code": code, "message": message}})


def execute_data(value: Any) -> dict[str, Any] | None:
    """The data of an `Action.Execute` press (the action's data merged with the card's inputs), or None
    when the invoke value is not an Action.Execute."""
    if not isinstance(value, dict) or not isinstance(value.get("action"), dict):
        return None
    action = value["action"]
    if action.get("type") != "Action.Execute":
        return None
    data = action.get("data")
    return data if isinstance(data, dict) else {}
