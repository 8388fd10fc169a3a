"""Property: random and hostile input at every step always gets a reply and never an exception."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.catalog import load_catalog
from bot.core import Coach
from dialogs.conversation import Conversation
from bot.people import Directory
from bot.settings import Settings
from bot.store import CONVERSATIONS
from bot.store.memory import MemoryStore
from bot.types import Incoming

# A script that walks the interview; the property test stops after k of its answers and then
# throws arbitrary input at whatever question is open there.
SCRIPT = ["hi", "1", "journalist", "yes", "2", "none", "not sure", "1", "2", "1", "1", "software developer",
          "yes", "2", "all", "yes", "mark a skill done", "1", "forget me"]

hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "0", "-1", "99", "1,2,3,999", "none", "all", "yes", "no", "\x00", "🙂" * 50,
                     "help", "restart", "cancel", "forget me", "my data", "my plan", "I finished", "start",
                     "a" * 5000, "<b>bold</b>", "'; DROP TABLE profiles; --", "${jndi:ldap://x}"]),
)


@st.composite
def actions(draw):
    kind = draw(st.sampled_from(["text", "choice", "choices", "command"]))
    if kind == "text":
        return {"text": draw(hostile_text)}
    if kind == "choice":
        return {"choice": draw(st.text(max_size=40)), "prompt_id": draw(st.one_of(st.none(), st.text(max_size=20)))}
    if kind == "choices":
        return {"choices": tuple(draw(st.lists(st.text(max_size=20), max_size=5))),
                "prompt_id": draw(st.one_of(st.none(), st.text(max_size=20)))}
    return {"command": draw(st.sampled_from(["grow", "nudge-team", "team-skills", "weird"])),
            "text": draw(hostile_text)}


_CATALOG = []


def make_coach() -> Coach:
    if not _CATALOG:
        _CATALOG.append(load_catalog())
    return Coach(Settings(database_url="memory:"), MemoryStore(), _CATALOG[0], Directory(), dialog=Conversation())


@settings(max_examples=300, deadline=None)
@given(k=st.integers(min_value=0, max_value=len(SCRIPT)), moves=st.lists(actions(), min_size=1, max_size=4))
def test_any_input_at_any_step_gets_a_reply(k, moves):
    async def run():
        coach = make_coach()
        for text in SCRIPT[:k]:
            replies = await coach.handle(Incoming("console", "U", text=text))
            assert replies
        for move in moves:
            replies = await coach.handle(Incoming("console", "U", **move))
            assert replies, move
            assert all(r.text or r.card or r.attachment is not None for r in replies)
            # whatever was saved is still a valid conversation
            record = await coach.store.get(CONVERSATIONS, "console:U")
            if record is not None:
                json.dumps(record.data)
                assert len(json.dumps(record.data)) < 50_000
        # and the conversation can still be finished normally afterwards
        replies = await coach.handle(Incoming("console", "U", text="help"))
        assert replies

    asyncio.run(run())
