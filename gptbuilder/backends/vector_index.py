"""Vector indexes keyed by chunk id: FAISS (real) and a NumPy brute-force fake."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np


class VectorIndex(Protocol):
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> None: ...
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def ids(self) -> set[int]: ...
    def __len__(self) -> int: ...


class FaissIndex:
    """Exact inner-product search over L2-normalised vectors (cosine similarity)."""

    def __init__(self, dim: int) -> None:
        import faiss

        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        import faiss

        index = faiss.read_index(str(path))
        self = cls.__new__(cls)
        self.dim = index.d
        self._index = index
        return self

    def save(self, path: Path) -> None:
        """Atomic: write a temporary file, then rename over the old one."""
        import faiss

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        faiss.write_index(self._index, str(tmp))
        os.replace(tmp, path)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._index.ntotal == 0:
            return []
        q = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, self._index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def ids(self) -> set[int]:
        import faiss

        return set(faiss.vector_to_array(self._index.id_map).tolist())

    def __len__(self) -> int:
        return int(self._index.ntotal)


class NumpyIndex:
    """Deterministic brute-force fake with the same behaviour as FaissIndex."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vectors: dict[int, np.ndarray] = {}

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        for i, v in zip(ids, vectors, strict=True):
            self._vectors[int(i)] = np.asarray(v, dtype=np.float32)

    def remove(self, ids: np.ndarray) -> None:
        for i in ids:
            self._vectors.pop(int(i), None)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        scored = [(i, float(np.dot(v, vector))) for i, v in self._vectors.items()]
        scored.sort(key=lambda t: (-t[1], t[0]))
        return scored[:k]

    def ids(self) -> set[int]:
        return set(self._vectors)

    def __len__(self) -> int:
        return len(self._vectors)
