"""An assistant's knowledge: adding and removing documents, keeping files, database and
index consistent, and recovering from an ingestion that was cut off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gptbuilder.backends.embedder import Embedder
from gptbuilder.db import Repository
from gptbuilder.errors import GPTBuilderError, IngestError
from gptbuilder.ingest.chunk import chunk_pages, chunking_key, embedding_model_of, rekeyed
from gptbuilder.ingest.load import Loaded, LoadLimits, ReadAhead, load_file_isolated
from gptbuilder.ingest.sniff import MARKDOWN
from gptbuilder.personas.definition import unique_name
from gptbuilder.retrieval.index_store import IndexStore
from gptbuilder.retrieval.injection import flag_passages
from gptbuilder.retrieval.keyword_index import KeywordIndexStore
from gptbuilder.types import Assistant, AssistantDraft, ChunkDraft, Document

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]  # (fraction 0..1, what is happening)
# Vectors made elsewhere (an imported assistant file) for the chunks a file has just been cut
# into: (len(chunks), dim) float32, or None to embed the chunks here as usual.
Prebuilt = Callable[[list[ChunkDraft]], np.ndarray | None]


def _no_progress(_fraction: float, _what: str) -> None:
    pass


# Passages of consecutive files embedded in one call (add_files): 8 batches of 8, 4 per core.
GROUP_PASSAGES = 64


@dataclass
class _Started:
    """A file read, cut into passages and registered ("processing"), waiting for its vectors."""

    assistant_id: int
    filename: str
    sha: str
    doc_id: int
    started: float  # perf_counter at the start
    progress: Progress
    loaded: Loaded | None  # None: its passages were already stored (another assistant's)
    reused: bool
    chunks: list[ChunkDraft] = field(default_factory=list)
    vectors: np.ndarray | None = None
    imported: bool = False  # the vectors came with an imported assistant file

    @property
    def needs_vectors(self) -> bool:
        return self.loaded is not None and self.vectors is None

    def embed_progress(self, done: int, total: int) -> None:
        self.progress(0.1 + 0.85 * done / total, f"Embedding passages {done}/{total}")


class _InGroup(Exception):
    """This content is already in the group of files being added (Library.add_files)."""


def _as_ingest_error(filename: str, err: BaseException) -> GPTBuilderError:
    if isinstance(err, GPTBuilderError):
        return err
    return IngestError(f"“{filename}” could not be added: {err}")


@dataclass(frozen=True)
class AddResult:
    document: Document
    duplicate: bool  # the assistant already had this exact file
    reused: bool  # the content was already parsed and embedded (by another assistant)
    seconds: float
    warnings: list[str] = field(default_factory=list)
    text_pages: int = 0  # pages that gave text (OCR included)
    ocr_pages: int = 0  # pages read by text recognition
    replaced: str | None = None  # name of the earlier version this file replaced
    vectors_imported: bool = False  # the vectors came with an imported assistant file
    flagged: int = 0  # passages that look aimed at the model (see retrieval.injection)
    hidden: int = 0  # pieces of text a reader cannot see, left out (or kept) and flagged


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FileStore:
    """Original files, stored once by content: ``files/ab/abcdef...``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256

    def put(self, source: Path, sha256: str) -> Path:
        target = self.path(sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        return target

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


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
    ) -> None:
        self._repo = repo
        self._files = files
        self._indexes = indexes
        self._embedder = embedder
        self._chunk_size = chunk_size
        self._chunk_overlap = chunk_overlap
        self._max_bytes = max_upload_bytes
        self._limits = limits or LoadLimits()
        self._keywords = keywords
        # Flagged passages start out excluded from answers (else kept, quoted as data).
        self._exclude_flagged = exclude_flagged
        self.chunking_key = chunking_key(chunk_size, chunk_overlap, embedder.model_id)

    def add_file(
        self,
        assistant_id: int,
        path: Path,
        filename: str,
        progress: Progress = _no_progress,
        prebuilt: Prebuilt | None = None,
        reader: ReadAhead | None = None,
        refresh_keywords: bool = True,
    ) -> AddResult:
        """Add one file to an assistant's knowledge. All or nothing: on any failure the
        assistant is left as it was and an IngestError explains why.

        The file is always read and cut into chunks here; ``prebuilt`` may only spare the
        embedding of those chunks. ``reader`` (from ``read_ahead``) reads the files of an upload
        ahead, so that the next ones are read while this one is embedded. With
        ``refresh_keywords`` False the keyword index is only marked stale (rebuilt by the next
        search or by ``refresh_keywords``): an upload of many files rebuilds it once."""
        started = self._prepare(assistant_id, path, filename, progress, prebuilt, reader)
        if isinstance(started, AddResult):
            return started
        with self._undo_on_failure([started]):
            if started.needs_vectors:
                texts = [c.text for c in started.chunks]
                started.vectors = self._embedder.embed(texts, started.embed_progress, batch=True)
            return self._finish(started, refresh_keywords)

    def add_files(
        self,
        assistant_id: int,
        files: Sequence[tuple[Path, str]],
        progress: Callable[[int], Progress] = lambda _i: _no_progress,
        reader: ReadAhead | None = None,
    ) -> Iterator[tuple[int, AddResult | Exception]]:
        """Add the files of one upload, each all or nothing as ``add_file``; yields (position,
        result or the error that kept the file out) as each file is finished.

        The passages of consecutive files are embedded together, GROUP_PASSAGES at least (or
        all that is left): a file of a few passages embedded alone fills a batch or a core
        badly (the shared PDFs, 29 of 70 with one passage, embedded 19-35% slower file by file
        than in one call). Each file stays its own transaction: one that fails is left out
        alone; a cancel (``Cancelled`` from a progress callback) leaves out the files not yet
        finished, each with that error; a crash leaves them "processing", removed at the next
        start. The keyword index is rebuilt once, at the end.
        """
        group: list[tuple[int, _Started]] = []
        added = False

        def finish(done: list[tuple[int, _Started]]) -> Iterator[tuple[int, AddResult | Exception]]:
            nonlocal added
            for position, outcome in self._finish_group(done):
                added = added or isinstance(outcome, AddResult)
                yield position, outcome

        try:
            for position, (path, filename) in enumerate(files):
                try:
                    try:
                        busy = {s.sha for _, s in group}
                        started = self._prepare(
                            assistant_id, path, filename, progress(position), None, reader, busy
                        )
                    except _InGroup:  # the same content twice: it is a duplicate once stored
                        done, group = group, []
                        yield from finish(done)
                        started = self._prepare(
                            assistant_id, path, filename, progress(position), None, reader
                        )
                except Exception as err:  # noqa: BLE001 - this file's error, the rest go on
                    yield position, err
                    continue
                if isinstance(started, AddResult):
                    yield position, started
                elif not started.needs_vectors:  # nothing to embed: finish it now
                    yield from finish([(position, started)])
                else:
                    group.append((position, started))
                    if sum(len(s.chunks) for _, s in group) >= GROUP_PASSAGES:
                        done, group = group, []
                        yield from finish(done)
            done, group = group, []
            yield from finish(done)
        finally:
            for _, started in group:  # a crash, or the caller stopped, while the group filled
                self._abandon(started)
            if added:
                self.refresh_keywords(assistant_id)  # once for the whole upload

    def _finish_group(
        self, group: list[tuple[int, _Started]]
    ) -> Iterator[tuple[int, AddResult | Exception]]:
        """Embed the group's passages in one call, then store each file."""
        needing = [s for _, s in group if s.needs_vectors]
        texts = [c.text for s in needing for c in s.chunks]
        if texts:
            others = len(needing) - 1

            together = f" (with {others} other file{'s' if others > 1 else ''})" if others else ""

            def embed_progress(done: int, total: int) -> None:
                for s in needing:
                    s.progress(
                        0.1 + 0.85 * done / total, f"Embedding passages {done}/{total}{together}"
                    )

            try:
                vectors = self._embedder.embed(texts, embed_progress, batch=True)
            except BaseException as err:
                for _, started in group:
                    self._abandon(started, err)
                if not isinstance(err, Exception):
                    raise
                for position, started in group:  # a cancel too: each file says "Cancelled"
                    yield position, _as_ingest_error(started.filename, err)
                return
            offset = 0
            for s in needing:
                s.vectors = vectors[offset : offset + len(s.chunks)]
                offset += len(s.chunks)
        waiting = [started for _, started in group]
        try:
            for position, started in group:
                waiting.remove(started)
                try:
                    with self._undo_on_failure([started]):
                        result = self._finish(started, refresh_keywords=False)
                except Exception as err:  # noqa: BLE001 - this file's error, the rest go on
                    yield position, err
                else:
                    yield position, result
        finally:
            for started in waiting:  # the caller stopped before these were stored
                self._abandon(started)

    def _prepare(
        self,
        assistant_id: int,
        path: Path,
        filename: str,
        progress: Progress,
        prebuilt: Prebuilt | None,
        reader: ReadAhead | None,
        busy: Collection[str] = (),
    ) -> AddResult | _Started:
        """Check, read and cut the file into passages, and register it ("processing"); or the
        result at once when the assistant already has it. Raises IngestError, or _InGroup
        when its content is among ``busy`` (being added by this upload, not yet stored)."""
        started = time.perf_counter()
        filename = Path(filename).name or "document"
        self._repo.get_assistant(assistant_id)  # raises NotFound
        size = path.stat().st_size
        if size > self._max_bytes:
            raise IngestError(
                f"“{filename}” is {size / 1e6:.0f} MB; the limit is "
                f"{self._max_bytes / 1e6:.0f} MB (setting GPTB_MAX_UPLOAD_MB)."
            )
        progress(0.02, f"Checking {filename}")
        sha = sha256_file(path)
        if sha in busy:
            raise _InGroup(sha)
        existing = self._repo.find_document(assistant_id, sha)
        if existing is not None and existing.status == "ready":
            return AddResult(existing, duplicate=True, reused=True, seconds=0.0)
        if existing is not None:  # a failed or interrupted earlier attempt
            self._forget(existing)

        reused = self._repo.has_chunks(sha, self.chunking_key)
        loaded = None
        if not reused:
            progress(0.05, f"Reading {filename}")
            loaded = (  # an IngestError says why the file cannot be read
                reader.read(path, filename)
                if reader is not None
                else load_file_isolated(path, filename, self._limits)
            )
            media_type = loaded.media_type
        else:
            media_type = self._repo.blob_media_type(sha)

        self._files.put(path, sha)
        self._repo.ensure_blob(sha, size, media_type)
        doc_id = self._repo.add_document(assistant_id, sha, self.chunking_key, filename)
        pending = _Started(assistant_id, filename, sha, doc_id, started, progress, loaded, reused)
        with self._undo_on_failure([pending]):
            if loaded is not None:
                progress(0.1, f"Splitting {filename} into passages")
                pending.chunks = chunk_pages(
                    loaded.pages,
                    self._chunk_size,
                    self._chunk_overlap,
                    markdown=loaded.media_type == MARKDOWN,
                )
                if not pending.chunks:
                    raise IngestError(f"“{filename}” contains no text to learn from.")
                pending.vectors = prebuilt(pending.chunks) if prebuilt is not None else None
                pending.imported = pending.vectors is not None
        return pending

    def _finish(self, started: _Started, refresh_keywords: bool) -> AddResult:
        """Store the passages with their vectors, add them to the index, mark the file ready."""
        loaded, filename = started.loaded, started.filename
        sha, doc_id, assistant_id = started.sha, started.doc_id, started.assistant_id
        progress = started.progress
        if loaded is not None:
            assert started.vectors is not None
            flags = flag_passages(
                started.chunks, loaded.hidden, loaded.invisible, self._limits.keep_hidden_text
            )
            self._repo.save_parsed(
                sha,
                self.chunking_key,
                loaded.pages,
                started.chunks,
                started.vectors,
                flags,
                self._exclude_flagged,
            )
        progress(0.97, "Updating the search index")
        ids, vectors = self._repo.chunk_vectors([doc_id])
        self._indexes.add(assistant_id, ids, vectors)
        self._repo.set_document_status(doc_id, "ready")
        replaced = self._replace_older_versions(assistant_id, doc_id, filename)
        if self._keywords is not None:
            self._keywords.invalidate(assistant_id)
            if refresh_keywords:
                progress(0.98, "Updating the keyword index")
                self.refresh_keywords(assistant_id)
        progress(1.0, f"{filename} is ready")
        seconds = time.perf_counter() - started.started
        log.info(
            "added %s (%s) to assistant %d in %.1fs", filename, sha[:12], assistant_id, seconds
        )
        doc = self._repo.get_document(doc_id)
        empty = len(loaded.empty_pages) if loaded else self._repo.empty_page_count(sha)
        flagged, hidden = self._repo.flag_count(sha, self.chunking_key)
        warnings = list(loaded.warnings) if loaded else []
        if flagged:
            fate = "left out of answers" if self._exclude_flagged else "kept, quoted as data"
            warnings.append(
                f"{flagged} passage{'s' if flagged > 1 else ''} look{'' if flagged > 1 else 's'} "
                f"like instructions to an AI ({fate}); review them under Flagged passages."
            )
        return AddResult(
            doc,
            duplicate=False,
            reused=started.reused,
            seconds=seconds,
            warnings=warnings,
            text_pages=doc.pages - empty,
            ocr_pages=len(loaded.ocr_pages) if loaded else 0,
            replaced=replaced,
            vectors_imported=started.imported,
            flagged=flagged,
            hidden=hidden,
        )

    @contextmanager
    def _undo_on_failure(self, started: list[_Started]) -> Iterator[None]:
        """Leave nothing half-done behind, whatever went wrong (a cancel included); errors
        that are not the app's own become an IngestError naming the file."""
        try:
            yield
        except BaseException as err:
            for s in started:
                self._abandon(s, err)
            if isinstance(err, GPTBuilderError) or not isinstance(err, Exception):
                raise
            raise _as_ingest_error(started[0].filename, err) from err

    def _abandon(self, started: _Started, err: BaseException | None = None) -> None:
        log.warning("ingestion of %s failed: %r", started.filename, err or "stopped")
        self._forget(self._repo.get_document(started.doc_id))

    def refresh_keywords(self, assistant_id: int) -> None:
        """Rebuild the assistant's keyword index now, so that the next question need not wait
        (a failure is logged: the next search tries again)."""
        if self._keywords is None:
            return
        try:
            self._keywords.refresh(assistant_id)
        except Exception as err:  # the documents are in; the next search retries the build
            log.warning("keyword index of assistant %d not rebuilt: %r", assistant_id, err)

    def read_ahead(
        self, files: Sequence[tuple[Path, str]], stop: threading.Event | None = None
    ) -> ReadAhead:
        """A reader for the files of one upload, in order, for ``add_file(reader=...)``; close
        it (or use it as a context manager) when the upload ends."""
        return ReadAhead(files, self._limits, stop)

    def set_excluded(self, chunk_ids: list[int], excluded: bool) -> int:
        """Exclude passages from answers, or keep them again, in every assistant that holds
        them; returns how many changed. Their vectors leave (or rejoin) the indexes."""
        changed = self._repo.set_excluded(chunk_ids, excluded)
        if changed:
            for assistant_id, ids in self._repo.assistants_holding(changed):
                chunk_ids_arr, vectors = self._repo.vectors_of(ids)
                if excluded:
                    self._indexes.remove(assistant_id, chunk_ids_arr)
                else:
                    self._indexes.add(assistant_id, chunk_ids_arr, vectors)
                if self._keywords is not None:  # BM25 weights span the collection: rebuild
                    self._keywords.invalidate(assistant_id)
            log.info("%s %d passage(s)", "excluded" if excluded else "restored", len(changed))
        return len(changed)

    def _replace_older_versions(self, assistant_id: int, keep_id: int, filename: str) -> str | None:
        """A changed file uploaded under the same name replaces the earlier version."""
        older = [
            d
            for d in self._repo.list_documents(assistant_id)
            if d.filename == filename and d.id != keep_id
        ]
        for d in older:
            log.info("%s replaces its earlier version (%s)", filename, d.sha256[:12])
            self._forget(d)
        return older[0].filename if older else None

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
        self._forget(self._repo.get_document(document_id))

    def _forget(self, doc: Document) -> None:
        ids, _ = self._repo.chunk_vectors([doc.id])
        self._repo.delete_document(doc.id)
        self._indexes.remove(doc.assistant_id, ids)
        if self._keywords is not None:
            # After the delete: a search rebuilding the index in between must not keep it.
            self._keywords.invalidate(doc.assistant_id)
        self._collect_garbage()

    def delete_assistant(self, assistant_id: int) -> None:
        self._repo.delete_assistant(assistant_id)  # documents and messages cascade
        self._indexes.drop(assistant_id)
        if self._keywords is not None:
            self._keywords.drop(assistant_id)
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        for sha in self._repo.delete_unused_blobs():
            self._files.delete(sha)

    def recover(self) -> None:
        """At start-up: drop ingestions a previous process left unfinished, and make every
        index agree with the database."""
        for assistant_id in self._repo.unfinished_imports():
            log.warning("removing assistant %d: its import was interrupted", assistant_id)
            self.delete_assistant(assistant_id)
        for doc in self._repo.unfinished_documents():
            log.warning("removing %s: its ingestion was interrupted", doc.filename)
            self._repo.delete_document(doc.id)
        self._collect_garbage()
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
            (sha, key)
            for sha, key in self._repo.embedding_keys()
            if embedding_model_of(key) not in ("", model_id)
        ]
        if not stale:
            return 0
        log.warning(
            "%d file(s) were embedded by another model (%s); embedding them again with %s",
            len(stale),
            ", ".join(sorted({embedding_model_of(k) for _, k in stale})),
            model_id,
        )
        started = time.perf_counter()
        for i, (sha, key) in enumerate(stale, 1):
            texts = self._repo.keyed_chunk_texts(sha, key)
            vectors = (
                self._embedder.embed(texts, batch=True)
                if texts
                else np.zeros((0, self._embedder.dim))
            )
            self._repo.rekey_chunks(sha, key, rekeyed(key, model_id), vectors)
            log.info(
                "embedded again %d/%d files (%d passages, %.0fs)",
                i,
                len(stale),
                len(texts),
                time.perf_counter() - started,
            )
        return len(stale)
