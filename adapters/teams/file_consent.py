"""The `my data` file over Teams: the answer to its file consent card (`fileConsent/invoke`).

Accepted: the person's export, made now, is PUT to the upload URL Teams gives (their OneDrive), then
shown as a file card; declined: a short note. Each card is answered once: the answer is recorded
(FILE_CONSENTS, by the card's activity id, hashed) before the upload, and the card is then replaced by a
line saying what happened, so it cannot be pressed again; an answer to a card answered already
changes nothing and says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity

from adapters.teams import messages as T
from adapters.teams.activity import user_id_of
from adapters.teams.cards import MY_DATA_FILE, Message, file_info_message
from adapters.teams.conversations import is_personal
from adapters.teams.invoke import error_response
from bot import mydata
from bot.errors import ConflictError
from bot.store import Record

if TYPE_CHECKING:
    from adapters.teams.runtime import TeamsRuntime

log = logging.getLogger("skillcoach.teams")

FILE_CONSENT = "fileConsent/invoke"
FILE_CONSENTS = "teams_file_consents"   # store: hashed card id -> {"state": uploading|sent|declined, "at"}
UPLOAD_LEASE = 120.0                     # an "uploading" answer older than this was left by a stopped process


def consent_key(activity: Activity, user_id: str, name: str) -> str:
    """The record key of one consent card: its activity id in its conversation (the invoke's replyToId);
    without one, the file's name for this person. Hashed: the record holds nothing about anyone."""
    card = f"{activity.conversation.id}|{activity.reply_to_id}" if activity.reply_to_id else f"{user_id}|{name}"
    return hashlib.sha256(card.encode("utf-8")).hexdigest()[:40]


class FileConsent:
    def __init__(self, runtime: TeamsRuntime) -> None:
        self.runtime = runtime
        self.coach = runtime.coach

    async def answer(self, turn_context: TurnContext) -> InvokeResponse:
        """The person answered the `my data` file consent card (see the module's docstring)."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        context = value.get("context") if isinstance(value.get("context"), dict) else {}
        user_id = user_id_of(activity.from_property)
        if context.get("file") != MY_DATA_FILE or not is_personal(activity) or not user_id:
            return error_response(400, "BadRequest", "not a file this bot offered")
        action = value.get("action")
        info = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else {}
        url = info.get("uploadUrl")
        if action != "decline" and (action != "accept" or not isinstance(url, str) or not self._may_upload_to(url)):
            return error_response(400, "BadRequest", "the file consent answer has no usable upload URL")
        name = str(context.get("name") or info.get("name") or "")
        key = consent_key(activity, user_id, name)
        state = "declined" if action == "decline" else "uploading"
        try:
            mine = await self._record_answer(key, state)
        except Exception as exc:    # the store unreachable: nothing was sent, the card can be answered again
            log.warning("could not record the answer to a my-data consent card of teams:%s: %s", user_id, exc)
            await turn_context.send_activity(Message(text=T.FILE_FAILED).activity())
            return InvokeResponse(status=200, body={})
        if isinstance(mine, str):
            await turn_context.send_activity(Message(text=mine).activity())
            return InvokeResponse(status=200, body={})
        if action == "decline":
            await self._close_card(turn_context, T.FILE_CARD_DECLINED.format(name=name))
            await turn_context.send_activity(Message(text=T.FILE_DECLINED).activity())
            return InvokeResponse(status=200, body={})
        try:
            content = mydata.as_json(await self.coach.export(f"teams:{user_id}")).encode("utf-8")
            await upload_file(url, content)
        except Exception as exc:    # the person can ask again (this card too); nothing of theirs is lost
            log.warning("could not upload the my-data file of teams:%s: %s", user_id, exc)
            with contextlib.suppress(Exception):
                await self.coach.store.delete(FILE_CONSENTS, key)
            await turn_context.send_activity(Message(text=T.FILE_FAILED).activity())
            return InvokeResponse(status=200, body={})
        try:
            await self.coach.store.put(FILE_CONSENTS, key, {"state": "sent", "at": self.coach.clock()})
        except Exception as exc:    # the file is out; only the record of it is missing
            log.warning("could not record the my-data upload of teams:%s: %s", user_id, exc)
        await self._close_card(turn_context, T.FILE_CARD_SENT.format(name=name))
        await turn_context.send_activity(file_info_message(info).activity())
        return InvokeResponse(status=200, body={})

    async def _record_answer(self, key: str, state: str) -> Record | str:
        """Record the answer to one consent card: the record when this answer is the first (or takes over
        an upload whose process stopped), else what to tell the person."""
        store, now = self.coach.store, self.coach.clock()
        for _ in range(3):
            record = await store.get(FILE_CONSENTS, key)
            data = record.data if record else {}
            if record is not None and not (data.get("state") == "uploading"
                                           and now - float(data.get("at", 0)) > UPLOAD_LEASE):
                return {"sent": T.FILE_SENT_ALREADY, "declined": T.FILE_DECLINED_ALREADY}.get(
                    str(data.get("state")), T.FILE_UNDERWAY)
            try:
                return await store.put(FILE_CONSENTS, key, {"state": state, "at": now},
                                       version=record.version if record else 0)
            except ConflictError:
                continue    # answered at the same moment by another request: read what it recorded
        return T.FILE_UNDERWAY

    async def _close_card(self, turn_context: TurnContext, text: str) -> None:
        """Replace the answered consent card (the invoke's replyToId) with a line saying what happened."""
        activity = turn_context.activity
        if not activity.reply_to_id:
            return
        updated = Message(text=text).activity()
        updated.id, updated.conversation = activity.reply_to_id, activity.conversation
        try:
            await turn_context.update_activity(updated)
        except Exception as exc:  # the record still keeps a second answer from uploading again
            log.info("could not update the answered file consent card %s: %s", activity.reply_to_id, exc)

    def _may_upload_to(self, url: str) -> bool:
        """Only an https upload URL (Teams gives one in the person's OneDrive); plain http only in local
        development, where no Bot Framework auth is configured."""
        scheme = urlsplit(url).scheme
        return scheme == "https" or (scheme == "http" and not self.runtime.auth_required)


async def upload_file(url: str, content: bytes, *, timeout: float = 30.0) -> None:
    """PUT a whole file to a OneDrive upload session URL (one range: the file is small)."""
    import aiohttp

    headers = {"Content-Length": str(len(content)), "Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.put(url, data=content, headers=headers) as response:
            if response.status not in (200, 201):
                raise RuntimeError(f"the upload URL answered HTTP {response.status}")
