"""The activity handler: Teams activities in, `Incoming` to the core, rendered replies out.

* Personal chat: every message is a turn; the reply goes back in the chat.
* Team channels and group chats: only messages that @-mention the bot are turns (the mention is
  stripped); the answer goes to the user's private chat and the channel only gets a short pointer.
* Card submits (`activity.value`) become the same `Incoming(choice=…, prompt_id=…)` typed text would,
  and the submitted card is replaced by a read-only copy that shows what was chosen.
* Invokes: `adaptiveCard/action` runs the same turn a submit does (invoke.py); `fileConsent/invoke`
  is the `my data` file flow (file_consent.py).
* Welcome: when the app is installed for a user, or a user joins a team where it is installed
  (welcome.py).
Reading the activity (sender, text, mentions, command words) is activity.py's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount

from adapters.teams import messages as T
from adapters.teams.activity import clean_text, command_of, member_of, mentions_bot, strip_mention, user_id_of
from adapters.teams.cards import CARD_CONTENT_TYPE, Message, Submit, answered_card, parse_submit, render
from adapters.teams.conversations import address_of, is_personal, is_personal_address, team_of, tenant_of
from adapters.teams.file_consent import FILE_CONSENT, FileConsent
from adapters.teams.invoke import ADAPTIVE_CARD_ACTION, card_response, error_response, execute_data
from adapters.teams.invoke import message_response
from adapters.teams.welcome import Welcome
from bot import messages as M
from bot.types import Incoming, Reply

if TYPE_CHECKING:
    from adapters.teams.runtime import TeamsRuntime

log = logging.getLogger("skillcoach.teams")


class SkillcoachTeamsBot(TeamsActivityHandler):
    def __init__(self, runtime: TeamsRuntime) -> None:
        self.runtime = runtime
        self.coach = runtime.coach
        self.file_consent = FileConsent(runtime)
        self.welcome = Welcome(runtime)

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
            return await self.file_consent.answer(turn_context)
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
            return message_response(M.TURN_FAILED)
        if pointer is not None:
            return message_response(pointer)
        if submit.choice or submit.choices is not None:
            return card_response(answered_card(submit))
        return message_response(T.DONE)

    async def _turn(self, turn_context: TurnContext, submit: Submit | None, *, show_answer: bool) -> str | None:
        """One turn of the core. In a personal chat the replies are sent here and None is returned; in a
        channel or group chat they go to the person's private chat and the return value is what the
        shared conversation may be told (never anything private)."""
        activity = turn_context.activity
        personal = is_personal(activity)
        if not personal and submit is None and not mentions_bot(activity):
            return None  # channel chatter not addressed to the bot
        user_id = user_id_of(activity.from_property)
        if not user_id:
            return None
        if not personal:
            await self.runtime.remember_team(activity)
        email, name = await member_of(self.runtime, turn_context)
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
            # activity ids are unique within a conversation: the pair is the event's identity
            event_id=f"{activity.conversation.id}|{activity.id}" if activity.id else None,
            address=address_of(activity) if personal else None,
            **fields,
        )
        new_event: list[bool] = []

        async def before() -> None:  # the core runs this only for an activity it has not seen before
            new_event.append(True)
            if (show_answer and submit is not None and activity.reply_to_id
                    and (submit.choice or submit.choices is not None)):
                await self._show_answer(turn_context, submit)

        private: list[Reply] = []

        async def deliver(replies: list[Reply]) -> None:  # the one way the core's replies come out
            if personal:
                await send_replies(turn_context, replies)
            else:  # sent to the person's private chat below, once the turn is done
                private.extend(replies)

        await self.coach.handle(incoming, once=True, before=before, deliver=deliver)
        if not new_event:
            log.info("duplicate Teams activity %s ignored", activity.id)
            return None
        if personal:
            return None
        return await self._answer_privately(turn_context, user_id, email, private)

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

    # -- members and installation (the welcomes are welcome.py's) ------------------------------
    async def on_teams_members_added_dispatch(  # type: ignore[override]
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        """botbuilder's version fails the whole update when one member cannot be read from the roster
        (a guest, a member who already left): read each one, keep the plain account when that fails."""
        members = await self.welcome.read_members(members_added, turn_context)
        await self.on_teams_members_added(members, team_info, turn_context)

    async def on_teams_members_added(  # type: ignore[override]
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        await self.welcome.members_added(turn_context, teams_members_added)

    async def on_members_added_activity(  # type: ignore[override]
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self.welcome.members_added(turn_context, members_added)  # Emulator and other channels

    async def on_teams_members_removed(  # type: ignore[override]
        self, teams_members_removed: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        team = team_of(activity)
        if team and any(m.id == activity.recipient.id for m in teams_members_removed):
            await self.runtime.forget_team(team["id"])

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.welcome.installed(turn_context)


async def send_replies(turn_context: TurnContext, replies: list[Reply]) -> None:
    activities = [m.activity() for reply in replies for m in render(reply)]
    if activities:
        await turn_context.send_activities(activities)
