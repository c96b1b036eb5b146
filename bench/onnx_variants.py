"""Other ways of making the ONNX embedding model, for ``bench/embedding.py --variants`` to
compare with the app's int8 export (``gptbuilder.backends.onnx_export.export_int8``): weights per
tensor, 7-bit, unsigned, a fused graph, every node quantised, fp32. Each variant is made from the
app's own fp32 export and cached like the app's model, under a name that holds the recipe."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gptbuilder.backends.onnx_export import (
    MODEL_FILE,
    cached_model,
    export_fp32,
    publish,
    quiet_quantiser,
)


@dataclass(frozen=True)
class Recipe:
    """How a variant is made; the defaults are the app's int8 model."""

    per_channel: bool = True  # one weight scale per output column instead of per tensor
    reduce_range: bool = False  # 7-bit weights (for CPUs without VNNI, against overflow)
    fuse: bool = False  # fuse attention, layer norms and GELU before quantising
    ops: tuple[str, ...] = ("MatMul", "Gemm")  # node types to quantise ((): all it can)
    signed: bool = True  # int8 weights (x86: u8s8 kernels); False: uint8 (u8u8 kernels)
    exclude: tuple[str, ...] = ()  # node names left in fp32
    quantize: bool = True  # False: the fp32 ONNX model (a reference)
    const_b_only: bool = False  # quantise only products with a weight (not attention's)
    opt_level: int = 1  # of the fusion (1: basic fusions, 2: extended, 99: all)


def export_variant(model_dir: Path, target: Path, recipe: Recipe) -> float:
    """Export ``model_dir`` as ``recipe`` says to ``target`` (atomically); seconds taken."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoConfig

    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        export_fp32(model_dir, fp32)
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
        made = Path(tmp) / MODEL_FILE
        if recipe.quantize:
            with quiet_quantiser():
                quantize_dynamic(
                    str(source),
                    str(made),
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
            made = source
        publish(made, target)
    return time.perf_counter() - started


def variant_model(model_dir: Path, cache_dir: Path, recipe: Recipe) -> Path:
    """The variant's model file, made once into ``cache_dir``."""
    return cached_model(
        model_dir,
        cache_dir,
        lambda source, target: export_variant(source, target, recipe),
        variant=repr(recipe),
    )
