"""One typed settings object, read from the environment and a `.env` file (see DESIGN.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _teams_mode(value: Any) -> Any:
    """SKILLCOACH_TEAMS: `local` is the same as true; empty or `auto` is unset."""
    if isinstance(value, str) and value.strip().lower() in ("local", "auto", ""):
        return True if value.strip().lower() == "local" else None
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Slack
    slack_bot_token: str = Field("", validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    slack_signing_secret: str = Field(
        "", validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: str = Field("", validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    slack_api_url: str = Field("", validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url"))

    # Microsoft Teams / Bot Framework
    microsoft_app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "microsoft_app_id"))
    microsoft_app_password: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppPassword", "microsoft_app_password")
    )
    microsoft_app_type: str = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "microsoft_app_type")
    )
    microsoft_app_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "microsoft_app_tenant_id")
    )
    # Teams is mounted when an app id is set. Without one (local development, no authentication) only when
    # SKILLCOACH_TEAMS=local (or true) asks for it, or when unset and the server listens on a loopback
    # address; SKILLCOACH_TEAMS=false never mounts it without an app id. None: unset.
    teams_enabled: Annotated[bool | None, BeforeValidator(_teams_mode)] = Field(
        None, validation_alias=AliasChoices("SKILLCOACH_TEAMS", "teams_enabled")
    )

    # Storage and data
    db_path: Path = Field(
        Path("data/skillcoach.db"), validation_alias=AliasChoices("SKILLCOACH_DB", "db_path")
    )
    database_url: str = Field("", validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    org_file: Path | None = Field(None, validation_alias=AliasChoices("SKILLCOACH_ORG", "org_file"))
    catalog_dirs: str = Field(
        "", validation_alias=AliasChoices("SKILLCOACH_CATALOG", "catalog_dirs")
    )  # extra catalog folders, separated by os.pathsep; later ones override earlier ones
    admins: str = Field("", validation_alias=AliasChoices("SKILLCOACH_ADMINS", "admins"))

    # The server's public base URL (https://coach.example.com): chart images in team reports link to it.
    public_url: str = Field("", validation_alias=AliasChoices("SKILLCOACH_PUBLIC_URL", "public_url"))

    # Behaviour
    nudge_period_days: float = Field(
        14, validation_alias=AliasChoices("SKILLCOACH_NUDGE_PERIOD_DAYS", "nudge_period_days")
    )
    nudge_rate: str = Field(
        "", validation_alias=AliasChoices("SKILLCOACH_NUDGE_RATE", "nudge_rate")
    )  # messages per second per platform for nudges, e.g. "slack=4,teams=10" (defaults: those)
    nudge_lease: float = Field(
        0, validation_alias=AliasChoices("SKILLCOACH_NUDGE_LEASE", "nudge_lease")
    )  # seconds a process holds a claimed nudge before another may take it over (0: 120 s)
    min_group_size: int = Field(5, validation_alias=AliasChoices("SKILLCOACH_MIN_GROUP", "min_group_size"))
    report_refresh_days: float = Field(
        7, gt=0, validation_alias=AliasChoices("SKILLCOACH_REPORT_REFRESH_DAYS", "report_refresh_days")
    )  # the team report's figures are counted from a snapshot taken this often (weekly: Mondays 00:00 UTC)
    log_level: str = Field("INFO", validation_alias=AliasChoices("SKILLCOACH_LOG_LEVEL", "log_level"))
    # `text` (default) or `json`: one JSON object per line (timestamp, level, logger, message, platform, request id)
    log_format: Annotated[Literal["text", "json"], BeforeValidator(_lower)] = Field(
        "text", validation_alias=AliasChoices("SKILLCOACH_LOG_FORMAT", "log_format"))

    # Operations
    # GET /metrics answers only with `Authorization: Bearer <this token>`; empty: /metrics is not served (404)
    metrics_token: str = Field("", validation_alias=AliasChoices("SKILLCOACH_METRICS_TOKEN", "metrics_token"))
    # seconds `skillcoach serve` takes at most to stop after SIGTERM (finish or give back work, close)
    stop_timeout: float = Field(10.0, gt=0, validation_alias=AliasChoices("SKILLCOACH_STOP_TIMEOUT", "stop_timeout"))

    @property
    def extra_catalog_dirs(self) -> list[Path]:
        import os

        return [Path(p) for p in self.catalog_dirs.split(os.pathsep) if p.strip()]

    @property
    def admin_emails(self) -> set[str]:
        return {e.strip().lower() for e in self.admins.split(",") if e.strip()}


# what a setting accepts, where pydantic's own message does not say it plainly
_ACCEPTED = {
    "teams_enabled": "true, false, local or auto",
    "nudge_period_days": "a number of days",
    "nudge_lease": "a number of seconds",
    "min_group_size": "a whole number",
    "report_refresh_days": "a number of days greater than 0",
    "log_format": "text or json",
    "stop_timeout": "a number of seconds above 0",
}


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = getattr(info, "validation_alias", None) if info else None
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else field


def describe_errors(exc: ValidationError) -> str:
    """One line for each rejected setting: the variable, the value and what is accepted."""
    known = {_env_name(name).lower(): name for name in Settings.model_fields}
    known.update({name: name for name in Settings.model_fields})
    lines = []
    for err in exc.errors():
        loc = str(err["loc"][0]) if err.get("loc") else ""
        field = known.get(loc.lower(), loc)  # environment names are case-insensitive
        env = _env_name(field) if field in Settings.model_fields else loc
        accepted = _ACCEPTED.get(field) or err.get("msg", "").removeprefix("Input should be ").split(",")[0]
        value = err.get("input")
        lines.append(f"bad setting {env}={value!r}: expected {accepted}")
    return "\n".join(lines) or str(exc).splitlines()[0]
