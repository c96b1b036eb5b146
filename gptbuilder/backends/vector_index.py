"""Vector indexes keyed by chunk id: FAISS (real) and a NumPy brute-force fake."""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class VectorIndex(Protocol):
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> None: ...
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def ids(self) -> set[int]: ...
    def save(self, path: Path) -> None: ...
    def __len__(self) -> int: ...


def ivf_shape(n: int) -> tuple[int, int]:
    """Clusters (nlist) and clusters searched per query (nprobe) for n vectors.

    nlist ≈ √n keeps the clusters at about √n vectors each. On 100k embedded SciFact chunks
    (bench/retrieval.py) nprobe 48 gave recall@10 against exact search of 0.985, whether the
    clusters were trained at 50k (224 clusters) or at 100k (316), for a fifth of the search
    time of the exact index. nprobe grows with nlist so that the share searched does not
    shrink for much larger collections.
    """
    nlist = max(1, round(math.sqrt(n)))
    nprobe = min(nlist, max(48, nlist // 6))
    return nlist, nprobe


class FaissIndex:
    """Inner-product search over L2-normalised vectors (cosine similarity), keyed by chunk id.

    Exact (a flat index) below ``ann_threshold`` vectors; from there on an inverted-file index
    (IVF), which compares a question with the vectors of the few clusters nearest to it only.
    The kind follows the size: it is rebuilt from the stored vectors when the collection
    crosses the threshold, and the clusters are retrained when it has grown or shrunk fourfold
    since they were trained.
    """

    def __init__(self, dim: int, ann_threshold: int = 50_000) -> None:
        self.dim = dim
        self.ann_threshold = ann_threshold
        self._index = self._new_flat()
        self._trained_on = 0  # vectors the IVF clusters were trained on; 0 while exact

    def _new_flat(self):
        import faiss

        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    @property
    def approximate(self) -> bool:
        return self._trained_on > 0

    @property
    def nprobe(self) -> int | None:
        """Clusters searched per question; None while exact."""
        return int(self._index.nprobe) if self.approximate else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:  # for tuning (bench/retrieval.py)
        if self.approximate:
            self._index.nprobe = value

    @property
    def nlist(self) -> int | None:
        return int(self._index.nlist) if self.approximate else None

    @classmethod
    def load(cls, path: Path, ann_threshold: int = 50_000) -> FaissIndex:
        import faiss

        index = faiss.read_index(str(path))
        self = cls.__new__(cls)
        self.dim = index.d
        self.ann_threshold = ann_threshold
        self._index = index
        # The file does not record how many vectors trained the clusters; nlist ≈ √n says.
        self._trained_on = index.nlist**2 if isinstance(index, faiss.IndexIVF) else 0
        if self.approximate:
            # an IndexIVF here; the current rule, not the saved one
            index.nprobe = ivf_shape(self._trained_on)[1]  # type: ignore[attr-defined]
        self._resize()
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
            self._resize()

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))
            self._resize()

    def _resize(self) -> None:
        """Switch between exact and IVF, or retrain the clusters, when the size calls for it."""
        n = len(self)
        if not self.approximate:
            if n >= self.ann_threshold:
                self._rebuild(approximate=True)
        elif n < self.ann_threshold // 2:
            # Half the threshold, not the threshold: adding and removing one document around
            # the threshold must not retrain the clusters each time.
            self._rebuild(approximate=False)
        elif n > 4 * self._trained_on or n < self._trained_on // 4:
            self._rebuild(approximate=True)

    def _rebuild(self, approximate: bool) -> None:
        import faiss

        ids, vectors = self._contents()
        if not approximate:
            index = self._new_flat()
            self._trained_on = 0
        else:
            nlist, nprobe = ivf_shape(len(ids))
            log.info("training a %d-cluster IVF index on %d vectors", nlist, len(ids))
            started = time.perf_counter()
            index = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT
            )
            index.cp.spherical = True  # centroids on the unit sphere, like the vectors
            index.train(vectors)
            index.nprobe = nprobe
            self._trained_on = len(ids)
            log.info("IVF index trained in %.1fs", time.perf_counter() - started)
        if len(ids):
            index.add_with_ids(vectors, ids)
        self._index = index

    def _contents(self) -> tuple[np.ndarray, np.ndarray]:
        """All ids (n,) int64 and vectors (n, dim) float32 held by the index."""
        import faiss

        if not self.approximate:
            n = self._index.ntotal
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            vectors = faiss.downcast_index(self._index.index).reconstruct_n(0, n)
            return ids, np.ascontiguousarray(vectors, dtype=np.float32)
        # IVFFlat stores each vector as its raw float32 bytes, list by list.
        lists = self._index.invlists
        all_ids, all_vectors = [], []
        for i in range(lists.nlist):
            size = lists.list_size(i)
            if size == 0:
                continue
            ids_ptr, codes_ptr = lists.get_ids(i), lists.get_codes(i)
            all_ids.append(faiss.rev_swig_ptr(ids_ptr, size).copy())
            codes = faiss.rev_swig_ptr(codes_ptr, size * lists.code_size).copy()
            all_vectors.append(codes.view(np.float32).reshape(size, self.dim))
            lists.release_ids(i, ids_ptr)
            lists.release_codes(i, codes_ptr)
        if not all_ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(all_ids).astype(np.int64), np.vstack(all_vectors)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._index.ntotal == 0:
            return []
        q = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, self._index.ntotal))
        found = ids[0] != -1  # IVF: fewer than k in the clusters searched
        return list(zip(ids[0][found].tolist(), scores[0][found].tolist(), strict=True))

    def ids(self) -> set[int]:
        import faiss

        if not self.approximate:
            return set(faiss.vector_to_array(self._index.id_map).tolist())
        return set(self._contents()[0].tolist())

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

    def save(self, path: Path) -> None:
        ids = np.fromiter(self._vectors, dtype=np.int64, count=len(self._vectors))
        vectors = (
            np.stack(list(self._vectors.values())) if self._vectors else np.zeros((0, self.dim))
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez(f, ids=ids, vectors=vectors)

    @classmethod
    def load(cls, path: Path) -> NumpyIndex:
        with np.load(path) as saved:
            self = cls(int(saved["vectors"].shape[1]))
            self.add(saved["ids"], saved["vectors"])
        return self

    def __len__(self) -> int:
        return len(self._vectors)
