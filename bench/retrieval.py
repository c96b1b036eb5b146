"""Retrieval benchmark: quality on SciFact, latency at 10k and 100k chunks, IVF recall.

    python -m bench.retrieval [--data DIR] [--sizes 10000 100000] [--latency-queries 300]

Everything runs through the app's own classes (Repository on SQLite, IndexStore with FAISS,
KeywordIndexStore with bm25s, HybridRetriever), in a scratch data folder under bench/results/.

- Quality: each SciFact abstract (title + text) is one chunk of one assistant; for each of the
  300 test claims the retriever's dense and keyword candidates are ranked four ways (BM25,
  dense, RRF, the app's fusion) and scored with nDCG@10 and recall@100. A sweep of the convex
  weight and normalisation shows how sensitive the choice is.
- Latency: ``retrieve`` end to end (embedding the question included) for the SciFact claims on
  larger collections: the 5,183 real abstracts plus copies of random abstracts whose vectors get
  Gaussian noise (sigma 0.04 per dimension, then re-normalised: cosine to the original about
  0.8) and whose texts lose a random 20% of their words.
- IVF recall@10 against exact search on the largest collection, for several nprobe.

Results: bench/results/retrieval.json and retrieval.md (the corpus embeddings are cached there).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.scifact import RESULTS, default_data_dir, embed_cached, load, ndcg_at, recall_at
from gptbuilder.backends.embedder import Embedder
from gptbuilder.backends.vector_index import FaissIndex
from gptbuilder.config import Settings
from gptbuilder.db import Repository
from gptbuilder.search.hybrid import (
    Fusion,
    HybridRetriever,
    Scored,
    convex_fusion,
    fuse,
    rrf_fusion,
)
from gptbuilder.search.index_store import IndexStore
from gptbuilder.search.keyword_index import KeywordIndexStore
from gptbuilder.services import build_embedder
from gptbuilder.types import AssistantDraft, ChunkDraft, Chunking, Page

log = logging.getLogger("bench.retrieval")
BENCH_CHUNKING = Chunking(0, 0, "bench")  # SciFact abstracts stored whole, one per passage

NOISE_SIGMA = 0.04
WORD_DROPOUT = 0.2
PER_DOCUMENT = 5000  # chunks per synthetic document: documents arrive one by one, as in the app


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def add_collection(
    repo: Repository,
    indexes: IndexStore,
    keywords: KeywordIndexStore,
    name: str,
    texts: Sequence[str],
    vectors: np.ndarray,
) -> tuple[int, np.ndarray, dict[str, float]]:
    """An assistant holding ``texts`` as chunks; its id, the chunk ids (in text order) and how
    long the indexes took to build."""
    a = repo.create_assistant(AssistantDraft(name))
    all_ids = []
    started = time.perf_counter()
    dense_s = 0.0
    for start in range(0, len(texts), PER_DOCUMENT):
        part = texts[start : start + PER_DOCUMENT]
        sha = hashlib.sha256(f"{name}-{start}".encode()).hexdigest()
        repo.passages.ensure_blob(sha, 0, "text/plain")
        doc = repo.add_document(a.id, sha, BENCH_CHUNKING, f"{name}-{start}.txt")
        chunks = [ChunkDraft(i, 1, 0, len(t), t) for i, t in enumerate(part)]
        repo.passages.save_parsed(
            sha, BENCH_CHUNKING, [Page(1, "")], chunks, vectors[start : start + len(part)]
        )
        ids, vecs = repo.passages.chunk_vectors([doc])
        t = time.perf_counter()
        indexes.add(a.id, ids, vecs)
        dense_s += time.perf_counter() - t
        repo.set_document_status(doc, "ready")
        all_ids.append(ids)
        log.info("%s: %d/%d chunks stored", name, start + len(part), len(texts))
    t = time.perf_counter()
    keywords.refresh(a.id)
    keyword_s = time.perf_counter() - t
    took = {
        "total_s": round(time.perf_counter() - started, 1),
        "dense_index_s": round(dense_s, 1),
        "keyword_index_s": round(keyword_s, 1),
    }
    log.info("%s built: %s", name, took)
    return a.id, np.concatenate(all_ids), took


def synthesise(
    texts: Sequence[str], vectors: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[list[str], np.ndarray]:
    """The real collection plus noisy copies of random members, n in all."""
    extra = max(0, n - len(texts))
    pick = rng.integers(0, len(texts), extra)
    noisy = vectors[pick] + rng.normal(scale=NOISE_SIGMA, size=(extra, vectors.shape[1]))
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    copies = []
    for i in pick:
        words = texts[i].split()
        keep = rng.random(len(words)) >= WORD_DROPOUT
        copies.append(" ".join(w for w, k in zip(words, keep, strict=True) if k))
    out_vectors = np.vstack([vectors[:n], noisy.astype(np.float32)])
    return list(texts[:n]) + copies, out_vectors


def quality(retriever: HybridRetriever, aid: int, chunk_to_doc: dict[int, str], data) -> dict:
    rankings: dict[str, Callable[[Scored, Scored], Scored]] = {
        "bm25": lambda d, k: k,
        "dense": lambda d, k: d,
        "rrf (k=60)": lambda d, k: rrf_fusion([d, k], 60),
        "hybrid (app default)": lambda d, k: fuse(d, k, retriever.fusion),
    }
    for w in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        rankings[f"convex theoretical-min w={w}"] = lambda d, k, w=w: convex_fusion(d, k, w)
        rankings[f"convex min-max w={w}"] = lambda d, k, w=w: convex_fusion(d, k, w, False)
    ndcg: dict[str, list[float]] = {name: [] for name in rankings}
    recall: dict[str, list[float]] = {name: [] for name in rankings}
    started = time.perf_counter()
    sizes = []
    for i, (qid, text) in enumerate(zip(data.query_ids, data.query_texts, strict=True)):
        found = retriever.candidates(aid, text)
        sizes.append((len(found.dense), len(found.keyword)))
        for name, rank in rankings.items():
            docs = [chunk_to_doc[c] for c, _ in rank(found.dense, found.keyword)[:100]]
            ndcg[name].append(ndcg_at(docs, data.qrels[qid], 10))
            recall[name].append(recall_at(docs, data.qrels[qid], 100))
        if (i + 1) % 50 == 0:
            log.info(
                "quality: %d/%d queries (%.0fs)",
                i + 1,
                len(data.query_ids),
                time.perf_counter() - started,
            )
    return {
        "queries": len(data.query_ids),
        "documents": len(data.doc_ids),
        "mean_candidates": {
            "dense": statistics.mean(s[0] for s in sizes),
            "keyword": statistics.mean(s[1] for s in sizes),
        },
        "methods": {
            name: {
                "ndcg@10": round(statistics.mean(ndcg[name]), 4),
                "recall@100": round(statistics.mean(recall[name]), 4),
            }
            for name in rankings
        },
    }


def latency(
    retriever: HybridRetriever,
    indexes: IndexStore,
    keywords: KeywordIndexStore,
    embedder: Embedder,
    aid: int,
    questions: Sequence[str],
    k: int,
) -> dict:
    for q in questions[:10]:  # warm up: caches, lazy loads, thread pools
        retriever.retrieve(aid, q, k)
    parts: dict[str, list[float]] = {"retrieve": [], "embed": [], "dense": [], "keyword": []}
    for q in questions:
        t0 = time.perf_counter()
        retriever.retrieve(aid, q, k)
        t1 = time.perf_counter()
        vector = embedder.embed([q])[0]
        t2 = time.perf_counter()
        indexes.search(aid, vector, retriever.fusion.candidates)
        t3 = time.perf_counter()
        keywords.search(aid, q, retriever.fusion.candidates)
        t4 = time.perf_counter()
        for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            parts[name].append(dt * 1000)
    return {
        name: {"p50_ms": round(percentile(v, 50), 1), "p95_ms": round(percentile(v, 95), 1)}
        for name, v in parts.items()
    }


def embed_threads(embedder: Any, questions: Sequence[str]) -> dict:
    """Time to embed one question with one thread (the app) and with all the batch threads."""
    times: dict[str, list[float]] = {"1 thread": [], f"{embedder.batch_threads} threads": []}
    one = embedder.query_threads
    for q in questions:
        for name, threads in zip(times, (one, embedder.batch_threads), strict=True):
            embedder.query_threads = threads
            t = time.perf_counter()
            embedder.embed([q])
            times[name].append((time.perf_counter() - t) * 1000)
    embedder.query_threads = one
    return {
        name: {"p50_ms": round(percentile(v, 50), 1), "p95_ms": round(percentile(v, 95), 1)}
        for name, v in times.items()
    }


def _timed_searches(index: FaissIndex, queries: np.ndarray) -> tuple[list[set[int]], list[float]]:
    found, times = [], []
    for q in queries:
        t = time.perf_counter()
        found.append({i for i, _ in index.search(q, 10)})
        times.append((time.perf_counter() - t) * 1000)
    return found, times


def ivf_recall(
    grown: FaissIndex, ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, threshold: int
) -> dict:
    """recall@10 against exact search for the index as the app grew it (clusters trained when
    the threshold was crossed) and as rebuilt from the database in one go (trained on all)."""
    exact = FaissIndex(vectors.shape[1], ann_threshold=len(ids) + 1)
    exact.add(ids, vectors)
    want, t_exact = _timed_searches(exact, queries)
    rebuilt = FaissIndex(vectors.shape[1], ann_threshold=threshold)
    rebuilt.add(ids, vectors)
    out: dict = {"chunks": len(ids), "exact_search_p50_ms": round(percentile(t_exact, 50), 2)}
    for name, index in (("grown", grown), ("rebuilt", rebuilt)):
        default = index.nprobe or 48
        rows = []
        for nprobe in sorted({8, 16, 32, 48, 64, 96, default}):
            index.nprobe = nprobe
            got, times = _timed_searches(index, queries)
            hits = sum(len(w & g) for w, g in zip(want, got, strict=True))
            rows.append(
                {
                    "nprobe": nprobe,
                    "recall@10": round(hits / (10 * len(queries)), 4),
                    "search_p50_ms": round(percentile(times, 50), 2),
                }
            )
        index.nprobe = default
        out[name] = {"nlist": index.nlist, "nprobe_default": default, "sweep": rows}
    return out


def markdown(r: dict) -> str:
    q = r["quality"]
    lines = [
        "# Retrieval benchmark",
        "",
        f"`{r['command']}` on {r['machine']} (load average at start {r['load_average']}), "
        f"embedder {r.get('embedder', '?')}.",
        "",
        f"## SciFact ({q['documents']} abstracts, {q['queries']} test claims)",
        "",
        "| method | nDCG@10 | recall@100 |",
        "|---|---|---|",
    ]
    for name, m in q["methods"].items():
        lines.append(f"| {name} | {m['ndcg@10']:.3f} | {m['recall@100']:.3f} |")
    lines += ["", "## Latency of `retrieve` (question embedding included), ms", ""]
    lines.append(f"Collections: {r['synthetic']}")
    lines += ["", "| chunks | index | retrieve p50 | p95 | embed p95 | dense p95 | keyword p95 |"]
    lines.append("|---|---|---|---|---|---|---|")
    for size, s in r["latency"].items():
        t = s["timings"]
        lines.append(
            f"| {size} | {s['index']} | {t['retrieve']['p50_ms']} | {t['retrieve']['p95_ms']} | "
            f"{t['embed']['p95_ms']} | {t['dense']['p95_ms']} | {t['keyword']['p95_ms']} |"
        )
    lines += ["", "Embedding one question, ms:", ""]
    for name, t in r["embed_threads"].items():
        lines.append(f"- {name}: p50 {t['p50_ms']}, p95 {t['p95_ms']}")
    if r.get("ivf"):
        ivf = r["ivf"]
        lines += [
            "",
            f"## IVF recall@10 against exact search, {ivf['chunks']} chunks "
            f"(exact search p50 {ivf['exact_search_p50_ms']} ms)",
            "",
            "Grown: clusters trained when documents crossed the threshold, as in the app. "
            "Rebuilt: trained on all chunks at once, as after a rebuild from the database.",
            "",
            "| index | nlist | nprobe | recall@10 | search p50 ms |",
            "|---|---|---|---|---|",
        ]
        for name in ("grown", "rebuilt"):
            for row in ivf[name]["sweep"]:
                app = " (app)" if row["nprobe"] == ivf[name]["nprobe_default"] else ""
                lines.append(
                    f"| {name} | {ivf[name]['nlist']} | {row['nprobe']}{app} | "
                    f"{row['recall@10']} | {row['search_p50_ms']} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--top-k", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "faiss", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    data = load(args.data)
    # The app's embedder with its default settings (GPTB_EMBEDDING_BACKEND chooses another).
    settings = Settings(_env_file=None, data_dir=RESULTS / "retrieval-models")  # type: ignore[call-arg]
    embedder = build_embedder(settings)
    log.info("embedder: %s", embedder.model_id)
    corpus = embed_cached(embedder, data.doc_texts, "scifact-corpus")
    queries = embed_cached(embedder, data.query_texts, "scifact-queries")

    work = RESULTS / "work"
    shutil.rmtree(work, ignore_errors=True)
    repo = Repository(f"sqlite:///{work / 'bench.sqlite3'}")
    indexes = IndexStore(repo, None, embedder.dim)  # default FaissIndex and threshold (50k)
    keywords = KeywordIndexStore(repo, None)
    retriever = HybridRetriever(repo, indexes, keywords, embedder, Fusion())
    result: dict = {
        "command": "python -m bench.retrieval "
        + " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in vars(args).items()
            if k != "data"
        ),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "embedder": embedder.model_id,
        "fusion": dataclasses.asdict(retriever.fusion),
        "synthetic": (
            f"the {len(data.doc_ids)} SciFact abstracts, then copies of random abstracts: "
            f"vector + N(0, {NOISE_SIGMA}²) per dimension, re-normalised; text with "
            f"{WORD_DROPOUT:.0%} of its words dropped at random; stored {PER_DOCUMENT} "
            "chunks per document"
        ),
    }
    try:
        aid, ids, _ = add_collection(repo, indexes, keywords, "scifact", data.doc_texts, corpus)
        chunk_to_doc = dict(zip(ids.tolist(), data.doc_ids, strict=True))
        result["quality"] = quality(retriever, aid, chunk_to_doc, data)
        log.info("quality: %s", json.dumps(result["quality"]["methods"], indent=1))

        rng = np.random.default_rng(0)
        questions = (data.query_texts * 10)[: args.latency_queries]
        result["embed_threads"] = embed_threads(embedder, questions[:100])
        result["latency"] = {}
        for size in args.sizes:
            texts, vectors = synthesise(data.doc_texts, corpus, size, rng)
            sid, sids, took = add_collection(repo, indexes, keywords, f"n{size}", texts, vectors)
            index = indexes.get(sid)
            kind = (
                f"IVF nlist {index.nlist} nprobe {index.nprobe}" if index.approximate else "exact"
            )
            timings = latency(retriever, indexes, keywords, embedder, sid, questions, args.top_k)
            result["latency"][str(size)] = {"index": kind, "build": took, "timings": timings}
            log.info("latency at %d chunks (%s): %s", size, kind, timings)
            if size == max(args.sizes) and index.approximate:
                threshold = index.ann_threshold
                result["ivf"] = ivf_recall(index, sids, vectors, queries, threshold)
                log.info("IVF recall: %s", result["ivf"])
            indexes.drop(sid)
            keywords.drop(sid)
    finally:
        repo.close()
        shutil.rmtree(work, ignore_errors=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (RESULTS / "retrieval.md").write_text(markdown(result), encoding="utf-8")
    log.info("written %s and %s", RESULTS / "retrieval.json", RESULTS / "retrieval.md")


if __name__ == "__main__":
    main()
