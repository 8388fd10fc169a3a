"""The neutral message types every adapter translates to and from.

An adapter builds one `Incoming` per user action before the core sees anything, and renders the
`Reply` objects the core returns: natively (Block Kit, Adaptive Cards) where the platform can, and as
numbered plain text where it cannot.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, a pressed choice, or a command."""

    platform: str                      # "slack" | "teams" | "console"
    user_id: str                       # the platform's id of the user (Slack U…, Teams AAD id or from.id)
    text: str = ""                     # typed text (a pressed choice may also carry its label here)
    choice: str | None = None          # the value of a pressed single choice
    choices: tuple[str, ...] | None = None  # the values of a submitted multi-select (may be empty)
    prompt_id: str | None = None       # the prompt a pressed choice answers (stale presses are detected)
    command: str | None = None         # "grow", "nudge-team", "team-skills" (slash command or bot command)
    channel_id: str | None = None      # where it came from (DM channel, Teams conversation id)
    is_private: bool = True            # a DM / personal chat, as opposed to a channel or team
    email: str | None = None           # the user's email, when the adapter knows it
    name: str | None = None            # display name, when known
    event_id: str | None = None        # the platform's id for this event (deduplication)
    address: dict[str, Any] | None = None  # where proactive messages reach this user (adapter-defined)

    @property
    def user_key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Choice:
    """One option of a question; `value` comes back in `Incoming.choice` when pressed."""

    value: str
    label: str
    description: str | None = None


@dataclass(frozen=True)
class CardSection:
    """A headed part of a card: free lines, label/value facts, or both."""

    heading: str | None = None
    lines: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Card:
    """Structured content (the plan, a team report) that platforms can render richly."""

    title: str
    summary: str = ""
    sections: tuple[CardSection, ...] = ()
    image_url: str | None = None
    image_alt: str | None = None
    kind: str = "plan"                 # "plan" | "report" | "info"
    images: tuple[tuple[str, str], ...] = ()   # more images (URL, alt text): the team report's charts

    @property
    def all_images(self) -> tuple[tuple[str, str], ...]:
        """Every image of the card as (URL, alt text), `image_url` first."""
        first = ((self.image_url, self.image_alt or self.title),) if self.image_url else ()
        return first + self.images


@dataclass(frozen=True)
class Reply:
    """One message from the bot: text, optional choices (single or multi-select), optional card.

    `prompt_id` identifies a question whose choices can be pressed; adapters carry it on the
    buttons so that a press on an old message is recognised as stale.
    """

    text: str = ""
    choices: tuple[Choice, ...] = ()
    multi: bool = False
    card: Card | None = None
    prompt_id: str | None = None
    attachment: dict[str, Any] | None = None  # machine-readable content (the `my data` export)
    attachment_name: str | None = None

    @property
    def is_question(self) -> bool:
        return bool(self.choices)


def numbered_text(reply: Reply) -> str:
    """Render a reply as plain text with choices as numbered lines (console and plain-text channels)."""
    parts: list[str] = []
    if reply.text and not (reply.card is not None and reply.text == reply.card.title):
        parts.append(reply.text)
    if reply.card is not None:
        parts.append(card_text(reply.card))
    if reply.choices:
        if reply.multi:
            parts.append("(pick any: numbers or names separated by commas; 'none' for none)")
        parts.extend(f"{i}. {c.label}" for i, c in enumerate(reply.choices, 1))
    return "\n".join(parts)


_BOLD = re.compile(r"\*([^*\n]+)\*")


def plain_text(text: str) -> str:
    """Text without Slack's *bold* marks, for the terminal and other plain-text outputs."""
    return _BOLD.sub(r"\1", text)


def card_text(card: Card) -> str:
    lines = [card.title.upper() if card.kind == "plan" else card.title]
    if card.summary:
        lines.append(card.summary)
    for section in card.sections:
        lines.append("")
        if section.heading:
            lines.append(section.heading)
        lines.extend(f"  {label}: {value}" for label, value in section.facts)
        lines.extend(f"  {line}" for line in section.lines)
    return "\n".join(lines)


@dataclass(frozen=True)
class FollowUp:
    """What a feature's handler returns when the conversation should go on as if the person had typed
    `text` (a nudge's "Make my plan" means "start"): the turn runs the dialog on it after `replies`."""

    text: str
    replies: tuple[Reply, ...] = ()
