"""A local fake of the Slack Web API (and of Socket Mode's WebSocket) that records every call.

Start it with `async with FakeSlack() as slack:`; point the app at `slack.api_url`
(`Settings(slack_api_url=...)`). Every call is kept in `slack.calls` as `Call(method, args)`;
`await slack.wait_for(predicate)` waits until the recorded calls satisfy a condition.
`slack.rate_limit("chat.postMessage", times=3, retry_after=0)` answers the next calls of a method
with HTTP 429 (those calls are kept in `slack.limited`, not in `slack.calls`).
`slack.shared_files(channel)` lists the files uploaded through files_upload_v2 (getUploadURLExternal, the
bytes POSTed to the upload URL, completeUploadExternal), with their bytes; `slack.refuse_files = "missing_scope"`
makes getUploadURLExternal refuse. `slack.slow("chat.postMessage", 0.3)` answers a method that much later (the call is recorded when it
arrives: a slow answer, not a lost message; `Call.answered` turns true once the answer is written, so a
test can tell which calls were still in flight). `Call.token` is the bot token the call came with, so
tests with several processes (each with its own token) can tell who sent what.

Posted messages are kept per channel, with their `metadata` (`{"event_type", "event_payload"}`), and
`conversations.history` returns them newest first as Slack does — with `metadata` only when asked
with `include_all_metadata`, `oldest` / `latest` / `limit` / `cursor` honoured, `has_more` and
`response_metadata.next_cursor` set.

Socket Mode: `apps.connections.open` answers a ws:// URL of this server; the socket sends `hello`,
then whatever `await slack.send_envelope(...)` is given, and keeps every acknowledgement the client
sends in `slack.socket_acks`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = "UBOTSKILL"
BOT_ID = "BSKILL01"
APP_ID = "A0SKILL"
TEAM = "T0TEAM001"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    token: str = ""
    answered: bool = False


def dm_of(user_id: str) -> str:
    """The fake's DM channel id for a user: D + the user id without its first letter."""
    return "D" + user_id[1:]


class FakeSlack:
    def __init__(self, users: dict[str, dict[str, Any]] | None = None) -> None:
        # user id → {"email": ..., "name": ...}; unknown users get report-<id>@example.com
        self.users: dict[str, dict[str, Any]] = dict(users or {})
        self.calls: list[Call] = []
        self.limited: list[Call] = []
        self.socket_acks: list[dict[str, Any]] = []
        self._limits: dict[str, list[int]] = {}
        self._latency: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.connections_opened = 0
        self.gone_channels: set[str] = set()   # chat.postMessage answers channel_not_found for these
        self.uploads: dict[str, bytes] = {}     # file id -> the bytes POSTed to its upload URL
        self.files: dict[str, dict[str, Any]] = {}   # file id -> {filename, length, title, channel, ...}
        self.refuse_files: str | None = None    # an error files.getUploadURLExternal answers (missing_scope)
        self.history: dict[str, list[dict[str, Any]]] = {}   # channel -> messages posted, oldest first

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # -- programming it ----------------------------------------------------------------------
    def rate_limit(self, method: str, times: int, retry_after: int = 0) -> None:
        """Answer the next `times` calls of `method` with 429 and this Retry-After."""
        self._limits[method] = [times, retry_after]

    def slow(self, method: str, seconds: float) -> None:
        """Answer every later call of `method` `seconds` late (0: at once again)."""
        self._latency[method] = seconds

    def email_of(self, user_id: str) -> str:
        return self.users.get(user_id, {}).get("email") or f"report-{user_id.lower()}@example.com"

    # -- reading what happened ---------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted, each with `channel` as Slack resolves it: a user id means that user's app DM
        (the raw arguments stay in `of("chat.postMessage")`)."""
        out = []
        for c in self.of("chat.postMessage"):
            args = dict(c.args)
            raw = str(args.get("channel", ""))
            if raw.startswith(("U", "W")):
                args["channel"] = dm_of(raw)
            if channel is None or args["channel"] == channel:
                out.append(args)
        return out

    async def wait_for(self, predicate: Callable[[FakeSlack], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate(self)` is truthy and return its value (TimeoutError otherwise)."""
        async def waiter() -> Any:
            async with self._changed:
                while True:
                    value = predicate(self)
                    if value:
                        return value
                    await self._changed.wait()
        return await asyncio.wait_for(waiter(), timeout)

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    # -- the Web API -------------------------------------------------------------------------
    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            else:
                args.update(dict(await request.post()))
        for key in ("blocks", "view", "files"):  # form-encoded structures arrive as JSON text
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        call = Call(method, args)
        limit = self._limits.get(method)
        if limit and limit[0] > 0:
            limit[0] -= 1
            self.limited.append(call)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(limit[1])})
        if not auth.startswith("Bearer ") and "token" not in args:
            return web.json_response({"ok": False, "error": "not_authed"})
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        call.result = answer(args) if answer is not None else {"ok": False, "error": "unknown_method"}
        call.token = auth[len("Bearer "):] if auth.startswith("Bearer ") else str(args.get("token", ""))
        await self._record(call)
        if self._latency.get(method):
            await asyncio.sleep(self._latency[method])
        response = web.json_response(call.result)
        call.answered = True
        return response

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://example.slack.com/", "team": "Example", "user": "skillcoach",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not channel or channel in self.gone_channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel.startswith(("U", "W")):
            channel = dm_of(channel)
        ts = self._next_ts()
        message = {"type": "message", "text": args.get("text", ""), "user": BOT_USER, "bot_id": BOT_ID,
                   "app_id": APP_ID, "team": TEAM, "ts": ts, "blocks": args.get("blocks", [])}
        metadata = args.get("metadata")
        if isinstance(metadata, str):   # form-encoded: JSON text
            try:
                metadata = json.loads(metadata)
            except ValueError:
                return {"ok": False, "error": "invalid_metadata_format"}
        if metadata is not None:
            if not (isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
                    and isinstance(metadata.get("event_payload"), dict)):
                return {"ok": False, "error": "invalid_metadata_format"}
            message["metadata"] = {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}
        self.history.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not channel.startswith(("D", "C", "G")):
            return {"ok": False, "error": "channel_not_found"}
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or 0) or float("inf")
        try:
            limit = max(1, min(999, int(args.get("limit") or 100)))
            start = int(args.get("cursor") or 0)   # the fake's cursor: an offset into the newest-first list
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        newest_first = [m for m in reversed(self.history.get(channel, [])) if oldest < float(m["ts"]) < latest]
        page = newest_first[start:start + limit]
        more = start + limit < len(newest_first)
        messages = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in page]
        return {"ok": True, "messages": messages, "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text", "")}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0HOME", "type": "home", **(args.get("view") or {})}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        if not user.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        info = self.users.get(user, {})
        name = info.get("name") or f"Report {user[-2:]}"
        return {"ok": True, "user": {"id": user, "team_id": TEAM, "name": name.lower().replace(" ", "."),
                                     "real_name": name, "is_bot": False,
                                     "profile": {"email": self.email_of(user), "real_name": name,
                                                 "display_name": name}}}

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users:
            if self.email_of(user).lower() == email:
                return {"ok": True, "user": {"id": user, "team_id": TEAM, "profile": {"email": email}}}
        return {"ok": False, "error": "users_not_found"}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        if not users.startswith(("U", "W")) or "," in users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": dm_of(users), "is_im": True}}

    # files_upload_v2: getUploadURLExternal, a POST of the bytes to the URL, completeUploadExternal
    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.refuse_files:
            return {"ok": False, "error": self.refuse_files}
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.files) + 1:08d}"
        self.files[file_id] = {"id": file_id, "filename": filename, "length": int(length), "completed": False}
        return {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.files:
            return web.Response(status=404, text="no such upload")
        self.uploads[file_id] = await request.read()
        async with self._changed:
            self._changed.notify_all()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for item in files:
            meta = self.files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if meta is None or meta["completed"]:
                return {"ok": False, "error": "file_not_found"}
            if len(self.uploads.get(meta["id"], b"")) != meta["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            meta.update(completed=True, title=item.get("title") or meta["filename"],
                        channel=args.get("channel_id"), initial_comment=args.get("initial_comment"))
            done.append({"id": meta["id"], "name": meta["filename"], "title": meta["title"],
                         "size": meta["length"]})
        return {"ok": True, "files": done}

    def shared_files(self, channel: str | None = None) -> list[tuple[dict[str, Any], bytes]]:
        """Files completed into a channel (or any), each with its uploaded bytes."""
        return [(meta, self.uploads[meta["id"]]) for meta in self.files.values()
                if meta["completed"] and (channel is None or meta["channel"] == channel)]

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self.connections_opened += 1
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket?ticket=t{self.connections_opened}"}

    # -- Socket Mode -------------------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "connection_info": {"app_id": "A0SKILL"}}))
        async with self._changed:
            self._changed.notify_all()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                self.socket_acks.append(data)
                async with self._changed:
                    self._changed.notify_all()
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    @property
    def connected(self) -> bool:
        return bool(self._sockets)

    async def send_envelope(self, envelope_type: str, payload: dict[str, Any], envelope_id: str, *,
                            retry_attempt: int = 0) -> None:
        """Send one Socket Mode envelope (events_api, slash_commands, interactive) to the client."""
        await self.wait_for(lambda s: s.connected)
        envelope = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                    "accepts_response_payload": envelope_type != "events_api", "retry_attempt": retry_attempt,
                    "retry_reason": "timeout" if retry_attempt else ""}
        await self._sockets[-1].send_str(json.dumps(envelope))
