"""The BM25 ranking of `bot.retrieval` sums only the postings of the query's tokens: it must rank exactly
as bm25s's own scores over every document do."""

from __future__ import annotations

import random

import numpy as np

from bot.retrieval import PhraseIndex, TextIndex, _top, trigrams

WORDS = ("care", "data", "field", "plant", "sales", "clinic", "site", "energy", "retail", "school", "legal",
         "night", "quality", "safety", "patient", "stock", "fleet", "client", "design", "service")


def test_top_is_the_k_best_of_the_scores_over_every_document() -> None:
    rnd = random.Random(3)
    phrases = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 4))) + f" {i % 97}" for i in range(6000)]
    index = PhraseIndex(phrases)
    retriever, vocab = index._retriever, index._vocab
    for _ in range(200):
        query = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 3)))
        grams = [vocab[g] for g in dict.fromkeys(trigrams(query)) if g in vocab]
        every = retriever.get_scores(grams)  # bm25s: every document's score
        ours = _top(retriever, grams, 25)
        assert len(ours) == min(25, int((every > 0).sum()))
        docs = [d for d, _ in ours]
        assert len(set(docs)) == len(docs)
        assert np.allclose([s for _, s in ours], every[docs], rtol=1e-5), query
        assert [s for _, s in ours] == sorted((s for _, s in ours), reverse=True)
        kth = ours[-1][1]
        better = {int(d) for d in np.flatnonzero(every > kth * (1 + 1e-5))}
        assert better <= set(docs), query  # nothing left out scores clearly above the last one kept


def test_top_of_nothing_is_empty() -> None:
    index = PhraseIndex(["nurse", "teacher"])
    assert _top(index._retriever, [], 5) == []
    assert TextIndex([("a", "ward nurse")]).search("zzz qqq") == []
