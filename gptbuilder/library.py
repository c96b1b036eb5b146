"""An assistant's knowledge: adding and removing documents, keeping files, database and
index consistent, and recovering from an ingestion that was cut off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gptbuilder.adding import AddResult, Ingestor, Prebuilt, Progress
from gptbuilder.backends.embedder import Embedder
from gptbuilder.db import Repository
from gptbuilder.filestore import FileStore, sha256_file
from gptbuilder.ingest.load import LoadLimits, ReadAhead
from gptbuilder.personas.definition import unique_name
from gptbuilder.safety.injection_model import Detector
from gptbuilder.search.index_store import IndexStore
from gptbuilder.search.keyword_index import KeywordIndexStore
from gptbuilder.types import Assistant, AssistantDraft, Chunking
from gptbuilder.upkeep import Upkeep

log = logging.getLogger(__name__)

__all__ = ["AddResult", "FileStore", "Library", "Prebuilt", "Progress", "sha256_file"]


class Library:
    def __init__(
        self,
        repo: Repository,
        files: FileStore,
        indexes: IndexStore,
        embedder: Embedder,
        chunk_size: int,
        chunk_overlap: int,
        max_upload_bytes: int,
        limits: LoadLimits | None = None,
        keywords: KeywordIndexStore | None = None,
        exclude_flagged: bool = False,
        detector: Detector | None = None,
    ) -> None:
        self._repo = repo
        self._files = files
        self._indexes = indexes
        self._embedder = embedder
        self._limits = limits or LoadLimits()
        self._keywords = keywords
        self._upkeep = Upkeep(repo, files, indexes, keywords)
        self._ingestor = Ingestor(
            repo,
            files,
            indexes,
            embedder,
            self._upkeep,
            Chunking(chunk_size, chunk_overlap, embedder.model_id),
            max_upload_bytes,
            self._limits,
            keywords,
            exclude_flagged,
            detector,
        )
        self.chunking = self._ingestor.chunking
        self.reader_usage = self._ingestor.reader_usage  # memory and CPU of the file readers
        self.add_file = self._ingestor.add_file
        self.add_files = self._ingestor.add_files
        self.refresh_keywords = self._upkeep.refresh_keywords

    def read_ahead(
        self, files: Sequence[tuple[Path, str]], stop: threading.Event | None = None
    ) -> ReadAhead:
        """A reader for the files of one upload, in order, for ``add_file(reader=...)``; close
        it (or use it as a context manager) when the upload ends."""
        return ReadAhead(files, self._limits, stop, usage=self.reader_usage)

    def set_excluded(self, chunk_ids: list[int], excluded: bool) -> int:
        """Exclude passages from answers, or keep them again, in every assistant that holds
        them; returns how many changed. Their vectors leave (or rejoin) the indexes."""
        changed = self._repo.flags.set_excluded(chunk_ids, excluded)
        if changed:
            for assistant_id, ids in self._repo.flags.assistants_holding(changed):
                chunk_ids_arr, vectors = self._repo.flags.vectors_of(ids)
                if excluded:
                    self._indexes.remove(assistant_id, chunk_ids_arr)
                else:
                    self._indexes.add(assistant_id, chunk_ids_arr, vectors)
                if self._keywords is not None:  # BM25 weights span the collection: rebuild
                    self._keywords.invalidate(assistant_id)
            log.info("%s %d passage(s)", "excluded" if excluded else "restored", len(changed))
        return len(changed)

    def stored_file(self, sha256: str) -> Path:
        """Where the original file with this content is kept."""
        return self._files.path(sha256)

    def duplicate_assistant(self, assistant_id: int) -> Assistant:
        """A copy named "Name (2)" with the same configuration and documents, without the
        conversation. Chunks and vectors are shared by content, so nothing is re-embedded.
        All or nothing."""
        a = self._repo.get_assistant(assistant_id)
        name = unique_name(a.name, self._repo.assistant_names())
        draft = AssistantDraft(
            name, a.description, a.instructions, a.starters, a.temperature, a.model
        )
        copy = self._repo.create_assistant(draft, importing=True)
        try:
            for d in self._repo.list_documents(a.id):
                if d.status == "ready":
                    self.add_file(copy.id, self._files.path(d.sha256), d.filename)
            return self._repo.finish_import(copy.id)
        except BaseException:
            self.delete_assistant(copy.id)
            raise

    def remove_document(self, document_id: int) -> None:
        self._upkeep.forget(self._repo.get_document(document_id))

    def delete_assistant(self, assistant_id: int) -> None:
        self._repo.delete_assistant(assistant_id)  # documents and messages cascade
        self._indexes.drop(assistant_id)
        if self._keywords is not None:
            self._keywords.drop(assistant_id)
        self._upkeep.collect_garbage()

    def recover(self) -> None:
        """At start-up: drop ingestions a previous process left unfinished, and make every
        index agree with the database."""
        for assistant_id in self._repo.unfinished_imports():
            log.warning("removing assistant %d: its import was interrupted", assistant_id)
            self.delete_assistant(assistant_id)
        for doc in self._repo.unfinished_documents():
            log.warning("removing %s: its ingestion was interrupted", doc.filename)
            self._repo.delete_document(doc.id)
        self._upkeep.collect_garbage()
        self.reembed_other_models()
        for assistant in self._repo.list_assistants():
            self._indexes.reconcile(assistant.id)
            if self._keywords is not None:
                self._keywords.reconcile(assistant.id)

    def reembed_other_models(self) -> int:
        """Embed again, with this embedder, the passages of documents whose vectors another
        embedding model made (the model or its backend was changed on this data folder), so
        that no index mixes vectors of two models. Returns how many files were embedded again.

        Each file is one transaction: an interruption leaves the rest for the next start. The
        chunks keep their text, exclusions and flags; they get new ids, so the indexes of the
        assistants holding them are rebuilt (``recover`` reconciles them afterwards)."""
        model_id = self._embedder.model_id
        stale = [
            (sha, chunking)
            for sha, chunking in self._repo.reembedding.embedding_keys()
            if chunking.embedding_model not in ("", model_id)
        ]
        if not stale:
            return 0
        log.warning(
            "%d file(s) were embedded by another model (%s); embedding them again with %s",
            len(stale),
            ", ".join(sorted({k.embedding_model for _, k in stale})),
            model_id,
        )
        started = time.perf_counter()
        for i, (sha, chunking) in enumerate(stale, 1):
            texts = self._repo.reembedding.keyed_chunk_texts(sha, chunking)
            vectors = (
                self._embedder.embed(texts, batch=True)
                if texts
                else np.zeros((0, self._embedder.dim))
            )
            self._repo.reembedding.rekey_chunks(
                sha, chunking, chunking.with_model(model_id), vectors
            )
            log.info(
                "embedded again %d/%d files (%d passages, %.0fs)",
                i,
                len(stale),
                len(texts),
                time.perf_counter() - started,
            )
        return len(stale)
