"""POST /api/messages: the checks in front of botbuilder, then the turn.

Bad input gets a clear status and nothing is stored: a wrong content type 415, an oversized body 413,
malformed JSON or something that is not an Activity 400, and — when an app id is set — a missing,
malformed or invalid `Authorization` header 401 (botbuilder itself answers a malformed bearer token
with a 500). Only an authenticated, well-formed activity reaches the handler.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import requests
from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.schema import Activity, ActivityTypes

if TYPE_CHECKING:
    from adapters.teams.runtime import TeamsRuntime

log = logging.getLogger("skillcoach.teams")

MAX_BODY = 256 * 1024  # an activity is a few KB; Teams messages are at most ~28 KB


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit` bytes (read no further than that)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _text(obj: dict[str, Any], key: str) -> bool:
    return isinstance(obj.get(key), str) and bool(obj[key].strip())


def activity_problem(payload: Any) -> str | None:
    """Why a JSON body is not an activity this endpoint can answer, or None."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object (an Activity)"
    if not _text(payload, "type"):
        return "missing activity type"
    if not _text(payload, "channelId"):
        return "missing channelId"
    service_url = payload.get("serviceUrl")
    if not (isinstance(service_url, str) and service_url.startswith(("https://", "http://"))):
        return "missing or invalid serviceUrl"
    for key in ("conversation", "recipient"):
        part = payload.get(key)
        if not (isinstance(part, dict) and _text(part, "id")):
            return f"missing {key}.id"
    sender = payload.get("from")
    if payload["type"] in ("message", "invoke") and not (isinstance(sender, dict) and _text(sender, "id")):
        return "missing from.id"
    if sender is not None and not isinstance(sender, dict):
        return "invalid from"
    for key in ("text", "id", "replyToId"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            return f"invalid {key}"
    for key in ("entities", "membersAdded", "membersRemoved", "attachments"):
        if payload.get(key) is not None and not (
            isinstance(payload[key], list) and all(isinstance(x, dict) for x in payload[key])
        ):
            return f"invalid {key}"
    if payload.get("channelData") is not None and not isinstance(payload["channelData"], dict):
        return "invalid channelData"
    return None


def is_local_url(url: str) -> bool:
    """Whether a URL points at this machine (loopback): the Bot Framework Emulator or a test fake."""
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def bearer_problem(header: str) -> str | None:
    """Why an Authorization header cannot be a Bot Framework bearer token, or None."""
    if not header:
        return "no Authorization header"
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token or " " in token.strip():
        return "the Authorization header is not 'Bearer <token>'"
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        return "the bearer token is not a JWT"
    try:
        head, claims = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, UnicodeError):
        return "the bearer token is not a JWT"
    if not isinstance(head, dict) or not isinstance(claims, dict):
        return "the bearer token is not a JWT"
    if not isinstance(head.get("alg"), str) or not isinstance(claims.get("iss"), str):
        return "the bearer token has no algorithm or issuer"
    return None


class MessagesEndpoint:
    """The aiohttp handler for POST /api/messages."""

    def __init__(self, runtime: TeamsRuntime) -> None:
        self.runtime = runtime
        self._keys_unreachable = False

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _error(415, "expected Content-Type: application/json")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        body = await read_body(request, MAX_BODY)
        if body is None:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the body is not valid JSON")
        problem = activity_problem(payload)
        if problem:
            return _error(400, f"not an activity: {problem}")
        try:
            activity = Activity().deserialize(payload)
        except Exception as exc:  # msrest raises DeserializationError and friends for wrong shapes
            return _error(400, f"not an activity: {exc}")

        auth_header = request.headers.get("Authorization", "")
        if not self.runtime.auth_required and not is_local_url(payload["serviceUrl"]):
            # without an app id nothing is authenticated: answer only a local Emulator (or test
            # connector), so a server started without credentials cannot be made to post anywhere
            log.warning("Teams request refused (403): local development mode answers only a local "
                        "serviceUrl; set MicrosoftAppId to serve Teams")
            return _error(403, "local development mode (no MicrosoftAppId) answers only a local serviceUrl")
        if self.runtime.auth_required:
            problem = bearer_problem(auth_header)
            if problem:
                log.info("Teams request refused (401): %s", problem)
                return _error(401, "unauthorized")
        try:
            authenticated = await self.runtime.auth.authenticate_request(activity, auth_header)
        except PermissionError as exc:  # (an OSError: must come before the network errors)
            log.info("Teams request refused (401): %s", exc)
            return _error(401, "unauthorized")
        except (requests.RequestException, aiohttp.ClientError, OSError) as exc:
            # Bot Framework retries a 503; say it once per outage, not once per retried request
            (log.debug if self._keys_unreachable else log.warning)(
                "could not verify a Teams request (signing keys unreachable): %s", exc)
            self._keys_unreachable = True
            return _error(503, "cannot verify the request right now")
        except Exception as exc:  # PermissionError, jwt errors, and botbuilder's bare Exceptions
            log.info("Teams request refused (401): %s", exc)
            return _error(401, "unauthorized")
        if self._keys_unreachable:
            self._keys_unreachable = False
            log.info("Teams requests are verified again (signing keys reachable)")

        invoke_response = await self.runtime.adapter.process_activity(
            authenticated, activity, self.runtime.bot.on_turn
        )
        if activity.type == ActivityTypes.invoke:
            return self._invoke_answer(activity, invoke_response)
        return web.Response(status=201)

    @staticmethod
    def _invoke_answer(activity: Activity, invoke_response: Any) -> web.Response:
        """An invoke is always answered with its invoke response: never a 5xx and never an empty body.
        (The handler answers every invoke itself; this covers a turn that failed before it could.)"""
        status = getattr(invoke_response, "status", None)
        body: Any = None
        if isinstance(status, int) and status < 500:
            try:
                raw = invoke_response.body
                body = raw if isinstance(raw, (dict, list)) else serializer_helper(raw)
            except Exception as exc:  # botbuilder builds some error bodies it cannot serialise itself
                log.info("Teams invoke %r gave a body that cannot be sent: %s", activity.name, exc)
                body = None
        if body is None or not isinstance(status, int) or status >= 500:
            log.info("Teams invoke %r was not answered by the bot (status %s): answering 400", activity.name, status)
            status = 400
            body = {"statusCode": 400, "type": "application/vnd.microsoft.error",
                    "value": {"code": "BadRequest", "message": f"the invoke {activity.name!r} was not handled"}}
        return web.json_response(data=body, status=status)
