"""The Slack app: bolt listeners that turn Slack into `Incoming`, and replies into Block Kit messages.

One `SlackAdapter` per server. It owns the bolt `AsyncApp`, the one `AsyncWebClient` (with slack_sdk's
retry handlers for rate limits and connection errors), the listeners, and the proactive `Messenger`
the core uses for nudges and introductions. Every listener acknowledges first and does its work in a
tracked background task, so Slack always gets its answer within 3 seconds, whatever the store does.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as B
from adapters.slack import texts as T
from adapters.slack.gate import make_handler
from bot import outbox
from bot.delivery import DeliveryError
from bot.errors import StoreError
from bot.logs import PLATFORM as LOG_PLATFORM
from bot.logs import REQUEST_ID, new_request_id
from bot.types import Incoming, Reply, numbered_text

log = logging.getLogger("skillcoach.slack")

PLATFORM = "slack"
ROUTE = "/slack/events"

# -- what this app registers (the manifest test reads these tables) ------------------------------
# bolt event type → the bot event the manifest subscribes to
EVENTS: dict[str, str] = {
    "message": "message.im",
    "app_mention": "app_mention",
    "app_home_opened": "app_home_opened",
}
# slash command → Incoming.command
COMMANDS: dict[str, str] = {"/grow": "grow", "/nudge-team": "nudge-team", "/team-skills": "team-skills"}
# `/grow <words>` → the text the core understands ("" = start or resume)
GROW_WORDS: dict[str, str] = {
    "": "",
    "start": "",
    "plan": "my plan",
    "my plan": "my plan",
    "help": "help",
    "restart": "restart",
    "forget me": "forget me",
    "my data": "my data",
    "data": "my data",
    "stop reminders": "stop reminders",
    "resume reminders": "resume reminders",
}
# block action ids with a listener (the catch-all for anything else answers politely)
ACTIONS: dict[str, str | re.Pattern[str]] = {
    "choose": re.compile(rf"^{B.CHOOSE}:\d+$"),
    "choose_select": B.CHOOSE_SELECT,
    "pick_many": B.PICK_MANY,
    "submit_many": B.SUBMIT_MANY,
    "home": re.compile(r"^home_[a-z_]+$"),
}

# message subtypes that are a person writing to us; everything else (edits, joins, bots…) is ignored
USER_SUBTYPES = {None, "file_share"}
# Slack errors after which retrying a proactive message is pointless
PERMANENT_ERRORS = {
    "channel_not_found", "user_not_found", "user_disabled", "account_inactive", "is_archived",
    "not_in_channel", "cannot_dm_bot", "invalid_auth", "not_authed", "token_revoked", "missing_scope",
}
RENDER_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_attachments"}

USER_CACHE_SECONDS = 3600.0
METADATA_TYPE = "skillcoach_message"   # the event type of the metadata on proactive messages
HISTORY_PAGE = 200                       # messages per conversations.history page when resolving
HISTORY_PAGES = 5
HISTORY_MARGIN = 120.0                   # seconds of history read before a reservation (clock skew)
# the queue where versions before the one outbox kept rate-limited answers ({"channel", "messages":
# [{"message": {"text", "blocks"}, "plain"}]}); moved into the outbox at start (`_move_old_outbox`)
OLD_OUTBOX = "slack-outbox"
OLD_OUTBOX_POLL = 2.0
MENTION_RE = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def build_client(settings: Any, *, retry_dropped_connections: bool = True) -> AsyncWebClient:
    """A Web API client: 429s wait for Retry-After, dropped connections are retried (unless told not
    to: a post whose connection dropped may have arrived, and only the outbox can tell — by asking)."""
    handlers: list[Any] = [AsyncRateLimitErrorRetryHandler(max_retry_count=5)]
    if retry_dropped_connections:
        handlers.insert(0, AsyncConnectionErrorRetryHandler(max_retry_count=2))
    kwargs: dict[str, Any] = {"token": settings.slack_bot_token, "retry_handlers": handlers}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    return AsyncWebClient(**kwargs)


def unescape(text: str) -> str:
    """Slack escapes &, < and > in message text; the core wants what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str(data: Any, *path: str) -> str | None:
    value = _get(data, *path)
    return value if isinstance(value, str) and value else None


def is_retry(request: Any) -> bool:
    """Whether Slack marked this delivery as a retry (HTTP header, or Socket Mode's retry_attempt)."""
    values = getattr(request, "headers", {}).get("x-slack-retry-num") or ["0"]
    value = values[0] if isinstance(values, (list, tuple)) else values
    return str(value).strip() not in ("", "0")


def delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(_get(response.data, "error") or "") if response is not None else ""
    status = getattr(response, "status_code", None)
    if status == 429 or error == "ratelimited":
        retry = response.headers.get("Retry-After", "30") if response is not None else "30"
        try:
            retry_after = float(retry)
        except (TypeError, ValueError):
            retry_after = 30.0
        return DeliveryError(f"Slack rate limit ({error or status})", retry_after=retry_after)
    return DeliveryError(f"Slack refused the message: {error or status}", permanent=error in PERMANENT_ERRORS)


class _BoltLogFilter(logging.Filter):
    """What bolt logs, made fit for an operator's log:

    * bolt warns "As you gave `client` as well, `token` will be unused" whenever SLACK_BOT_TOKEN is in the
      environment, even though the client it is given holds that very token: not a problem, not logged;
    * "Unhandled request (<body>)" would put what a person wrote into the log: only the kind of request
      is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token` will be unused" in message:
            return False
        if message.startswith("Unhandled request"):
            record.msg, record.args = "Unhandled Slack request (no listener for it)", ()
        return True


AUTH_RETRY_MAX = 30.0  # seconds between auth.test attempts while Slack cannot be reached


class SlackAdapter:
    """The Slack side of the server; also the core's `Messenger` for platform "slack"."""

    platform = PLATFORM

    def __init__(self, coach: Any, settings: Any, *, user_cache_seconds: float = USER_CACHE_SECONDS) -> None:
        self.coach = coach
        self.settings = settings
        self.socket_mode = bool(settings.slack_app_token)
        self.client = build_client(settings)
        bolt_log = logging.getLogger("skillcoach.slack.bolt")
        if not any(isinstance(f, _BoltLogFilter) for f in bolt_log.filters):
            bolt_log.addFilter(_BoltLogFilter())
        # proactive messages (the outbox): a dropped connection is not retried blindly, the outbox reads
        # the DM back instead (a blind retry of a post that arrived would be a second copy)
        self.outbox_client = build_client(settings, retry_dropped_connections=False)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "socket-mode",
            # the gate in front (adapters/slack/gate.py) verifies every HTTP request before bolt sees it,
            # and hands bolt the checked body re-encoded, which bolt's own check could not verify
            request_verification_enabled=False,
            name="skillcoach",
            logger=bolt_log,
        )
        self.user_cache_seconds = user_cache_seconds
        self.old_outbox_poll = OLD_OUTBOX_POLL
        self.old_outbox_moved: asyncio.Task[None] | None = None   # done when the old queue is empty
        self._users: dict[str, tuple[float, str | None, str | None]] = {}
        self._dm: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._socket: Any = None
        self._socket_task: asyncio.Task[None] | None = None
        self._auth_task: asyncio.Task[None] | None = None
        self.authenticated = False        # auth.test passed (HTTP mode)
        self.socket_connected = False     # the Socket Mode connection is open
        self.auth_problem = "auth.test not done yet"
        self._register()

    # -- wiring ----------------------------------------------------------------------------------
    def _register(self) -> None:
        bolt = self.bolt
        on_event = {"message": self._on_message, "app_mention": self._on_mention,
                    "app_home_opened": self._on_home_opened}
        for event_type in EVENTS:
            bolt.event(event_type)(on_event[event_type])
        for command in COMMANDS:
            bolt.command(command)(self._on_command)
        bolt.action(ACTIONS["choose"])(self._on_choose)
        bolt.action(ACTIONS["choose_select"])(self._on_choose)
        bolt.action(ACTIONS["pick_many"])(self._on_pick)
        bolt.action(ACTIONS["submit_many"])(self._on_submit)
        bolt.action(ACTIONS["home"])(self._on_home_action)
        bolt.action(re.compile(r".*"))(self._on_unknown_action)  # last: anything else

    def attach(self, app: web.Application) -> None:
        """Put Slack into the aiohttp app: route (HTTP mode), lifecycle, messenger, App Home refresh."""
        self.coach.register_messenger(self)
        self.coach.on_change(self._changed)
        app.cleanup_ctx.append(self._lifecycle)
        if not self.socket_mode:
            app.router.add_post(ROUTE, make_handler(self.bolt, self.settings.slack_signing_secret))

    def ready_problem(self) -> str | None:
        """None when Slack can take traffic (readiness, bot/health.py), else why not."""
        if self.socket_mode:
            return None if self.socket_connected else "Socket Mode not connected"
        return None if self.authenticated else self.auth_problem

    async def _check_auth(self) -> None:
        """auth.test until it answers: ready when the token is good; a refused token stays not ready."""
        delay = 1.0
        while True:
            try:
                await self.client.auth_test()
                self.authenticated = True
                log.info("Slack auth.test passed")
                return
            except asyncio.CancelledError:
                raise
            except SlackApiError as exc:
                error = str(_get(exc.response.data, "error") or exc.response.status_code)
                if error not in ("ratelimited", "429") and exc.response.status_code < 500:
                    self.auth_problem = f"auth.test refused: {error}"
                    log.error("Slack auth.test refused the bot token: %s", error)
                    return
                self.auth_problem = f"auth.test failed: {error}"
            except Exception as exc:  # network trouble: not ready yet, try again
                self.auth_problem = f"auth.test failed: {type(exc).__name__}"
            await asyncio.sleep(delay)
            delay = min(delay * 2, AUTH_RETRY_MAX)

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                                    trace_configs=self.coach.metrics.aiohttp_trace(PLATFORM) or None)
        if not self.socket_mode:
            self._auth_task = asyncio.create_task(self._check_auth(), name="slack-auth-test")
        self.outbox_client.session = self.client.session
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(
                self.bolt, self.settings.slack_app_token, web_client=self.client,
                logger=logging.getLogger("skillcoach.slack.socket"),
            )
            self._socket_task = asyncio.create_task(self._connect_socket(), name="slack-socket-mode")
        self.old_outbox_moved = asyncio.create_task(self._move_old_outbox(), name="slack-old-outbox")
        yield
        self.old_outbox_moved.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.old_outbox_moved
        if self._auth_task is not None:
            self._auth_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._auth_task
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._socket_task
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()
        await self.drain(10.0)
        await self.client.session.close()
        self.client.session = self.outbox_client.session = None

    async def _connect_socket(self) -> None:
        """Open the Socket Mode connection; keep trying (the server stays up meanwhile)."""
        delay = 1.0
        while True:
            try:
                await self._socket.connect_async()
                self.socket_connected = True
                log.info("Slack Socket Mode connected")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network and Slack errors alike: log, wait, try again
                log.warning("Slack Socket Mode connection failed (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    # -- background work -------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work in the background, with the log context of the request it came from (an HTTP request's
        id; over Socket Mode a new id per event) and platform "slack"."""
        context = contextvars.copy_context()
        context.run(LOG_PLATFORM.set, PLATFORM)
        if not context.get(REQUEST_ID):
            context.run(REQUEST_ID.set, new_request_id(None))
        task = asyncio.create_task(coro, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work failed", exc_info=task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the work in flight (used on shutdown, and by tests and the bench)."""
        deadline = time.monotonic() + timeout
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - time.monotonic()))
        for task in list(self._tasks):
            task.cancel()
        await self.coach.dedupe.drain()  # the records of the events just handled

    # -- Slack lookups ---------------------------------------------------------------------------
    async def user_info(self, user_id: str) -> tuple[str | None, str | None]:
        """(email, display name) from users.info, cached per user."""
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached and cached[0] > now:
            return cached[1], cached[2]
        email = name = None
        ttl = self.user_cache_seconds
        try:
            response = await self.client.users_info(user=user_id)
            email = _str(response.data, "user", "profile", "email")
            name = (_str(response.data, "user", "profile", "real_name")
                    or _str(response.data, "user", "real_name") or _str(response.data, "user", "name"))
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, _get(exc.response.data, "error"))
            ttl = 60.0
        self._users[user_id] = (now + ttl, email, name)
        return email, name

    async def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM with this user (opened if needed); the user id itself as a fallback."""
        channel = self._dm.get(user_id)
        if channel:
            return channel
        try:
            response = await self.client.conversations_open(users=user_id)
            channel = _str(response.data, "channel", "id")
        except SlackApiError as exc:
            log.warning("conversations.open failed for %s: %s", user_id, _get(exc.response.data, "error"))
        if channel:
            self._dm[user_id] = channel
        return channel or user_id

    async def _first(self, event_id: str, *, retried: bool = False) -> bool:
        """True if this event, command or press is new and should be processed (bot/dedupe.py)."""
        return await self.coach.dedupe.first(PLATFORM, event_id, retried=retried)

    # -- delivery --------------------------------------------------------------------------------
    async def answer(self, channel: str, replies: list[Reply], user_key: str = "") -> None:
        """Post a turn's replies; what Slack still rate-limits after the client's retries goes to the
        outbox (bot/outbox.py, the store's durable queue) and is delivered later, in order, once — an
        answer is never dropped."""
        for r_index, reply in enumerate(replies):
            plain = numbered_text(reply)
            for m_index, message in enumerate(B.render(reply)):
                try:
                    await self._post_message(channel, message, plain)
                except DeliveryError as exc:
                    if exc.retry_after is None or exc.permanent:
                        log.warning("could not answer %s in %s: %s", user_key, channel, exc)
                        return
                    await self._to_outbox(user_key, channel, replies[r_index:], m_index, exc.retry_after)
                    return

    async def _to_outbox(self, user_key: str, channel: str, replies: list[Reply], posted: int, delay: float) -> None:
        """Queue the rest of an answer: `replies`, of which the first `posted` messages are out already."""
        user_id = user_key.partition(":")[2] or channel
        item = f"answer:{channel}:{uuid.uuid4().hex}"
        box = outbox.service(self.coach)
        try:
            await box.enqueue(item, PLATFORM, user_id, replies, due=self.coach.clock() + delay,
                              address={"channel": channel}, skip=list(range(posted)))
            log.warning("Slack is rate-limiting us: the rest of an answer to %s waits in the outbox (%s)",
                        channel, item)
        except StoreError as exc:
            log.error("Slack rate-limited an answer to %s and the outbox is unreachable: %s", channel, exc)

    async def _move_old_outbox(self) -> None:
        """Once at start: move the answers an older version left in its own queue (OLD_OUTBOX) into the
        outbox, which sends them once. Each old job becomes the outbox item ``slack-outbox:<key>`` (the
        enqueue is idempotent by id, so a process that dies between the move and the old job's completion
        moves nothing twice); jobs not due yet, or held by another process, are waited for."""
        store, box = self.coach.store, outbox.service(self.coach)
        worker = f"slack-old-outbox-{uuid.uuid4().hex[:8]}"
        moved = messages = 0
        while True:
            try:
                now = self.coach.clock()
                jobs = await store.claim(OLD_OUTBOX, worker, limit=50, lease=outbox.LEASE_SECONDS, now=now)
                for job in jobs:
                    count = await self._move_old_job(box, job, worker, now)
                    if count:
                        moved, messages = moved + 1, messages + count
                if not jobs:
                    stats = await store.queue_stats(OLD_OUTBOX, now=now)
                    if stats.waiting + stats.leased == 0:
                        break
            except asyncio.CancelledError:
                raise
            except NotImplementedError:   # a store without queue statistics: what was due has been moved
                break
            except Exception as exc:      # the store unreachable for now: try again
                log.warning("could not move the old Slack outbox yet: %s", exc)
            await asyncio.sleep(self.old_outbox_poll)
        if moved:
            log.info("moved %d answer(s) (%d message(s)) from the old Slack outbox %r into the outbox",
                     moved, messages, OLD_OUTBOX)

    async def _move_old_job(self, box: Any, job: Any, worker: str, now: float) -> int:
        """One old job into the outbox: the number of its messages moved (0 if it had none, or if another
        process completed it first)."""
        payload = job.payload if isinstance(job.payload, dict) else {}
        channel = payload.get("channel")
        rendered: list[outbox.Prerendered] = []
        for entry in payload.get("messages") if isinstance(payload.get("messages"), list) else []:
            message = entry.get("message") if isinstance(entry, dict) else None
            plain = entry.get("plain") if isinstance(entry, dict) and isinstance(entry.get("plain"), str) else ""
            if isinstance(message, dict) and isinstance(message.get("text"), str) \
                    and isinstance(message.get("blocks"), list):
                rendered.append(outbox.Prerendered({"text": message["text"], "blocks": message["blocks"]},
                                                   plain or message["text"]))
            elif plain:
                rendered.append(outbox.Prerendered({"text": plain, "blocks": B.text_sections(plain)}, plain))
        if not isinstance(channel, str) or not channel:
            log.warning("old Slack outbox job %s names no channel; dropped", job.key)
            rendered = []
        elif rendered:
            await box.enqueue(f"{OLD_OUTBOX}:{job.key}", PLATFORM, channel, [], due=max(job.due, now),
                              address={"channel": channel}, rendered=rendered)
        done = await self.coach.store.complete(OLD_OUTBOX, job.key, worker, {"moved": len(rendered)})
        return len(rendered) if done else 0

    async def _post_message(self, channel: str, message: dict[str, Any], plain: str,
                            metadata: dict[str, Any] | None = None) -> tuple[str | None, str | None]:
        """Post one rendered message; returns (the channel id Slack posted it in, its ts). With
        `metadata` (an outbox item's) the post is never repeated blindly on a dropped connection."""
        extra = {"metadata": metadata} if metadata else {}
        client = self.outbox_client if metadata else self.client
        if "file" in message:
            return await self._upload(channel, message["file"]), None
        try:
            response = await client.chat_postMessage(channel=channel, text=message["text"],
                                                          blocks=message["blocks"], **extra)
            return _str(response.data, "channel"), _str(response.data, "ts")
        except SlackApiError as exc:
            error = _get(exc.response.data, "error")
            if error not in RENDER_ERRORS:
                raise delivery_error(exc) from exc
            log.error("Slack rejected our blocks (%s); sending plain text instead", error)
            ts = None
            try:
                for chunk in B.split_text(plain, 3500):
                    response = await client.chat_postMessage(channel=channel, text=chunk, **extra)
                    ts = ts or _str(response.data, "ts")
            except SlackApiError as exc2:
                raise delivery_error(exc2) from exc2
            return None, ts

    async def _upload(self, channel: str, file: dict[str, Any]) -> str | None:
        """Share a file in the conversation (files_upload_v2: files.getUploadURLExternal, the upload, then
        files.completeUploadExternal with the channel). Rate limits go back to the caller (the outbox);
        a refusal (e.g. the app lacks `files:write`) sends the content as text instead — nothing is lost."""
        if channel.startswith(("U", "W")):
            channel = await self.dm_channel(channel)   # completeUploadExternal shares into a channel id
        try:
            await self.client.files_upload_v2(channel=channel, filename=file["filename"], title=file["title"],
                                              content=file["content"].encode("utf-8"))
            return channel
        except SlackApiError as exc:
            failure = delivery_error(exc)
            if failure.retry_after is not None:
                raise failure from exc
            reason = _get(exc.response.data, "error")
        except SlackRequestError as exc:     # the upload itself failed (files.slack.com answered non-200)
            reason = str(exc)
        log.error("Slack refused the file upload (%s); sending its content as text instead", reason)
        for message in B.file_as_text(file):
            await self._post_message(channel, message, message["text"])
        return channel

    # Messenger protocol (proactive messages from the core)
    async def send(self, user_id: str, address: dict[str, Any] | None, replies: list[Reply], *,
                   ref: str | None = None, skip: frozenset[int] = frozenset()) -> list[str]:
        """Post replies to the user's DM; with `ref` (an outbox item id) each message carries
        metadata naming it (`ref/<n>`), which `find_sent` looks for later."""
        # chat.postMessage with a user id as the channel reaches the app's DM with that user, so a first
        # proactive message needs no conversations.open (a Tier 3 method, ~50 calls a minute)
        channel = _str(address, "channel") or self._dm.get(user_id) or user_id
        receipts: list[str] = []
        number = 0
        for reply in replies:
            if isinstance(reply, outbox.Prerendered):
                rendered, plain = [reply.message], reply.plain
            else:
                rendered, plain = B.render(reply), numbered_text(reply)
            for message in rendered:
                n, number = number, number + 1
                if n in skip:
                    continue
                metadata = ({"event_type": METADATA_TYPE, "event_payload": {"id": f"{ref}/{n}"}}
                            if ref else None)
                try:
                    opened, ts = await self._post_message(channel, message, plain, metadata)
                except DeliveryError as exc:
                    exc.partial = bool(receipts)
                    raise
                if ts:
                    receipts.append(ts)
                if opened and channel == user_id:
                    channel = self._dm[user_id] = opened  # the DM's id, as Slack answered it
        return receipts

    async def find_sent(self, user_id: str, address: dict[str, Any] | None, ref: str, *,
                        since: float) -> dict[int, str]:
        """The messages of outbox item `ref` in the user's DM since `since`: {message number: ts}.

        Reads the DM's history (`conversations.history`, scope im:history) with its metadata."""
        channel = _str(address, "channel") or self._dm.get(user_id)
        if not channel or not channel.startswith("D"):
            channel = await self.dm_channel(user_id)
        found: dict[int, str] = {}
        cursor = None
        prefix = f"{ref}/"
        try:
            for _ in range(HISTORY_PAGES):
                response = await self.client.conversations_history(
                    channel=channel, oldest=f"{since - HISTORY_MARGIN:.6f}", include_all_metadata=True,
                    limit=HISTORY_PAGE, cursor=cursor)
                for message in _get(response.data, "messages") or []:
                    meta = message.get("metadata") if isinstance(message, dict) else None
                    if not isinstance(meta, dict) or meta.get("event_type") != METADATA_TYPE:
                        continue
                    item = _get(meta, "event_payload", "id")
                    if isinstance(item, str) and item.startswith(prefix) and item[len(prefix):].isdigit():
                        found.setdefault(int(item[len(prefix):]), str(message.get("ts") or ""))
                cursor = _str(response.data, "response_metadata", "next_cursor")
                if not cursor or not response.data.get("has_more"):
                    break
        except SlackApiError as exc:
            error = delivery_error(exc)
            # never "permanent": the message itself may be deliverable; the question is asked again later
            raise DeliveryError(f"could not read the DM of {user_id} back: {error}",
                                retry_after=error.retry_after) from exc
        return found

    async def lookup_email(self, email: str) -> str | None:
        try:
            response = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if _get(exc.response.data, "error") == "users_not_found":
                return None
            raise delivery_error(exc) from exc
        return _str(response.data, "user", "id")

    # -- one turn --------------------------------------------------------------------------------
    async def _turn(self, incoming: Incoming, channel: str, *, once: bool = False, retried: bool = False) -> None:
        email, name = await self.user_info(incoming.user_id)
        incoming = replace(incoming, email=email, name=name)
        async def deliver(replies: list[Reply]) -> None:
            await self.answer(channel, replies, incoming.user_key)

        try:
            # [] when `once` finds a repeat, or when the core already handed the replies to `deliver`
            replies = await self.coach.handle(incoming, once=once, retried=retried, deliver=deliver)
        except Exception:  # a bug in the core must still leave the person with an answer
            log.exception("the core failed on a turn of %s", incoming.user_key)
            replies = [Reply(T.TURN_FAILED)]
        if replies:
            await deliver(replies)

    def _incoming(self, user_id: str, channel: str, event_id: str, **fields: Any) -> Incoming:
        return Incoming(
            platform=PLATFORM, user_id=user_id, channel_id=channel, is_private=True, event_id=event_id,
            address={"channel": channel}, **fields,
        )

    # -- events (bolt acknowledges these itself, before the listener runs) ------------------------
    async def _on_message(self, body: dict[str, Any], request: Any) -> None:
        self.spawn(self._dm_message(body, retried=is_retry(request)))

    async def _dm_message(self, body: dict[str, Any], *, retried: bool = False) -> None:
        event = body.get("event") or {}
        user, channel, event_id = _str(event, "user"), _str(event, "channel"), _str(body, "event_id")
        if (
            event.get("channel_type") != "im" or event.get("subtype") not in USER_SUBTYPES
            or event.get("bot_id") or event.get("bot_profile") or not user or not channel or not event_id
        ):
            return
        self._dm[user] = channel
        text = unescape(event.get("text") if isinstance(event.get("text"), str) else "")
        # the core's first step deduplicates the event (checked beside its first reads)
        await self._turn(self._incoming(user, channel, event_id, text=text), channel, once=True, retried=retried)

    async def _on_mention(self, body: dict[str, Any], request: Any) -> None:
        self.spawn(self._mention(body, retried=is_retry(request)))

    async def _mention(self, body: dict[str, Any], *, retried: bool = False) -> None:
        """A short public pointer in the channel; the conversation itself goes to the DM."""
        event = body.get("event") or {}
        user, channel, event_id = _str(event, "user"), _str(event, "channel"), _str(body, "event_id")
        if not user or not channel or not event_id or event.get("bot_id"):
            return
        if not await self._first(event_id, retried=retried):
            return
        if not channel.startswith("D"):
            try:
                await self.client.chat_postMessage(
                    channel=channel, text=T.MENTION.format(user=user),
                    thread_ts=_str(event, "thread_ts") or _str(event, "ts"),
                )
            except SlackApiError as exc:
                log.warning("could not answer a mention in %s: %s", channel, _get(exc.response.data, "error"))
        dm = await self.dm_channel(user)
        await self._turn(self._incoming(user, dm, event_id, command="grow", text=""), dm)

    async def _on_home_opened(self, body: dict[str, Any]) -> None:
        self.spawn(self._home_opened(body))

    async def _home_opened(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        user, channel = _str(event, "user"), _str(event, "channel")
        if not user:
            return
        if channel and channel.startswith("D"):
            self._dm[user] = channel
        if event.get("tab", "home") == "home":
            await self.publish_home(user)

    async def publish_home(self, user_id: str) -> None:
        summary = await self.coach.home(f"{PLATFORM}:{user_id}")
        try:
            await self.client.views_publish(user_id=user_id, view=B.home_view(summary))
        except SlackApiError as exc:
            log.warning("could not publish App Home for %s: %s", user_id, _get(exc.response.data, "error"))

    async def _changed(self, user_key: str, what: str) -> None:
        platform, _, user_id = user_key.partition(":")
        if platform == PLATFORM and user_id:
            self.spawn(self.publish_home(user_id))

    # -- slash commands --------------------------------------------------------------------------
    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        name = COMMANDS.get(body.get("command", ""))
        user = _str(body, "user_id")
        args = " ".join(str(body.get("text") or "").split())
        if name is None or user is None:
            await ack(text=T.USAGE)
            return
        text = args
        if name == "grow":
            words = GROW_WORDS.get(args.lower())
            if words is None:
                await ack(text=T.USAGE)
                return
            text = words
        if self._dm.get(user) == body.get("channel_id"):
            await ack()
        else:
            await ack(text=T.SEE_DM)
        event_id = _str(body, "trigger_id") or self._hash(body)
        self.spawn(self._command(user, event_id, name, text))

    async def _command(self, user: str, event_id: str, name: str, text: str) -> None:
        if not await self._first(event_id):
            return
        dm = await self.dm_channel(user)
        await self._turn(self._incoming(user, dm, event_id, command=name, text=text), dm)

    # -- block actions ---------------------------------------------------------------------------
    @staticmethod
    def _hash(body: dict[str, Any]) -> str:
        return "h:" + hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def _interaction_id(self, body: dict[str, Any], action: dict[str, Any]) -> str:
        trigger = _str(body, "trigger_id")
        if trigger:
            return f"{trigger}:{action.get('action_id')}"
        return self._hash({"user": _get(body, "user", "id"), "action": action,
                           "ts": _get(body, "container", "message_ts")})

    async def _reply_channel(self, body: dict[str, Any], user: str) -> str:
        """Where to answer a press: the DM it was pressed in, else the user's DM (never a channel)."""
        channel = _str(body, "container", "channel_id") or _str(body, "channel", "id")
        if channel and channel.startswith("D"):
            self._dm.setdefault(user, channel)
            return channel
        return await self.dm_channel(user)

    async def _on_choose(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        self.spawn(self._choose(body))

    async def _choose(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user = body["user"]["id"]
        if action.get("action_id") == B.CHOOSE_SELECT:
            value, label = _str(action, "selected_option", "value"), _str(action, "selected_option", "text", "text")
        else:
            value, label = _str(action, "value"), _str(action, "text", "text")
        if value is None:
            await self._unknown(body)
            return
        event_id = self._interaction_id(body, action)
        if not await self._first(event_id):
            return
        channel = await self._reply_channel(body, user)
        await self._mark_chosen(body, action.get("block_id"), label or value)
        incoming = self._incoming(user, channel, event_id, text=label or value, choice=value,
                                  prompt_id=B.prompt_of(action.get("block_id")))
        await self._turn(incoming, channel)

    async def _on_pick(self, ack: Any) -> None:
        """Ticking a checkbox or picking in a multi-select only changes the message state; the
        Submit button sends the picks."""
        await ack()

    async def _on_submit(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        self.spawn(self._submit(body))

    async def _submit(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user = body["user"]["id"]
        block_id = action.get("block_id")
        picked = _get(body, "state", "values", block_id or "", B.PICK_MANY, "selected_options")
        picked = [o for o in picked if isinstance(o, dict) and isinstance(o.get("value"), str)] \
            if isinstance(picked, list) else []
        values = tuple(o["value"] for o in picked)
        labels = ", ".join(_str(o, "text", "text") or o["value"] for o in picked)
        event_id = self._interaction_id(body, action)
        if not await self._first(event_id):
            return
        channel = await self._reply_channel(body, user)
        await self._mark_chosen(body, block_id, labels)
        prompt_id = B.prompt_of(block_id) or _str(action, "value")
        await self._turn(self._incoming(user, channel, event_id, text=labels, choices=values,
                                        prompt_id=prompt_id), channel)

    async def _mark_chosen(self, body: dict[str, Any], block_id: Any, label: str) -> None:
        """Replace the question's buttons with the choice made, so they cannot be pressed twice."""
        channel = _str(body, "container", "channel_id") or _str(body, "channel", "id")
        ts = _str(body, "container", "message_ts") or _str(body, "message", "ts")
        old_blocks = _get(body, "message", "blocks")
        if not channel or not ts or not isinstance(old_blocks, list) or not isinstance(block_id, str):
            return
        text = _str(body, "message", "text") or label
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text,
                                          blocks=B.chosen_blocks(old_blocks, block_id, label))
        except SlackApiError as exc:
            log.info("could not update a pressed message: %s", _get(exc.response.data, "error"))

    async def _on_home_action(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        self.spawn(self._home_action(body))

    async def _home_action(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user = body["user"]["id"]
        target = B.HOME_ACTIONS.get(action.get("action_id", ""))
        if target is None:
            await self._unknown(body)
            return
        event_id = self._interaction_id(body, action)
        if not await self._first(event_id):
            return
        command, text = target
        dm = await self.dm_channel(user)
        await self._turn(self._incoming(user, dm, event_id, command=command, text=text), dm)

    async def _on_unknown_action(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        self.spawn(self._unknown(body))

    async def _unknown(self, body: dict[str, Any]) -> None:
        user = _str(body, "user", "id")
        if not user:
            return
        # action ids only: an action's value can be what the person typed
        ids = [a.get("action_id") for a in _get(body, "actions") or [] if isinstance(a, dict)]
        log.info("unknown Slack action %r from %s", ids, user)
        channel = _str(body, "container", "channel_id") or _str(body, "channel", "id")
        try:
            if channel:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=T.UNKNOWN_ACTION)
            else:
                await self.client.chat_postMessage(channel=await self.dm_channel(user), text=T.UNKNOWN_ACTION)
        except SlackApiError as exc:
            log.info("could not answer an unknown action: %s", _get(exc.response.data, "error"))
