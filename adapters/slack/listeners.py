"""The bolt listeners: Slack events, slash commands and block actions in, one `Incoming` to the core.

Every listener acknowledges first and does its work in a background task (`spawn`), so Slack always
gets its answer within 3 seconds, whatever the store does. Every event, command and press is
deduplicated by the core's turn (`handle(once=True)`, bot/dedupe.py); this adapter's own Slack calls for
an event (the mention's public pointer, the pressed message's update) are handed to the core as `before`,
which runs them only for a new event, so a repeat makes none of them. The replies go out through
`SlackDelivery.answer`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import replace
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as B
from adapters.slack import texts as T
from adapters.slack.client import PLATFORM, field, text_field
from adapters.slack.delivery import SlackDelivery
from adapters.slack.directory import SlackDirectory
from adapters.slack.home import AppHome, Spawn
from bot import messages as M
from bot.core import Coach
from bot.types import Incoming, Reply

log = logging.getLogger("skillcoach.slack")

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


def unescape(text: str) -> str:
    """Slack escapes &, < and > in message text; the core wants what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def is_retry(request: Any) -> bool:
    """Whether Slack marked this delivery as a retry (HTTP header, or Socket Mode's retry_attempt)."""
    values = getattr(request, "headers", {}).get("x-slack-retry-num") or ["0"]
    value = values[0] if isinstance(values, (list, tuple)) else values
    return str(value).strip() not in ("", "0")


class Listeners:
    def __init__(self, coach: Coach, client: AsyncWebClient, directory: SlackDirectory,
                 delivery: SlackDelivery, home: AppHome, spawn: Spawn) -> None:
        self.coach = coach
        self.client = client
        self.directory = directory
        self.delivery = delivery
        self.home = home
        self.spawn = spawn

    def register(self, bolt: AsyncApp) -> None:
        on_event = {"message": self._on_message, "app_mention": self._on_mention,
                    "app_home_opened": self.home.on_opened}
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

    # -- one turn --------------------------------------------------------------------------------
    async def _turn(self, incoming: Incoming, channel: str, *, retried: bool = False,
                    before: Callable[[], Awaitable[None]] | None = None) -> None:
        """One turn of the core; its first step deduplicates the event (bot/dedupe.py), and `before` (this
        adapter's own Slack calls for the event) runs only when it is new."""
        email, name = await self.directory.user_info(incoming.user_id)
        incoming = replace(incoming, email=email, name=name)
        async def deliver(replies: list[Reply]) -> None:
            await self.delivery.answer(channel, replies, incoming.user_key)

        try:  # every reply of the turn comes out through `deliver` (none for a repeat)
            await self.coach.handle(incoming, once=True, retried=retried, deliver=deliver, before=before)
        except Exception:  # a bug in the core must still leave the person with an answer
            log.exception("the core failed on a turn of %s", incoming.user_key)
            await deliver([Reply(M.TURN_FAILED)])

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
        user, channel, event_id = text_field(event, "user"), text_field(event, "channel"), text_field(body, "event_id")
        if (
            event.get("channel_type") != "im" or event.get("subtype") not in USER_SUBTYPES
            or event.get("bot_id") or event.get("bot_profile") or not user or not channel or not event_id
        ):
            return
        self.directory.dms[user] = channel
        text = unescape(event.get("text") if isinstance(event.get("text"), str) else "")
        # the core's first step deduplicates the event (checked beside its first reads)
        await self._turn(self._incoming(user, channel, event_id, text=text), channel, retried=retried)

    async def _on_mention(self, body: dict[str, Any], request: Any) -> None:
        self.spawn(self._mention(body, retried=is_retry(request)))

    async def _mention(self, body: dict[str, Any], *, retried: bool = False) -> None:
        """A short public pointer in the channel; the conversation itself goes to the DM."""
        event = body.get("event") or {}
        user, channel, event_id = text_field(event, "user"), text_field(event, "channel"), text_field(body, "event_id")
        if not user or not channel or not event_id or event.get("bot_id"):
            return
        async def pointer() -> None:
            if channel.startswith("D"):
                return
            try:
                await self.client.chat_postMessage(
                    channel=channel, text=T.MENTION.format(user=user),
                    thread_ts=text_field(event, "thread_ts") or text_field(event, "ts"),
                )
            except SlackApiError as exc:
                log.warning("could not answer a mention in %s: %s", channel, field(exc.response.data, "error"))

        dm = await self.directory.dm_channel(user)
        await self._turn(self._incoming(user, dm, event_id, command="grow", text=""), dm, retried=retried,
                         before=pointer)

    # -- slash commands --------------------------------------------------------------------------
    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        name = COMMANDS.get(body.get("command", ""))
        user = text_field(body, "user_id")
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
        if self.directory.dms.get(user) == body.get("channel_id"):
            await ack()
        else:
            await ack(text=T.SEE_DM)
        event_id = text_field(body, "trigger_id") or self._hash(body)
        self.spawn(self._command(user, event_id, name, text))

    async def _command(self, user: str, event_id: str, name: str, text: str) -> None:
        dm = await self.directory.dm_channel(user)
        await self._turn(self._incoming(user, dm, event_id, command=name, text=text), dm)

    # -- block actions ---------------------------------------------------------------------------
    @staticmethod
    def _hash(body: dict[str, Any]) -> str:
        return "h:" + hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def _interaction_id(self, body: dict[str, Any], action: dict[str, Any]) -> str:
        trigger = text_field(body, "trigger_id")
        if trigger:
            return f"{trigger}:{action.get('action_id')}"
        return self._hash({"user": field(body, "user", "id"), "action": action,
                           "ts": field(body, "container", "message_ts")})

    async def _reply_channel(self, body: dict[str, Any], user: str) -> str:
        """Where to answer a press: the DM it was pressed in, else the user's DM (never a channel)."""
        channel = text_field(body, "container", "channel_id") or text_field(body, "channel", "id")
        if channel and channel.startswith("D"):
            self.directory.dms.setdefault(user, channel)
            return channel
        return await self.directory.dm_channel(user)

    async def _on_choose(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        self.spawn(self._choose(body))

    async def _choose(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user = body["user"]["id"]
        if action.get("action_id") == B.CHOOSE_SELECT:
            value = text_field(action, "selected_option", "value")
            label = text_field(action, "selected_option", "text", "text")
        else:
            value, label = text_field(action, "value"), text_field(action, "text", "text")
        if value is None:
            await self._unknown(body)
            return
        event_id = self._interaction_id(body, action)
        channel = await self._reply_channel(body, user)
        incoming = self._incoming(user, channel, event_id, text=label or value, choice=value,
                                  prompt_id=B.prompt_of(action.get("block_id")))
        await self._turn(incoming, channel,
                         before=lambda: self._mark_chosen(body, action.get("block_id"), label or value))

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
        picked = field(body, "state", "values", block_id or "", B.PICK_MANY, "selected_options")
        picked = [o for o in picked if isinstance(o, dict) and isinstance(o.get("value"), str)] \
            if isinstance(picked, list) else []
        values = tuple(o["value"] for o in picked)
        labels = ", ".join(text_field(o, "text", "text") or o["value"] for o in picked)
        event_id = self._interaction_id(body, action)
        channel = await self._reply_channel(body, user)
        prompt_id = B.prompt_of(block_id) or text_field(action, "value")
        await self._turn(self._incoming(user, channel, event_id, text=labels, choices=values,
                                        prompt_id=prompt_id), channel,
                         before=lambda: self._mark_chosen(body, block_id, labels))

    async def _mark_chosen(self, body: dict[str, Any], block_id: Any, label: str) -> None:
        """Replace the question's buttons with the choice made, so they cannot be pressed twice."""
        channel = text_field(body, "container", "channel_id") or text_field(body, "channel", "id")
        ts = text_field(body, "container", "message_ts") or text_field(body, "message", "ts")
        old_blocks = field(body, "message", "blocks")
        if not channel or not ts or not isinstance(old_blocks, list) or not isinstance(block_id, str):
            return
        text = text_field(body, "message", "text") or label
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text,
                                          blocks=B.chosen_blocks(old_blocks, block_id, label))
        except SlackApiError as exc:
            log.info("could not update a pressed message: %s", field(exc.response.data, "error"))

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
        command, text = target
        dm = await self.directory.dm_channel(user)
        await self._turn(self._incoming(user, dm, event_id, command=command, text=text), dm)

    async def _on_unknown_action(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        self.spawn(self._unknown(body))

    async def _unknown(self, body: dict[str, Any]) -> None:
        user = text_field(body, "user", "id")
        if not user:
            return
        # action ids only: an action's value can be what the person typed
        ids = [a.get("action_id") for a in field(body, "actions") or [] if isinstance(a, dict)]
        log.info("unknown Slack action %r from %s", ids, user)
        channel = text_field(body, "container", "channel_id") or text_field(body, "channel", "id")
        try:
            if channel:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=T.UNKNOWN_ACTION)
            else:
                await self.client.chat_postMessage(channel=await self.directory.dm_channel(user),
                                                   text=T.UNKNOWN_ACTION)
        except SlackApiError as exc:
            log.info("could not answer an unknown action: %s", field(exc.response.data, "error"))
