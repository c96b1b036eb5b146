"""Hybrid retrieval: dense (embeddings) and keyword (BM25) candidates, fused into one ranking.

Neither retriever is best alone: on SciFact (nDCG@10) BM25 scores 0.686 and MiniLM 0.645, and
they fail on different questions. Two ways to fuse are here (bench/retrieval.py measures them):

- ``convex`` (the default), "TM2C2" in Bruch et al. (2023, "An Analysis of Fusion Functions for
  Hybrid Retrieval"): per question, each retriever's scores are scaled from the lowest score it
  can give at all (cosine -1, BM25 0) to its best candidate's (1), a passage one retriever did
  not return (of about a thousand candidates each) counts 0 there, and the two are mixed 0.75
  dense + 0.25 keyword. SciFact: 0.736. It keeps how much better one passage is than the next,
  which rank fusion throws away.
- ``rrf``: reciprocal-rank fusion, sum of 1 / (60 + rank); no tuning at all. SciFact: 0.717.

Scaling from the worst candidate instead of the lowest possible score (plain min-max) is
there too but scores lower (0.700 at 0.75): it stretches the narrow spread of cosines when the
embedding has no idea (a bare product code as the question), so dense noise outweighs a
clear keyword match.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from gptbuilder.backends.embedder import Embedder
from gptbuilder.db import Repository
from gptbuilder.search.index_store import IndexStore
from gptbuilder.search.keyword_index import KeywordIndexStore
from gptbuilder.types import Hit

log = logging.getLogger(__name__)

Scored = list[tuple[int, float]]  # (chunk id, score), best first


@dataclass(frozen=True)
class Fusion:
    method: Literal["convex", "rrf"] = "convex"
    dense_weight: float = 0.75  # convex: the keyword weight is 1 - dense_weight
    theoretical: bool = True  # convex: scale from the lowest possible score, not the worst
    rrf_k: int = 60  # rrf: damping of the rank; 60 is the value of the original paper
    candidates: int = 1000  # per retriever and question


def _scaled(scored: Scored, floor: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Chunk ids (n,) int64 and their scores mapped to 0..1, float64 (see min_max)."""
    ids = np.fromiter((cid for cid, _ in scored), dtype=np.int64, count=len(scored))
    values = np.fromiter((s for _, s in scored), dtype=np.float64, count=len(scored))
    if not len(values):
        return ids, values
    low, high = (values.min() if floor is None else floor), values.max()
    if high - low <= 1e-12:
        return ids, np.ones_like(values)
    return ids, (values - low) / (high - low)


def min_max(scored: Scored, floor: float | None = None) -> dict[int, float]:
    """Scores mapped to 0..1 (best 1): worst candidate 0, or ``floor`` 0 when given (the
    lowest score the retriever can give at all). All equal (one candidate, say) counts as all
    best: there is nothing to tell them apart."""
    ids, values = _scaled(scored, floor)
    return dict(zip(ids.tolist(), values.tolist(), strict=True))


def _combined(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> Scored:
    """Sum each chunk's values over the parts (ids unique within a part); best first, equal
    scores in chunk id order, so results are reproducible. NumPy: about 2,000 candidates per
    question in a Python loop cost several milliseconds."""
    ids = np.unique(np.concatenate([i for i, _ in parts])) if parts else np.zeros(0, np.int64)
    fused = np.zeros(len(ids), dtype=np.float64)
    for part_ids, values in parts:
        fused[np.searchsorted(ids, part_ids)] += values
    order = np.lexsort((ids, -fused))
    return list(zip(ids[order].tolist(), fused[order].tolist(), strict=True))


def convex_fusion(
    dense: Scored, keyword: Scored, dense_weight: float = 0.75, theoretical: bool = True
) -> Scored:
    """dense_weight * normalised dense + (1 - dense_weight) * normalised keyword; 0..1.

    Scaled per question from the lowest possible score (cosine -1, BM25 0) to the best
    candidate's, or with ``theoretical`` False from the worst candidate's (plain min-max).
    """
    d_ids, d = _scaled(dense, -1.0 if theoretical else None)
    k_ids, k = _scaled(keyword, 0.0 if theoretical else None)
    return _combined([(d_ids, dense_weight * d), (k_ids, (1 - dense_weight) * k)])


def rrf_fusion(rankings: Sequence[Scored], k: int = 60) -> Scored:
    """Reciprocal-rank fusion: sum over rankings of 1 / (k + rank), rank counted from 1."""
    parts = []
    for ranking in rankings:
        ids = np.fromiter((cid for cid, _ in ranking), dtype=np.int64, count=len(ranking))
        parts.append((ids, 1.0 / (k + np.arange(1, len(ids) + 1, dtype=np.float64))))
    return _combined(parts)


def fuse(dense: Scored, keyword: Scored, fusion: Fusion) -> Scored:
    if fusion.method == "rrf":
        return rrf_fusion([dense, keyword], fusion.rrf_k)
    return convex_fusion(dense, keyword, fusion.dense_weight, fusion.theoretical)


@dataclass(frozen=True)
class Ranked:
    """What each retriever found for one question, before fusion."""

    vector: np.ndarray  # (dim,) float32: the embedded question
    dense: Scored  # cosine similarity
    keyword: Scored  # BM25; only chunks sharing a word with the question
    keyword_complete: bool  # every chunk with a keyword score above 0 is in ``keyword``


class HybridRetriever:
    def __init__(
        self,
        repo: Repository,
        dense: IndexStore,
        keywords: KeywordIndexStore | None,  # None: dense retrieval only
        embedder: Embedder,
        fusion: Fusion | None = None,
    ) -> None:
        self._repo = repo
        self._dense = dense
        self._keywords = keywords
        self._embedder = embedder
        self.fusion = fusion or Fusion()

    def candidates(
        self, assistant_id: int, question: str, documents: Collection[int] = ()
    ) -> Ranked:
        """What each retriever finds; with ``documents``, only among those documents' passages
        (scored exactly: the user chose a few documents to read)."""
        n = self.fusion.candidates
        vector = self._embedder.embed([question])[0]
        if documents:
            return self._candidates_in(assistant_id, question, vector, documents)
        dense = self._dense.search(assistant_id, vector, n)
        keyword: Scored = []
        if self._keywords is not None:
            keyword = self._keywords.search(assistant_id, question, n)
        return Ranked(vector, dense, keyword, keyword_complete=len(keyword) < n)

    def _candidates_in(
        self, assistant_id: int, question: str, vector: np.ndarray, documents: Collection[int]
    ) -> Ranked:
        n = self.fusion.candidates
        ids, vectors = self._repo.passages.chunk_vectors(documents)
        cosine = vectors @ vector if len(ids) else np.zeros(0, dtype=np.float32)
        order = np.argsort(-cosine, kind="stable")[:n]
        dense: Scored = [(int(ids[i]), float(cosine[i])) for i in order]
        keyword: Scored = []
        if self._keywords is not None and len(ids):
            scores = self._keywords.scores_for(assistant_id, question, ids.tolist())
            ranked = sorted(
                ((c, v) for c, v in scores.items() if v > 0), key=lambda t: (-t[1], t[0])
            )
            keyword = ranked[:n]
        return Ranked(vector, dense, keyword, keyword_complete=len(keyword) < n)

    def retrieve(
        self, assistant_id: int, question: str, k: int, documents: Collection[int] = ()
    ) -> list[Hit]:
        """The k best passages of the assistant (or of ``documents`` among its own)."""
        found = self.candidates(assistant_id, question, documents)
        if self._keywords is None:
            fused = found.dense  # scores stay cosine similarities
        else:
            fused = fuse(found.dense, found.keyword, self.fusion)
        # A few spare: chunks of a document still being added are in the vector index but are
        # not yet hits, and must not leave the answer short of sources.
        hits = self._repo.passages.hits(assistant_id, fused[: 2 * k + 4])[:k]
        return self._with_raw_scores(assistant_id, question, hits, found)

    def _with_raw_scores(
        self, assistant_id: int, question: str, hits: list[Hit], found: Ranked
    ) -> list[Hit]:
        """Give every hit its cosine and BM25 score, also where only the other retriever
        returned it: those are comparable across questions, the fused score is not."""
        dense = dict(found.dense)
        keyword = dict(found.keyword)
        no_dense = [h.chunk_id for h in hits if h.chunk_id not in dense]
        if no_dense:
            for cid, vec in self._repo.passages.chunk_embeddings(no_dense).items():
                dense[cid] = float(np.dot(vec, found.vector))
        no_keyword = [h.chunk_id for h in hits if h.chunk_id not in keyword]
        if self._keywords is not None and no_keyword:
            if found.keyword_complete:
                keyword.update(dict.fromkeys(no_keyword, 0.0))
            else:
                keyword.update(self._keywords.scores_for(assistant_id, question, no_keyword))
        return [
            replace(h, dense_score=dense.get(h.chunk_id), keyword_score=keyword.get(h.chunk_id))
            for h in hits
        ]
