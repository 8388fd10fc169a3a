"""Free-text answers read into values: role text, time in the role, goals, hours a week."""

from __future__ import annotations

import re

from bot import messages as M
from bot.matching import core_words, normalise
from bot.types import Choice


# words that never name a job: amounts of time, yes / no and filler ("3-5 years", "about 4 hours", "yes")
_NOT_JOB_WORDS = frozenset("""
    year years yr yrs month months week weeks day days hour hours hrs h a an the about around roughly
    me my is am are was it its that thats this s m
    approximately maybe per each every more than less over under nearly almost just only or and to between
    yes y yep yeah yup sure ok okay k no n nope nah none nothing i dont know not really idk
    one two three four five six seven eight nine ten eleven twelve half
""".split())


def usable_role_text(text: str) -> bool:
    """Enough to look a role up: at least one word that could name a job ("a", "?", "yes", "3-5 years" or
    "about 4 hours" cannot)."""
    words = [w for w in re.findall(r"[a-z]+", normalise(core_words(text))) if w not in _NOT_JOB_WORDS]
    return sum(len(w) for w in words) >= 2


_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "half a": 0.5, "half an": 0.5, "a": 1, "an": 1}
_NUMBER = r"\d+(?:\.\d+)?|(?:" + "|".join(w for w in _WORDS if w not in ("a", "an")) + r")\b"
# a number or a range of two: "3-5", "3–5" (any dash), "3 to 5", "between 3 and 5", "3 or 4"; "5+" is above 5
_AMOUNT = re.compile(rf"(?<![\w.])(?:between\s+)?({_NUMBER})"
                     rf"(?:\s*(?:[-\u2010-\u2015\u2212~]|\bto\b|\bor\b|\band\b)\s*({_NUMBER}))?\s*(\+)?")


def _value(word: str) -> float:
    return float(word) if word[0].isdigit() else float(_WORDS[word])


def amount_from_text(text: str, units: str = "") -> float | None:
    """The amount in `text` (before one of `units`, a regex, when given): a number, or the middle of a
    range ("3-5" → 4, "between 1 and 3" → 2); "5+" reads a little above 5."""
    t = (text or "").lower().replace("\u00a0", " ")
    pattern = _AMOUNT.pattern + (rf"\s*(?:{units})" if units else "")
    m = re.search(pattern, t)
    if not m:
        return None
    low = _value(m.group(1))
    high = _value(m.group(2)) if m.group(2) else low
    amount = (low + high) / 2 if high >= low else low
    return amount + 0.01 if m.group(3) else amount


def tenure_from_text(text: str) -> Choice | None:
    """'6 months', '2 years', 'ten years', '1-3 years' (the middle of a range) → the matching bucket."""
    t = (text or "").lower()
    unit = re.search(r"(?<![a-z])(year|yr|month|mo|week|wk)s?\b", t)
    if not unit:
        return None
    n = amount_from_text(t, units="years?|yrs?|months?|mos?|weeks?|wks?")
    if n is None:
        n = 1.0 if re.search(r"\ban?\s+(?:year|yr|month|mo|week|wk)\b", t) else None
    if n is None:
        return None
    years = n if unit.group(1) in ("year", "yr") else n / 12 if unit.group(1) in ("month", "mo") else n / 52
    value = "lt1" if years < 1 else "1to3" if years < 3 else "3to5" if years <= 5 else "5plus"
    return next(Choice(v, label) for v, label in M.TENURE_CHOICES if v == value)


_SWITCH_TO = re.compile(
    r"\b(?:become|becoming|be|move|moving|switch|switching|transition|transitioning|change|changing|get|go|"
    r"work|working|pivot|pivoting|retrain)\b(?:\s+(?:careers?|jobs?|roles?|over|myself))?"
    r"\s+(?:in\s*to|into|to|as|a|an|towards|toward)\s+(?:an?\s+|the\s+)?(.+)$"
)
_GROW_WORDS = ("grow", "better at", "improve", "promotion", "promoted", "stay", "level up", "advance", "deepen",
               "same role", "current role", "where i am", "get better", "upskill")
_SWITCH_WORDS = ("different role", "new role", "switch", "change career", "career change", "something else",
                 "move", "reskill", "new job", "different job")
_UNSURE_WORDS = ("not sure", "unsure", "don't know", "dont know", "no idea", "maybe", "undecided", "help me decide")


def parse_goal(text: str) -> tuple[str | None, str | None]:
    """Free text → ("grow"|"switch"|"unsure"|None, target text or None)."""
    t = normalise(text)
    if not t:
        return None, None
    m = _SWITCH_TO.search(t)
    if m:
        # a named target wins over hedging ("maybe switch to data")
        target = m.group(1).strip()
        if target and not any(w in target for w in ("better", "promot", "senior", "same")):
            return "switch", target
    if any(w in t for w in _UNSURE_WORDS):
        return "unsure", None
    if any(w in t for w in _GROW_WORDS):
        return "grow", None
    if any(w in t for w in _SWITCH_WORDS):
        return "switch", None
    return None, None


def recommend_path(enjoy: str | None, future: str | None, curious: str | None) -> str:
    """The path the three answers point to: 'grow' (upskill) or 'switch' (reskill)."""
    score = {"yes": 2, "some": 0, "no": -2}.get(enjoy or "", 0)
    score += {"same": 2, "dunno": 0, "different": -2}.get(future or "", 0)
    score += {"yes": -1, "no": 1}.get(curious or "", 0)
    return "grow" if score >= 0 else "switch"


def hours_from_text(text: str) -> float | None:
    """'4', '2.5 hours', '3-5 h' or 'between 3 and 5' (the middle of a range: 4), 'about six' → hours a
    week (0 < h <= 60)."""
    hours = amount_from_text(text)
    return round(hours, 1) if hours is not None and 0 < hours <= 60 else None
