"""Installing the introductions in a coach: their buttons, phrases, helper filter and privacy hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.intros.answers import intro_action
from bot.intros.asking import ask_intent
from bot.intros.mentoring import mentoring_intent
from bot.intros.privacy import export, forget
from bot.intros.records import available

if TYPE_CHECKING:
    from bot.core import Coach


def register(coach: Coach) -> None:
    """Install the introduction buttons and the `ask … to mentor me` / `mentoring …` phrases (once)."""
    if coach.action_handlers.get("intro") is intro_action:
        return
    coach.action_handlers["intro"] = intro_action

    async def listener(user_key: str, what: str) -> None:
        if what == "forgotten":
            await forget(coach, user_key)

    coach.on_change(listener)
    coach.helper_filters.append(available)
    coach.exporters.append(export)
    coach.text_intents.append((("mentoring pause", "mentoring resume", "mentoring capacity", "mentoring status",
                                "pause mentoring", "resume mentoring"), mentoring_intent))
    coach.text_intents.append((("ask", "please ask"), ask_intent))
