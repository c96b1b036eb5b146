"""One vector index per assistant, kept on disk and always reconcilable with the database.

The database is the source of truth: each chunk row holds its vector, so an index file that is
missing, damaged or out of step (a crash between the two writes) is rebuilt from it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gptbuilder.backends.vector_index import FaissIndex, VectorIndex
from gptbuilder.db import Repository

log = logging.getLogger(__name__)


class IndexStore:
    """The vector index of each assistant: opened from its file in ``folder`` (``load``), or
    made (``make``) and filled from the database when the file is missing, damaged or out of
    step; saved after every change. ``folder`` None keeps the indexes in memory only."""

    def __init__(
        self,
        repo: Repository,
        folder: Path | None,
        dim: int,
        make: Callable[[int], VectorIndex] = FaissIndex,
        load: Callable[[Path], VectorIndex] = FaissIndex.load,
    ) -> None:
        self._repo = repo
        self._folder = folder
        self._dim = dim
        self._make_index = make
        self._load_index = load
        self._indexes: dict[int, VectorIndex] = {}
        self._lock = threading.RLock()

    def _path(self, assistant_id: int) -> Path | None:
        return self._folder / f"assistant-{assistant_id}.faiss" if self._folder else None

    def get(self, assistant_id: int) -> VectorIndex:
        with self._lock:
            if assistant_id not in self._indexes:
                self._indexes[assistant_id] = self._open(assistant_id)
            return self._indexes[assistant_id]

    def _open(self, assistant_id: int) -> VectorIndex:
        path = self._path(assistant_id)
        index: VectorIndex | None = None
        if path is not None and path.exists():
            try:
                index = self._load_index(path)
            except Exception as err:  # damaged file: the database can rebuild it
                log.warning("index %s unreadable (%r); rebuilding", path, err)
        ids = self._repo.passages.chunk_ids(self._repo.ready_document_ids(assistant_id))
        if index is not None and getattr(index, "dim", self._dim) == self._dim:
            if index.ids() == set(ids.tolist()):
                return index
            log.warning(
                "index of assistant %d disagrees with the database; rebuilding", assistant_id
            )
        return self._rebuild(assistant_id)

    def _make(self) -> VectorIndex:
        return self._make_index(self._dim)

    def _rebuild(self, assistant_id: int) -> VectorIndex:
        ids, vectors = self._repo.passages.chunk_vectors(
            self._repo.ready_document_ids(assistant_id)
        )
        index = self._make()
        if len(ids):
            index.add(ids, vectors)
        self._save(assistant_id, index)
        return index

    def _save(self, assistant_id: int, index: VectorIndex) -> None:
        path = self._path(assistant_id)
        if path is not None:
            index.save(path)

    def add(self, assistant_id: int, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock:
            index = self.get(assistant_id)
            index.remove(ids)  # idempotent if a retry adds the same chunks again
            index.add(ids, vectors)
            self._save(assistant_id, index)

    def remove(self, assistant_id: int, ids: np.ndarray) -> None:
        with self._lock:
            index = self.get(assistant_id)
            index.remove(ids)
            self._save(assistant_id, index)

    def drop(self, assistant_id: int) -> None:
        with self._lock:
            self._indexes.pop(assistant_id, None)
            path = self._path(assistant_id)
            if path is not None:
                path.unlink(missing_ok=True)

    def search(self, assistant_id: int, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        with self._lock:
            return self.get(assistant_id).search(vector, k)

    def reconcile(self, assistant_id: int) -> None:
        """Reopen from disk and rebuild if the file and the database disagree."""
        with self._lock:
            self._indexes.pop(assistant_id, None)
            self.get(assistant_id)
