"""Finding roles from how people describe their work (BM25 over titles, descriptions and skills).

Titles are matched with rapidfuzz in `bot.matching` (typos, abbreviations); this index answers the other
half: "I write news stories for a local paper" shares no title with "Journalist", but its words are in the
journalist's description. Every role becomes one document — its title and alternate titles (repeated, so
they weigh more), its plain-words description, and the names of its most important skills — tokenised with
English stop words removed and Snowball-stemmed, and indexed once with `bm25s`.

BM25 ranks; it does not say how good the best match is. `coverage` does: the share of the query's
information (its words weighted by inverse document frequency; a word no role uses weighs the most) that
the role's document contains. A description that explains most of what the person said is a candidate;
one that shares a single common word is not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import Stemmer

from bot.catalog import Catalog

if TYPE_CHECKING:
    import bm25s

# bm25s (and numpy under it) are imported where an index is built, searched or read back, not with this
# module: a server opens its port before it loads the matching indexes (bot/lifecycle.py).

_WORD = re.compile(r"[a-z0-9+#]+")
# Words that say nothing about which job it is (beyond bm25s's English stop words).
_NOISE = {
    "i", "im", "am", "work", "works", "working", "job", "jobs", "role", "roles", "currently", "company", "team",
    "teams", "department", "day", "days", "lot", "lots", "thing", "things", "stuff", "really", "basically",
    "mostly", "kind", "sort", "bit", "also", "every", "get", "make", "makes", "making", "help", "helps",
    "helping", "people", "local", "big", "small", "busy", "new", "good", "like", "want", "would", "maybe",
    "something", "someone", "senior", "junior", "lead", "head", "principal", "staff", "chief", "assistant",
}


@cache
def _stopwords() -> frozenset[str]:
    import bm25s.stopwords

    return frozenset(bm25s.stopwords.STOPWORDS_EN) | _NOISE


_DENSE_POSTINGS = 4096


def _top(retriever: bm25s.BM25, token_ids: list[int], k: int) -> list[tuple[int, float]]:
    """The k best documents for these token ids, best first, ties in document order. Only the documents
    that hold one of the tokens are summed and ranked (their postings in the index's precomputed
    scores), not an array of every document: a query costs what its tokens' postings do, however large
    the catalog is."""
    import numpy as np

    scores = retriever.scores
    indptr, indices, data = scores["indptr"], scores["indices"], scores["data"]
    spans = [(int(indptr[t]), int(indptr[t + 1])) for t in token_ids]
    docs = np.concatenate([indices[a:b] for a, b in spans]) if spans else np.empty(0, dtype=np.int64)
    if docs.size == 0 or k <= 0:
        return []
    values = np.concatenate([data[a:b] for a, b in spans])
    if docs.size > _DENSE_POSTINGS:  # common tokens: one sum over every document beats sorting postings
        unique = np.arange(int(scores["num_docs"]))
        totals = np.bincount(docs, weights=values, minlength=len(unique))
        held = totals > 0
        unique, totals = unique[held], totals[held]
    else:
        unique, inverse = np.unique(docs, return_inverse=True)
        totals = np.bincount(inverse, weights=values)
    totals = totals.astype(data.dtype)  # summed as bm25s sums: float32
    k = min(k, len(unique))
    best = np.argpartition(-totals, k - 1)[:k] if k < len(unique) else np.arange(len(unique))
    best = best[np.lexsort((unique[best], -totals[best]))]
    return [(int(unique[i]), float(totals[i])) for i in best if totals[i] > 0]


@dataclass(frozen=True)
class Hit:
    id: str
    coverage: float  # 0..1: how much of what the person said this document explains
    bm25: float


class TextIndex:
    """A BM25 index of (id, text) documents, built once; `search` ranks them and says how much of the
    query the best ones explain."""

    def __init__(self, documents: list[tuple[str, str]]) -> None:
        import bm25s

        self._stemmer = Stemmer.Stemmer("english")
        self._ids = [doc_id for doc_id, _ in documents]
        docs = [self.tokens(text) for _, text in documents]
        self._doc_sets = [set(d) for d in docs]
        df: dict[str, int] = {}
        for words in self._doc_sets:
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = max(1, len(docs))
        self._idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self._unknown_idf = math.log(1 + n)
        self._vocab: dict[str, int] = {"": 0}
        self._retriever: bm25s.BM25 | None = None
        if docs:
            ids = [[self._vocab.setdefault(w, len(self._vocab)) for w in d] or [0] for d in docs]
            self._retriever = bm25s.BM25()
            self._retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=self._vocab), show_progress=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_stemmer"]  # a C object: made again when read back
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._stemmer = Stemmer.Stemmer("english")

    def tokens(self, text: str) -> list[str]:
        stop = _stopwords()
        words = [w for w in _WORD.findall(text.lower().replace("'", "")) if w not in stop and len(w) > 1]
        return self._stemmer.stemWords(words)

    def search(self, text: str, k: int = 5) -> list[Hit]:
        query = list(dict.fromkeys(self.tokens(text)))
        known = [w for w in query if w in self._vocab]
        if not known or self._retriever is None:
            return []
        total = sum(self._idf.get(w, self._unknown_idf) for w in query)
        hits = []
        for index, score in _top(self._retriever, [self._vocab[w] for w in known], k):
            words = self._doc_sets[index]
            covered = sum(self._idf[w] for w in known if w in words)
            hits.append(Hit(self._ids[index], covered / total if total else 0.0, score))
        return hits


def role_documents(catalog: Catalog) -> list[tuple[str, str]]:
    """A role as people would describe it: titles (weighing more), the work in plain words, key skills."""
    out = []
    for role in catalog.roles.values():
        top_skills = sorted(role.skills.items(), key=lambda kv: -kv[1])[:8]
        out.append((role.id, " ".join([role.title] * 3 + role.alt_titles * 2 + [role.description]
                                      + [catalog.skill_name(s) for s, _ in top_skills])))
    return out


def skill_documents(catalog: Catalog) -> list[tuple[str, str]]:
    """A skill by its name and aliases (weighing more) and its description."""
    return [(skill.id, " ".join([skill.name] * 3 + skill.aliases * 2 + [skill.description]))
            for skill in catalog.skills.values()]


def trigrams(phrase: str) -> list[str]:
    """The character trigrams of each word, padded: typos change a few of them, not most."""
    out: list[str] = []
    for word in phrase.split():
        padded = f" {word} "
        out.extend(padded[i:i + 3] for i in range(len(padded) - 2))
    return out


class PhraseIndex:
    """Finds the titles that look most like what was typed (BM25 over character trigrams), so that the
    fuzzy scorers in `bot.matching` only rank a short list however large the catalog is."""

    def __init__(self, phrases: list[str]) -> None:
        import bm25s

        self._vocab: dict[str, int] = {"": 0}
        ids = [[self._vocab.setdefault(g, len(self._vocab)) for g in trigrams(p)] or [0] for p in phrases]
        self._size = len(phrases)
        self._df = [0] * len(self._vocab)
        for doc in ids:
            for g in set(doc):
                self._df[g] += 1
        self._retriever: bm25s.BM25 | None = None
        if phrases:
            self._retriever = bm25s.BM25()
            self._retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=self._vocab), show_progress=False)

    def search(self, phrase: str, k: int = 30, max_grams: int = 10) -> list[int]:
        """The phrases most like `phrase`; only its rarest trigrams are looked up (they are the ones that
        tell titles apart, and the cheapest to score), so a long sentence costs what a title does."""
        grams = [self._vocab[g] for g in dict.fromkeys(trigrams(phrase)) if g in self._vocab]
        if not grams or self._retriever is None:
            return []
        grams = sorted(grams, key=lambda g: self._df[g])[:max_grams]
        return [index for index, _score in _top(self._retriever, grams, k)]
