"""Welcomes: when the app is installed for a person, added to a team, or a person joins such a team.

Each is said once (`coach.first_time`): a welcome card in the personal chat, a short hello in the
team's channel, and a private welcome to each new member. Adding the app to a team also keeps the
team's roster reachable (`runtime.remember_team`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import ChannelAccount

from adapters.teams.activity import member_of, user_id_of
from adapters.teams.cards import Message, teams_markdown, welcome_message
from adapters.teams.conversations import TEAMS_CHANNEL, address_of, is_personal, is_personal_address, team_of
from adapters.teams.conversations import tenant_of
from bot import messages as M

if TYPE_CHECKING:
    from adapters.teams.runtime import TeamsRuntime

log = logging.getLogger("skillcoach.teams")


class Welcome:
    def __init__(self, runtime: TeamsRuntime) -> None:
        self.runtime = runtime
        self.coach = runtime.coach

    async def read_members(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> list[Any]:
        """The added members as the roster knows them (botbuilder's version fails the whole update when
        one member cannot be read — a guest, a member who already left): the plain account when that fails."""
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
        return members

    async def installed(self, turn_context: TurnContext) -> None:
        if is_personal(turn_context.activity):
            await self._here(turn_context)
        else:
            await self._team(turn_context)

    async def members_added(self, turn_context: TurnContext, members: list[Any]) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        bot_added = any(m.id == bot_id for m in members)
        if is_personal(activity):
            if bot_added or activity.channel_id != TEAMS_CHANNEL:
                await self._here(turn_context)
            return
        if team_of(activity) is None:
            return  # a group chat: nothing to welcome
        if bot_added:
            await self._team(turn_context)
        for member in members:
            if member.id != bot_id:
                await self._member(turn_context, member)

    async def _here(self, turn_context: TurnContext) -> None:
        """The app was installed for a user: welcome them in this personal chat, once."""
        activity = turn_context.activity
        user_id = user_id_of(activity.from_property)
        if not user_id or not await self.coach.first_time("teams", f"welcome:{user_id}"):
            return
        email, _ = await member_of(self.runtime, turn_context)
        await self.runtime.remember_address(user_id, address_of(activity), email)
        await turn_context.send_activity(welcome_message().activity())

    async def _team(self, turn_context: TurnContext) -> None:
        """The app was added to a team: keep its roster reachable and say hello in the channel, once."""
        activity = turn_context.activity
        await self.runtime.remember_team(activity)
        team = team_of(activity)
        key = f"team-welcome:{team['id'] if team else activity.conversation.id}"
        if await self.coach.first_time("teams", key):
            await turn_context.send_activity(Message(text=teams_markdown(M.TEAM_WELCOME)).activity())

    async def _member(self, turn_context: TurnContext, member: Any) -> None:
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
