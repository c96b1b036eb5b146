"""Text embedders: the real sentence-transformers model and a deterministic fake."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from gptbuilder.errors import ModelError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        batch: bool | None = None,
    ) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised. ``batch``: True for ingestion (all the
        cores, however few the texts), False for a question (one thread), None: decided by
        the number of texts (FEW_TEXTS)."""
        ...


# Up to this many texts are embedded as "a question", with query_threads torch threads.
FEW_TEXTS = 8


def as_batch(texts: Sequence[str], batch: bool | None) -> bool:
    """Whether ``texts`` are embedded as a batch (all cores) or as a question (one thread)."""
    return len(texts) > FEW_TEXTS if batch is None else batch


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, on the CPU, offline."""

    def __init__(self, model_dir: Path, batch_size: int = 8, query_threads: int = 1) -> None:
        if model_dir is None or not Path(model_dir).is_dir():
            raise ModelError(
                f"The embedding model folder {model_dir} was not found. Run the setup again "
                "(make run) or set GPTB_EMBEDDING_MODEL to a sentence-transformers folder."
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.dim = int(self._model.get_embedding_dimension() or 0)
        # The folder name of the bundled model is "model"; name it by its package instead.
        name = Path(model_dir).name
        self.model_id = Path(model_dir).parent.name if name == "model" else name
        # Texts per run of the model: on long passages batches of 8 were as fast as or faster
        # than sentence-transformers' default 32 in every round of bench.embedding (16.3-19.7
        # against 15.0-16.2 texts/s on 2 cores; smaller activations stay in the caches).
        self.batch_size = batch_size
        # One question is a few dozen tokens: splitting it across threads gains nothing, and
        # on a busy CPU the threads wait for each other. With this model on 2 shared cores, p95
        # to embed one question was 547 ms with torch's default threads, 80 ms with one.
        # Batches (ingestion) keep torch's default.
        self.query_threads = query_threads
        self.batch_threads = torch.get_num_threads()
        log.info("embedding model %s loaded (dim %d)", self.model_id, self.dim)

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        batch: bool | None = None,
    ) -> np.ndarray:
        import torch

        # torch's thread count applies to the calling thread (and to threads started later),
        # so each call sets the count it needs instead of restoring someone else's.
        threads = self.batch_threads if as_batch(texts, batch) else self.query_threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return self._encode(texts, progress)

    def _encode(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Progress every few batches; sentence-transformers sorts each call's texts by length,
        # so calls of at least 128 keep batches of similar lengths (little padding).
        step = max(self.batch_size * 4, 128)
        for start in range(0, len(texts), step):
            batch = list(texts[start : start + step])
            out[start : start + len(batch)] = self._model.encode(
                batch,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(start + len(batch), len(texts))
        return out


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Deterministic fake: hashed bag of words (plus bigrams), L2-normalised.

    Texts sharing words get similar vectors, which is enough for fast unit tests of logic.
    """

    model_id = "hashing-fake"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        batch: bool | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w.lower() for w in _WORD.findall(text)]
            for token in words + [a + " " + b for a, b in zip(words, words[1:], strict=False)]:
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
                out[row, h % self.dim] += 1.0 if (h >> 63) else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        if progress:
            progress(len(texts), len(texts))
        return out
