"""Fuzzy matching of free text to catalog roles, skills and offered choices (pure functions)."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.catalog import Catalog, Role
from bot.retrieval import PhraseIndex, TextIndex, role_documents, skill_documents
from bot.taxonomy import cache
from bot.types import Choice

_PUNCT = re.compile(r"[^\w\s+#./&-]")
_SPACES = re.compile(r"\s+")

# Words that describe seniority or the speaker, not the job.
_FILLER = re.compile(
    r"\b(i am|i'm|i m|im|i work as|i work in|i work on|my role is|my job is|currently|at the moment|right now|"
    r"for our|for my|for the|for a|at our|at my|at a|in our|in my|our|my|the|an|a|"
    r"senior|sr|junior|jr|lead|principal|staff|chief|head of|associate|assistant to|intern|trainee|"
    r"i do|i handle|i manage|i run|kind of|sort of|basically|brand|company|team|department|org|organisation|"
    r"organization|something in|something like|anything in|maybe|perhaps|probably|possibly|i think|i guess|"
    r"i'd like to|i would like to|get into|work in|go into)\b"
)

# Abbreviations that stand for several jobs: each reading is looked up, so the person is asked which.
# (Catalog alternate titles must be unique to one role, so these live here rather than in the data.)
AMBIGUOUS_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "pm": ("product manager", "project manager", "program manager"),
    "hr": ("hr generalist", "hr manager", "hr business partner"),
    "ba": ("business analyst",),
    "ops": ("operations manager", "operations specialist"),
    "registrar": ("medical registrar", "civil registrar"),
}

CONFIDENT = 90.0   # a match this good (and clear of the next one) is confirmed with one question
PLAUSIBLE = 62.0   # matches at least this good are offered as options
CLEAR_GAP = 6.0
# A role found by its description (not its title) is offered, never confirmed as certain: at best just
# under CONFIDENT, at least PLAUSIBLE when the description explains MIN_COVERAGE of what was said.
MIN_COVERAGE = 0.45
# A title found inside a sentence of SENTENCE_WORDS or more words is offered among the options, not
# confirmed on its own: the rest of the sentence may describe a different job.
SENTENCE_WORDS = 5
SENTENCE_CAP = CONFIDENT - 0.5


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def core_words(text: str) -> str:
    """The job words of a description: 'I do social media for our brand' -> 'social media'."""
    words = _FILLER.sub(" ", normalise(text))
    words = _SPACES.sub(" ", words).strip()
    return words or normalise(text)


@dataclass(frozen=True)
class RoleMatch:
    role: Role
    score: float
    matched: str  # the title or alternate title that matched


class _Indexed:
    """A matcher whose indexes are read or built when first used (or by `warm`), not when it is made."""

    KIND = ""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    @staticmethod
    def _build(catalog: Catalog) -> dict:
        raise NotImplementedError

    def __getattr__(self, name: str):
        # only called for what the instance lacks: the built state, the first time it is asked for
        if name.startswith("__") or "catalog" not in self.__dict__:
            raise AttributeError(name)
        state = _indexes(self.catalog, self.KIND, self._build)
        if name not in state:
            raise AttributeError(name)
        self.__dict__.update(state)
        return state[name]


class RoleMatcher(_Indexed):
    """Matches free text against every role: its titles (rapidfuzz) and how people describe it (BM25)."""

    KIND = "roles"

    @staticmethod
    def _build(catalog: Catalog) -> dict:
        phrases: list[str] = []
        owner: list[str] = []
        exact: dict[str, list[int]] = {}
        for role in catalog.roles.values():
            for phrase in [role.title, *role.alt_titles]:
                exact.setdefault(normalise(phrase), []).append(len(phrases))
                phrases.append(normalise(phrase))
                owner.append(role.id)
        return {"index": TextIndex(role_documents(catalog)), "_phrases": phrases, "_owner": owner,
                "_exact": exact, "_lookalikes": PhraseIndex(phrases)}

    def match(self, text: str, limit: int = 4) -> list[RoleMatch]:
        query = normalise(text)
        core = core_words(text)
        if not query:
            return []
        best: dict[str, tuple[float, str]] = {}
        readings = {query: 1.0}  # the words as typed beat the same words with seniority and filler removed
        readings.setdefault(core, 0.97)
        expansions = AMBIGUOUS_ABBREVIATIONS.get(core, ())
        for expansion in expansions:
            readings.setdefault(expansion, 0.95)
        exact = {i for candidate in readings for i in self._exact.get(candidate, ())}
        for candidate, weight in readings.items():
            # the titles that look most like this reading (trigram retrieval) and the exact titles of
            # every reading are the short list the combined fuzzy score ranks: its cost grows with
            # neither the catalog nor the number of readings squared
            shortlist = exact | self._lookalikes_of(candidate, expansion=candidate in expansions)
            for index in shortlist:
                phrase = self._phrases[index]
                score = _role_score(candidate, phrase) * weight
                if _is_fragment(phrase, candidate):
                    score = min(score, SENTENCE_CAP)
                if score < 40:
                    continue
                role_id = self._owner[index]
                if score > best.get(role_id, (-1.0, ""))[0]:
                    best[role_id] = (score, phrase)
        hits = self.index.search(text, k=limit + 2) if len(query.split()) >= 2 or not best else []
        top = hits[0].coverage if hits else 0.0
        for hit in hits:
            if hit.coverage < MIN_COVERAGE or hit.coverage < top - 0.2:
                continue
            score = PLAUSIBLE + (CONFIDENT - 0.1 - PLAUSIBLE) * (hit.coverage - MIN_COVERAGE) / (1 - MIN_COVERAGE)
            if score > best.get(hit.id, (-1.0, ""))[0]:
                best[hit.id] = (score, "description")
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])  # stable: equal scores keep retrieval order
        return [RoleMatch(self.catalog.roles[rid], round(score, 1), phrase) for rid, (score, phrase) in ranked[:limit]]

    def _lookalikes_of(self, phrase: str, *, expansion: bool = False) -> set[int]:
        """The titles that look most like `phrase`; an abbreviation's readings are fixed phrases, so
        theirs are looked up once per matcher."""
        if not expansion:
            return set(self._lookalikes.search(phrase, k=25))
        memo = self.__dict__.setdefault("_expansions", {})
        if phrase not in memo:
            memo[phrase] = frozenset(self._lookalikes.search(phrase, k=25))
        return memo[phrase]

    def guess_family(self, text: str) -> str | None:
        """The most likely job family for a role that is not in the catalog."""
        votes: dict[str, float] = defaultdict(float)
        matches = self.match(text, limit=8)
        if not matches:
            return None
        best = matches[0].score
        for m in matches:
            if m.score >= best - 8:  # only near-best matches vote; a crowd of weak ones must not win
                votes[m.role.family] += m.score
        if not votes:
            return None
        return max(votes.items(), key=lambda kv: (kv[1], kv[0]))[0]


_BUILDING = threading.Lock()  # one thread reads or builds a catalog's indexes; the others wait for them


def _indexes(catalog: Catalog, name: str, build) -> dict:
    """A matcher's built state: shared by every matcher of this catalog, read from the index stored for
    this catalog (bot.taxonomy.cache) when it fits, else built (and stored)."""
    with _BUILDING:
        fp = cache.fingerprint(catalog)  # the key: a catalog changed after a matcher was built gets new indexes
        state = catalog.indexes.get(f"{name}:{fp}")
        if state is None:
            state = cache.load(catalog, name, fp)
            if state is None:
                state = build(catalog)
                cache.store(catalog, name, fp, state)
            catalog.indexes[f"{name}:{fp}"] = state
        return state


def warm(catalog: Catalog) -> None:
    """Read (or build) the role and skill indexes now, so that the first question does not wait for them."""
    for matcher in (RoleMatcher, SkillMatcher):
        _indexes(catalog, matcher.KIND, matcher._build)


def _is_fragment(phrase: str, sentence: str) -> bool:
    """A title that is a small part of a sentence ("... medicines in a chemist") is a lead, not an answer."""
    words = sentence.split()
    return len(words) >= SENTENCE_WORDS and len(phrase.split()) / len(words) < 0.4


def _role_score(query: str, phrase: str, **kwargs) -> float:
    if query == phrase:
        return 100.0
    # token_set handles extra words ("social media" vs "social media manager"); a plain ratio keeps
    # short different words apart; partial catches typos inside longer phrases.
    token = fuzz.token_set_ratio(query, phrase)
    # token_set is 100 whenever the query's words are a subset of the phrase ("pm" in "technical pm"):
    # weigh it by how much of the phrase the query covers, so a part never outranks a whole title.
    phrase_words = phrase.split()
    covered = len(set(query.split()) & set(phrase_words)) / max(1, len(phrase_words))
    token *= 0.7 + 0.3 * covered
    plain = fuzz.ratio(query, phrase)
    partial = fuzz.partial_ratio(query, phrase) if min(len(query), len(phrase)) >= 5 else plain
    score = max(plain, 0.9 * token, 0.8 * partial)
    if set(query.split()) <= set(phrase_words):
        score = min(99.0, score + 3)  # whole words of the title beat look-alike fragments ("office" ≠ "officer")
    return score


def is_confident(matches: list[RoleMatch]) -> bool:
    if not matches or matches[0].score < CONFIDENT:
        return False
    if len(matches) == 1:
        return True
    return matches[0].score == 100.0 and matches[1].score < 100.0 or matches[0].score - matches[1].score >= CLEAR_GAP


class SkillMatcher(_Indexed):
    """Matches free text ("sql, js and public speaking") to catalog skill ids."""

    KIND = "skills"

    @staticmethod
    def _build(catalog: Catalog) -> dict:
        exact: dict[str, str] = {}
        phrases: list[str] = []
        owner: list[str] = []
        for skill in catalog.skills.values():
            for phrase in [skill.name, skill.id.replace("-", " "), *skill.aliases]:
                key = normalise(phrase)
                exact.setdefault(key, skill.id)
                phrases.append(key)
                owner.append(skill.id)
        return {"index": TextIndex(skill_documents(catalog)), "_exact": exact, "_phrases": phrases, "_owner": owner}

    def match_one(self, text: str, cutoff: float = 86.0, scorer=fuzz.WRatio) -> str | None:
        """One skill: exact id, name or alias, else the closest name above `cutoff`."""
        key = normalise(text)
        if not key:
            return None
        if key in self._exact:
            return self._exact[key]
        found = process.extractOne(key, self._phrases, scorer=scorer, score_cutoff=cutoff)
        if found is None:
            return None
        phrase, score, index = found
        # very short inputs must match nearly exactly ("r" is not "rust")
        if len(key) <= 3 and score < 97:
            return None
        return self._owner[index]

    def match_list(self, text: str) -> tuple[list[str], list[str]]:
        """Skill ids found in a comma/and-separated list, and the pieces that matched nothing."""
        found: list[str] = []
        unknown: list[str] = []
        for piece in split_list(text):
            skill = self.match_one(piece)
            if skill is None:
                skill = self._match_inside(piece)
            if skill is None:
                skill = self._match_described(piece)
            if skill is None:
                unknown.append(piece)
            elif skill not in found:
                found.append(skill)
        return found, unknown

    def _match_described(self, piece: str) -> str | None:
        """'talking to customers on the phone' -> the skill whose name, aliases or description explain
        most of those words (BM25), when they explain most of them."""
        hits = self.index.search(piece, k=2)
        if hits and hits[0].coverage >= 0.7 and (len(hits) == 1 or hits[0].bm25 > hits[1].bm25 * 1.2):
            return hits[0].id
        return None

    def _match_inside(self, piece: str) -> str | None:
        """'I finished the SQL course' -> sql: a skill name or alias that appears as whole words."""
        text = f" {normalise(piece)} "
        best: tuple[int, str] | None = None
        for phrase, skill in self._exact.items():
            if len(phrase) >= 2 and f" {phrase} " in text:
                if best is None or len(phrase) > best[0]:
                    best = (len(phrase), skill)
        return best[1] if best else None

    def find_in(self, text: str) -> str | None:
        return self._match_inside(text) or self.match_one(core_words(text), cutoff=90.0)


_LIST_SPLIT = re.compile(r"\s*(?:,|;|\n|\band\b|&|\+(?=\s)|/(?=\s))\s*", re.IGNORECASE)


def split_list(text: str) -> list[str]:
    return [p.strip(" .") for p in _LIST_SPLIT.split(text or "") if p and p.strip(" .")]


_NONE_WORDS = {"none", "nothing", "no", "nope", "none of these", "n/a", "na", "skip", "no more", "that's all",
               "thats all", "that is all", "done", "nothing else", "no others"}
_YES_WORDS = {"yes", "y", "yep", "yeah", "yup", "sure", "ok", "okay", "k", "correct", "right", "that's me",
              "thats me", "yes please", "of course", "absolutely", "definitely", "go", "go ahead", "sounds good",
              "why not", "ready", "im ready", "i'm ready", "sure thing", "yes lets go", "ok lets go", "alright",
              "all right", "fine", "please", "ok sure", "yeah sure", "sure why not", "lets do it", "let's do it", "let's go", "ok let's go", "yes let's go",
              "let's start", "yes let's start"}
_NO_WORDS = {"no", "n", "nope", "nah", "not really", "no thanks", "no thank you"}
# compared with normalised text, where "let's" reads "let s"
_YES_WORDS = {normalise(w) for w in _YES_WORDS}
_NONE_WORDS = {normalise(w) for w in _NONE_WORDS}


_YES_OPENERS = frozenset("yes y yeah yep yup sure ok okay correct right exactly absolutely definitely".split())
_YES_FILLER = frozenset("that thats s is it its me one the this right correct exactly please thanks thank you "
                        "i am im m".split())


def says_yes(text: str) -> bool:
    """A yes: one of the yes words ("yes", "sure", "let's go"), or a yes in a few more words ("yes that is
    me", "yep, that's right", "correct, that one")."""
    if normalise(text).rstrip("!. ") in _YES_WORDS:
        return True
    words = re.findall(r"[a-z]+", normalise(text))
    if not words:
        return False
    opens = words[0] in _YES_OPENERS or words[:2] == ["that", "is"] or words[:2] == ["that", "s"]
    return opens and all(w in _YES_FILLER or w in _YES_OPENERS for w in words[1:])


_NO_OPENERS = frozenset("no n nope nah not".split())
_NO_FILLER = frozenset("really thanks thank you i d rather would not that s it is isn t me".split())


def says_no(text: str) -> bool:
    """A no, in one word or a few: "no", "nope", "not really", "no thanks", "no, I'd rather not"."""
    if normalise(text).rstrip("!. ") in _NO_WORDS:
        return True
    words = re.findall(r"[a-z]+", normalise(text))
    return bool(words) and words[0] in _NO_OPENERS and all(w in _NO_FILLER or w in _NO_OPENERS for w in words[1:])


def is_none(text: str) -> bool:
    return normalise(text) in _NONE_WORDS


def pick_choice(text: str, choices: list[Choice] | tuple[Choice, ...]) -> Choice | None:
    """A typed answer to a question with choices: the number, the label, the value, or close text."""
    raw = (text or "").strip()
    if not raw or not choices:
        return None
    key = normalise(raw)
    if re.fullmatch(r"[0-9]{1,4}", key):
        n = int(key)
        return choices[n - 1] if 1 <= n <= len(choices) else None
    for c in choices:
        if key in (normalise(c.label), normalise(c.value)):
            return c
    values = {c.value: c for c in choices}
    if "yes" in values and says_yes(raw):
        return values["yes"]
    if "no" in values and says_no(raw):
        return values["no"]
    labels = [normalise(c.label) for c in choices]
    scored = process.extract(key, labels, scorer=fuzz.WRatio, limit=2)
    if not scored:
        return None
    best_label, best, index = scored[0]
    second = scored[1][1] if len(scored) > 1 else 0.0
    if best >= 86 and best - second >= 4 and (len(key) >= 3 or best == 100):
        return choices[index]
    # a distinctive word shared with exactly one label ("mentor" -> "Mentoring")
    words = [w for w in key.split() if len(w) >= 4]
    hits = {i for i, lab in enumerate(labels) for w in words for lw in lab.split() if fuzz.ratio(w, lw) >= 85}
    if len(hits) == 1:
        return choices[hits.pop()]
    return None


def pick_many(text: str, choices: list[Choice] | tuple[Choice, ...]) -> tuple[list[Choice], list[str]]:
    """A typed answer to a multi-select: chosen choices and the pieces that matched none."""
    key = normalise(text)
    if key in ("all", "all of them", "everything", "all of these"):
        return list(choices), []
    if is_none(text):
        return [], []
    chosen: list[Choice] = []
    rest: list[str] = []
    pieces = split_list(text)
    # "1 3 4" typed with spaces
    if pieces and all(re.fullmatch(r"[0-9\s]+", p) for p in pieces):
        pieces = [d for p in pieces for d in p.split()]
    for piece in pieces:
        c = pick_choice(piece, choices)
        if c is None:
            rest.append(piece)
        elif c not in chosen:
            chosen.append(c)
    return chosen, rest
