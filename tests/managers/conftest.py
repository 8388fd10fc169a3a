"""A realistic organisation (a few dozen people, role labels only), a recording Messenger and a coach.

The tree:
    Head A (head@)
    ├── Manager A (manager-a@) ── Report 01..08, and Lead A1 (lead-a1@) ── Report 09..12
    ├── Manager B (manager-b@) ── Report 13..22 (13, 14 mentor; 15 peer coach)
    └── Manager C (manager-c@) ── Report 23..30 (23 hosts shadowing; 24 mentors)
Odd reports have their Slack id in the file; even ones are found by email lookup. Everyone has a
Teams id found by lookup only.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bot.core import Coach
from dialogs.conversation import Conversation
from bot.delivery import DeliveryError
from bot.org.file import load_directory
from bot.settings import Settings
from bot.store.memory import MemoryStore
from bot.types import Incoming, Reply

ADMIN = "admin@example.com"
SKILLS = ["python", "sql", "data-literacy", "stakeholder-management", "leadership", "public-speaking"]


def report_email(n: int) -> str:
    return f"report-{n:02d}@example.com"


def slack_id(email: str) -> str:
    return "U" + email.split("@")[0].upper().replace("-", "")


def org_entries() -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = [
        {"email": "head@example.com", "name": "Head A", "role": "Head of engineering", "slack_id": slack_id("head@")},
        {"email": ADMIN, "name": "Admin A", "role": "People operations", "manager": "head@example.com"},
    ]
    for letter in "abc":
        email = f"manager-{letter}@example.com"
        people.append({"email": email, "name": f"Manager {letter.upper()}", "role": "Engineering manager",
                       "manager": "head@example.com", "slack_id": slack_id(email)})
    people.append({"email": "lead-a1@example.com", "name": "Lead A1", "role": "Team lead",
                   "manager": "manager-a@example.com", "slack_id": slack_id("lead-a1@")})
    for n in range(1, 31):
        manager = ("manager-a@example.com" if n <= 8 else "lead-a1@example.com" if n <= 12
                   else "manager-b@example.com" if n <= 22 else "manager-c@example.com")
        entry: dict[str, Any] = {"email": report_email(n), "name": f"Report {n:02d}",
                                 "role": "Data analyst" if n >= 23 else "Software developer", "manager": manager,
                                 "skills": SKILLS[n % 3: n % 3 + 2]}
        if n % 2:
            entry["slack_id"] = slack_id(report_email(n))
        people.append(entry)
    extra = {13: ("mentoring", 2, ["python", "sql"]), 14: ("mentoring", 1, ["sql", "data-literacy"]),
             15: ("peer_coaching", 1, ["sql"]), 23: ("shadowing", 1, ["sql"]), 24: ("mentoring", 1, ["sql"])}
    for n, (offer, capacity, skills) in extra.items():
        entry = people[5 + n]
        assert entry["email"] == report_email(n)
        entry.update(offers=[offer], capacity=capacity, skills=skills)
    return people


def write_org(path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"people": org_entries()}, sort_keys=False))
    return path


class RecordingMessenger:
    """A Messenger that records what it delivers; `fail(user_id, count)` may raise DeliveryError."""

    def __init__(self, platform: str = "slack", *, known: dict[str, str] | None = None, fail=None) -> None:
        self.platform = platform
        self.known = known if known is not None else {}
        self.sent: list[tuple[str, list[Reply]]] = []
        self.attempts = 0
        self.lookups: list[str] = []
        self.fail = fail

    async def send(self, user_id: str, address: dict[str, Any] | None, replies: list[Reply], *,
                   ref: str | None = None, skip: frozenset[int] = frozenset()) -> None:
        self.attempts += 1
        if self.fail is not None:
            self.fail(user_id, self.attempts)
        self.sent.append((user_id, list(replies)))

    async def lookup_email(self, email: str) -> str | None:
        self.lookups.append(email)
        return self.known.get(email.lower())

    def to(self, user_id: str) -> list[Reply]:
        return [r for uid, replies in self.sent if uid == user_id for r in replies]

    def recipients(self) -> list[str]:
        return [uid for uid, _ in self.sent]


def known_ids(platform: str) -> dict[str, str]:
    """Who the fake platform knows by email (everyone in the org)."""
    out = {}
    for entry in org_entries():
        email = entry["email"]
        out[email] = slack_id(email) if platform == "slack" else "aad-" + email.split("@")[0]
    return out


class Clock:
    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def org_file(tmp_path_factory) -> Path:
    return write_org(tmp_path_factory.mktemp("org") / "org.yaml")


@pytest.fixture(scope="session")
def directory(org_file, catalog):
    return load_directory(org_file, catalog)


@pytest.fixture
def make_coach(directory, catalog):
    def make(*, store=None, clock=None, platforms=("slack",), messengers=None, **settings: Any) -> Coach:
        from bot import intros, nudges, report

        settings.setdefault("admins", ADMIN)
        coach = Coach(Settings(database_url="memory:", **settings), store or MemoryStore(), catalog, directory,
                      clock=clock or time.time, dialog=Conversation())
        for messenger in messengers or [RecordingMessenger(p, known=known_ids(p)) for p in platforms]:
            coach.register_messenger(messenger)
        nudges.register(coach)
        report.register(coach)
        intros.register(coach)
        nudges.configure(coach, rates={"slack": 1000.0, "teams": 1000.0, "slack:lookup": 1000.0,
                                           "teams:lookup": 1000.0})
        return coach

    return make


def cmd(command: str, text: str = "", *, user: str, platform: str = "slack", email: str | None = None) -> Incoming:
    return Incoming(platform, user, text=text, command=command, email=email)


def press(value: str, *, user: str, prompt_id: str | None = None, platform: str = "slack",
          email: str | None = None) -> Incoming:
    return Incoming(platform, user, choice=value, prompt_id=prompt_id, email=email)


def storm(every: int, retry_after: float = 0.01):
    """A failure hook: every `every`-th attempt is rate limited."""

    def fail(user_id: str, attempt: int) -> None:
        if attempt % every == 0:
            raise DeliveryError("rate limited", retry_after=retry_after)

    return fail
