"""Authorization for manager commands: who is calling (`Caller`: admin, manager) and the people they may
act for — their reports, their whole reporting tree, or for an admin the whole organisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.messages import Org as T
from bot.people import Person
from bot.types import Incoming

if TYPE_CHECKING:
    from bot.core import Coach


@dataclass(frozen=True)
class Caller:
    """Who sent a manager command: their email (if known), display name, and powers."""

    email: str | None
    name: str
    is_admin: bool
    is_manager: bool

    @property
    def may_manage(self) -> bool:
        return self.is_admin or self.is_manager


def caller_of(coach: Coach, incoming: Incoming, person: Person | None) -> Caller:
    email = (person.email if person else (incoming.email or "")).lower() or None
    name = (person.name if person else None) or incoming.name or T.CALLER_NAME
    return Caller(email, name, bool(email) and email in coach.settings.admin_emails,
                  coach.directory.is_manager(email))


def team_for(coach: Coach, caller: Caller, *, whole_tree: bool) -> list[Person]:
    """The people a caller may act for: their reports (their whole reporting tree with `whole_tree`);
    an admin with `whole_tree` gets the whole organisation."""
    if whole_tree and caller.is_admin:
        return sorted((p for p in coach.directory.people.values() if p.email != caller.email),
                      key=lambda p: p.email)
    if caller.email and coach.directory.is_manager(caller.email):
        return coach.directory.reports_of(caller.email, recursive=whole_tree)
    return []
