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
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from gptbuilder.language import STOPWORDS, sentence_spans, stem_word
from gptbuilder.types import Hit

Embed = Callable[[Sequence[str]], np.ndarray]  # (n, dim) float32, L2-normalised

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NEGATION = frozenset("not never no none nobody nothing neither nor without cannot".split())
_QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())

# Logistic model of P(the passages answer the question). Features, in order: best sentence
# cosine, best sentence coverage, best passage coverage, rarest word missing from all passages,
# top passage cosine, question has a negation, share of the question's names/numbers missing
# from the best passage, best sentence holds the asked-for kind of answer, margin of the best
# sentence over the next, rarest word missing from the best passage, shared word pairs.
# Fitted (L2 logistic regression) on the 2,205 SQuAD 2.0 questions (978 answerable, 1,227 not)
# outside the answer benchmark's sample: `python -m bench.answers --fit`. AUC 0.72 on them, 0.69
# on average for an article left out of the fit (so it carries over to unseen documents).
ABSTAIN_WEIGHTS = np.array(
    [2.898, 1.096, -1.382, 0.223, 1.623, -1.588, -0.516, 0.032, 0.532, -0.524, -0.49],
    dtype=np.float64,
)
ABSTAIN_BIAS = -2.244
# Confidence below this: say the documents don't answer. Chosen so that 20% of the answerable
# fitting questions are refused (target: at most 20%); 49% of the unanswerable ones are.
ANSWER_THRESHOLD = 0.392


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words (stopwords and question words left out)."""
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS or w in _QUESTION_WORDS or w in _NEGATION:
            continue
        out.append(stem_word(w))
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


class SentenceVectors:
    """Sentence spans and vectors of passages, kept for the most recently used passages:
    questions about the same documents keep meeting the same passages."""

    def __init__(self, embed: Embed, size: int = 4096) -> None:
        self.embed = embed
        self._size = size
        self._cache: OrderedDict[tuple[int, str], tuple[list[tuple[int, int]], np.ndarray]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def __call__(self, hits: Sequence[Hit]) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        out: list[tuple[list[tuple[int, int]], np.ndarray] | None] = []
        missing: list[int] = []
        with self._lock:
            for i, h in enumerate(hits):
                got = self._cache.get((h.chunk_id, h.text))
                if got is not None:
                    self._cache.move_to_end((h.chunk_id, h.text))
                else:
                    missing.append(i)
                out.append(got)
        if missing:
            spans = [sentence_spans(hits[i].text) for i in missing]
            texts = [hits[i].text[a:b] for i, sp in zip(missing, spans, strict=True) for a, b in sp]
            vecs = self.embed(texts) if texts else np.zeros((0, 0), dtype=np.float32)
            pos = 0
            with self._lock:
                for i, sp in zip(missing, spans, strict=True):
                    entry = (sp, vecs[pos : pos + len(sp)])
                    pos += len(sp)
                    out[i] = entry
                    self._cache[(hits[i].chunk_id, hits[i].text)] = entry
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return out  # type: ignore[return-value]


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


def coverage(query_terms: Sequence[str], text_terms: set[str], stats: TermStats) -> float:
    """IDF-weighted share of the query's words found in the text, 0..1."""
    if not query_terms:
        return 0.0
    total = sum(stats.idf(t) for t in set(query_terms))
    found = sum(stats.idf(t) for t in set(query_terms) if t in text_terms)
    return found / total if total else 0.0


# Linear model ranking the sentences of the retrieved passages by how likely they hold the
# answer. Features, in order (see ``candidates``): sentence cosine, sentence coverage, its
# passage's cosine, its passage's coverage, 1 / passage rank, holds the asked-for kind of
# answer, shared word pairs, share of its words that are new (not in the question), coverage of
# the sentence before it, length. The weights are the plain half cosine, half coverage: a
# listwise fit of all ten on the 978 answerable SQuAD 2.0 questions outside the benchmark's
# sample (``python -m bench.answers --fit-ranker``) put a sentence holding the answer first
# 76.8% of the time for articles left out of the fit, against 76.5% for these weights.
SENTENCE_WEIGHTS = np.array([0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], dtype=np.float64)


@dataclass(frozen=True)
class SentenceCandidates:
    """The sentences of the retrieved passages, with what the ranker and the judge need."""

    spans: list[tuple[int, int, int]]  # (hit index, start, end)
    texts: list[str]
    features: np.ndarray  # (n, len(SENTENCE_WEIGHTS))
    q_terms: list[str]
    hit_terms: list[set[str]]
    hit_cos: np.ndarray
    hit_cov: np.ndarray


def candidates(
    question: str, hits: Sequence[Hit], sentences: SentenceVectors, stats: TermStats
) -> SentenceCandidates:
    q_terms = terms(question)
    per_hit = sentences(hits)
    spans = [(i, s, e) for i, (sp, _) in enumerate(per_hit) for s, e in sp]
    texts = [hits[i].text[s:e] for i, s, e in spans]
    q = sentences.embed([question])[0]
    hit_cos = np.array([h.dense_score if h.dense_score is not None else h.score for h in hits])
    hit_terms = [set(terms(h.text)) for h in hits]
    hit_cov = np.array([coverage(q_terms, ht, stats) for ht in hit_terms])
    if not texts:
        return SentenceCandidates(
            [], [], np.zeros((0, len(SENTENCE_WEIGHTS))), q_terms, hit_terms, hit_cos, hit_cov
        )
    sent_cos = np.concatenate([v for sp, v in per_hit if len(sp)]) @ q
    sent_terms = [terms(t) for t in texts]
    sent_cov = np.array([coverage(q_terms, set(st), stats) for st in sent_terms])
    q_set = set(q_terms)
    rows = []
    for k, (i, _, _) in enumerate(spans):
        st = sent_terms[k]
        same_passage_before = k > 0 and spans[k - 1][0] == i
        rows.append(
            (
                float(sent_cos[k]),
                float(sent_cov[k]),
                float(hit_cos[i]),
                float(hit_cov[i]),
                1.0 / (1 + i),
                _answer_type_found(question, texts[k]),
                _bigram_overlap(q_terms, st),
                sum(t not in q_set for t in st) / len(st) if st else 0.0,
                float(sent_cov[k - 1]) if same_passage_before else 0.0,
                min(1.0, len(texts[k]) / 300),
            )
        )
    return SentenceCandidates(spans, texts, np.asarray(rows), q_terms, hit_terms, hit_cos, hit_cov)


def assess(
    question: str,
    hits: Sequence[Hit],
    sentences: SentenceVectors,
    stats: TermStats,
    max_hits: int = 4,
) -> Assessment:
    """Rank the sentences of the top ``max_hits`` passages and score answerability."""
    hits = list(hits)[:max_hits]
    if not hits:
        return Assessment((), 0.0, (0.0,) * len(ABSTAIN_WEIGHTS))
    c = candidates(question, hits, sentences, stats)
    spans, texts, q_terms = c.spans, c.texts, c.q_terms
    scores = c.features @ SENTENCE_WEIGHTS if texts else np.zeros(0)
    # A sentence restating the question states nothing (PoisonedRAG's passages open with the
    # question, word for word, with or without its "?"): it is never quoted as the answer
    # nor counted as evidence. A document's own other questions stay ("Is there a route of
    # at most 2000 km ...?"), and so does a statement that repeats the question's words with
    # an answer ("A deterministic Turing machine is ..."): taking its coverage away cost the
    # answer benchmark five answers (a: 0.63 -> 0.62); a planted one meets a true one in
    # ``conflicts`` instead.
    restated = c.features[:, 1] >= RESTATED if texts else np.zeros(0, dtype=bool)
    new_words = c.features[:, 7] if texts else np.zeros(0)
    asks = restated & np.array(
        [is_question(t) or new_words[k] == 0 for k, t in enumerate(texts)], dtype=bool
    )
    scores = np.where(asks, scores - QUESTION_PENALTY, scores)
    stated = c.features[~asks]

    order = np.argsort(-scores, kind="stable")
    evidence = tuple(
        Evidence(spans[k][0], spans[k][1], spans[k][2], float(scores[k])) for k in order
    )
    seen = set().union(*c.hit_terms)
    missing = [stats.idf(t) for t in set(q_terms) if t not in seen]
    rarest_missing = max(missing) / stats.max_idf if missing else 0.0
    negated = float(any(w in _NEGATION or w.endswith("n't") for w in question.lower().split()))
    best = evidence[0] if evidence else None
    best_text = hits[best.hit_index].text[best.start : best.end] if best else ""
    best_passage = hits[best.hit_index].text if best else ""
    top_missing = [stats.idf(t) for t in set(q_terms) if t not in set(terms(best_passage))]
    margin = float(scores[order[0]] - scores[order[1]]) if len(order) > 1 else 0.0
    features = (
        float(stated[:, 0].max()) if len(stated) else 0.0,
        float(stated[:, 1].max()) if len(stated) else 0.0,
        float(c.hit_cov.max()),
        rarest_missing,
        float(c.hit_cos.max()),
        negated,
        _names_missing(question, best_passage),
        _answer_type_found(question, best_text),
        margin,
        max(top_missing) / stats.max_idf if top_missing else 0.0,
        _bigram_overlap(q_terms, terms(best_text)),
    )
    z = float(np.dot(ABSTAIN_WEIGHTS, features) + ABSTAIN_BIAS)
    return Assessment(evidence, 1.0 / (1.0 + math.exp(-z)), features)


_NAME = re.compile(r"(?<!^)(?<![.?!] )\b(?:[A-Z][\w'-]+|\d[\d,.]*)")
_YEAR_OR_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_CAPITALISED = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+")


QUESTION_PENALTY = 1.0  # below any statement (scores are 0..1)
RESTATED = 0.8  # a sentence holding this much of the question's words (IDF-weighted) restates it
_CLOSING = "\"'”’)]*_ "


def is_question(sentence: str) -> bool:
    """The sentence asks something ("Who led the troops?"): it states no answer."""
    return sentence.rstrip().rstrip(_CLOSING).endswith("?")


def _names_missing(question: str, passage: str) -> float:
    """Share of the question's names and numbers that the passage does not contain."""
    names = {m.group(0).strip(",.").lower() for m in _NAME.finditer(question.strip())}
    if not names:
        return 0.0
    low = passage.lower()
    return sum(n not in low for n in names) / len(names)


def _answer_type_found(question: str, sentence: str) -> float:
    """1 when the sentence holds the kind of thing the question asks for (a number for "how
    many", a year for "when", a name for "who"); 0.5 when the question word gives no hint."""
    q = question.lower()
    if q.startswith(
        (
            "how many",
            "how much",
            "how long",
            "how old",
            "what year",
            "when",
            "in what year",
            "in which year",
            "what percentage",
        )
    ):
        return 1.0 if _YEAR_OR_NUMBER.search(sentence) else 0.0
    if q.startswith(("who", "whom", "whose")):
        return 1.0 if _CAPITALISED.search(sentence) else 0.0
    return 0.5


def _bigram_overlap(q_terms: Sequence[str], s_terms: Sequence[str]) -> float:
    qb = set(zip(q_terms, q_terms[1:], strict=False))
    if not qb:
        return 0.0
    return len(qb & set(zip(s_terms, s_terms[1:], strict=False))) / len(qb)


def best_quote(
    hit: Hit, claim: str, question: str, sentences: SentenceVectors
) -> tuple[int, int] | None:
    """The sentence of ``hit`` that best supports ``claim`` (an answer sentence) as an answer
    to ``question``: the quote highlighted under a citation."""
    spans, sent_vecs = sentences([hit])[0]
    if not spans:
        return None
    if len(spans) == 1:
        return spans[0]
    texts = [hit.text[s:e] for s, e in spans]
    vecs = sentences.embed([claim, question])
    sims = sent_vecs @ (vecs[0] + 0.5 * vecs[1])
    claim_words = set(terms(claim))
    lexical = np.array([len(claim_words & set(terms(t))) / max(1, len(claim_words)) for t in texts])
    k = int(np.argmax(sims / 1.5 + lexical))
    return spans[k]
