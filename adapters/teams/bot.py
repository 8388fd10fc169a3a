"""The activity handler: Teams activities in, `Incoming` to the core, rendered replies out.

* Personal chat: every message is a turn; the reply goes back in the chat.
* Team channels and group chats: only messages that @-mention the bot are turns (the mention is
  stripped); the answer goes to the user's private chat and the channel only gets a short pointer.
* Card submits (`activity.value`) become the same `Incoming(choice=…, prompt_id=…)` typed text would,
  and the submitted card is replaced by a read-only copy that shows what was chosen.
* Welcome: when the app is installed for a user, or a user joins a team where it is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount

from adapters.teams import messages as T
from adapters.teams.cards import CARD_CONTENT_TYPE, MY_DATA_FILE, Message, Submit, answered_card, parse_submit
from adapters.teams.cards import file_info_message, render, welcome_message
from adapters.teams.conversations import TEAMS_CHANNEL, address_of, is_personal, is_personal_address, team_of
from adapters.teams.conversations import tenant_of
from adapters.teams.errors import unreachable
from bot import mydata
from bot.errors import ConflictError
from bot.store import Record
from bot.types import Incoming, Reply

if TYPE_CHECKING:
    from adapters.teams.runtime import TeamsRuntime

log = logging.getLogger("skillcoach.teams")

_SPACES = re.compile(r"[ \t\u00a0]+")
_AT_TAG = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)

# Words that are commands (as Slack's slash commands are); everything else goes to the core as text.
_COMMAND_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("nudge team", "nudge-team"), "nudge-team"),
    (("team skills", "team-skills"), "team-skills"),
    (("grow",), "grow"),
)


def command_of(text: str) -> tuple[str | None, str]:
    """`grow`, `nudge team …`, `team skills …` as (command, arguments); other text as (None, text)."""
    words = text.strip().lstrip("/")
    lowered = words.lower()
    for phrases, command in _COMMAND_WORDS:
        for phrase in phrases:
            if lowered == phrase or lowered.startswith(phrase + " "):
                return command, words[len(phrase):].strip()
    return None, text.strip()


def _bot_mentions(activity: Activity) -> list[dict[str, Any]]:
    """The mention entities that name the bot (tolerating entities of any shape)."""
    bot_id = activity.recipient.id if activity.recipient else None
    found = []
    for entity in activity.entities or []:
        if not isinstance(entity.type, str) or entity.type.lower() != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned")
        if isinstance(mentioned, dict) and bot_id and mentioned.get("id") == bot_id:
            found.append(props)
    return found


def strip_mention(activity: Activity) -> str:
    """The message text without the @-mention of the bot; other people's mentions keep their names."""
    mentions = _bot_mentions(activity)
    text = activity.text or ""
    if mentions:
        try:
            text = TurnContext.remove_recipient_mention(activity) or ""
        except (re.error, KeyError, TypeError, AttributeError):
            pass  # botbuilder uses the mention text as a regular expression; the loop below does it plainly
        for props in mentions:
            if isinstance(props.get("text"), str) and props["text"]:
                text = text.replace(props["text"], "")
    return _AT_TAG.sub(lambda m: m.group(1), text)


def mentions_bot(activity: Activity) -> bool:
    return bool(_bot_mentions(activity))


def clean_text(text: str) -> str:
    """Entities decoded, runs of spaces collapsed, line breaks kept."""
    lines = (_SPACES.sub(" ", line).strip() for line in html.unescape(text).replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def user_id_of(account: ChannelAccount | None) -> str | None:
    """The user's id for the core: the AAD object id when Teams gives one (the organisation file's
    `teams_id`), else the channel account id (Emulator)."""
    if account is None:
        return None
    return account.aad_object_id or account.id


ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
FILE_CONSENT = "fileConsent/invoke"
FILE_CONSENTS = "teams_file_consents"   # store: hashed card id -> {"state": uploading|sent|declined, "at"}
UPLOAD_LEASE = 120.0                     # an "uploading" answer older than this was left by a stopped process
MESSAGE_RESPONSE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_RESPONSE_TYPE = "application/vnd.microsoft.error"


def consent_key(activity: Activity, user_id: str, name: str) -> str:
    """The record key of one consent card: its activity id in its conversation (the invoke's replyToId);
    without one, the file's name for this person. Hashed: the record holds nothing about anyone."""
    card = f"{activity.conversation.id}|{activity.reply_to_id}" if activity.reply_to_id else f"{user_id}|{name}"
    return hashlib.sha256(card.encode("utf-8")).hexdigest()[:40]


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


class SkillcoachTeamsBot(TeamsActivityHandler):
    def __init__(self, runtime: TeamsRuntime) -> None:
        self.runtime = runtime
        self.coach = runtime.coach

    # -- messages ----------------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        submit = parse_submit(activity.value) if activity.value is not None else None
        pointer = await self._turn(turn_context, submit, show_answer=True)
        if pointer is not None:
            await turn_context.send_activity(Message(text=pointer).activity())

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """`adaptiveCard/action` (Action.Execute) runs the same turn a card submit does and answers with the
        answered card; `fileConsent/invoke` answers a file consent card (`my data`); any other invoke is
        not something this bot offers: a 400 invoke response."""
        activity = turn_context.activity
        if activity.name == FILE_CONSENT:
            return await self._file_consent(turn_context)
        if activity.name != ADAPTIVE_CARD_ACTION:
            log.info("unsupported Teams invoke %r answered with 400", activity.name)
            return error_response(400, "NotSupported", f"this bot does not handle the invoke {activity.name!r}")
        data = execute_data(activity.value)
        if data is None:
            return error_response(400, "BadRequest", "the invoke value is not an Action.Execute")
        submit = parse_submit(data)
        if submit is None:
            return error_response(400, "BadRequest", "the action is not one of this bot's cards")
        try:
            pointer = await self._turn(turn_context, submit, show_answer=False)
        except Exception:
            log.exception("Teams card action failed")
            return message_response(T.SORRY)
        if pointer is not None:
            return message_response(pointer)
        if submit.choice or submit.choices is not None:
            return card_response(answered_card(submit))
        return message_response(T.DONE)

    async def _file_consent(self, turn_context: TurnContext) -> InvokeResponse:
        """The person answered the `my data` file consent card. Accepted: their export, made now, is PUT to
        the upload URL Teams gives (their OneDrive), then shown as a file card; declined: a short note.

        Each card is answered once: the answer is recorded (FILE_CONSENTS, by the card's activity id) before
        the upload, and the card is then replaced by a line saying what happened, so it cannot be pressed
        again; an answer to a card answered already changes nothing and says so."""
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
            mine = await self._answer_consent(key, state)
        except Exception as exc:    # the store unreachable: nothing was sent, the card can be answered again
            log.warning("could not record the answer to a my-data consent card of teams:%s: %s", user_id, exc)
            await turn_context.send_activity(Message(text=T.FILE_FAILED).activity())
            return InvokeResponse(status=200, body={})
        if isinstance(mine, str):
            await turn_context.send_activity(Message(text=mine).activity())
            return InvokeResponse(status=200, body={})
        if action == "decline":
            await self._close_consent_card(turn_context, T.FILE_CARD_DECLINED.format(name=name))
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
        await self._close_consent_card(turn_context, T.FILE_CARD_SENT.format(name=name))
        await turn_context.send_activity(file_info_message(info).activity())
        return InvokeResponse(status=200, body={})

    async def _answer_consent(self, key: str, state: str) -> Record | str:
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

    async def _close_consent_card(self, turn_context: TurnContext, text: str) -> None:
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

    async def _turn(self, turn_context: TurnContext, submit: Submit | None, *, show_answer: bool) -> str | None:
        """One turn of the core. In a personal chat the replies are sent here and None is returned; in a
        channel or group chat they go to the person's private chat and the return value is what the
        shared conversation may be told (never anything private)."""
        activity = turn_context.activity
        personal = is_personal(activity)
        if not personal and submit is None and not mentions_bot(activity):
            return None  # channel chatter not addressed to the bot
        # activity ids are unique within a conversation: the pair is the event's identity
        if activity.id and not await self.coach.dedupe.first("teams", f"{activity.conversation.id}|{activity.id}"):
            log.info("duplicate Teams activity %s ignored", activity.id)
            return None
        user_id = user_id_of(activity.from_property)
        if not user_id:
            return None
        if not personal:
            await self.runtime.remember_team(activity)
        email, name = await self._member(turn_context)
        fields: dict[str, Any]
        if submit is not None:
            fields = {"choice": submit.choice, "choices": submit.choices, "prompt_id": submit.prompt_id,
                      "command": submit.command, "text": submit.label}
        else:
            command, rest = command_of(clean_text(strip_mention(activity)))
            fields = {"command": command, "text": rest}
        incoming = Incoming(
            platform="teams",
            user_id=user_id,
            channel_id=activity.conversation.id,
            is_private=personal,
            email=email,
            name=name or (activity.from_property.name if activity.from_property else None),
            event_id=activity.id,
            address=address_of(activity) if personal else None,
            **fields,
        )
        if (show_answer and submit is not None and activity.reply_to_id
                and (submit.choice or submit.choices is not None)):
            await self._show_answer(turn_context, submit)
        replies = await self.coach.handle(incoming)
        if personal:
            await send_replies(turn_context, replies)
            return None
        return await self._answer_privately(turn_context, user_id, email, replies)

    async def _member(self, turn_context: TurnContext) -> tuple[str | None, str | None]:
        """The sender's email and name from the Teams roster (cached); (None, None) outside Teams."""
        activity = turn_context.activity
        member_id = activity.from_property.id if activity.from_property else None
        if not member_id or activity.channel_id != TEAMS_CHANNEL:
            return None, None
        cached = self.runtime.cached_member(member_id)
        if cached is not None:
            return cached
        email = name = None
        try:
            member = await TeamsInfo.get_member(turn_context, member_id)
            email = member.email or member.user_principal_name
            name = member.name
        except Exception as exc:  # the roster is a nicety: the turn goes on without an email
            # an unreachable connector is reported once, by the turn that then fails to answer
            (log.debug if unreachable(exc) else log.info)("could not read the Teams member %s: %s", member_id, exc)
            return None, None
        self.runtime.cache_member(member_id, email, name)
        return email, name

    async def _show_answer(self, turn_context: TurnContext, submit: Submit) -> None:
        """Replace the submitted card with a read-only copy showing the choice (no second submit)."""
        activity = turn_context.activity
        updated = Activity(
            type=ActivityTypes.message,
            id=activity.reply_to_id,
            conversation=activity.conversation,
            attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=answered_card(submit))],
        )
        try:
            await turn_context.update_activity(updated)
        except Exception as exc:  # an old card that can't be updated is harmless: the core spots stale submits
            log.info("could not update the submitted card %s: %s", activity.reply_to_id, exc)

    async def _answer_privately(
        self, turn_context: TurnContext, user_id: str, email: str | None, replies: list[Reply]
    ) -> str:
        """Send the replies to the person's 1:1 chat (the stored one, or one opened now); what the shared
        conversation is told: that they were answered privately only when that send succeeded."""
        activity = turn_context.activity
        address = await self.coach.address_of(f"teams:{user_id}")
        if address is not None and not is_personal_address(address):
            address = None  # a channel or group conversation is never anyone's private chat
        messages = [m for reply in replies for m in render(reply)]
        try:
            if address:
                await self.runtime.messenger.deliver(address, messages)
            else:
                await self.runtime.messenger.open_chat(
                    user_id=user_id,
                    member=activity.from_property,
                    tenant_id=tenant_of(activity),
                    service_url=activity.service_url,
                    bot=activity.recipient,
                    messages=messages,
                    email=email,
                )
        except Exception as exc:
            log.warning("could not answer teams:%s privately: %s", user_id, exc)
            return T.CANT_REACH_PRIVATELY
        return T.ANSWERED_PRIVATELY

    # -- welcome -----------------------------------------------------------------------------
    async def on_teams_members_added_dispatch(  # type: ignore[override]
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        """botbuilder's version fails the whole update when one member cannot be read from the roster
        (a guest, a member who already left): read each one, keep the plain account when that fails."""
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        members: list[Any] = []
        for account in members_added:
            if account.id == bot_id or turn_context.activity.channel_id != TEAMS_CHANNEL:
                members.append(account)
                continue
            try:
                members.append(await TeamsInfo.get_member(turn_context, account.id))
            except Exception as exc:
                log.info("could not read the added Teams member %s: %s", account.id, exc)
                members.append(account)
        await self.on_teams_members_added(members, team_info, turn_context)

    async def on_teams_members_added(  # type: ignore[override]
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        await self._members_added(turn_context, teams_members_added)

    async def on_members_added_activity(  # type: ignore[override]
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self._members_added(turn_context, members_added)  # Emulator and other channels

    async def on_teams_members_removed(  # type: ignore[override]
        self, teams_members_removed: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        team = team_of(activity)
        if team and any(m.id == activity.recipient.id for m in teams_members_removed):
            await self.runtime.forget_team(team["id"])

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if is_personal(activity):
            await self._welcome_here(turn_context)
        else:
            await self._welcome_team(turn_context)

    async def _members_added(self, turn_context: TurnContext, members: list[Any]) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        bot_added = any(m.id == bot_id for m in members)
        if is_personal(activity):
            if bot_added or activity.channel_id != TEAMS_CHANNEL:
                await self._welcome_here(turn_context)
            return
        if team_of(activity) is None:
            return  # a group chat: nothing to welcome
        if bot_added:
            await self._welcome_team(turn_context)
        for member in members:
            if member.id != bot_id:
                await self._welcome_member(turn_context, member)

    async def _welcome_here(self, turn_context: TurnContext) -> None:
        """The app was installed for a user: welcome them in this personal chat, once."""
        activity = turn_context.activity
        user_id = user_id_of(activity.from_property)
        if not user_id or not await self.coach.first_time("teams", f"welcome:{user_id}"):
            return
        email, _ = await self._member(turn_context)
        await self.runtime.remember_address(user_id, address_of(activity), email)
        await turn_context.send_activity(welcome_message().activity())

    async def _welcome_team(self, turn_context: TurnContext) -> None:
        """The app was added to a team: keep its roster reachable and say hello in the channel, once."""
        activity = turn_context.activity
        await self.runtime.remember_team(activity)
        team = team_of(activity)
        key = f"team-welcome:{team['id'] if team else activity.conversation.id}"
        if await self.coach.first_time("teams", key):
            await turn_context.send_activity(Message(text=T.TEAM_WELCOME).activity())

    async def _welcome_member(self, turn_context: TurnContext, member: Any) -> None:
        """A user joined a team where the app is installed: welcome them in a private chat, once."""
        activity = turn_context.activity
        await self.runtime.remember_team(activity)
        user_id = user_id_of(member)
        if not user_id or not await self.coach.first_time("teams", f"welcome:{user_id}"):
            return
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        try:
            address = await self.coach.address_of(f"teams:{user_id}")
            if address and is_personal_address(address):
                await self.runtime.messenger.deliver(address, [welcome_message()])
            else:
                await self.runtime.messenger.open_chat(
                    user_id=user_id,
                    member=member,
                    tenant_id=tenant_of(activity),
                    service_url=activity.service_url,
                    bot=activity.recipient,
                    messages=[welcome_message()],
                    email=email,
                )
        except Exception as exc:
            log.warning("could not welcome new team member %s: %s", user_id, exc)


async def upload_file(url: str, content: bytes, *, timeout: float = 30.0) -> None:
    """PUT a whole file to a OneDrive upload session URL (one range: the file is small)."""
    import aiohttp

    headers = {"Content-Length": str(len(content)), "Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.put(url, data=content, headers=headers) as response:
            if response.status not in (200, 201):
                raise RuntimeError(f"the upload URL answered HTTP {response.status}")


async def send_replies(turn_context: TurnContext, replies: list[Reply]) -> None:
    activities = [m.activity() for reply in replies for m in render(reply)]
    if activities:
        await turn_context.send_activities(activities)
