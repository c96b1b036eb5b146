"""The bundled sentence-transformers model, exported to ONNX and quantised to int8, on
onnxruntime: the same vectors (nearly) as the torch model, faster on a CPU.

The int8 model is made offline from the bundled weights on first use (``torch.onnx.export``,
then ``onnxruntime.quantization.quantize_dynamic``) and cached on disk under a folder named by
a hash of the source files and of the export recipe, so a new model or recipe makes a new one.
Files are written to a temporary name and renamed, with a checksum beside them, so a crash
mid-export never leaves a cache that is used, and a damaged one is made again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gptbuilder.backends.embedder import as_batch
from gptbuilder.errors import ModelError

log = logging.getLogger(__name__)

# Change when the export code below changes: the cache folder's name includes it.
EXPORT_VERSION = "1"
MODEL_FILE = "model-int8.onnx"
# Files of a sentence-transformers folder that decide what the exported model computes.
_SOURCE_FILES = (
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_name(model_dir: Path) -> str:
    """The folder name of the bundled model is "model"; name it by its package instead."""
    name = Path(model_dir).name
    return Path(model_dir).parent.name if name == "model" else name


def source_hash(model_dir: Path, recipe: Recipe | None = None) -> str:
    """Short hash of the source weights and configuration, the recipe and the exporter."""
    from importlib.metadata import version

    recipe = recipe or DEFAULT_RECIPE
    exporter = f"torch {version('torch')} onnxruntime {version('onnxruntime')}"
    h = hashlib.sha256(f"export {EXPORT_VERSION} {recipe} {exporter}".encode())
    for name in _SOURCE_FILES:
        path = Path(model_dir) / name
        if path.is_file():
            h.update(name.encode())
            h.update(_sha256(path).encode())
    return h.hexdigest()[:12]


def _check_structure(model_dir: Path) -> tuple[int, bool]:
    """The model's max_seq_length and do_lower_case; raises ModelError unless the folder is a
    transformer with mean pooling and (optionally) normalisation, which is all the exported
    graph reproduces."""
    model_dir = Path(model_dir)
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text("utf-8"))
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as err:
        raise ModelError(f"{model_dir} is not a sentence-transformers folder: {err!r}") from err
    if kinds[:2] != ["Transformer", "Pooling"] or not set(kinds[2:]) <= {"Normalize"}:
        raise ModelError(f"ONNX export supports Transformer + Pooling (+ Normalize), not {kinds}")
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        raise ModelError(f"ONNX export supports mean pooling only, not {sorted(modes)}")
    return int(st_config.get("max_seq_length") or 512), bool(st_config.get("do_lower_case"))


@dataclass(frozen=True)
class Recipe:
    """How the int8 model is made (the benchmark compares variants; the app uses DEFAULT_RECIPE)."""

    per_channel: bool = True  # one weight scale per output column instead of per tensor
    reduce_range: bool = False  # 7-bit weights (for CPUs without VNNI, against overflow)
    fuse: bool = False  # fuse attention, layer norms and GELU before quantising
    ops: tuple[str, ...] = ("MatMul", "Gemm")  # node types to quantise ((): all it can)
    signed: bool = True  # int8 weights (x86: u8s8 kernels); False: uint8 (u8u8 kernels)
    exclude: tuple[str, ...] = ()  # node names left in fp32
    quantize: bool = True  # False: the fp32 ONNX model (a reference)
    const_b_only: bool = False  # quantise only products with a weight (not attention's)
    opt_level: int = 1  # of the fusion (1: basic fusions, 2: extended, 99: all)


DEFAULT_RECIPE = Recipe()


def export_int8(model_dir: Path, target: Path, recipe: Recipe = DEFAULT_RECIPE) -> float:
    """Export the transformer with mean pooling and L2 normalisation to ONNX, quantise its
    weights to int8, and write it to ``target`` atomically (with ``target.sha256`` beside).
    Returns the seconds it took."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoConfig, AutoModel

    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)

    class Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            )[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            mean = summed / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    # Eager attention: plain ops that trace into a graph valid for any padding (the SDPA path
    # decides things from the example's mask at trace time).
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    )
    model.eval()
    wrapper = Pooled(model)
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.int64)
    mask = torch.ones((2, 16), dtype=torch.int64)
    mask[1, 9:] = 0  # an example with padding
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        # The tracer warns about Python branches it freezes; with eager attention and this
        # example (padding included) they hold for every input (checked by the tests).
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                (ids, mask),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                do_constant_folding=True,
                dynamo=False,
            )
        source = fp32
        if recipe.fuse:
            from onnxruntime.transformers.optimizer import optimize_model

            config = AutoConfig.from_pretrained(str(model_dir), local_files_only=True)
            fused = optimize_model(
                str(fp32),
                model_type="bert",
                num_heads=config.num_attention_heads,
                hidden_size=config.hidden_size,
                opt_level=recipe.opt_level,
            )
            source = Path(tmp) / "model-fused.onnx"
            fused.save_model_to_file(str(source))
        int8 = Path(tmp) / MODEL_FILE
        if recipe.quantize:
            with _quiet_root_logger():
                quantize_dynamic(
                    str(source),
                    str(int8),
                    weight_type=QuantType.QInt8 if recipe.signed else QuantType.QUInt8,
                    per_channel=recipe.per_channel,
                    reduce_range=recipe.reduce_range,
                    op_types_to_quantize=list(recipe.ops) or None,
                    nodes_to_exclude=list(recipe.exclude) or None,
                    extra_options={
                        "DefaultTensorType": 1,  # FLOAT, for fused (contrib) nodes
                        "MatMulConstBOnly": recipe.const_b_only,
                    },
                )
        else:
            os.replace(source, int8)
        digest = _sha256(int8)
        os.replace(int8, target)  # same folder: atomic
    _write_atomic(target.with_name(target.name + ".sha256"), digest)
    return time.perf_counter() - started


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """onnxruntime's quantiser logs a line per node through the root logger: drop those
    (records of named loggers pass, a root logger's filter does not see them)."""

    def drop(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cache_ok(path: Path) -> bool:
    sums = path.with_name(path.name + ".sha256")
    if not (path.is_file() and sums.is_file()):
        return False
    return sums.read_text(encoding="utf-8").strip() == _sha256(path)


_export_lock = threading.Lock()


def cached_int8_model(model_dir: Path, cache_dir: Path, recipe: Recipe = DEFAULT_RECIPE) -> Path:
    """The int8 ONNX model of ``model_dir``, exported into ``cache_dir`` unless there already
    (and intact)."""
    folder = Path(cache_dir) / f"{model_name(model_dir)}-{source_hash(model_dir, recipe)}"
    path = folder / MODEL_FILE
    with _export_lock:
        if _cache_ok(path):
            log.info("int8 ONNX embedding model read from %s", path)
            return path
        if path.exists():
            log.warning("cached ONNX model %s is damaged or incomplete; exporting again", path)
        log.info("exporting %s to int8 ONNX (once; cached in %s)", model_dir, folder)
        seconds = export_int8(Path(model_dir), path, recipe)
        log.info("int8 ONNX export of %s took %.1fs", model_name(model_dir), seconds)
        return path


class OnnxEmbedder:
    """The bundled model on onnxruntime, int8 weights. Same contract as
    SentenceTransformerEmbedder: mean pooling, L2-normalised float32 vectors."""

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        batch_size: int = 32,
        query_threads: int = 1,
        batch_threads: int = 0,  # 0: one per core this process may use
        recipe: Recipe = DEFAULT_RECIPE,
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
        self.path = cached_int8_model(Path(model_dir), Path(cache_dir), recipe)
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
            log.warning("ONNX model %s does not load (%r); exporting again", self.path, err)
            self.path.unlink(missing_ok=True)
            self.path = cached_int8_model(Path(model_dir), Path(cache_dir), recipe)
            query = self._session(query_threads)
        self.dim = int(query.get_outputs()[0].shape[1] or self._probe_dim(query))
        self.model_id = f"{model_name(model_dir)}+onnx-int8"
        log.info("embedding model %s loaded (dim %d)", self.model_id, self.dim)

    def _probe_dim(self, session) -> int:  # type: ignore[no-untyped-def]
        ids = np.ones((1, 2), dtype=np.int64)
        return int(session.run(None, {"input_ids": ids, "attention_mask": ids})[0].shape[1])

    def _session(self, threads: int, copy: int = 0):  # type: ignore[no-untyped-def]
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
