"""Find the sentences of the retrieved passages that answer a question, and judge whether the
documents answer it at all.

The bundled model is tiny: given the right passage it states the right answer less than half of
the time, while the passage sentence closest to the question holds it far more often. So the
answer pipeline leans on this module: it picks the quote shown under an answer, and it decides
when to say "the documents don't say" instead of letting the model invent.

Scores mix two views of "this sentence answers that question": embedding cosine (meaning) and
how much of the question's rare words the sentence contains (IDF-weighted coverage, from the
assistant's own documents). The abstention score is a small logistic model over a handful of
such features; its weights were fitted on SQuAD 2.0 questions that the answer benchmark does not
use (``bench/answers.py --fit``), see ``ABSTAIN_WEIGHTS``.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from gptbuilder.retrieval.cite import STOPWORDS, split_sentences
from gptbuilder.types import Hit

Embed = Callable[[Sequence[str]], np.ndarray]  # (n, dim) float32, L2-normalised

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NEGATION = frozenset("not never no none nobody nothing neither nor without cannot".split())
_QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())

# Logistic model of P(the passages answer the question). Features, in order:
#   best sentence cosine, best sentence coverage, best passage coverage, rarest missing word,
#   top passage cosine, question has a negation. Fitted by `python -m bench.answers --fit`.
ABSTAIN_WEIGHTS = np.array([4.0, 3.0, 3.0, -3.0, 2.0, -0.5], dtype=np.float64)
ABSTAIN_BIAS = -5.0
ANSWER_THRESHOLD = 0.5  # confidence below this: say the documents don't answer


def _stemmer() -> Callable[[str], str]:
    try:
        import Stemmer  # PyStemmer: Snowball stemmers in C

        stem = Stemmer.Stemmer("english")
        return stem.stemWord  # type: ignore[no-any-return]
    except ImportError:  # pragma: no cover - PyStemmer is a dependency
        return lambda w: w.rstrip("s") if len(w) > 3 else w


_STEM = _stemmer()


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words (stopwords and question words left out)."""
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS or w in _QUESTION_WORDS or w in _NEGATION:
            continue
        out.append(_STEM(w))
    return out


class TermStats:
    """Inverse document frequency of stemmed words over one assistant's passages."""

    def __init__(self, texts: Iterable[str]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for t in texts:
            n += 1
            df.update(set(terms(t)))
        self.n = n
        self._df = df
        # Unseen words get the largest IDF: they are rarer than anything in the documents.
        self.max_idf = math.log(1 + (n + 1) / 0.5)

    def idf(self, term: str) -> float:
        d = self._df.get(term, 0)
        return math.log(1 + (self.n + 1) / (d + 0.5)) if d else self.max_idf


class TermStatsCache:
    """One TermStats per assistant, rebuilt when its set of documents changes."""

    def __init__(self, load: Callable[[int], tuple[tuple[int, ...], list[str]]]) -> None:
        self._load = load  # assistant id -> (document ids, passage texts)
        self._cache: dict[int, tuple[tuple[int, ...], TermStats]] = {}
        self._lock = threading.Lock()

    def get(self, assistant_id: int, document_ids: tuple[int, ...]) -> TermStats:
        with self._lock:
            cached = self._cache.get(assistant_id)
            if cached and cached[0] == document_ids:
                return cached[1]
            _, texts = self._load(assistant_id)
            stats = TermStats(texts)
            self._cache[assistant_id] = (document_ids, stats)
            return stats


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage: ``hits[hit_index].text[start:end]``."""

    hit_index: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Assessment:
    evidence: tuple[Evidence, ...]  # best first
    confidence: float  # 0..1: how likely the passages answer the question
    features: tuple[float, ...]

    @property
    def answerable(self) -> bool:
        return self.confidence >= ANSWER_THRESHOLD


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, surrounding whitespace excluded."""
    spans = []
    pos = 0
    for s in split_sentences(text):
        start = text.index(s, pos)
        pos = start + len(s)
        lead = len(s) - len(s.lstrip())
        body = s.strip()
        if body:
            spans.append((start + lead, start + lead + len(body)))
    return spans


def coverage(query_terms: Sequence[str], text_terms: set[str], stats: TermStats) -> float:
    """IDF-weighted share of the query's words found in the text, 0..1."""
    if not query_terms:
        return 0.0
    total = sum(stats.idf(t) for t in set(query_terms))
    found = sum(stats.idf(t) for t in set(query_terms) if t in text_terms)
    return found / total if total else 0.0


def assess(
    question: str, hits: Sequence[Hit], embed: Embed, stats: TermStats, max_hits: int = 4
) -> Assessment:
    """Rank the sentences of the top ``max_hits`` passages and score answerability."""
    hits = list(hits)[:max_hits]
    if not hits:
        return Assessment((), 0.0, (0.0,) * len(ABSTAIN_WEIGHTS))
    q_terms = terms(question)
    spans = [(i, s, e) for i, h in enumerate(hits) for s, e in sentence_spans(h.text)]
    texts = [hits[i].text[s:e] for i, s, e in spans]
    vecs = embed([question, *texts])  # passages were embedded at ingestion: use their scores
    sent_cos = vecs[1:] @ vecs[0]
    hit_cos = np.array([h.dense_score if h.dense_score is not None else h.score for h in hits])
    sent_cov = np.array([coverage(q_terms, set(terms(t)), stats) for t in texts])
    hit_terms = [set(terms(h.text)) for h in hits]
    hit_cov = np.array([coverage(q_terms, ht, stats) for ht in hit_terms])
    scores = 0.5 * sent_cos + 0.5 * sent_cov if texts else np.zeros(0)

    order = np.argsort(-scores, kind="stable")
    evidence = tuple(
        Evidence(spans[k][0], spans[k][1], spans[k][2], float(scores[k])) for k in order
    )
    seen = set().union(*hit_terms)
    missing = [stats.idf(t) for t in set(q_terms) if t not in seen]
    rarest_missing = max(missing) / stats.max_idf if missing else 0.0
    negated = float(any(w in _NEGATION or w.endswith("n't") for w in question.lower().split()))
    features = (
        float(sent_cos.max()) if texts else 0.0,
        float(sent_cov.max()) if texts else 0.0,
        float(hit_cov.max()),
        rarest_missing,
        float(hit_cos.max()),
        negated,
    )
    z = float(np.dot(ABSTAIN_WEIGHTS, features) + ABSTAIN_BIAS)
    return Assessment(evidence, 1.0 / (1.0 + math.exp(-z)), features)


def best_quote(hit: Hit, claim: str, question: str, embed: Embed) -> tuple[int, int] | None:
    """The sentence of ``hit`` that best supports ``claim`` (an answer sentence) as an answer
    to ``question``: the quote highlighted under a citation."""
    spans = sentence_spans(hit.text)
    if not spans:
        return None
    if len(spans) == 1:
        return spans[0]
    texts = [hit.text[s:e] for s, e in spans]
    vecs = embed([claim, question, *texts])
    sims = vecs[2:] @ (vecs[0] + 0.5 * vecs[1])
    claim_words = set(terms(claim))
    lexical = np.array([len(claim_words & set(terms(t))) / max(1, len(claim_words)) for t in texts])
    k = int(np.argmax(sims / 1.5 + lexical))
    return spans[k]
