"""Benchmark of answers on SQuAD 2.0: does the assistant answer when it can, cite what holds the
answer, and say "not in the documents" when the documents do not answer?

One assistant holds the 8 Wikipedia articles of ``squad2-dev-tune.json`` (one Markdown file
each). A fixed random sample of answerable and unanswerable questions goes through the real
answer pipeline (real embedder, real FAISS, the bundled SmolLM2 GGUF unless --fake-llm). Reported:

(a) answerable questions whose shown answer or quote contains a gold answer
(b) citation precision: cited passages that contain a gold answer (answerable questions)
(c) abstention on unanswerable questions, (d) false abstention on answerable ones
(e) time to first token, p50/p95, from question to the first streamed text

``--record FILE`` keeps what the model wrote for each question; ``--replay FILE`` answers
from that file instead of running the model (same retrieval, prompts counted with the real
tokenizer), so changes to verification and citations can be measured in seconds.

``--fit`` instead fits the abstention model of ``gptbuilder.retrieval.evidence`` on the
questions that the sample does not use, and prints the weights to paste there.

    python -m bench.answers [--n 300] [--seed 7] [--fake-llm] [--fit] [--record F | --replay F]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import string
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gptbuilder.backends.llm import LLM, Message
from gptbuilder.config import Settings
from gptbuilder.services import Services
from gptbuilder.types import Answer, AssistantDraft

log = logging.getLogger("bench.answers")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = (
    Path(os.environ.get("GPTB_TEST_DATA", ROOT.parent / "shared" / "data"))
    / "squad"
    / "squad2-dev-tune.json"
)
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    answers: tuple[str, ...]  # empty: unanswerable
    article: int = 0  # which of the articles it is about


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation) | {"“", "”", "’"})
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains_gold(text: str, answers: tuple[str, ...]) -> bool:
    t = f" {normalize(text)} "
    return any(f" {normalize(a)} " in t for a in answers if normalize(a))


def load(path: Path) -> tuple[list[tuple[str, str]], list[Question]]:
    data = json.loads(path.read_text())["data"]
    articles, questions = [], []
    for k, art in enumerate(data):
        title = art["title"].replace("_", " ")
        body = "\n\n".join(p["context"].strip() for p in art["paragraphs"])
        articles.append((title, f"# {title}\n\n{body}\n"))
        for p in art["paragraphs"]:
            for qa in p["qas"]:
                golds = tuple({a["text"] for a in qa["answers"]})
                questions.append(Question(qa["id"], qa["question"], golds, k))
    return articles, questions


def split(questions: list[Question], n: int, seed: int) -> tuple[list[Question], list[Question]]:
    """The fixed benchmark sample (n answerable + n unanswerable) and the rest (for --fit)."""
    rng = random.Random(seed)
    answerable = [q for q in questions if q.answers]
    unanswerable = [q for q in questions if not q.answers]
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    sample = answerable[:n] + unanswerable[:n]
    rest = answerable[n:] + unanswerable[n:]
    return sample, rest


class Tape:
    """Wraps the real model: records what it wrote for each question (``record``), or plays
    that back without generating (``replay``). Tokens are still counted by the real model."""

    def __init__(self, inner: LLM, path: Path, replay: bool) -> None:
        self._inner = inner
        self._path = path
        self._replay = replay
        self.context_window = inner.context_window
        self.per_message_overhead = getattr(inner, "per_message_overhead", 0)
        self.current = ""  # the question being answered
        self._tape: dict[str, str] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                self._tape[row["id"]] = row["text"]
        if replay and not self._tape:
            raise SystemExit(f"nothing recorded in {path}")

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        if self._replay or self.current in self._tape:  # recording resumes where it stopped
            yield self._tape.get(self.current, "")
            return
        text = ""
        for piece in self._inner.stream_chat(messages, temperature, max_tokens):
            text += piece
            yield piece
        with self._path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"id": self.current, "text": text}) + "\n")


def build(
    data_dir: Path,
    articles: list[tuple[str, str]],
    fake_llm: bool,
    max_tokens: int = 256,
    tape: tuple[Path, bool] | None = None,  # (file, replay)
) -> tuple[Services, int]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, max_answer_tokens=max_tokens
    )
    llm = None
    if fake_llm:
        from gptbuilder.backends.llm import ExtractiveFakeLLM

        fake = ExtractiveFakeLLM()
        llm = lambda: fake  # noqa: E731
    elif tape is not None:
        from gptbuilder.backends.llm import LlamaCppLLM

        taped = Tape(
            LlamaCppLLM(settings.llm_model, settings.llm_context, settings.llm_threads),  # type: ignore[arg-type]
            *tape,
        )
        llm = lambda: taped  # noqa: E731
    services = Services.build(settings, llm=llm)
    return services, squad_assistant(services, articles)


def squad_assistant(services: Services, articles: list[tuple[str, str]]) -> int:
    """The id of the assistant holding the articles, one Markdown document each: the one the
    data folder already has, else made and indexed now."""
    found = [a for a in services.repo.list_assistants() if a.name == "SQuAD articles"]
    if found and len(services.repo.list_documents(found[0].id)) == len(articles):
        return found[0].id
    assistant = services.repo.create_assistant(AssistantDraft(name="SQuAD articles", temperature=0))
    with tempfile.TemporaryDirectory() as tmp:
        for i, (title, text) in enumerate(articles, 1):
            path = Path(tmp) / f"{title}.md"
            path.write_text(text)
            t0 = time.perf_counter()
            services.library.add_file(assistant.id, path, path.name)
            log.info("indexed %d/%d %s (%.1f s)", i, len(articles), title, time.perf_counter() - t0)
    return assistant.id


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by plain gradient descent."""
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(20000):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w -= 0.5 * (x.T @ (p - y) / len(y) + l2 * w)
        b -= 0.5 * float(np.mean(p - y))
    return w, b


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    pos, neg = p[y == 1], p[y == 0]
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def fit(
    services: Services,
    assistant_id: int,
    questions: list[Question],
    limit: int,
    refuse: float = 0.19,
) -> dict:
    """Fit the abstention model on the questions outside the benchmark sample (``limit`` of
    each kind, 0: all), with the threshold that refuses ``refuse`` of the answerable ones.
    Also reports how well it carries over to articles it has not seen (leave one out)."""
    engine = services.answers
    rng = random.Random(1)
    pos = [q for q in questions if q.answers]
    neg = [q for q in questions if not q.answers]
    rng.shuffle(pos)
    rng.shuffle(neg)
    chosen = pos[:limit] + neg[:limit] if limit else pos + neg
    xs, ys = [], []
    t0 = time.perf_counter()
    for i, q in enumerate(chosen, 1):
        hits = engine.retrieve(assistant_id, q.text, 20)[: services.settings.top_k]
        xs.append(engine.judge(assistant_id, q.text, hits).features)
        ys.append(1.0 if q.answers else 0.0)
        if i % 100 == 0:
            log.info("features %d/%d (%.0f s)", i, len(chosen), time.perf_counter() - t0)
    x = np.asarray(xs)
    y = np.asarray(ys)
    arts = np.array([q.article for q in chosen])
    np.savez(RESULTS / "answers-features.npz", x=x, y=y, article=arts)
    w, b = _logistic(x, y)
    p = 1 / (1 + np.exp(-(x @ w + b)))
    threshold = float(np.quantile(p[y == 1], refuse))
    held_out = []
    for a in np.unique(arts):
        wa, ba = _logistic(x[arts != a], y[arts != a])
        held_out.append(_auc(1 / (1 + np.exp(-(x[arts == a] @ wa + ba))), y[arts == a]))
    return {
        "questions": {"answerable": int(y.sum()), "unanswerable": int(len(y) - y.sum())},
        "weights": [round(float(v), 3) for v in w],
        "bias": round(b, 3),
        "threshold": round(threshold, 3),
        "abstain_unanswerable": float(np.mean(p[y == 0] < threshold)),
        "abstain_answerable": float(np.mean(p[y == 1] < threshold)),
        "auc": _auc(p, y),
        "auc_unseen_article_mean": float(np.mean(held_out)),
    }


def fit_ranker(services: Services, assistant_id: int, questions: list[Question]) -> dict:
    """Fit the sentence ranker of ``evidence`` (SENTENCE_WEIGHTS) on the answerable questions
    outside the sample: which sentence of the retrieved passages holds a gold answer. Reports
    how often the top sentence does, before and after, in the fit and for each article left
    out of it."""
    from gptbuilder.retrieval.evidence import SENTENCE_WEIGHTS

    engine = services.answers
    per_q = []
    t0 = time.perf_counter()
    for i, q in enumerate([q for q in questions if q.answers], 1):
        hits = engine.retrieve(assistant_id, q.text, 20)[: services.settings.top_k]
        c = engine.candidates(assistant_id, q.text, hits)
        if c.texts:
            y = np.array([contains_gold(t, q.answers) for t in c.texts], dtype=np.float64)
            per_q.append((c.features, y, q.article))
        if i % 200 == 0:
            log.info("ranker features %d (%.0f s)", i, time.perf_counter() - t0)

    def top1(w: np.ndarray, rows: list) -> float:
        return float(np.mean([y[int(np.argmax(x @ w))] for x, y, _ in rows]))

    def train(rows: list, l2: float = 1e-3) -> np.ndarray:
        """Listwise: maximise the softmax probability of the sentences that hold the answer,
        per question (a ranking objective; only the order of the scores matters)."""
        rows = [r for r in rows if r[1].any()]  # questions whose passages hold the answer
        w = SENTENCE_WEIGHTS.astype(np.float64).copy()
        for _ in range(3000):
            grad = l2 * w
            for x, y, _ in rows:
                z = x @ w
                p = np.exp(z - z.max())
                p /= p.sum()
                q = p * y
                q /= q.sum()
                grad += x.T @ (p - q) / len(rows)
            w -= 2.0 * grad
        return w

    w = train(per_q)
    arts = sorted({a for _, _, a in per_q})
    held = {}
    for a in arts:
        wa = train([r for r in per_q if r[2] != a])
        test = [r for r in per_q if r[2] == a]
        held[a] = (top1(SENTENCE_WEIGHTS, test), top1(wa, test), len(test))
    return {
        "questions": len(per_q),
        "top1_before": top1(SENTENCE_WEIGHTS, per_q),
        "top1_after": top1(w, per_q),
        "any_sentence_has_gold": float(np.mean([y.any() for _, y, _ in per_q])),
        "leave_one_article_out": {
            "before": float(np.mean([v[0] for v in held.values()])),
            "after": float(np.mean([v[1] for v in held.values()])),
            "per_article": held,
        },
        "SENTENCE_WEIGHTS": [round(float(v), 3) for v in w],
    }


def run(services: Services, assistant_id: int, sample: list[Question]) -> dict:
    assistant = services.repo.get_assistant(assistant_id)
    rows = []
    t_start = time.perf_counter()
    tape = services.llm()
    for i, q in enumerate(sample, 1):
        if isinstance(tape, Tape):
            tape.current = q.qid
        t0 = time.perf_counter()
        ttft = None
        answer: Answer | None = None
        for part in services.answers.stream(assistant, q.text, []):
            visible = part.text.strip() or part.preview is not None or part.answer is not None
            if ttft is None and visible:
                ttft = time.perf_counter() - t0
            if part.answer is not None:
                answer = part.answer
        assert answer is not None
        quotes = [
            c.hit.text[c.quote[0] : c.quote[1]] if c.quote else c.hit.text for c in answer.citations
        ]
        lead = next((c for c in answer.citations if c.number == answer.lead), None)
        lead_quote = lead.hit.text[lead.quote[0] : lead.quote[1]] if lead and lead.quote else ""
        # What the user reads as the answer: the lead quote and the model's shown words.
        model_words = " ".join(c.text for c in answer.claims) if answer.claims else answer.text
        if answer.extractive and not answer.claims and not answer.lead:
            model_words = ""  # the old quote fallback: its text is a quote, not model words
        shown_answer = f"{lead_quote} {model_words}".strip() or answer.text
        short_quotes = [q for q in quotes if len(q) <= 300]
        rows.append(
            {
                "id": q.qid,
                "answerable": bool(q.answers),
                "abstained": answer.abstained,
                "extractive": answer.extractive,
                "conflict": bool(answer.conflict),  # "the sources disagree" (a false alarm here)
                "confidence": answer.confidence,
                "answer_hit": bool(q.answers)
                and not answer.abstained
                and (
                    contains_gold(answer.text, q.answers)
                    or any(contains_gold(t, q.answers) for t in quotes)
                ),
                "strict_hit": bool(q.answers)
                and not answer.abstained
                and (
                    contains_gold(model_words, q.answers)
                    or contains_gold(lead_quote if len(lead_quote) <= 300 else "", q.answers)
                    or any(contains_gold(t, q.answers) for t in short_quotes)
                ),
                "shown_correct": bool(q.answers)
                and not answer.abstained
                and contains_gold(shown_answer, q.answers),
                "model_shown": bool(model_words.strip()) and not answer.abstained,
                "model_has_gold": bool(q.answers) and contains_gold(model_words, q.answers),
                "quote_has_gold": bool(q.answers) and contains_gold(lead_quote, q.answers),
                "shown": shown_answer[:600],
                "citations": len(answer.citations),
                "citations_with_gold": sum(
                    contains_gold(c.hit.text, q.answers) for c in answer.citations
                ),
                "ttft_s": ttft,
                "total_s": time.perf_counter() - t0,
            }
        )
        if i % 25 == 0:
            el = time.perf_counter() - t_start
            log.info(
                "%d/%d questions, %.0f s, about %.0f s left",
                i,
                len(sample),
                el,
                el / i * (len(sample) - i),
            )
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    cited = sum(r["citations"] for r in ans if not r["abstained"])
    ttfts = np.array([r["ttft_s"] for r in rows])
    answered_ttft = np.array([r["ttft_s"] for r in rows if not r["abstained"]] or [np.nan])
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "a_answer_or_quote_has_gold": np.mean([r["answer_hit"] for r in ans]),
        "b_citation_precision": (
            sum(r["citations_with_gold"] for r in ans if not r["abstained"]) / cited
            if cited
            else float("nan")
        ),
        "c_abstention_unanswerable": np.mean([r["abstained"] for r in una]),
        "d_false_abstention": np.mean([r["abstained"] for r in ans]),
        "e_ttft_p50_s": float(np.percentile(ttfts, 50)),
        "e_ttft_p95_s": float(np.percentile(ttfts, 95)),
        "ttft_answered_p50_s": float(np.nanpercentile(answered_ttft, 50)),
        "ttft_answered_p95_s": float(np.nanpercentile(answered_ttft, 95)),
        "extractive_share": np.mean([r["extractive"] for r in rows if not r["abstained"]]),
        "a_strict": np.mean([r["strict_hit"] for r in ans]),
        # Of the questions answered (not abstained): is the shown answer right?
        "shown_precision_answerable": _share(
            [r["shown_correct"] for r in ans if not r["abstained"]]
        ),
        # Shown answers that are wrong: an answer to an unanswerable question, or one whose
        # shown words (quote and model sentences) hold no gold answer.
        "wrong_among_shown": _share([not r["shown_correct"] for r in rows if not r["abstained"]]),
        "model_words_shown": _share([r["model_shown"] for r in rows if not r["abstained"]]),
        "model_words_with_gold": _share(
            [r["model_has_gold"] for r in ans if not r["abstained"] and r["model_shown"]]
        ),
        "lead_quote_with_gold": _share([r["quote_has_gold"] for r in ans if not r["abstained"]]),
        # One assistant, one article a document, no contradictions: every "the sources
        # disagree" is a false alarm.
        "conflict_shown": _share([r["conflict"] for r in rows]),
        "rows": rows,
    }


def _share(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=300, help="answerable and unanswerable questions each")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fake-llm", action="store_true", help="deterministic fake instead of SmolLM2")
    ap.add_argument("--fit", action="store_true", help="fit the abstention model on the rest")
    ap.add_argument("--fit-ranker", action="store_true", help="fit the sentence ranker")
    ap.add_argument("--fit-limit", type=int, default=0, help="questions of each kind (0: all)")
    ap.add_argument("--work", type=Path, default=RESULTS / "answers-data")
    tape = ap.add_mutually_exclusive_group()
    tape.add_argument("--record", type=Path, help="keep the model's answers in this file")
    tape.add_argument("--replay", type=Path, help="answer from a --record file, no model")
    ap.add_argument("--max-tokens", type=int, default=128, help="longest answer, tokens")
    ap.add_argument(
        "--before", action="store_true", help="the passage-level check of before (no claim check)"
    )
    ap.add_argument("--out", default="answers", help="results file name (without extension)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("gptbuilder").setLevel(logging.WARNING)

    articles, questions = load(args.data)
    sample, rest = split(questions, args.n, args.seed)
    tape = (args.replay, True) if args.replay else (args.record, False) if args.record else None
    services, assistant_id = build(args.work, articles, args.fake_llm, args.max_tokens, tape)
    services.answers.strict = not args.before
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.fit_ranker:
        result = fit_ranker(services, assistant_id, rest)
        log.info("ranker: %s", json.dumps(result, indent=1))
        (RESULTS / "answers-ranker.json").write_text(json.dumps(result, indent=1))
        return
    if args.fit:
        result = fit(services, assistant_id, rest, args.fit_limit)
        log.info("fit: %s", json.dumps(result, indent=1))
        (RESULTS / "answers-fit.json").write_text(json.dumps(result, indent=1))
        return
    res = run(services, assistant_id, sample)
    model = "fake" if args.fake_llm else Path(str(services.settings.llm_model)).name
    res = {"model": model, "seed": args.seed, "max_tokens": args.max_tokens, **res}
    summary = {
        k: (round(float(v), 3) if isinstance(v, float | np.floating) else v)
        for k, v in res.items()
        if k != "rows"
    }
    res["checker"] = "before" if args.before else "strict"
    summary["checker"] = res["checker"]
    (RESULTS / f"{args.out}.json").write_text(
        json.dumps({**summary, "rows": res["rows"]}, indent=1)
    )
    md = ["| metric | value | target |", "|---|---|---|"]
    targets = {
        "a_answer_or_quote_has_gold": "≥ 0.75",
        "b_citation_precision": "≥ 0.85",
        "c_abstention_unanswerable": "≥ 0.60",
        "d_false_abstention": "≤ 0.20",
        "wrong_among_shown": "≤ half of before",
    }
    for k, v in summary.items():
        md.append(f"| {k} | {v} | {targets.get(k, '')} |")
    (RESULTS / f"{args.out}.md").write_text("\n".join(md) + "\n")
    log.info("results:\n%s", "\n".join(md))


if __name__ == "__main__":
    main()
