"""Proactive messages on Teams: to a stored ConversationReference (continue_conversation), or in a new
1:1 chat with a member of a team where the app is installed (create_conversation).

This is what nudges and mentor introductions use, through the outbox (bot/outbox.py) or `coach.send_to("teams", user_id, replies)`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationParameters, ConversationReference

from adapters.teams.cards import Message, render
from adapters.teams.conversations import TEAMS_CHANNEL, is_personal_address, reference_from
from bot.delivery import DeliveryError
from bot.types import Reply

if TYPE_CHECKING:
    from adapters.teams.runtime import TeamsRuntime

log = logging.getLogger("skillcoach.teams")

ROSTER_PAGE = 500
ROSTER_TTL = 600.0  # seconds a team roster read is reused for email lookups


def delivery_error(exc: Exception) -> DeliveryError:
    """A connector failure as a DeliveryError: 429 with its Retry-After, 403/404 permanent."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    if status == 429:
        headers = getattr(response, "headers", None) or {}
        try:
            retry_after = float(headers.get("Retry-After", 5))
        except (TypeError, ValueError):
            retry_after = 5.0
        return DeliveryError(f"Teams is throttling: {exc}", retry_after=retry_after)
    if status in (401, 403, 404):
        return DeliveryError(f"Teams refused the message ({status}): {exc}", permanent=True)
    return DeliveryError(f"Teams delivery failed: {exc}")


def _ids(responses: Any, sent: list[str] | None) -> None:
    if sent is not None:
        sent.extend(str(r.id) for r in responses or [] if getattr(r, "id", None))


class TeamsMessenger:
    platform = "teams"

    def __init__(self, runtime: TeamsRuntime) -> None:
        self.runtime = runtime
        self._rosters: dict[str, tuple[float, list[Any]]] = {}

    def ready_problem(self) -> str | None:
        return self.runtime.ready_problem()

    # -- the Messenger protocol ------------------------------------------------------------------
    async def send(self, user_id: str, address: dict[str, Any] | None, replies: list[Reply], *,
                   ref: str | None = None, skip: frozenset[int] = frozenset()) -> list[str]:
        """Send replies; returns the activity ids Teams answered. Teams lets a bot read nothing back,
        so there is no `find_sent`: an outbox item whose sender died in this call is sent again."""
        messages = [m for n, m in enumerate(m for reply in replies for m in render(reply)) if n not in skip]
        sent: list[str] = []
        if address and not is_personal_address(address):
            log.warning("the stored Teams address of %s is not a private chat: opening one instead", user_id)
            address = None
        try:
            if address:
                await self.deliver(address, messages, sent)
                return sent
            found = await self.find_member(user_id=user_id)
            if found is None:
                raise DeliveryError(
                    f"teams:{user_id} has never talked to the bot and is not in the roster of a team where "
                    "the app is installed",
                    permanent=True,
                )
            member, team = found
            await self.open_chat(
                user_id=user_id,
                member=member,
                tenant_id=team.get("tenant_id"),
                service_url=team["service_url"],
                bot=ChannelAccount(id=team.get("bot_id"), name=team.get("bot_name")),
                messages=messages,
                email=getattr(member, "email", None) or getattr(member, "user_principal_name", None),
                sent=sent,
            )
            return sent
        except DeliveryError:
            raise
        except Exception as exc:
            raise delivery_error(exc) from exc

    async def lookup_email(self, email: str) -> str | None:
        """The user id (AAD object id) of the roster member with this email, from the installed teams."""
        found = await self.find_member(email=email)
        if found is None:
            return None
        member = found[0]
        return member.aad_object_id or member.id

    # -- sending -------------------------------------------------------------------------------
    async def deliver(self, address: dict[str, Any], messages: list[Message], sent: list[str] | None = None) -> None:
        """Send to a stored ConversationReference (the activity ids Teams answered go to `sent`)."""
        errors: list[Exception] = []

        async def callback(turn_context: TurnContext) -> None:
            try:
                _ids(await turn_context.send_activities([m.activity() for m in messages]), sent)
            except Exception as exc:  # re-raised below: the adapter's turn-error handler would swallow it
                errors.append(exc)

        await self.runtime.adapter.continue_conversation(reference_from(address), callback, self.runtime.app_id)
        if errors:
            raise errors[0]

    async def open_chat(
        self,
        *,
        user_id: str,
        member: Any,
        tenant_id: str | None,
        service_url: str,
        bot: ChannelAccount | None,
        messages: list[Message],
        email: str | None = None,
        sent: list[str] | None = None,
    ) -> dict[str, Any]:
        """Create (or get back) the 1:1 chat with a team member, send there, and store its address."""
        if not tenant_id:
            raise DeliveryError("no tenant id known for this team: cannot open a private chat", permanent=True)
        params = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=member.id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
        )
        created: dict[str, Any] = {}
        errors: list[Exception] = []

        async def callback(turn_context: TurnContext) -> None:
            created["conversation_id"] = turn_context.activity.conversation.id
            try:
                _ids(await turn_context.send_activities([m.activity() for m in messages]), sent)
            except Exception as exc:
                errors.append(exc)

        await self.runtime.adapter.create_conversation(
            self.runtime.app_id, callback, params, channel_id=TEAMS_CHANNEL, service_url=service_url
        )
        if not created:
            raise DeliveryError("Teams did not create the conversation")
        reference = ConversationReference(
            bot=bot,
            user=ChannelAccount(id=member.id, name=getattr(member, "name", None),
                                aad_object_id=getattr(member, "aad_object_id", None)),
            conversation=ConversationAccount(id=created["conversation_id"], conversation_type="personal",
                                             tenant_id=tenant_id, is_group=False),
            channel_id=TEAMS_CHANNEL,
            service_url=service_url,
        )
        address = reference.serialize()
        address["conversation"]["tenantId"] = tenant_id
        await self.runtime.remember_address(user_id, address, email)
        if errors:
            raise errors[0]
        return address

    # -- rosters -------------------------------------------------------------------------------
    async def _connector(self, service_url: str):
        claims = self.runtime.adapter.create_claims_identity(self.runtime.app_id)
        factory = self.runtime.auth.create_connector_factory(claims)
        return await factory.create(service_url, None)

    async def roster(self, team: dict[str, Any]) -> list[Any]:
        """Every member of a team (paged), reused for ROSTER_TTL seconds."""
        cached = self._rosters.get(team["team_id"])
        if cached and time.monotonic() - cached[0] < ROSTER_TTL:
            return cached[1]
        client = await self._connector(team["service_url"])
        members: list[Any] = []
        token = None
        for _ in range(1000):  # a page bound, not a member bound: 500,000 members
            page = await client.conversations.get_teams_conversation_paged_members(
                team["team_id"], ROSTER_PAGE, token
            )
            members.extend(page.members or [])
            token = page.continuation_token
            if not token:
                break
        self._rosters[team["team_id"]] = (time.monotonic(), members)
        return members

    async def find_member(
        self, *, user_id: str | None = None, email: str | None = None
    ) -> tuple[Any, dict[str, Any]] | None:
        wanted_email = email.strip().lower() if email else None
        for team in await self.runtime.teams():
            if not team.get("service_url"):
                continue
            try:
                members = await self.roster(team)
            except Exception as exc:
                log.warning("could not read the roster of team %s: %s", team.get("team_id"), exc)
                continue
            for member in members:
                if user_id and user_id in (member.aad_object_id, member.id):
                    return member, team
                if wanted_email and wanted_email in (
                    (member.email or "").lower(), (member.user_principal_name or "").lower()
                ):
                    return member, team
        return None
