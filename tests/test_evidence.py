"""Evidence: sentence spans, word statistics, answerability and quotes."""

from __future__ import annotations

import pytest

from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.retrieval.evidence import (
    SentenceVectors,
    TermStats,
    assess,
    best_quote,
    coverage,
    sentence_spans,
    terms,
)
from gptbuilder.types import Hit

PASSAGES = [
    "The Lisbon office opens at 8 am on weekdays. Visitors sign in at the front desk. "
    "Parking is free in lot B.",
    "Lunch is served in the canteen on the second floor from noon until 2 pm. "
    "The canteen is closed on public holidays.",
    "Security badges are renewed every January by the facilities team.",
]


def hits() -> list[Hit]:
    return [Hit(i + 1, 1, "office.txt", 1, 0, len(t), t, 0.5) for i, t in enumerate(PASSAGES)]


def test_sentence_spans_cover_each_sentence_exactly():
    text = "  First one.  Second, with Dr. Who. Third!\n\nFourth"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "First one.",
        "Second, with Dr. Who.",
        "Third!",
        "Fourth",
    ]
    wrapped = "A flight control law generates commands to\nmove surfaces. Next one."
    assert [wrapped[a:b] for a, b in sentence_spans(wrapped)] == [
        "A flight control law generates commands to\nmove surfaces.",
        "Next one.",
    ]


def test_rare_words_weigh_more_than_common_ones():
    stats = TermStats(PASSAGES + ["The office is open."] * 5)
    assert stats.idf(terms("canteen")[0]) > stats.idf(terms("office")[0])
    assert stats.idf("zzzunseen") == stats.max_idf
    q = terms("When does the canteen serve lunch?")
    assert coverage(q, set(terms(PASSAGES[1])), stats) == 1.0
    assert coverage(q, set(terms(PASSAGES[0])), stats) == 0.0


def test_sentence_vectors_are_cached_per_passage():
    calls = []

    def embed(texts):
        calls.append(len(texts))
        return HashingEmbedder().embed(texts)

    cache = SentenceVectors(embed)
    first = cache(hits())
    assert [len(spans) for spans, _ in first] == [3, 2, 1]
    cache(hits())
    assert calls == [6], "the second call is served from the cache"


@pytest.mark.slow
def test_answerable_and_unanswerable_questions(real_embedder):
    stats = TermStats(PASSAGES)
    sentences = SentenceVectors(real_embedder.embed)

    def ranked(question):
        vec = real_embedder.embed([question])[0]
        hs = hits()
        scores = real_embedder.embed([h.text for h in hs]) @ vec
        order = sorted(range(len(hs)), key=lambda i: -scores[i])
        return [Hit(**{**hs[i].__dict__, "score": float(scores[i])}) for i in order]

    q = "What time does the Lisbon office open?"
    hs = ranked(q)
    judged = assess(q, hs, sentences, stats)
    best = judged.evidence[0]
    assert "8 am" in hs[best.hit_index].text[best.start : best.end]
    assert judged.answerable, judged

    unrelated = "Who won the football world cup in 1998?"
    judged = assess(unrelated, ranked(unrelated), sentences, stats)
    assert not judged.answerable, judged

    hs = ranked(q)
    quote = best_quote(hs[0], "The office opens at 8 am.", q, sentences)
    assert quote and "8 am" in hs[0].text[quote[0] : quote[1]]
