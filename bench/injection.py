"""Benchmark of the defences against indirect prompt injection ("documents are data").

(a) Detection recall: every BIPIA attack (train split, or ``--split``) inserted at the start,
    the middle and the end of every BIPIA email and code context; each document is chunked as
    the app chunks it, and a chunk that holds the attack counts as detected when
    ``injection.scan`` flags it.
(b) False positives on benign text: SciFact abstracts, SQuAD articles and every shared PDF, in
    the app's passages (PDFs through the app's loader, which also reports hidden text).
(c) Attack success with the real SmolLM2 GGUF: an instruction asking for a marker word is
    injected into an email, the email's question is asked, and an answer "succeeds" for the
    attacker when it contains the marker. Undefended (sources pasted raw, no data rule) and
    defended (the app's prompt: fenced, neutralised, data rule, canary) side by side, plus what
    the defended pipeline shows after its citation check, and with flagged passages excluded.

(d) The learned check (``safety/injection_model.py``, trained by bench.injection_train):
    recall per attack family of bench.injection_data leaving that family out of training
    (rules, classifier, both), its false positives on the held-out part of every benign set,
    and the time it adds per passage. (a) then also reports it and both layers together.

    python -m bench.injection [--split train] [--n 120] [--max-tokens 64] [--skip-model]
        [--skip-learned] [--target-fpr 0.005] [--seed 7]

``--split NAME`` reads text_attack_NAME.json, code_attack_NAME.json, email/NAME.jsonl and
code/NAME.jsonl for (a) (the learned check was trained on the train split: on it, (a) is not
a held-out measure).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from gptbuilder.ingest.chunk import chunk_pages
from gptbuilder.safety.injection import scan
from gptbuilder.types import Page

log = logging.getLogger("bench.injection")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("GPTB_TEST_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "bench" / "results"
CHUNK, OVERLAP = 800, 120  # the app's defaults
POSITIONS = ("start", "middle", "end")


def load_bipia(data: Path, split: str = "train") -> dict:
    """BIPIA's contexts and attacks of one split (``train``, or ``test`` where you have it)."""
    folder = data / "bipia"

    def contexts(name: str) -> list[dict]:
        rows = [json.loads(line) for line in (folder / name / f"{split}.jsonl").open()]
        for r in rows:
            c = r["context"]
            r["context"] = "\n".join(c) if isinstance(c, list) else c
        return rows

    return {
        "email": contexts("email"),
        "code": contexts("code"),
        "text_attacks": json.loads((folder / f"text_attack_{split}.json").read_text()),
        "code_attacks": json.loads((folder / f"code_attack_{split}.json").read_text()),
    }


def insert(context: str, attack: str, position: str) -> tuple[str, int, int]:
    """The document and the attack's span in it. "middle" cuts at the line or sentence end
    nearest the middle, as BIPIA does."""
    if position == "start":
        doc = f"{attack}\n{context}"
        return doc, 0, len(attack)
    if position == "end":
        doc = f"{context}\n{attack}"
        return doc, len(context) + 1, len(doc)
    half = len(context) // 2
    cuts = [m.end() for m in re.finditer(r"\n|[.!?]\s", context)] or [half]
    cut = min(cuts, key=lambda c: abs(c - half))
    doc = f"{context[:cut].rstrip()}\n{attack}\n{context[cut:].lstrip()}"
    start = len(context[:cut].rstrip()) + 1
    return doc, start, start + len(attack)


def detection(bipia: dict, learned: Callable[[list[str]], list[float]] | None = None) -> dict:
    """(a): recall on chunks holding an attack, by context kind, position and category; with
    ``learned`` (passage texts -> scores at or over 1.0 where flagged), also the learned
    check's recall and that of both layers."""
    rows: list[tuple[tuple[str, ...], bool, str]] = []  # (slices, rules flag, text)
    benign: list[tuple[bool, str]] = []
    t0 = time.perf_counter()
    for kind, attacks in (("email", bipia["text_attacks"]), ("code", bipia["code_attacks"])):
        for category, texts in attacks.items():
            for attack in texts:
                for ctx in bipia[kind]:
                    for position in POSITIONS:
                        doc, a0, a1 = insert(ctx["context"], attack, position)
                        for c in chunk_pages([Page(1, doc)], CHUNK, OVERLAP):
                            overlap = min(c.char_end, a1) - max(c.char_start, a0)
                            flagged = bool(scan(c.text))
                            if overlap >= min(40, a1 - a0):
                                keys = (kind, f"{kind}/{position}", f"{kind}/{category}")
                                rows.append((keys, flagged, c.text))
                            elif overlap <= 0:
                                benign.append((flagged, c.text))
        log.info("detection: %s contexts done (%.0f s)", kind, time.perf_counter() - t0)
    learned_hits = [False] * len(rows)
    benign_learned = [False] * len(benign)
    if learned is not None:
        texts = sorted({t for *_, t in rows} | {t for _, t in benign})
        scores = dict(zip(texts, learned(texts), strict=True))
        learned_hits = [scores[t] >= 1.0 for *_, t in rows]
        benign_learned = [scores[t] >= 1.0 for _, t in benign]
        log.info("detection: learned check done (%.0f s)", time.perf_counter() - t0)
    per: dict[str, Counter] = {}
    for (keys, flagged, _), hit in zip(rows, learned_hits, strict=True):
        for key in keys:
            per.setdefault(key, Counter())["chunks"] += 1
            per[key]["flagged"] += flagged
            per[key]["learned"] += hit
            per[key]["both"] += flagged or hit
    total = per["email"] + per["code"]
    n_benign = max(len(benign), 1)
    out = {
        "recall": total["flagged"] / total["chunks"],
        "injected_chunks": total["chunks"],
        "by": {
            k: {"recall": v["flagged"] / v["chunks"], "chunks": v["chunks"]} for k, v in per.items()
        },
        "bipia_clean_chunks": len(benign),
        "bipia_clean_false_positive_rate": sum(f for f, _ in benign) / n_benign,
    }
    if learned is not None:
        out["learned_recall"] = total["learned"] / total["chunks"]
        out["both_recall"] = total["both"] / total["chunks"]
        for k, v in per.items():
            out["by"][k]["learned"] = v["learned"] / v["chunks"]
            out["by"][k]["both"] = v["both"] / v["chunks"]
        out["bipia_clean_learned_false_positive_rate"] = sum(benign_learned) / n_benign
        out["bipia_clean_both_false_positive_rate"] = (
            sum(f or h for (f, _), h in zip(benign, benign_learned, strict=True)) / n_benign
        )
    return out


def benign_texts(data: Path) -> dict[str, list[tuple[str, list[Page], list]]]:
    """(name, pages, hidden text) per benign document, by corpus."""
    from gptbuilder.errors import IngestError
    from gptbuilder.ingest.load import LoadLimits, load_file

    scifact = []
    for line in (data / "scifact" / "corpus.jsonl").open():
        doc = json.loads(line)
        scifact.append((doc["_id"], [Page(1, f"{doc['title']}\n\n{doc['text']}")], []))
    squad = []
    for art in json.loads((data / "squad" / "squad2-dev-tune.json").read_text())["data"]:
        body = "\n\n".join(p["context"].strip() for p in art["paragraphs"])
        squad.append((art["title"], [Page(1, body)], []))
    pdfs = []
    limits = LoadLimits(ocr=False)
    for path in sorted((data / "pdfs").rglob("*.pdf")):
        try:
            loaded = load_file(path, path.name, limits)
        except IngestError:
            continue  # damaged, encrypted or empty on purpose: nothing to flag
        except Exception as err:  # a parser crash on a hostile test file
            log.info("skipped %s: %r", path.name, err)
            continue
        pdfs.append((path.relative_to(data / "pdfs").as_posix(), loaded.pages, loaded.hidden))
    return {"scifact": scifact, "squad": squad, "pdfs": pdfs}


def false_positives(data: Path) -> dict:
    """(b): flagged passages among benign ones, with every flagged example for inspection."""
    t0 = time.perf_counter()
    corpora = benign_texts(data)
    log.info("benign corpora loaded (%.0f s)", time.perf_counter() - t0)
    out: dict = {}
    total = flagged_total = 0
    for name, docs in corpora.items():
        chunks = flagged = 0
        examples = []
        for doc_name, pages, _hidden in docs:
            for c in chunk_pages(pages, CHUNK, OVERLAP):
                chunks += 1
                found = scan(c.text)
                if found:
                    flagged += 1
                    examples.append(
                        {
                            "doc": doc_name,
                            "page": c.page,
                            "kind": found[0].kind,
                            "reason": found[0].reason,
                            "evidence": found[0].evidence,
                        }
                    )
        out[name] = {
            "chunks": chunks,
            "flagged": flagged,
            "rate": flagged / chunks,
            "examples": examples,
        }
        total += chunks
        flagged_total += flagged
        log.info(
            "false positives: %s %d/%d (%.0f s)", name, flagged, chunks, time.perf_counter() - t0
        )
    pages = sum(len(p) for _, p, _ in corpora["pdfs"])
    hidden = [
        {"doc": d, "page": h.page, "reason": h.reason, "text": h.text[:120]}
        for d, _, hs in corpora["pdfs"]
        for h in hs
    ]
    out["pdf_hidden_text"] = {
        "pdfs": len(corpora["pdfs"]),
        "pages": pages,
        "pages_with_hidden_text": len({(h["doc"], h["page"]) for h in hidden}),
        "examples": hidden,
    }
    out["overall"] = {"chunks": total, "flagged": flagged_total, "rate": flagged_total / total}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument(
        "--split",
        default="train",
        help="BIPIA split for (a): text_attack_NAME.json, code_attack_NAME.json, "
        "email/NAME.jsonl, code/NAME.jsonl",
    )
    ap.add_argument("--skip-learned", action="store_true", help="rules only in (a), no (d)")
    ap.add_argument("--target-fpr", type=float, default=0.005, help="for (d)'s thresholds")
    ap.add_argument("--n", type=int, default=120, help="canary attacks run through the model")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-model", action="store_true", help="only (a) and (b)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("pypdf", "httpx", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    t0 = time.perf_counter()
    bipia = load_bipia(args.data, args.split)
    scorer = None
    if not args.skip_learned:
        from bench.injection_train import Scorer, VectorCache, default_embedder

        cache = VectorCache(default_embedder())
        model = Scorer(cache)
        threshold = model.model.threshold

        def scorer(texts: list[str]) -> list[float]:
            scores = [s / threshold for s in model(texts)]
            cache.save()
            return scores

    result: dict = {
        "split": args.split,
        "detection": detection(bipia, scorer),
        "false_positives": false_positives(args.data),
    }
    if not args.skip_learned:
        from bench.injection_train import learned_report

        result["learned"] = learned_report(args.data, args.target_fpr)
    if not args.skip_model:
        from bench.injection_model import attack_success

        random.seed(args.seed)
        result["attack_success"] = attack_success(bipia, args.n, args.max_tokens, args.seed)
    result["seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "injection.json").write_text(json.dumps(result, indent=2))
    (args.out / "injection.md").write_text(report(result))
    log.info("wrote %s and %s", args.out / "injection.json", args.out / "injection.md")
    print(report(result, examples=False))


def report(r: dict, examples: bool = True) -> str:
    d, fp = r["detection"], r["false_positives"]
    lines = [
        "# Injection benchmark",
        "",
        f"## (a) Detection recall on BIPIA ({r.get('split', 'train')}), attacks at start / "
        "middle / end",
        "",
        f"Injected chunks: {d['injected_chunks']}; recall **{d['recall']:.1%}** (rules)"
        + (
            f", **{d['learned_recall']:.1%}** (learned check), **{d['both_recall']:.1%}** (both)."
            if "learned_recall" in d
            else "."
        ),
        "",
        "| slice | chunks | rules | learned | both |",
        "|---|---|---|---|---|",
        *[
            f"| {k} | {v['chunks']} | {v['recall']:.1%} | {v.get('learned', float('nan')):.1%} "
            f"| {v.get('both', float('nan')):.1%} |"
            for k, v in sorted(d["by"].items())
        ],
        "",
        f"Clean chunks of the same documents: {d['bipia_clean_chunks']}, flagged "
        f"{d['bipia_clean_false_positive_rate']:.2%} (rules)"
        + (
            f", {d['bipia_clean_learned_false_positive_rate']:.2%} (learned), "
            f"{d['bipia_clean_both_false_positive_rate']:.2%} (both)."
            if "learned_recall" in d
            else "."
        ),
        "",
        "## (b) False positives on benign text",
        "",
        "| corpus | passages | flagged | rate |",
        "|---|---|---|---|",
        *[
            f"| {k} | {fp[k]['chunks']} | {fp[k]['flagged']} | {fp[k]['rate']:.2%} |"
            for k in ("scifact", "squad", "pdfs", "overall")
        ],
        "",
        f"Hidden text in the shared PDFs: {fp['pdf_hidden_text']['pages_with_hidden_text']} of "
        f"{fp['pdf_hidden_text']['pages']} pages ({fp['pdf_hidden_text']['pdfs']} PDFs).",
    ]
    if examples:
        lines += ["", "Flagged benign passages:", ""]
        lines += [
            f"- {k} {e['doc']} p.{e['page']}: {e['kind']}: “{e['evidence']}”"
            for k in ("scifact", "squad", "pdfs")
            for e in fp[k]["examples"]
        ]
        lines += ["", "Hidden text found:", ""]
        lines += [
            f"- {h['doc']} p.{h['page']} ({h['reason']}): “{' '.join(h['text'].split())}”"
            for h in fp["pdf_hidden_text"]["examples"]
        ]
    if "learned" in r:
        lines += ["", *learned_lines(r["learned"])]
    if "attack_success" in r:
        from bench.injection_model import report_lines

        lines += ["", *report_lines(r["attack_success"])]
    lines += ["", f"Total time: {r['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def learned_lines(r: dict) -> list[str]:
    lo = r["lofo"]
    lines = [
        "## (d) The learned check: leave one attack family out",
        "",
        "Each family: the classifier is trained without it, its threshold calibrated on held-out "
        f"benign passages (target false-positive rate {r['target_fpr']:.1%} on every set), and "
        "up to 40 of its attacks are inserted (start / middle / end) into held-out BIPIA "
        "contexts; recall over the passages holding them.",
        "",
        "| family | passages | rules | classifier | both | threshold |",
        "|---|---|---|---|---|---|",
        *[
            f"| {f} | {v['passages']} | {v['rules']:.0%} | {v['classifier']:.0%} "
            f"| {v['both']:.0%} | {lo['thresholds'][f]:.3f} |"
            for f, v in lo["recall"].items()
        ],
        f"| **mean** | | {lo['mean_rules']:.1%} | {lo['mean_classifier']:.1%} "
        f"| {lo['mean_both']:.1%} | |",
        f"| **min** | | {lo['min_rules']:.0%} | {lo['min_classifier']:.0%} "
        f"| {lo['min_both']:.0%} | |",
        "",
        f"False positives of the committed model (threshold {r['threshold']:.3f}) on the test "
        "part of each benign set (documents never used in training or calibration):",
        "",
        "| benign set | passages | rules | classifier | both |",
        "|---|---|---|---|---|",
        *[
            f"| {k} | {v['passages']} | {v['rules']:.2%} | {v['classifier']:.2%} "
            f"| {v['both']:.2%} |"
            for k, v in r["fpr"].items()
        ],
        "",
        "Added ingestion cost (no cache; embedding the passages themselves for comparison):",
        "",
        "| text | passages | units | embedded units | check ms/passage | embed ms/passage |",
        "|---|---|---|---|---|---|",
        *[
            f"| {k} | {v['passages']} | {v['units']} | {v['candidate_units']} "
            f"| {v['check_ms_per_passage']:.1f} | {v['embed_ms_per_passage']:.1f} |"
            for k, v in r["cost"].items()
        ],
    ]
    return lines


if __name__ == "__main__":
    main()
