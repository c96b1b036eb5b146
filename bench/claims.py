"""Benchmark of the claim check: is an answer sentence shown only when its source states it?

Reads the labelled set ``bench/data/claims.jsonl`` (made by ``bench/claims_data.py`` from the
shared SQuAD articles and PDFs: supported paraphrases of a source sentence, and unsupported
claims made from them the way models err). Each claim goes through the citation step of the
answer pipeline exactly as a model's sentence does (``cite.resolve_citations`` with the
passage as the one citable source), with today's strict check and, side by side, the check
before it (word overlap and embedding similarity against the whole passage). Reported per kind
and split:

- supported kinds: false-reject rate (the claim was not shown), target ≤ 15%
- unsupported kinds: false-accept rate (the claim was shown), target ≤ 3%

    python -m bench.claims [--data bench/data/claims.jsonl] [--split dev|test|all] [--show N]

Prints a table and writes ``bench/results/claims.json`` and ``claims.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from pathlib import Path

from gptbuilder.retrieval.cite import resolve_citations
from gptbuilder.retrieval.claims import analyzer, check_in_passage
from gptbuilder.types import Hit

log = logging.getLogger("bench.claims")
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "claims.jsonl"
RESULTS = ROOT / "bench" / "results"
FRR_TARGET = 0.15
FAR_TARGET = 0.03


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _hit(passage: str) -> Hit:
    return Hit(1, 1, "source.txt", 1, 0, len(passage), passage, 1.0)


def shown(claim: str, passage: str, embed, strict: bool) -> tuple[bool, str]:
    """Would the answer pipeline show this sentence, citing this passage? And why not."""
    nlp = analyzer()
    answer = resolve_citations(
        claim,
        [_hit(passage)],
        embed,
        check=(lambda s, h: check_in_passage(s, h.text, nlp)) if strict else None,
    )
    reason = answer.dropped_reasons[0] if answer.dropped_reasons else ""
    return bool(answer.citations) and bool(answer.text.strip()), reason


def run(rows: list[dict], embed, show: int = 0) -> dict:
    per: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])  # wrong, total
    mistakes: list[dict] = []
    t0 = time.perf_counter()
    timing = []
    for i, r in enumerate(rows, 1):
        for checker in ("strict", "before"):
            t = time.perf_counter()
            ok, why = shown(r["claim"], r["passage"], embed, checker == "strict")
            if checker == "strict":
                timing.append(time.perf_counter() - t)
            wrong = ok != (r["label"] == "supported")
            for split in (r["split"], "all"):
                cell = per[(checker, split, r["kind"])]
                cell[0] += wrong
                cell[1] += 1
            if wrong and checker == "strict":
                mistakes.append({**r, "shown": ok, "why": why})
        if i % 100 == 0:
            log.info("%d/%d claims (%.0f s)", i, len(rows), time.perf_counter() - t0)
    for m in mistakes[:show]:
        log.info(
            "%s %s [%s] shown=%s why=%s\n  claim: %s\n  span:  %s",
            m["split"],
            m["kind"],
            m["label"],
            m["shown"],
            m["why"],
            m["claim"],
            m["span"],
        )
    table = {
        f"{checker}/{split}/{kind}": {"wrong": w, "n": n, "rate": round(w / n, 3)}
        for (checker, split, kind), (w, n) in sorted(per.items())
    }
    summary = {}
    for checker in ("strict", "before"):
        for split in ("dev", "test", "all"):
            for label in ("supported", "unsupported"):
                cells = [
                    v
                    for k, v in per.items()
                    if k[0] == checker and k[1] == split and _label(rows, k[2]) == label
                ]
                w = sum(c[0] for c in cells)
                n = sum(c[1] for c in cells)
                name = "false_reject" if label == "supported" else "false_accept"
                if n:
                    summary[f"{checker}/{split}/{name}"] = round(w / n, 3)
    timing.sort()
    return {
        "claims": len(rows),
        "summary": summary,
        "per_kind": table,
        "strict_ms_p50": round(1000 * timing[len(timing) // 2], 1) if timing else None,
        "strict_ms_p95": round(1000 * timing[int(len(timing) * 0.95)], 1) if timing else None,
        "mistakes": mistakes,
    }


def _label(rows: list[dict], kind: str) -> str:
    return next(r["label"] for r in rows if r["kind"] == kind)


def markdown(res: dict, rows: list[dict]) -> str:
    kinds = sorted({r["kind"] for r in rows}, key=lambda k: (_label(rows, k), k))
    lines = [
        "| kind | label | n (dev/test) | strict dev | strict test | before dev | before test |",
        "|---|---|---|---|---|---|---|",
    ]
    pt = res["per_kind"]

    def cell(checker: str, split: str, kind: str) -> str:
        c = pt.get(f"{checker}/{split}/{kind}")
        return f"{c['rate']:.1%} ({c['wrong']})" if c else "–"

    for k in kinds:
        n_dev = pt.get(f"strict/dev/{k}", {}).get("n", 0)
        n_test = pt.get(f"strict/test/{k}", {}).get("n", 0)
        what = "FRR" if _label(rows, k) == "supported" else "FAR"
        lines.append(
            f"| {k} | {what} | {n_dev}/{n_test} | {cell('strict', 'dev', k)} | "
            f"{cell('strict', 'test', k)} | {cell('before', 'dev', k)} | "
            f"{cell('before', 'test', k)} |"
        )
    s = res["summary"]
    for name, target in (("false_reject", FRR_TARGET), ("false_accept", FAR_TARGET)):
        lines.append(
            f"| **all {name.replace('_', '-')}s** | ≤ {target:.0%} | | "
            f"{s.get(f'strict/dev/{name}', 0):.1%} | {s.get(f'strict/test/{name}', 0):.1%} | "
            f"{s.get(f'before/dev/{name}', 0):.1%} | {s.get(f'before/test/{name}', 0):.1%} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--split", choices=["dev", "test", "all"], default="all")
    ap.add_argument("--show", type=int, default=0, help="log this many of the strict mistakes")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("gptbuilder").setLevel(logging.WARNING)
    from gptbuilder.backends.embedder import SentenceTransformerEmbedder
    from gptbuilder.config import bundled_embedding_model

    rows = load(args.data)
    if args.split != "all":
        rows = [r for r in rows if r["split"] == args.split]
    embed = SentenceTransformerEmbedder(bundled_embedding_model()).embed  # type: ignore[arg-type]
    res = run(rows, embed, args.show)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "claims.json").write_text(json.dumps(res, indent=1))
    md = markdown(res, rows)
    (RESULTS / "claims.md").write_text(md)
    log.info(
        "claims: %d, strict check p50 %.1f ms p95 %.1f ms\n%s",
        res["claims"],
        res["strict_ms_p50"] or 0,
        res["strict_ms_p95"] or 0,
        md,
    )


if __name__ == "__main__":
    main()
