"""Train the learned injection check and measure it leaving one attack family out at a time.

    python -m bench.injection_train [--data DIR] [--target-fpr 0.005] [--lofo]

Units (sentences) of the attacks of ``bench.injection_data`` are the positives; units of the
training part of every benign set are the negatives; only units that pass the cheap test
(``injection_model.is_candidate``) are used, since only those are scored in the app; with
``by_language``: units that stand out only by their language, which the app no longer embeds
(they found nothing alone), stay in as extra negatives, as when the committed weights were
trained. Features: the unit's vector from the app's default embedder (the int8 ONNX model)
and the counted cues. A logistic regression (scikit-learn, lbfgs: deterministic) is fitted;
the threshold is the lowest that keeps passage-level false positives at or under
``--target-fpr`` on the calibration part of every benign set. The weights are written to
``gptbuilder/safety/injection_model.npz`` (plain arrays).

``--lofo`` also runs the leave-one-family-out evaluation (what bench.injection reports).
Vectors are cached in bench/results/cache/ (keyed by the unit's text and the model).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.injection_data import attack_families, benign_sets, part
from gptbuilder.ingest.chunk import chunk_pages
from gptbuilder.safety.injection import scan
from gptbuilder.safety.injection_model import (
    CUE_NAMES,
    MODEL_FILE,
    cues,
    is_candidate,
    unit_vectors,
    units,
)
from gptbuilder.types import Page

log = logging.getLogger("bench.injection_train")
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "results" / "cache"
SITE_PACKAGES = Path(np.__file__).resolve().parent.parent
CHUNK, OVERLAP = 800, 120
# Cues that pick units to embed but are not given to the classifier: with them it learned
# "another language = an attack" (our translated attacks outnumber the benign foreign text) and
# flagged German lecture notes and spaCy's example sentences.
UNUSED_CUES = ("foreign_share", "non_ascii_letters")
# Benign sets written to be hard (orders to people that read like orders to an AI): reported,
# trained on, but not used to set the threshold.
STRESS_SETS = ("office", "office-foreign")
# Standardised cues are multiplied by this, i.e. regularised less than the vector's dimensions.
CUE_BOOST = 3.0
# Inverse regularisation of the logistic regression, chosen by grouped cross-validation.
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)
MAX_TRAIN_UNITS = 2500  # benign training units per set (a random sample when there are more)
MAX_EVAL_DOCS = 400  # benign documents per set and part for calibration and test
EVAL_ATTACKS = 40  # attacks per family inserted into held-out hosts for recall


def default_embedder():  # type: ignore[no-untyped-def]
    from gptbuilder.config import Settings
    from gptbuilder.services import build_embedder

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return build_embedder(settings)


class VectorCache:
    """Unit vectors by text, saved between runs."""

    def __init__(self, embedder) -> None:  # type: ignore[no-untyped-def]
        self.embedder = embedder
        # "alone": each unit embedded on its own (``injection_model.unit_vectors``); vectors
        # made in batches before are not reused
        key = hashlib.sha1(f"{embedder.model_id}|alone".encode()).hexdigest()[:10]
        self.path = CACHE / f"injection_vectors_{key}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                for t, v in zip(data["texts"], data["vectors"], strict=True):
                    self.vectors[str(t)] = v
        self.dirty = False

    def get(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            t0 = time.perf_counter()
            vecs = unit_vectors(self.embedder, missing)
            self.vectors.update(zip(missing, vecs, strict=True))
            self.dirty = True
            log.info("embedded %d units (%.0f s)", len(missing), time.perf_counter() - t0)
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts])

    def save(self) -> None:
        if not self.dirty:
            return
        CACHE.mkdir(parents=True, exist_ok=True)
        texts = list(self.vectors)
        np.savez(
            self.path, texts=np.array(texts), vectors=np.stack([self.vectors[t] for t in texts])
        )
        self.dirty = False


@dataclass
class UnitTable:
    """Every unit seen, once: its cues, whether it is a candidate, its vector row. With
    ``by_language`` the candidates include the units that stand out only by their language
    (training and its evaluation, as the committed weights were made); without, they are the
    app's (``Scorer``)."""

    by_language: bool = False
    texts: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    cue_rows: list[np.ndarray] = field(default_factory=list)
    candidate: list[bool] = field(default_factory=list)

    def add(self, unit: str) -> int:
        i = self.index.get(unit)
        if i is None:
            i = self.index[unit] = len(self.texts)
            self.texts.append(unit)
            c = cues(unit)
            self.cue_rows.append(c)
            self.candidate.append(is_candidate(c, self.by_language))
        return i

    def passage(self, text: str) -> list[int]:
        """The candidate units of a passage (indices)."""
        return [i for i in map(self.add, units(text)) if self.candidate[i]]

    def features(self, cache: VectorCache) -> np.ndarray:
        """Rows of all units (vectors of non-candidates are zeros: they are never scored)."""
        rows = np.zeros((len(self.texts), cache.embedder.dim + len(CUE_NAMES)), np.float32)
        cand = [i for i, c in enumerate(self.candidate) if c]
        rows[cand, : cache.embedder.dim] = cache.get([self.texts[i] for i in cand])
        rows[:, cache.embedder.dim :] = np.stack(self.cue_rows)
        return rows


@dataclass
class Dataset:
    table: UnitTable
    attack_units: dict[str, list[int]]  # family -> candidate units of its attacks
    attack_missed: dict[str, int]  # family -> attacks with no candidate unit at all
    benign_train: dict[str, list[int]]  # set -> candidate units (training part, sampled)
    benign_passages: dict[str, dict[str, list[tuple[str, list[int]]]]]  # part -> set -> passages
    eval_passages: dict[str, list[tuple[str, list[int], bool]]]  # family -> (text, units, rules)
    hosts: dict[str, int]


def _passages(pages: list[Page], markdown: bool = False) -> list[str]:
    return [c.text for c in chunk_pages(pages, CHUNK, OVERLAP, markdown=markdown)]


def build(data: Path, families: dict[str, tuple[str, list[str]]] | None = None) -> Dataset:
    from bench.injection import POSITIONS, insert, load_bipia

    t0 = time.perf_counter()
    rng = random.Random(11)
    table = UnitTable(by_language=True)
    families = families or attack_families(data)
    attack_units: dict[str, list[int]] = {}
    missed: dict[str, int] = {}
    bipia = load_bipia(data)
    train_hosts = {
        kind: [
            r["context"]
            for i, r in enumerate(bipia[kind])
            if part(f"bipia-{kind}/{kind}-{i}") == "train"
        ]
        for kind in ("email", "code")
    }
    for name, (host, texts) in families.items():
        attack_units[name] = []
        missed[name] = 0
        hrng = random.Random(f"train/{name}")
        for attack in texts:
            found = table.passage(attack)
            attack_units[name] += found
            missed[name] += not found
            # The attack as the app sees it: inside a passage of a training host, where a
            # unit can hold words of both.
            doc, a0, a1 = insert(hrng.choice(train_hosts[host]), attack, hrng.choice(POSITIONS))
            pieces = [u for u in units(attack) if len(u) >= 12]
            for c in chunk_pages([Page(1, doc)], CHUNK, OVERLAP):
                if min(c.char_end, a1) - max(c.char_start, a0) > 0:
                    attack_units[name] += [
                        i
                        for i in table.passage(c.text)
                        if any(
                            piece in table.texts[i] or table.texts[i] in piece for piece in pieces
                        )
                    ]
    sets = benign_sets(data, SITE_PACKAGES)
    log.info("attacks and benign sets read (%.0f s)", time.perf_counter() - t0)
    train: dict[str, list[int]] = {}
    passages: dict[str, dict[str, list[tuple[str, list[int]]]]] = {"calibration": {}, "test": {}}
    for name, docs in sets.items():
        by_part: dict[str, list] = {p: [] for p in ("train", "calibration", "test")}
        for doc, pages in docs:
            by_part[part(f"{name}/{doc}")].append((doc, pages))
        md = name == "markdown"
        pool = sorted(
            {
                i
                for _, pages in by_part["train"]
                for t in _passages(pages, md)
                for i in table.passage(t)
            }
        )
        rng.shuffle(pool)
        train[name] = sorted(pool[:MAX_TRAIN_UNITS])
        for p in ("calibration", "test"):
            docs_p = by_part[p]
            if len(docs_p) > MAX_EVAL_DOCS:
                docs_p = random.Random(name).sample(docs_p, MAX_EVAL_DOCS)
            passages[p][name] = [
                (t, table.passage(t)) for _, pages in docs_p for t in _passages(pages, md)
            ]
        log.info(
            "benign %s: %d docs, %d training units, %d/%d calibration/test passages (%.0f s)",
            name, len(docs), len(train[name]), len(passages["calibration"][name]),
            len(passages["test"][name]), time.perf_counter() - t0,
        )  # fmt: skip
    # Recall: attacks inserted into held-out hosts (BIPIA contexts outside the training part).
    hosts = {
        kind: [
            r["context"]
            for i, r in enumerate(bipia[kind])
            if part(f"bipia-{kind}/{kind}-{i}") != "train"
        ]
        for kind in ("email", "code")
    }
    evals: dict[str, list[tuple[str, list[int], bool]]] = {}
    for name, (host, texts) in families.items():
        frng = random.Random(f"eval/{name}")
        chosen = texts if len(texts) <= EVAL_ATTACKS else frng.sample(texts, EVAL_ATTACKS)
        evals[name] = []
        for attack in chosen:
            for position in ("start", "middle", "end"):
                ctx = frng.choice(hosts[host])
                doc, a0, a1 = insert(ctx, attack, position)
                for c in chunk_pages([Page(1, doc)], CHUNK, OVERLAP):
                    overlap = min(c.char_end, a1) - max(c.char_start, a0)
                    if overlap >= min(40, a1 - a0):
                        rules = any(f.kind != "invisible" for f in scan(c.text))
                        evals[name].append((c.text, table.passage(c.text), rules))
    log.info(
        "dataset: %d units (%d candidates), %.0f s",
        len(table.texts), sum(table.candidate), time.perf_counter() - t0,
    )  # fmt: skip
    return Dataset(
        table, attack_units, missed, train, passages, evals, {k: len(v) for k, v in hosts.items()}
    )


@dataclass
class Model:
    weights: np.ndarray
    bias: float
    threshold: float = 1.0

    def probs(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))


def fit(x: np.ndarray, ds: Dataset, families: Sequence[str], c: float) -> Model:
    """Logistic regression on standardised features; the scaling is folded into the weights.
    Every attack family weighs the same (five BIPIA attacks as much as 90 generated ones), and
    the attacks as much as the benign units."""
    from sklearn.linear_model import LogisticRegression

    left_out = {i for f in ds.attack_units if f not in families for i in ds.attack_units[f]}
    family_of: dict[int, str] = {}
    for f in families:
        for i in ds.attack_units[f]:
            if i not in left_out:  # a unit shared with a left-out family is not shown
                family_of.setdefault(i, f)
    pos = sorted(family_of)
    neg = sorted({i for units_ in ds.benign_train.values() for i in units_} - set(pos) - left_out)
    size = {f: sum(1 for g in family_of.values() if g == f) for f in families}
    w_pos = np.array([1.0 / size[family_of[i]] for i in pos])
    w_pos *= len(neg) / w_pos.sum()
    xs = np.vstack([x[pos], x[neg]])
    xs[:, [x.shape[1] - len(CUE_NAMES) + CUE_NAMES.index(n) for n in UNUSED_CUES]] = 0.0
    ys = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    weights = np.r_[w_pos, np.ones(len(neg))]
    mu, sd = xs.mean(axis=0), xs.std(axis=0) + 1e-6
    sd[-len(CUE_NAMES) :] /= CUE_BOOST  # the few cues: less shrunk than the 384 vector dimensions
    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit((xs - mu) / sd, ys, sample_weight=weights)
    w = clf.coef_[0] / sd
    b = float(clf.intercept_[0] - (clf.coef_[0] * mu / sd).sum())
    return Model(w.astype(np.float32), b)


def passage_scores(p: np.ndarray, passages: Sequence[tuple]) -> np.ndarray:
    return np.array([max((p[i] for i in item[1]), default=0.0) for item in passages])


def calibrate(model: Model, p: np.ndarray, ds: Dataset, target: float) -> float:
    """The lowest threshold (never under 0.5) with at most ``target`` of the calibration
    passages above it: in every benign set of at least 200 passages, and in the smaller sets
    pooled (a 1% bound on a set of 30 passages would mean nothing); STRESS_SETS aside."""
    groups: list[list[tuple]] = []
    small: list[tuple] = []
    for name, passages in ds.benign_passages["calibration"].items():
        if name in STRESS_SETS:
            continue
        if len(passages) >= 200:
            groups.append(passages)
        else:
            small += passages
    need = 0.5
    for passages in [*groups, small]:
        scores = np.sort(passage_scores(p, passages))[::-1]
        allowed = int(target * len(scores))
        if len(scores) > allowed:
            need = max(need, float(scores[allowed]) + 1e-6)
    return min(need, 0.999999)


def choose_c(x: np.ndarray, ds: Dataset, target: float, grid: Sequence[float]) -> float:
    """The regularisation with the best mean recall on families held out five groups at a
    time (grouped cross-validation; not the leave-one-family-out numbers that are reported)."""
    families = sorted(ds.attack_units)
    random.Random(5).shuffle(families)
    groups = [families[k::5] for k in range(5)]
    best, best_recall = grid[0], -1.0
    for c in grid:
        recalls = []
        for group in groups:
            model = fit(x, ds, [f for f in families if f not in group], c)
            p = model.probs(x)
            model.threshold = calibrate(model, p, ds, target)
            r = evaluate(model, p, ds, group, fpr=False)["recall"]
            recalls += [v["classifier"] for v in r.values()]
        mean = float(np.mean(recalls))
        log.info("C=%g: grouped-CV mean recall %.3f", c, mean)
        if mean > best_recall:
            best, best_recall = c, mean
    return best


def evaluate(
    model: Model, p: np.ndarray, ds: Dataset, families: Sequence[str], fpr: bool = True
) -> dict:
    """Recall per family (rules, classifier, both) and FPR per benign test set."""
    out: dict = {"recall": {}, "fpr": {}}
    for f in families:
        items = ds.eval_passages[f]
        s = passage_scores(p, items) >= model.threshold
        r = np.array([it[2] for it in items])
        n = max(len(items), 1)
        out["recall"][f] = {
            "passages": len(items),
            "rules": float(r.sum() / n),
            "classifier": float(s.sum() / n),
            "both": float((r | s).sum() / n),
        }
    for name, passages in ds.benign_passages["test"].items() if fpr else ():
        s = passage_scores(p, passages) >= model.threshold
        r = np.array([any(f.kind != "invisible" for f in scan(t)) for t, _ in passages])
        n = max(len(passages), 1)
        out["fpr"][name] = {
            "passages": len(passages),
            "rules": float(r.sum() / n),
            "classifier": float(s.sum() / n),
            "both": float((r | s).sum() / n),
        }
    return out


def lofo(x: np.ndarray, ds: Dataset, target: float, c: float) -> dict:
    """Leave one family out: train without it, calibrate, measure recall on it."""
    families = list(ds.attack_units)
    result: dict = {"recall": {}, "thresholds": {}}
    for k, f in enumerate(families):
        t0 = time.perf_counter()
        model = fit(x, ds, [g for g in families if g != f], c)
        p = model.probs(x)
        model.threshold = calibrate(model, p, ds, target)
        r = evaluate(model, p, ds, [f])["recall"][f]
        result["recall"][f] = r
        result["thresholds"][f] = model.threshold
        log.info(
            "LOFO %d/%d %s: rules %.2f classifier %.2f both %.2f (threshold %.3f, %.0f s)",
            k + 1, len(families), f, r["rules"], r["classifier"], r["both"], model.threshold,
            time.perf_counter() - t0,
        )  # fmt: skip
    for key in ("rules", "classifier", "both"):
        values = [v[key] for v in result["recall"].values()]
        result[f"mean_{key}"] = float(np.mean(values))
        result[f"min_{key}"] = float(np.min(values))
    return result


class Scorer:
    """The committed model's passage scores, with unit vectors from the cache (benchmarks)."""

    def __init__(self, cache: VectorCache, path: Path = MODEL_FILE) -> None:
        from gptbuilder.safety.injection_model import Detector

        detector = Detector.load(cache.embedder, path)
        self.model = Model(detector.weights, detector.bias, detector.threshold)
        self.info = detector.info
        self.cache = cache

    def __call__(self, texts: Sequence[str]) -> list[float]:
        table = UnitTable()
        per = [table.passage(t) for t in texts]
        if not table.texts:
            return [0.0] * len(texts)
        p = self.model.probs(table.features(self.cache))
        return [max((float(p[i]) for i in idx), default=0.0) for idx in per]


def ingestion_cost(data: Path, embedder, n: int = 200) -> dict:  # type: ignore[no-untyped-def]
    """Seconds per passage the learned check adds (no cache), beside embedding the passages,
    on SciFact abstracts and READMEs (technical Markdown)."""
    from gptbuilder.safety.injection_model import Detector

    detector = Detector.load(embedder)
    sets = benign_sets(data, SITE_PACKAGES)
    out: dict = {}
    for name in ("scifact", "markdown", "pdfs"):
        docs = random.Random(name).sample(sets[name], min(len(sets[name]), 150))
        texts = [t for _, pages in docs for t in _passages(pages, name == "markdown")][:n]
        t0 = time.perf_counter()
        embedder.embed(texts, batch=True)
        embed_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        detector.best_units(texts)
        check_s = time.perf_counter() - t0
        cand = sum(is_candidate(cues(u)) for t in texts for u in units(t))
        total = sum(len(units(t)) for t in texts)
        out[name] = {
            "passages": len(texts),
            "embed_ms_per_passage": 1000 * embed_s / len(texts),
            "check_ms_per_passage": 1000 * check_s / len(texts),
            "units": total,
            "candidate_units": cand,
        }
        log.info("cost on %s: %s", name, out[name])
    return out


def learned_report(data: Path, target: float = 0.005) -> dict:
    """What bench.injection reports for the learned check: leave-one-family-out recall
    (rules, classifier, both), the committed model's false positives per benign set (test
    parts) and the added ingestion cost."""
    embedder = default_embedder()
    cache = VectorCache(embedder)
    ds = build(data)
    x = ds.table.features(cache)
    cache.save()
    scorer = Scorer(cache)
    committed = scorer.model
    result = {
        "threshold": committed.threshold,
        "target_fpr": target,
        "fpr": evaluate(committed, committed.probs(x), ds, [])["fpr"],
        "C": json.loads(scorer.info)["C"],
        "lofo": lofo(x, ds, target, json.loads(scorer.info)["C"]),
        "cost": ingestion_cost(data, embedder),
    }
    return result


def train(data: Path, target: float, out: Path, run_lofo: bool) -> dict:
    t0 = time.perf_counter()
    embedder = default_embedder()
    cache = VectorCache(embedder)
    ds = build(data)
    x = ds.table.features(cache)
    cache.save()
    families = list(ds.attack_units)
    c = choose_c(x, ds, target, C_GRID)
    model = fit(x, ds, families, c)
    p = model.probs(x)
    model.threshold = calibrate(model, p, ds, target)
    final = evaluate(model, p, ds, families)
    summary = {
        "embedding_model": embedder.model_id,
        "target_fpr": target,
        "threshold": model.threshold,
        "C": c,
        "families": {f: len(ds.attack_units[f]) for f in families},
        "attacks_without_candidate_unit": {f: n for f, n in ds.attack_missed.items() if n},
        "benign_training_units": {k: len(v) for k, v in ds.benign_train.items()},
        "candidates": int(sum(ds.table.candidate)),
        "units": len(ds.table.texts),
        "in_sample_recall": final["recall"],
        "fpr_test": final["fpr"],
    }
    np.savez(
        out,
        weights=model.weights,
        bias=np.float64(model.bias),
        threshold=np.float64(model.threshold),
        model_id=np.array(embedder.model_id),
        cue_names=np.array(CUE_NAMES),
        info=np.array(
            json.dumps(
                {
                    k: summary[k]
                    for k in ("embedding_model", "target_fpr", "threshold", "C", "candidates")
                }
            )
        ),
    )
    log.info("wrote %s: threshold %.3f (%.0f s)", out, model.threshold, time.perf_counter() - t0)
    for name, v in final["fpr"].items():
        log.info("FPR on %s (test part, %d passages): classifier %.3f, rules %.3f, both %.3f",
                 name, v["passages"], v["classifier"], v["rules"], v["both"])  # fmt: skip
    if run_lofo:
        summary["lofo"] = lofo(x, ds, target, c)
    return summary


def main(argv: list[str] | None = None) -> None:
    from bench.injection import DEFAULT_DATA

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--target-fpr", type=float, default=0.005)
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    ap.add_argument("--lofo", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("pypdf", "httpx", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    summary = train(args.data, args.target_fpr, args.out, args.lofo)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "injection_train.json").write_text(json.dumps(summary, indent=2))
    log.info("wrote %s", results / "injection_train.json")


if __name__ == "__main__":
    main(sys.argv[1:])
