"""Everything the Teams adapter holds for one server: Bot Framework configuration, the CloudAdapter,
the activity handler, the messenger, and the small caches and records that let it reach people later.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import ClaimsIdentity, ConnectorFactory, ServiceClientCredentialsFactory

from adapters.teams.connector import RETRIES, ConnectorPool, PooledConnectorFactory
from adapters.teams.conversations import TEAMS_CHANNEL, is_personal_address, team_of, tenant_of
from adapters.teams.errors import unreachable
from bot import messages as M
from bot.core import Coach
from bot.errors import ConfigError
from bot.settings import Settings
from bot.store import ADDRESSES, update

log = logging.getLogger("skillcoach.teams")

__all__ = ["TEAMS_CHANNEL", "TEAMS_COLLECTION", "BotConfig", "TeamsRuntime"]

TEAMS_COLLECTION = "teams_installs"   # key: team id -> {team_id, service_url, tenant_id, bot_id, bot_name}
MEMBER_CACHE_SIZE = 10_000


class BotConfig:
    """The configuration object botbuilder's `ConfigurationBotFrameworkAuthentication` reads.

    `overrides` may set botbuilder's other keys (e.g. `TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL`,
    `TO_CHANNEL_FROM_BOT_LOGIN_URL`, `CHANNEL_SERVICE`) for private clouds and tests.
    """

    def __init__(self, settings: Settings, overrides: dict[str, Any] | None = None) -> None:
        self.APP_ID = settings.microsoft_app_id.strip()
        self.APP_PASSWORD = settings.microsoft_app_password
        self.APP_TYPE = (settings.microsoft_app_type or "MultiTenant").strip()
        self.APP_TENANTID = settings.microsoft_app_tenant_id.strip()
        for key, value in (overrides or {}).items():
            setattr(self, key, value)


class ObservedBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's configuration, with connector clients that send through one pooled aiohttp session
    (`pool`, adapters/teams/connector.py) instead of a new msrest client per turn."""

    single_try = False
    pool: ConnectorPool | None = None

    def _wrap(self, factory: ConnectorFactory) -> ConnectorFactory:
        if self.pool is None:
            return factory
        return PooledConnectorFactory(factory, self.pool)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._wrap(super().create_connector_factory(claims_identity))

    async def authenticate_request(self, activity: Activity, auth_header: str) -> Any:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._wrap(result.connector_factory)
        return result


class LocalBotFrameworkAuthentication(ObservedBotFrameworkAuthentication):
    """No app id (local development): botbuilder's configuration, connector calls tried once (an Emulator
    that is not running is reported at once instead of after seconds of retries)."""

    single_try = True


class TeamsRuntime:
    def __init__(
        self,
        coach: Coach,
        settings: Settings,
        *,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        auth_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.coach = coach
        self.settings = settings
        self.app_id: str = settings.microsoft_app_id.strip()
        auth_class = ObservedBotFrameworkAuthentication if self.app_id else LocalBotFrameworkAuthentication
        try:
            self.auth = auth_class(
                BotConfig(settings, auth_overrides), credentials_factory=credentials_factory
            )
        except Exception as exc:  # botbuilder raises bare Exception for missing settings
            raise ConfigError(f"Teams configuration is incomplete: {exc} (see MicrosoftApp* settings)") from exc
        self.connectors = ConnectorPool(coach.metrics, retries=0 if self.auth.single_try else RETRIES)
        self.auth.pool = self.connectors
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        # the activity handler and the proactive messenger, attached where Teams is mounted
        self.bot: Any = None
        self.messenger: Any = None
        self._members: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()
        self._known_teams: set[str] = set()

    async def close(self) -> None:
        """Close the connector session (at server stop)."""
        await self.connectors.close()

    @property
    def auth_required(self) -> bool:
        return bool(self.app_id)

    def ready_problem(self) -> str | None:
        """None when Teams can take traffic: local mode, or an app id with the credentials its type needs."""
        if not self.app_id:
            return None
        app_type = (self.settings.microsoft_app_type or "MultiTenant").strip().lower()
        if app_type != "userassignedmsi" and not self.settings.microsoft_app_password:
            return "MicrosoftAppPassword is empty"
        if app_type in ("singletenant", "userassignedmsi") and not self.settings.microsoft_app_tenant_id.strip():
            return "MicrosoftAppTenantId is empty"
        return None

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        if unreachable(error):  # nothing to tell the user through a connector that cannot be reached
            log.warning("Teams serviceUrl %s cannot be reached: %s", context.activity.service_url,
                        type(error).__name__)
            return
        log.exception("Teams turn failed (%s)", context.activity.type, exc_info=error)
        try:
            await context.send_activity(M.TURN_FAILED)
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
        """Store where a user is reached, in the same record the core keeps (`addresses`). Only a 1:1 chat
        is ever stored: a channel or group conversation is nobody's private address."""
        if not is_personal_address(address):
            log.warning("not storing a channel or group conversation as the private address of teams:%s", user_id)
            return

        def change(data: dict[str, Any] | None) -> dict[str, Any] | None:
            data = data or {"platform": "teams", "user_id": user_id}
            if data.get("address") == address and (not email or data.get("email") == email):
                return None
            data["address"] = address
            if email:
                data["email"] = email
            return data

        await update(self.coach.store, ADDRESSES, f"teams:{user_id}", change)

    async def repair_addresses(self) -> int:
        """Start-up pass over the stored Teams addresses: one that is a channel or group conversation (kept by
        older versions) is removed from its record, so that person's next private message opens a 1:1 chat.
        Returns how many were removed."""
        bad = [record.key async for record in self.coach.store.scan(ADDRESSES, "teams:")
               if record.data.get("address") is not None and not is_personal_address(record.data["address"])]

        def drop(data: dict[str, Any] | None) -> dict[str, Any] | None:
            if data is None or data.get("address") is None or is_personal_address(data["address"]):
                return None
            data = dict(data)
            data.pop("address")
            return data

        for key in bad:
            await update(self.coach.store, ADDRESSES, key, drop)
        if bad:
            log.warning("removed %d stored Teams address(es) that were channel or group conversations, "
                        "not private chats", len(bad))
        return len(bad)
