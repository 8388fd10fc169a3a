"""The global words: what a person can say at any point of the conversation, in its natural phrasings."""

from __future__ import annotations

import enum
import re

from bot.matching import normalise


class G(enum.Enum):
    """Global commands, understood at any point of a conversation."""

    HELP = "help"
    START = "start"
    RESTART = "restart"
    MY_PLAN = "my plan"
    MY_DATA = "my data"
    FORGET = "forget me"
    STOP_REMINDERS = "stop reminders"
    RESUME_REMINDERS = "resume reminders"
    CANCEL = "cancel"
    EXPLAIN = "explain"
    SHARE_ON = "share my progress"
    SHARE_OFF = "stop sharing"


PHRASES: dict[G, tuple[str, ...]] = {
    G.HELP: ("help", "what can you do", "commands", "menu", "usage", "options", "how does this work"),
    G.START: ("start", "begin", "grow", "resume", "continue", "lets start", "let's start", "lets go",
              "get started", "hi", "hello", "hey", "good morning", "hi there", "hello there"),
    G.RESTART: ("restart", "start over", "start again", "reset", "begin again", "new plan", "redo"),
    G.MY_PLAN: ("my plan", "plan", "show plan", "show my plan", "progress", "my progress", "show progress",
                "see my plan", "view plan"),
    G.MY_DATA: ("my data", "export", "export my data", "what do you know about me", "show my data",
                "download my data"),
    G.FORGET: ("forget me", "delete my data", "delete me", "erase me", "delete everything",
               "remove my data", "forget everything"),
    G.STOP_REMINDERS: ("stop reminders", "no reminders", "stop nudges", "stop these reminders", "unsubscribe",
                       "mute reminders", "reminders off", "turn off reminders", "opt out"),
    G.RESUME_REMINDERS: ("resume reminders", "start reminders", "reminders on", "turn on reminders",
                         "resubscribe", "opt in"),
    G.SHARE_ON: ("share my progress", "start sharing", "sharing on", "include me in the team summary"),
    G.SHARE_OFF: ("stop sharing", "sharing off", "dont share", "don't share", "keep me out of the team summary"),
    G.CANCEL: ("cancel", "stop", "quit", "exit", "never mind", "nevermind", "abort"),
    G.EXPLAIN: ("explain", "upskilling or reskilling", "upskilling vs reskilling", "reskilling vs upskilling",
                "whats the difference", "what is the difference", "difference", "what is upskilling",
                "what is reskilling", "upskill or reskill", "upskilling or reskilling?"),
}
_LOOKUP = {normalise(p): g for g, phrases in PHRASES.items() for p in phrases}
_PROGRESS = re.compile(
    r"^(?:i\s+)?(?:have\s+|ve\s+|'ve\s+|just\s+|finally\s+)*(?:finished|completed|complete|done with|did|passed|"
    r"mark)\s+(.+?)(?:\s+(?:as\s+)?done)?$"
)


_SKILLING = r"(?:up|re)[\s-]?skill\w*"
_ABOUT_THE_DIFFERENCE = re.compile(
    rf"(?:up[\s-]?skill\w*\b.*\bre[\s-]?skill|re[\s-]?skill\w*\b.*\bup[\s-]?skill)"
    rf"|^(?:so\s+)?(?:what|whats|what's|explain|define|tell me|meaning of|how is|how does)\b.*\b{_SKILLING}"
)


def global_command(text: str) -> G | None:
    key = normalise(text).rstrip("!.? ")
    found = _LOOKUP.get(key)
    if found is None and _ABOUT_THE_DIFFERENCE.search(key):
        return G.EXPLAIN  # "what's the difference between upskilling and reskilling?", "what is reskilling"
    return found


# the unmistakable ways to say one finished something ("I did social media for our brand" is a role)
_FINISHED = re.compile(r"^(?:i\s*)?(?:have\s+|['’]?ve\s+|just\s+|finally\s+)*(?:finished|completed|passed)\s+(.+?)[.!\s]*$",
                       re.IGNORECASE)


def finished_report(text: str) -> str | None:
    """What someone says they finished, said so plainly that it cannot be an answer to a question."""
    m = _FINISHED.match(" ".join(text.split()))
    return m.group(1) if m else None


def progress_report(text: str) -> str | None:
    m = _PROGRESS.match(normalise(text))
    return m.group(1) if m else None
