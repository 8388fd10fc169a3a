"""The HTTP front of `POST /slack/events`: reject what bolt would mishandle, then hand over to bolt.

In order: body size (413), signature and timestamp (401), then the body's shape (400, short JSON error).
Only a signed, well-formed request reaches bolt, as one canonical JSON body, so bolt never parses
anything we have not checked (bolt 1.30 answers malformed JSON with a 500 and a stack trace, and
mistakes a command whose text says "payload" for an interactivity form). Rejected requests change
nothing: they are answered before any listener, store or Slack call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("skillcoach.slack.gate")

MAX_BODY = 1024 * 1024   # Slack's largest payloads (block_actions with a long message) are far smaller
MAX_SKEW = 5 * 60        # seconds; Slack's own recommendation for replay protection

INTERACTIVE_TYPES = {"block_actions"}
EVENT_TYPES = {"event_callback", "url_verification", "app_rate_limited"}


class BadRequest(Exception):
    """The body is signed but not something Slack sends; the message says what is wrong."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _valid_signature(verifier: SignatureVerifier, raw: bytes, text: str | None, ts: str, signature: str) -> bool:
    if text is not None:
        return verifier.is_valid(body=text, timestamp=ts, signature=signature)
    # not UTF-8: check the same v0 signature over the raw bytes, so a signed bad body is a 400, not a 401
    base = b"v0:" + ts.encode() + b":" + raw
    expected = "v0=" + hmac.new(verifier.signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _optional(payload: dict[str, Any], key: str, *types: type) -> None:
    value = payload.get(key)
    if value is not None and not isinstance(value, types):
        raise BadRequest(f"'{key}' has the wrong type")


def _check_common(payload: dict[str, Any]) -> None:
    """The top-level fields bolt reads while building its context."""
    for key in ("team", "enterprise", "user", "channel"):
        _optional(payload, key, str, dict)
    for key in ("team_id", "enterprise_id", "api_app_id", "token", "trigger_id", "response_url", "user_id",
                "channel_id", "event_id"):
        _optional(payload, key, str)
    for key in ("view", "container", "message", "state", "event"):
        _optional(payload, key, dict)
    for key in ("team", "enterprise", "user", "channel"):
        value = payload.get(key)
        if isinstance(value, dict):
            for sub in ("id", "team_id", "enterprise_id"):
                _optional(value, sub, str)
    auths = payload.get("authorizations")
    if auths is not None and not (isinstance(auths, list) and all(isinstance(a, dict) for a in auths)):
        raise BadRequest("'authorizations' must be a list of objects")
    for auth in auths or ():
        for sub in ("team_id", "enterprise_id", "user_id"):
            _optional(auth, sub, str)
    _optional(payload, "is_enterprise_install", bool, str)
    _optional(payload, "is_ext_shared_channel", bool)


def check_event(payload: dict[str, Any]) -> None:
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise BadRequest("unsupported request type")
    _check_common(payload)
    if "event" in payload and not isinstance(payload["event"], dict):
        raise BadRequest("'event' must be an object")
    if kind == "url_verification":
        if not _is_str(payload.get("challenge")):
            raise BadRequest("'challenge' is missing")
        return
    if kind == "app_rate_limited":
        return
    event = payload.get("event")
    if not isinstance(event, dict) or not _is_str(event.get("type")) or not event["type"]:
        raise BadRequest("'event' with a 'type' is required")
    if not _is_str(payload.get("event_id")) or not payload["event_id"]:
        raise BadRequest("'event_id' is required")
    for key in ("subtype", "channel", "channel_type", "text", "ts", "thread_ts", "bot_id", "tab", "team",
                "user_team", "source_team"):
        _optional(event, key, str)
    _optional(event, "user", str, dict)
    _optional(event, "message", dict)
    _optional(event, "previous_message", dict)
    _optional(event, "bot_profile", dict)
    _optional(event, "assistant_thread", dict)
    _optional(event, "authed_users", list)


def check_interactive(payload: dict[str, Any]) -> None:
    if not isinstance(payload.get("type"), str) or payload["type"] not in INTERACTIVE_TYPES:
        raise BadRequest("unsupported interaction type")
    _check_common(payload)
    user = payload.get("user")
    if not isinstance(user, dict) or not _is_str(user.get("id")) or not user["id"]:
        raise BadRequest("'user' with an 'id' is required")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise BadRequest("'actions' must be a non-empty list")
    for action in actions:
        if not isinstance(action, dict) or not _is_str(action.get("action_id")):
            raise BadRequest("every action needs an 'action_id'")
        for key in ("block_id", "type", "value", "action_ts"):
            _optional(action, key, str)
        for key in ("text", "selected_option"):
            _optional(action, key, dict)
        _optional(action, "selected_options", list)
    container = payload.get("container")
    if isinstance(container, dict):
        for key in ("type", "channel_id", "message_ts", "view_id"):
            _optional(container, key, str)
    message = payload.get("message")
    if isinstance(message, dict):
        _optional(message, "blocks", list)
        _optional(message, "ts", str)
        _optional(message, "text", str)
    state = payload.get("state")
    if isinstance(state, dict):
        _optional(state, "values", dict)
    view = payload.get("view")
    if isinstance(view, dict):
        for key in ("id", "team_id", "app_installed_team_id", "callback_id", "type"):
            _optional(view, key, str)
        _optional(view, "state", dict)


def check_command(form: dict[str, str]) -> None:
    command = form.get("command", "")
    if not command.startswith("/") or len(command) < 2:
        raise BadRequest("'command' is missing")
    if not form.get("user_id"):
        raise BadRequest("'user_id' is missing")


def canonical_body(raw_text: str, content_type: str) -> str:
    """Parse and check one signed body; return it as the JSON text bolt will read. Raises BadRequest."""
    stripped = raw_text.lstrip()
    if content_type == "application/json" or stripped.startswith("{"):
        try:
            payload = json.loads(raw_text)
        except ValueError:
            raise BadRequest("the body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise BadRequest("the body must be a JSON object")
        check_event(payload)
        return raw_text   # checked: bolt parses the same text into the same payload
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise BadRequest("unsupported content type")
    try:
        pairs = parse_qsl(raw_text, keep_blank_values=True, strict_parsing=bool(raw_text), max_num_fields=200)
    except ValueError:
        raise BadRequest("the body is not a valid form") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise BadRequest("repeated form fields")
    if "payload" in form:
        try:
            payload = json.loads(form["payload"])
        except ValueError:
            raise BadRequest("'payload' is not valid JSON") from None
        if not isinstance(payload, dict):
            raise BadRequest("'payload' must be a JSON object")
        check_interactive(payload)
        return json.dumps(payload)
    if form.get("ssl_check") == "1":
        return json.dumps({"ssl_check": "1", "token": form.get("token", "")})
    if "command" in form:
        check_command(form)
        return json.dumps(form)
    raise BadRequest("not a Slack request")


def make_handler(
    bolt: AsyncApp, signing_secret: str, *, max_body: int = MAX_BODY, clock: Callable[[], float] = time.time
) -> Callable[[web.Request], Any]:
    """The aiohttp handler for POST /slack/events."""
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > max_body:
            return _error(413, "body too large")
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := await request.content.read(64 * 1024):
                size += len(chunk)
                if size > max_body:
                    return _error(413, "body too large")
                chunks.append(chunk)
        except (OSError, ValueError) as exc:
            return _error(400, f"unreadable body ({type(exc).__name__})")
        raw = b"".join(chunks)

        ts = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not signature or not ts.isascii() or not ts.isdigit():
            return _error(401, "missing or malformed signature headers")
        if abs(clock() - int(ts)) > MAX_SKEW:
            return _error(401, "stale timestamp")
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if not _valid_signature(verifier, raw, text, ts, signature):
            return _error(401, "invalid signature")
        if text is None:
            return _error(400, "the body is not UTF-8")

        try:
            body = canonical_body(text, request.content_type if "Content-Type" in request.headers else "")
        except BadRequest as exc:
            log.info("rejected a signed Slack request: %s", exc)
            return _error(400, str(exc))

        retry = request.headers.get("X-Slack-Retry-Num")
        if retry:
            log.info("Slack retry #%s (%s)", retry, request.headers.get("X-Slack-Retry-Reason", "?"))
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
        headers["Content-Type"] = "application/json"
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
        bolt_response = await bolt.async_dispatch(bolt_request)
        if bolt_response.status >= 500:  # a listener failed before acknowledging (a bug on our side)
            log.error("bolt answered %s to a checked Slack request", bolt_response.status)
        return await to_aiohttp_response(bolt_response)

    return slack_events
