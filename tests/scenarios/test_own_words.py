"""People describe their work in their own words, and the role question offers the role they have.

The phrases live in tests/scenarios/own_words/<family>.yaml: what a person in each role would type when
asked "What's your current role? Describe it in your own words", and the role the coach must offer
(confirmed with one question, or among the few it offers to pick from).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.catalog import load_catalog
from bot.core import Coach
from bot.people import Directory
from bot.settings import Settings
from bot.store import CONVERSATIONS
from bot.store.memory import MemoryStore
from dialogs.conversation import Conversation
from tests.scenarios.chat import Chat

PHRASES = Path(__file__).parent / "own_words"
OFFICE_FAMILIES = {
    "engineering", "it-infrastructure", "data", "design", "product", "project-management", "marketing",
    "sales", "customer-support", "people-hr", "learning-development", "finance", "operations",
    "administration", "content-communications",
}


def phrases(*, misses: bool = False) -> list[tuple[str, str, str]]:
    """(family, what the person says, the role meant); with `misses`, only the phrases marked `miss: true`
    — ones the coach does not offer the right role for yet, kept so that the gap is on record and shrinks."""
    out = []
    for path in sorted(PHRASES.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if bool(entry.get("miss")) == misses:
                out.append((path.stem, entry["says"], entry["role"]))
    return out


async def offered_for(coach: Coach, n: int, says: str) -> tuple[str, list[str], Chat]:
    chat = Chat(coach, user=f"U{n}")
    await chat.send("hi")
    await chat.press("start")
    await chat.send(says)
    convo = (await coach.store.get(CONVERSATIONS, chat.key)).data
    offered = convo["data"].get("role_candidates", []) if convo["state"] in ("role_confirm", "role_pick") else []
    return convo["state"], offered, chat


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_phrases_cover_at_least_40_roles_of_the_new_families(catalog):
    roles = {role for _, _, role in phrases()}
    assert roles <= set(catalog.roles), roles - set(catalog.roles)
    new_family_roles = {r for r in roles if catalog.roles[r].family not in OFFICE_FAMILIES}
    assert len(new_family_roles) >= 40
    assert len({catalog.roles[r].family for r in new_family_roles}) >= 10


async def test_every_phrase_is_offered_its_role(catalog):
    coach = Coach(Settings(database_url="memory:"), MemoryStore(), catalog, Directory(), dialog=Conversation())
    missed = []
    for n, (family, says, role) in enumerate(phrases()):
        state, offered, chat = await offered_for(coach, n, says)
        if role not in offered:
            missed.append((family, says, role, state, offered))
            continue
        # the question names the role by its title
        assert catalog.roles[role].title.lower() in chat.texts().lower(), (says, chat.texts())
    assert missed == []


async def test_a_phrase_on_record_as_missed_is_still_missed(catalog):
    """A phrase marked `miss: true` that the coach now understands must lose its mark (strict)."""
    coach = Coach(Settings(database_url="memory:"), MemoryStore(), catalog, Directory(), dialog=Conversation())
    understood = []
    for n, (family, says, role) in enumerate(phrases(misses=True)):
        _, offered, _ = await offered_for(coach, n, says)
        if role in offered:
            understood.append((family, says, role))
    assert understood == []
