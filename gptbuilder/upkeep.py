"""Keeping files, database, vector and keyword indexes in step when documents leave an
assistant: shared by ``Library`` (removals) and ``Ingestor`` (a failed or replaced upload)."""

from __future__ import annotations

import logging

from gptbuilder.db import Repository
from gptbuilder.filestore import FileStore
from gptbuilder.search.index_store import IndexStore
from gptbuilder.search.keyword_index import KeywordIndexStore
from gptbuilder.types import Document

log = logging.getLogger("gptbuilder.library")


class Upkeep:
    def __init__(
        self,
        repo: Repository,
        files: FileStore,
        indexes: IndexStore,
        keywords: KeywordIndexStore | None,
    ) -> None:
        self._repo = repo
        self._files = files
        self._indexes = indexes
        self._keywords = keywords

    def refresh_keywords(self, assistant_id: int) -> None:
        """Rebuild the assistant's keyword index now, so that the next question need not wait
        (a failure is logged: the next search tries again)."""
        if self._keywords is None:
            return
        try:
            self._keywords.refresh(assistant_id)
        except Exception as err:  # the documents are in; the next search retries the build
            log.warning("keyword index of assistant %d not rebuilt: %r", assistant_id, err)

    def forget(self, doc: Document) -> None:
        """Remove a document from its assistant: rows, vectors, keywords, and its file when no
        other document holds it."""
        ids, _ = self._repo.passages.chunk_vectors([doc.id])
        self._repo.delete_document(doc.id)
        self._indexes.remove(doc.assistant_id, ids)
        if self._keywords is not None:
            # After the delete: a search rebuilding the index in between must not keep it.
            self._keywords.invalidate(doc.assistant_id)
        self.collect_garbage()

    def replace_older_versions(self, assistant_id: int, keep_id: int, filename: str) -> str | None:
        """A changed file uploaded under the same name replaces the earlier version."""
        older = [
            d
            for d in self._repo.list_documents(assistant_id)
            if d.filename == filename and d.id != keep_id
        ]
        for d in older:
            log.info("%s replaces its earlier version (%s)", filename, d.sha256[:12])
            self.forget(d)
        return older[0].filename if older else None

    def collect_garbage(self) -> None:
        """Delete stored files no document holds any more."""
        for sha in self._repo.passages.delete_unused_blobs():
            self._files.delete(sha)
