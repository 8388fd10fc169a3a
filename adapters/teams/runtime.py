"""Everything the Teams adapter holds for one server: Bot Framework configuration, the CloudAdapter,
the activity handler, the messenger, and the small caches and records that let it reach people later.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ConversationReference
from botframework.connector.auth import ServiceClientCredentialsFactory

from adapters.teams import messages as T
from bot.errors import ConfigError
from bot.store import ADDRESSES, update

log = logging.getLogger("skillcoach.teams")

TEAMS_CHANNEL = "msteams"
TEAMS_COLLECTION = "teams_installs"   # key: team id -> {team_id, service_url, tenant_id, bot_id, bot_name}
MEMBER_CACHE_SIZE = 10_000


class BotConfig:
    """The configuration object botbuilder's `ConfigurationBotFrameworkAuthentication` reads.

    `overrides` may set botbuilder's other keys (e.g. `TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL`,
    `TO_CHANNEL_FROM_BOT_LOGIN_URL`, `CHANNEL_SERVICE`) for private clouds and tests.
    """

    def __init__(self, settings: Any, overrides: dict[str, Any] | None = None) -> None:
        self.APP_ID = settings.microsoft_app_id.strip()
        self.APP_PASSWORD = settings.microsoft_app_password
        self.APP_TYPE = (settings.microsoft_app_type or "MultiTenant").strip()
        self.APP_TENANTID = settings.microsoft_app_tenant_id.strip()
        for key, value in (overrides or {}).items():
            setattr(self, key, value)


def tenant_of(activity: Activity) -> str | None:
    """The tenant id: Teams puts it in channelData.tenant.id and conversation.tenantId (botbuilder's schema
    calls the latter `tenantID`, so it lands in additional properties)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else {}
    if isinstance(tenant.get("id"), str) and tenant["id"]:
        return tenant["id"]
    conversation = activity.conversation
    if conversation is not None:
        if conversation.tenant_id:
            return conversation.tenant_id
        extra = getattr(conversation, "additional_properties", None) or {}
        if isinstance(extra.get("tenantId"), str):
            return extra["tenantId"]
    return None


def team_of(activity: Activity) -> dict[str, Any] | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str) and team["id"]:
        return team
    return None


def address_of(activity: Activity) -> dict[str, Any]:
    """The user's address for proactive messages: the ConversationReference as a dict, stable between
    turns (no activity id), with the tenant id under both spellings."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    data = reference.serialize()
    data.pop("activityId", None)
    tenant = tenant_of(activity)
    if tenant and isinstance(data.get("conversation"), dict):
        data["conversation"]["tenantId"] = tenant
        data["conversation"]["tenantID"] = tenant
    return data


def reference_from(address: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(address)


class TeamsRuntime:
    def __init__(
        self,
        coach: Any,
        settings: Any,
        *,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        auth_overrides: dict[str, Any] | None = None,
    ) -> None:
        from adapters.teams.bot import SkillcoachTeamsBot
        from adapters.teams.messenger import TeamsMessenger

        self.coach = coach
        self.settings = settings
        self.app_id: str = settings.microsoft_app_id.strip()
        try:
            self.auth = ConfigurationBotFrameworkAuthentication(
                BotConfig(settings, auth_overrides), credentials_factory=credentials_factory
            )
        except Exception as exc:  # botbuilder raises bare Exception for missing settings
            raise ConfigError(f"Teams configuration is incomplete: {exc} (see MicrosoftApp* settings)") from exc
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = SkillcoachTeamsBot(self)
        self.messenger = TeamsMessenger(self)
        self._members: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()
        self._known_teams: set[str] = set()

    @property
    def auth_required(self) -> bool:
        return bool(self.app_id)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        log.exception("Teams turn failed (%s)", context.activity.type, exc_info=error)
        try:
            await context.send_activity(T.SORRY)
        except Exception:  # the connector itself may be what failed
            log.warning("could not tell the user about the failed turn")

    # -- members -----------------------------------------------------------------------------
    def cached_member(self, member_id: str) -> tuple[str | None, str | None] | None:
        found = self._members.get(member_id)
        if found is not None:
            self._members.move_to_end(member_id)
        return found

    def cache_member(self, member_id: str, email: str | None, name: str | None) -> None:
        self._members[member_id] = (email, name)
        self._members.move_to_end(member_id)
        while len(self._members) > MEMBER_CACHE_SIZE:
            self._members.popitem(last=False)

    # -- records that let the messenger reach people later ----------------------------------------
    async def remember_team(self, activity: Activity) -> None:
        """Keep the team's service URL and tenant, so its roster can be read outside a turn."""
        team = team_of(activity)
        if team is None or team["id"] in self._known_teams:
            return
        data = {
            "team_id": team["id"],
            "name": team.get("name") if isinstance(team.get("name"), str) else None,
            "service_url": activity.service_url,
            "tenant_id": tenant_of(activity),
            "bot_id": activity.recipient.id if activity.recipient else None,
            "bot_name": activity.recipient.name if activity.recipient else None,
        }
        current = await self.coach.store.get(TEAMS_COLLECTION, team["id"])
        if current is None or current.data != data:
            await self.coach.store.put(TEAMS_COLLECTION, team["id"], data)
        self._known_teams.add(team["id"])

    async def forget_team(self, team_id: str) -> None:
        self._known_teams.discard(team_id)
        await self.coach.store.delete(TEAMS_COLLECTION, team_id)

    async def teams(self) -> list[dict[str, Any]]:
        return [record.data async for record in self.coach.store.scan(TEAMS_COLLECTION)]

    async def remember_address(self, user_id: str, address: dict[str, Any], email: str | None = None) -> None:
        """Store where a user is reached, in the same record the core keeps (`addresses`)."""

        def change(data: dict[str, Any] | None) -> dict[str, Any] | None:
            data = data or {"platform": "teams", "user_id": user_id}
            if data.get("address") == address and (not email or data.get("email") == email):
                return None
            data["address"] = address
            if email:
                data["email"] = email
            return data

        await update(self.coach.store, ADDRESSES, f"teams:{user_id}", change)
