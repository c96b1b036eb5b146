"""The bundled sentence-transformers model, exported to ONNX and quantised to int8, on
onnxruntime: the same vectors (nearly) as the torch model, faster on a CPU.

The int8 model is made offline from the bundled weights on first use and cached on disk
(``onnx_export``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from gptbuilder.backends.embedder import as_batch
from gptbuilder.backends.onnx_export import _check_structure, cached_int8_model, model_name
from gptbuilder.errors import ModelError

log = logging.getLogger(__name__)

# Texts per run of the model. Abstracts of ~240 tokens, 2 single-threaded sessions on 2 cores:
# batches of 8 were 9-18% faster than 32 (the activations of 32 long texts, ~12 MB a layer
# and 4x that inside the feed-forward part, do not stay in the caches), 4 and 16 in between.
BATCH_SIZE = 8


class OnnxEmbedder:
    """The bundled model on onnxruntime, int8 weights. Same contract as
    SentenceTransformerEmbedder: mean pooling, L2-normalised float32 vectors."""

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        batch_size: int = BATCH_SIZE,
        query_threads: int = 1,
        batch_threads: int = 0,  # 0: one per core this process may use
        model_file: Path | None = None,  # a ready ONNX file (a benchmark's variant)
        batch_sessions: int = 0,  # sessions the batch threads are shared by (0: one each)
    ) -> None:
        if model_dir is None or not Path(model_dir).is_dir():
            raise ModelError(f"The embedding model folder {model_dir} was not found.")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.max_tokens, self._lower = _check_structure(Path(model_dir))
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self._pad = int(self._tokenizer.pad_token_id or 0)
        self._tokenizer_lock = threading.Lock()
        self._made_here = model_file is None
        self.path = Path(model_file) if model_file else cached_int8_model(model_dir, cache_dir)
        self._ort = ort
        self.batch_size = batch_size
        self.query_threads = query_threads
        self.batch_threads = batch_threads or _usable_cores()
        self.batch_sessions = min(batch_sessions or self.batch_threads, self.batch_threads)
        # A session's thread count is fixed: one for questions (see SentenceTransformerEmbedder
        # on why one thread), one for batches, made when first needed.
        self._sessions: dict[tuple[int, int], object] = {}
        self._lock = threading.Lock()
        try:
            query = self._session(query_threads)
        except Exception as err:  # a file that passed its checksum yet does not load
            if not self._made_here:
                raise
            log.warning("ONNX model %s does not load (%r); exporting again", self.path, err)
            self.path.unlink(missing_ok=True)
            self.path = cached_int8_model(Path(model_dir), Path(cache_dir))
            query = self._session(query_threads)
        self.dim = int(query.get_outputs()[0].shape[1] or self._probe_dim(query))
        self.model_id = f"{model_name(model_dir)}+onnx-int8"
        log.info("embedding model %s loaded (dim %d)", self.model_id, self.dim)

    def prepare(self) -> None:
        """Make the sessions a batch runs on now (each takes ~0.4 s of CPU to build), so that
        the first upload does not wait for them; the app calls it in the background at start."""
        threads = max(1, self.batch_threads // self.batch_sessions)
        for copy in range(self.batch_sessions):
            self._session(threads, copy)
        self._session(self.batch_threads)  # a batch of fewer batches than sessions

    def _probe_dim(self, session) -> int:
        ids = np.ones((1, 2), dtype=np.int64)
        return int(session.run(None, {"input_ids": ids, "attention_mask": ids})[0].shape[1])

    def _session(self, threads: int, copy: int = 0):
        """The session with ``threads`` threads; ``copy`` numbers sessions run side by side."""
        key = (threads, copy)
        with self._lock:
            if key not in self._sessions:
                opts = self._ort.SessionOptions()
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                opts.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # Threads that wait by spinning take cores from everything else on a busy
                # machine (the language model, another ingestion): on 2 shared cores batches
                # were 10-25% faster without spinning.
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._sessions[key] = self._ort.InferenceSession(
                    str(self.path), opts, providers=["CPUExecutionProvider"]
                )
            return self._sessions[key]

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, truncated as sentence-transformers does."""
        texts = [t.lower() for t in texts] if self._lower else list(texts)
        with self._tokenizer_lock:  # a fast tokenizer used by two threads at once can fail
            enc = self._tokenizer(texts, truncation=True, max_length=self.max_tokens, padding=False)
        return enc["input_ids"]

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        batch: bool | None = None,
    ) -> np.ndarray:
        """Vectors of ``texts``. A question runs on one thread. A batch runs on
        ``batch_threads`` single-threaded sessions side by side, each taking the next batch
        when done: on 2 cores that was 8-20% faster than one session with 2 threads, whose
        threads wait for each other at every one of the graph's small steps. Fewer batches
        than sessions run on one session with all the threads."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tokens = self.tokenize(texts)
        # Longest first, so batches hold texts of similar length (little padding), and a
        # memory problem shows up at once; the vectors go back to the callers' order.
        order = sorted(range(len(texts)), key=lambda i: -len(tokens[i]))
        batches = [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        if not as_batch(texts, batch):
            self._run(self._session(self.query_threads), batches, tokens, out)
            return out
        if len(batches) < self.batch_sessions:
            self._run(self._session(self.batch_threads), batches, tokens, out)
            if progress:
                progress(len(texts), len(texts))
            return out
        workers = max(1, min(self.batch_sessions, len(batches)))
        threads = max(1, self.batch_threads // self.batch_sessions)
        sessions = [self._session(threads, copy) for copy in range(workers)]
        queue = iter(batches)
        queue_lock = threading.Lock()
        counted = _Progress(len(texts), self.batch_size * 4, progress)

        def work(session: object) -> None:
            while True:
                with queue_lock:
                    rows = next(queue, None)
                if rows is None:
                    return
                self._run(session, [rows], tokens, out)
                counted.add(len(rows))

        if workers == 1:
            work(sessions[0])
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="onnx-embed") as pool:
                for future in [pool.submit(work, s) for s in sessions]:
                    future.result()  # re-raises a worker's error
        return out

    def _run(
        self, session: object, batches: list[list[int]], tokens: list[list[int]], out: np.ndarray
    ) -> None:
        for rows in batches:
            width = max(len(tokens[i]) for i in rows)
            ids = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : len(tokens[i])] = tokens[i]
                mask[r, : len(tokens[i])] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            out[rows] = session.run(None, feed)[0]  # type: ignore[attr-defined]


class _Progress:
    """Texts done, reported every ``step`` and at the end; safe to call from several threads."""

    def __init__(self, total: int, step: int, report: Callable[[int, int], None] | None) -> None:
        self.total, self.step, self.report = total, step, report
        self.done = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        if self.report is None:
            return
        with self._lock:
            before, self.done = self.done, self.done + count
            if self.done // self.step > before // self.step or self.done == self.total:
                self.report(self.done, self.total)


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
