"""Replies out to Slack: a turn's answer, the outbox's proactive messages, files, reading a DM back.

`SlackDelivery` posts rendered Block Kit messages (chat.postMessage; plain text when Slack rejects our
blocks), shares files (files_upload_v2; the content as text when that is refused), and is the work
behind the adapter's `Messenger` (bot/delivery.py): `send` tags each proactive message with metadata
naming its outbox item, and `find_sent` reads the DM's history for those tags, so the outbox can tell
whether a post whose connection dropped arrived. What Slack still rate-limits after the client's
retries goes to the outbox (bot/outbox.py) — an answer is never dropped.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as B
from adapters.slack.client import PLATFORM, delivery_error, field, text_field
from adapters.slack.directory import SlackDirectory
from bot import outbox
from bot.core import Coach
from bot.delivery import DeliveryError
from bot.errors import StoreError
from bot.types import Reply, numbered_text

log = logging.getLogger("skillcoach.slack")

RENDER_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_attachments"}
METADATA_TYPE = "skillcoach_message"   # the event type of the metadata on proactive messages
HISTORY_PAGE = 200                       # messages per conversations.history page when resolving
HISTORY_PAGES = 5
HISTORY_MARGIN = 120.0                   # seconds of history read before a reservation (clock skew)


class SlackDelivery:
    def __init__(self, coach: Coach, client: AsyncWebClient, outbox_client: AsyncWebClient,
                 directory: SlackDirectory) -> None:
        self.coach = coach
        self.client = client
        # proactive messages (the outbox): a dropped connection is not retried blindly, the outbox reads
        # the DM back instead (a blind retry of a post that arrived would be a second copy)
        self.outbox_client = outbox_client
        self.directory = directory

    async def answer(self, channel: str, replies: list[Reply], user_key: str = "") -> None:
        """Post a turn's replies, as one message where they fit (blocks.answer_messages); what Slack still
        rate-limits after the client's retries goes to the outbox (bot/outbox.py, the store's durable
        queue) and is delivered later, in order, once — an answer is never dropped."""
        messages = B.answer_messages(replies)
        for index, (message, plain) in enumerate(messages):
            try:
                await self.post_message(channel, message, plain)
            except DeliveryError as exc:
                if exc.retry_after is None or exc.permanent:
                    log.warning("could not answer %s in %s: %s", user_key, channel, exc)
                    return
                await self._to_outbox(user_key, channel, messages[index:], exc.retry_after)
                return

    async def _to_outbox(self, user_key: str, channel: str, messages: list[tuple[dict[str, Any], str]],
                         delay: float) -> None:
        """Queue the rest of an answer: its messages not posted yet, as rendered (the outbox sends them as
        they are)."""
        user_id = user_key.partition(":")[2] or channel
        item = f"answer:{channel}:{uuid.uuid4().hex}"
        box = outbox.service(self.coach)
        try:
            await box.enqueue(item, PLATFORM, user_id, [], due=self.coach.clock() + delay,
                              address={"channel": channel},
                              rendered=[outbox.Prerendered(message, plain) for message, plain in messages])
            log.warning("Slack is rate-limiting us: the rest of an answer to %s waits in the outbox (%s)",
                        channel, item)
        except StoreError as exc:
            log.error("Slack rate-limited an answer to %s and the outbox is unreachable: %s", channel, exc)

    async def post_message(self, channel: str, message: dict[str, Any], plain: str,
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
            return text_field(response.data, "channel"), text_field(response.data, "ts")
        except SlackApiError as exc:
            error = field(exc.response.data, "error")
            if error not in RENDER_ERRORS:
                raise delivery_error(exc) from exc
            log.error("Slack rejected our blocks (%s); sending plain text instead", error)
            ts = None
            try:
                for chunk in B.split_text(plain, 3500):
                    response = await client.chat_postMessage(channel=channel, text=chunk, **extra)
                    ts = ts or text_field(response.data, "ts")
            except SlackApiError as exc2:
                raise delivery_error(exc2) from exc2
            return None, ts

    async def _upload(self, channel: str, file: dict[str, Any]) -> str | None:
        """Share a file in the conversation (files_upload_v2: files.getUploadURLExternal, the upload, then
        files.completeUploadExternal with the channel). Rate limits go back to the caller (the outbox);
        a refusal (e.g. the app lacks `files:write`) sends the content as text instead — nothing is lost."""
        if channel.startswith(("U", "W")):
            channel = await self.directory.dm_channel(channel)   # completeUploadExternal shares into a channel id
        try:
            await self.client.files_upload_v2(channel=channel, filename=file["filename"], title=file["title"],
                                              content=file["content"].encode("utf-8"))
            return channel
        except SlackApiError as exc:
            failure = delivery_error(exc)
            if failure.retry_after is not None:
                raise failure from exc
            reason = field(exc.response.data, "error")
        except SlackRequestError as exc:     # the upload itself failed (files.slack.com answered non-200)
            reason = str(exc)
        log.error("Slack refused the file upload (%s); sending its content as text instead", reason)
        for message in B.file_as_text(file):
            await self.post_message(channel, message, message["text"])
        return channel

    # Messenger protocol (proactive messages from the core)
    async def send(self, user_id: str, address: dict[str, Any] | None, replies: list[Reply], *,
                   ref: str | None = None, skip: frozenset[int] = frozenset()) -> list[str]:
        """Post replies to the user's DM; with `ref` (an outbox item id) each message carries
        metadata naming it (`ref/<n>`), which `find_sent` looks for later."""
        # chat.postMessage with a user id as the channel reaches the app's DM with that user, so a first
        # proactive message needs no conversations.open (a Tier 3 method, ~50 calls a minute)
        dms = self.directory.dms
        channel = text_field(address, "channel") or dms.get(user_id) or user_id
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
                    opened, ts = await self.post_message(channel, message, plain, metadata)
                except DeliveryError as exc:
                    exc.partial = bool(receipts)
                    raise
                if ts:
                    receipts.append(ts)
                if opened and channel == user_id:
                    channel = dms[user_id] = opened  # the DM's id, as Slack answered it
        return receipts

    async def find_sent(self, user_id: str, address: dict[str, Any] | None, ref: str, *,
                        since: float) -> dict[int, str]:
        """The messages of outbox item `ref` in the user's DM since `since`: {message number: ts}.

        Reads the DM's history (`conversations.history`, scope im:history) with its metadata."""
        channel = text_field(address, "channel") or self.directory.dms.get(user_id)
        if not channel or not channel.startswith("D"):
            channel = await self.directory.dm_channel(user_id)
        found: dict[int, str] = {}
        cursor = None
        prefix = f"{ref}/"
        try:
            for _ in range(HISTORY_PAGES):
                response = await self.client.conversations_history(
                    channel=channel, oldest=f"{since - HISTORY_MARGIN:.6f}", include_all_metadata=True,
                    limit=HISTORY_PAGE, cursor=cursor)
                for message in field(response.data, "messages") or []:
                    meta = message.get("metadata") if isinstance(message, dict) else None
                    if not isinstance(meta, dict) or meta.get("event_type") != METADATA_TYPE:
                        continue
                    item = field(meta, "event_payload", "id")
                    if isinstance(item, str) and item.startswith(prefix) and item[len(prefix):].isdigit():
                        found.setdefault(int(item[len(prefix):]), str(message.get("ts") or ""))
                cursor = text_field(response.data, "response_metadata", "next_cursor")
                if not cursor or not response.data.get("has_more"):
                    break
        except SlackApiError as exc:
            error = delivery_error(exc)
            # never "permanent": the message itself may be deliverable; the question is asked again later
            raise DeliveryError(f"could not read the DM of {user_id} back: {error}",
                                retry_after=error.retry_after) from exc
        return found
