"""The people directory: who is in the organisation, who reports to whom, who offers help.

Built from the organisation file (see `bot.org` for parsing and validation). Immutable once built; the
running server swaps in a new directory when the file changes and the new one is valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

OFFERS = ("mentoring", "peer_coaching", "shadowing")


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str = ""
    manager: str | None = None          # the manager's email
    slack_id: str | None = None
    teams_id: str | None = None
    skills: tuple[str, ...] = ()        # catalog skill ids (free text is matched to skills when loaded)
    offers: tuple[str, ...] = ()        # any of OFFERS
    capacity: int = 0                   # how many people they can help at once
    location: str = ""


@dataclass
class Directory:
    people: dict[str, Person] = field(default_factory=dict)   # by lower-case email
    source: str = ""
    stamp: tuple[int, int] | None = None    # (mtime_ns, size) of the file it was read from

    def __post_init__(self) -> None:
        self._by_slack = {p.slack_id: p for p in self.people.values() if p.slack_id}
        self._by_teams = {p.teams_id.lower(): p for p in self.people.values() if p.teams_id}
        self._reports: dict[str, list[Person]] = {}
        for person in self.people.values():
            if person.manager:
                self._reports.setdefault(person.manager.lower(), []).append(person)
        for reports in self._reports.values():
            reports.sort(key=lambda p: p.email)

    @classmethod
    def of(cls, people: Iterable[Person], source: str = "") -> Directory:
        return cls({p.email.lower(): p for p in people}, source)

    def __len__(self) -> int:
        return len(self.people)

    def by_email(self, email: str | None) -> Person | None:
        return self.people.get(email.lower()) if email else None

    def by_platform(self, platform: str, user_id: str) -> Person | None:
        if platform == "slack":
            return self._by_slack.get(user_id)
        if platform == "teams":
            return self._by_teams.get(user_id.lower())
        return None

    def reports_of(self, manager_email: str, *, recursive: bool = False) -> list[Person]:
        direct = list(self._reports.get(manager_email.lower(), []))
        if not recursive:
            return direct
        out: list[Person] = []
        seen: set[str] = {manager_email.lower()}
        queue = direct
        while queue:
            person = queue.pop(0)
            if person.email.lower() in seen:
                continue
            seen.add(person.email.lower())
            out.append(person)
            queue.extend(self._reports.get(person.email.lower(), []))
        return out

    def managers(self) -> list[str]:
        """The lower-case emails of everyone with at least one report, sorted."""
        return sorted(self._reports)

    def is_manager(self, email: str | None) -> bool:
        return bool(email) and bool(self._reports.get(email.lower()))

    def helpers(self, offer: str) -> list[Person]:
        return [p for p in self.people.values() if offer in p.offers and p.capacity > 0]
