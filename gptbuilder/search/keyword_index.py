"""Keyword (BM25) search, one index per assistant, keyed by the same chunk ids as the vectors.

Embeddings match meaning but miss exact strings a user types: product codes, names, numbers.
BM25 finds those by the word. Like the vector index it is derived data: built from the chunk
texts in the database, saved beside the FAISS file, and rebuilt whenever it may disagree with
the database. BM25 weights depend on the whole collection and bm25s cannot add or remove a
document in place, so a change of documents invalidates the index and it is rebuilt from the
database before the next search (or at once, by ``refresh``).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gptbuilder.db import Repository
from gptbuilder.language import search_tokens

log = logging.getLogger(__name__)

_IDS_FILE = "chunk_ids.npy"


class KeywordIndex:
    """BM25 (the Lucene variant, k1 1.5, b 0.75) over the texts of one assistant's chunks."""

    def __init__(self, ids: np.ndarray, texts: Sequence[str]) -> None:
        import bm25s

        assert len(ids) == len(texts)
        order = np.argsort(ids, kind="stable")  # ascending ids: lookups by binary search
        self._ids = np.asarray(ids, dtype=np.int64)[order]  # (n,): position -> chunk id
        texts = [texts[i] for i in order]
        self._bm25: bm25s.BM25 | None = None  # None: no chunk has a single word to index
        tokens = search_tokens(texts) if len(texts) else None
        if tokens is not None and tokens.vocab:
            self._bm25 = bm25s.BM25()
            self._bm25.index(tokens, show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        self = cls.__new__(cls)
        self._ids = np.load(folder / _IDS_FILE, allow_pickle=False).astype(np.int64)
        self._bm25 = None
        if (folder / "params.index.json").exists():
            self._bm25 = bm25s.BM25.load(folder, show_progress=False)
            if self._bm25.scores["num_docs"] != len(self._ids):
                raise ValueError(f"{folder}: {len(self._ids)} ids for a different number of texts")
        return self

    def save(self, folder: Path) -> None:
        """Write a new folder beside the old one, then swap: a crash leaves the old one or
        none, never a mixture (and a missing index is rebuilt from the database)."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(tmp, show_progress=False)
        np.save(tmp / _IDS_FILE, self._ids, allow_pickle=False)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)

    def ids(self) -> set[int]:
        return set(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)

    def _scores(self, query: str) -> np.ndarray | None:
        """BM25 of every chunk (n,) float32, or None when no word of the query is indexed."""
        if self._bm25 is None:
            return None
        [words] = search_tokens([query], as_ids=False)
        token_ids = self._bm25.get_tokens_ids(words)  # words the index has never seen drop out
        if not token_ids:
            return None
        return self._bm25.get_scores_from_ids(token_ids)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """At most k (chunk id, BM25 score) pairs, best first; only chunks that share a word
        with the query (score above 0)."""
        scores = self._scores(query)
        if scores is None or k <= 0:
            return []
        matching = np.flatnonzero(scores > 0)
        if len(matching) > k:
            matching = matching[np.argpartition(-scores[matching], k - 1)[:k]]
        # Best first; equal scores in chunk id order, so results are reproducible.
        matching = matching[np.lexsort((self._ids[matching], -scores[matching]))]
        return list(zip(self._ids[matching].tolist(), scores[matching].tolist(), strict=True))

    def scores_for(self, query: str, chunk_ids: Sequence[int]) -> dict[int, float]:
        """BM25 of the given chunks (0 for chunks this index does not hold)."""
        scores = self._scores(query)
        out = dict.fromkeys((int(c) for c in chunk_ids), 0.0)
        if scores is None or not len(self._ids):
            return out
        wanted = np.asarray(list(out), dtype=np.int64)
        at = np.minimum(np.searchsorted(self._ids, wanted), len(self._ids) - 1)
        for c, p in zip(wanted.tolist(), at.tolist(), strict=True):
            if self._ids[p] == c:
                out[c] = float(scores[p])
        return out


class KeywordIndexStore:
    """The keyword indexes of all assistants: opened, validated, rebuilt and saved on demand."""

    def __init__(self, repo: Repository, folder: Path | None) -> None:
        self._repo = repo
        self._folder = folder  # None: keep indexes in memory only (tests with fakes)
        self._indexes: dict[int, KeywordIndex] = {}  # absent: not loaded, or out of date
        self._locks: dict[int, threading.RLock] = {}
        self._locks_lock = threading.Lock()

    def _lock(self, assistant_id: int) -> threading.RLock:
        # One lock per assistant: rebuilding a large index must not hold up the others.
        with self._locks_lock:
            return self._locks.setdefault(assistant_id, threading.RLock())

    def _path(self, assistant_id: int) -> Path | None:
        return self._folder / f"assistant-{assistant_id}.bm25" if self._folder else None

    def get(self, assistant_id: int) -> KeywordIndex:
        with self._lock(assistant_id):
            if assistant_id not in self._indexes:
                self._indexes[assistant_id] = self._open(assistant_id)
            return self._indexes[assistant_id]

    def _open(self, assistant_id: int) -> KeywordIndex:
        path = self._path(assistant_id)
        if path is not None and path.is_dir():
            try:
                index = KeywordIndex.load(path)
                expected = self._repo.passages.chunk_ids(
                    self._repo.ready_document_ids(assistant_id)
                )
                if index.ids() == set(expected.tolist()):
                    return index
                log.warning("keyword index of assistant %d is out of date", assistant_id)
            except Exception as err:  # damaged: the database can rebuild it
                log.warning("keyword index %s unreadable (%r)", path, err)
        return self._rebuild(assistant_id)

    def _rebuild(self, assistant_id: int) -> KeywordIndex:
        started = time.perf_counter()
        ids, texts = self._repo.passages.chunk_texts(self._repo.ready_document_ids(assistant_id))
        index = KeywordIndex(ids, texts)
        path = self._path(assistant_id)
        if path is not None:
            index.save(path)
        log.info(
            "keyword index of assistant %d built: %d chunks in %.1fs",
            assistant_id,
            len(ids),
            time.perf_counter() - started,
        )
        return index

    def invalidate(self, assistant_id: int) -> None:
        """The assistant's documents changed: forget the index, in memory and on disk, so no
        search can see a removed chunk and a restart cannot load the old file."""
        with self._lock(assistant_id):
            self._indexes.pop(assistant_id, None)
            path = self._path(assistant_id)
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)

    def refresh(self, assistant_id: int) -> None:
        """Build the index now if it is out of date, so the next question does not wait."""
        self.get(assistant_id)

    def reconcile(self, assistant_id: int) -> None:
        """Forget what is in memory; the next search reopens the file and checks it against
        the database (lazily, so that starting the app stays fast)."""
        with self._lock(assistant_id):
            self._indexes.pop(assistant_id, None)

    def drop(self, assistant_id: int) -> None:
        self.invalidate(assistant_id)

    def search(self, assistant_id: int, query: str, k: int) -> list[tuple[int, float]]:
        return self.get(assistant_id).search(query, k)

    def scores_for(
        self, assistant_id: int, query: str, chunk_ids: Sequence[int]
    ) -> dict[int, float]:
        return self.get(assistant_id).scores_for(query, chunk_ids)
