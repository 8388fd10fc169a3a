"""The BM25 ranking of `bot.retrieval` sums only the postings of the query's tokens: it must rank exactly
as bm25s's own scores over every document do."""

from __future__ import annotations

import random

import numpy as np

from bot.retrieval import PhraseIndex, TextIndex, _top, trigrams

WORDS = ("care", "data", "field", "plant", "sales", "clinic", "site", "energy", "retail", "school", "legal",
         "night", "quality", "safety", "patient", "stock", "fleet", "client", "design", "service")


def _full_ranking(retriever, token_ids: list[int], k: int) -> list[tuple[int, float]]:
    scores = retriever.get_scores(token_ids)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    return [(i, float(scores[i])) for i in order if scores[i] > 0]


def test_top_ranks_as_the_scores_over_every_document() -> None:
    rnd = random.Random(3)
    phrases = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 4))) + f" {i % 97}" for i in range(6000)]
    index = PhraseIndex(phrases)
    retriever = index._retriever
    vocab = index._vocab
    for _ in range(200):
        query = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 3)))
        grams = [vocab[g] for g in dict.fromkeys(trigrams(query)) if g in vocab]
        ours = _top(retriever, grams, 25)
        theirs = _full_ranking(retriever, grams, 25)
        assert np.allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5), query
        # the same documents at each rank, but for near-equal scores (float32 sums in another order)
        for (doc, score), (their_doc, _) in zip(ours, theirs):
            near = {d for d, s in theirs if abs(s - score) <= 1e-5 * score}
            assert doc == their_doc or doc in near, query
        assert {d for d, _ in ours}.symmetric_difference(d for d, _ in theirs) <= {
            d for d, s in ours + theirs if abs(s - ours[-1][1]) <= 1e-5 * ours[-1][1]}, query


def test_top_of_nothing_is_empty() -> None:
    index = PhraseIndex(["nurse", "teacher"])
    assert _top(index._retriever, [], 5) == []
    assert TextIndex([("a", "ward nurse")]).search("zzz qqq") == []
