"""Adding files to an assistant's knowledge: read, cut into passages, embed, store; each file
all or nothing, the passages of an upload's small files embedded together (``Ingestor``, held
by ``Library``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gptbuilder.backends.embedder import Embedder
from gptbuilder.db import Repository
from gptbuilder.errors import GPTBuilderError, IngestError
from gptbuilder.filestore import FileStore, sha256_file
from gptbuilder.ingest.chunk import chunk_pages
from gptbuilder.ingest.load import (
    Loaded,
    LoadLimits,
    ReadAhead,
    ReaderUsage,
    load_file_isolated,
)
from gptbuilder.ingest.sniff import MARKDOWN
from gptbuilder.safety.injection import FileText, flag_files
from gptbuilder.safety.injection_model import Detector
from gptbuilder.search.index_store import IndexStore
from gptbuilder.search.keyword_index import KeywordIndexStore
from gptbuilder.types import ChunkDraft, Chunking, Document, FlagDraft
from gptbuilder.upkeep import Upkeep

log = logging.getLogger("gptbuilder.library")

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
    flags: list[FlagDraft] = field(default_factory=list)  # set with the group's (flag_group)

    @property
    def needs_vectors(self) -> bool:
        return self.loaded is not None and self.vectors is None


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
    flagged: int = 0  # passages that look aimed at the model (see safety.injection)
    hidden: int = 0  # pieces of text a reader cannot see, left out (or kept) and flagged


class Ingestor:
    """Adds files to assistants (``Library.add_file`` and ``add_files`` hand over to it)."""

    def __init__(
        self,
        repo: Repository,
        files: FileStore,
        indexes: IndexStore,
        embedder: Embedder,
        upkeep: Upkeep,
        chunking: Chunking,  # the chunker's settings and this embedder's model
        max_upload_bytes: int,
        limits: LoadLimits,
        keywords: KeywordIndexStore | None = None,
        exclude_flagged: bool = False,
        detector: Detector | None = None,
        usage: ReaderUsage | None = None,  # what its reader children use (benchmarks read it)
    ) -> None:
        self._repo = repo
        self._files = files
        self._indexes = indexes
        self._embedder = embedder
        self._upkeep = upkeep
        self._max_bytes = max_upload_bytes
        self._limits = limits
        self._keywords = keywords
        # Flagged passages start out excluded from answers (else kept, quoted as data).
        self._exclude_flagged = exclude_flagged
        # The learned injection check (services builds it once); None: the rules alone.
        self._detector = detector
        self.chunking = chunking
        self.reader_usage = usage or ReaderUsage()

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
        [(_, outcome)] = self._finish_group([(0, started)], refresh_keywords)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

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
                self._upkeep.refresh_keywords(assistant_id)  # once for the whole upload

    def _finish_group(
        self, group: list[tuple[int, _Started]], refresh_keywords: bool = False
    ) -> Iterator[tuple[int, AddResult | Exception]]:
        """Embed the group's passages in one call, flag them (the learned check's units of all
        the files in one batch too), then store each file; yields each file's result or the
        error that left it out."""
        needing = [s for _, s in group if s.needs_vectors]
        texts = [c.text for s in needing for c in s.chunks]
        others = len(needing) - 1
        together = f" (with {others} other file{'s' if others > 1 else ''})" if others > 0 else ""

        def embed_progress(done: int, total: int) -> None:
            for s in needing:
                what = f"Embedding passages {done}/{total}{together}"
                s.progress(0.1 + 0.85 * done / total, what)

        try:
            if texts:
                vectors = self._embedder.embed(texts, embed_progress, batch=True)
                offset = 0
                for s in needing:
                    s.vectors = vectors[offset : offset + len(s.chunks)]
                    offset += len(s.chunks)
            self._flag_group([s for _, s in group if s.loaded is not None])
        except BaseException as err:
            for _, started in group:
                self._abandon(started, err)
            if not isinstance(err, Exception):
                raise
            for position, started in group:  # a cancel too: each file says "Cancelled"
                error = _as_ingest_error(started.filename, err)
                if error is not err:
                    error.__cause__ = err
                yield position, error
            return
        waiting = [started for _, started in group]
        try:
            for position, started in group:
                waiting.remove(started)
                try:
                    with self._undo_on_failure(started):
                        result = self._finish(started, refresh_keywords)
                except Exception as err:  # noqa: BLE001 - this file's error, the rest go on
                    yield position, err
                else:
                    yield position, result
        finally:
            for started in waiting:  # the caller stopped before these were stored
                self._abandon(started)

    def _flag_group(self, read: list[_Started]) -> None:
        """The injection flags of the group's files read here (rules and the learned check,
        whose units of all the files are embedded in one batch)."""
        files = []
        for s in read:
            assert s.loaded is not None
            files.append(FileText(s.chunks, s.loaded.hidden, s.loaded.invisible))
        if not files:
            return
        found = flag_files(files, self._limits.keep_hidden_text, self._detector)
        for s, flags in zip(read, found, strict=True):
            s.flags = flags

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
            self._upkeep.forget(existing)

        reused = self._repo.passages.has_chunks(sha, self.chunking)
        loaded = None
        if not reused:
            progress(0.05, f"Reading {filename}")
            loaded = (  # an IngestError says why the file cannot be read
                reader.read(path, filename)
                if reader is not None
                else load_file_isolated(path, filename, self._limits, usage=self.reader_usage)
            )
            media_type = loaded.media_type
        else:
            media_type = self._repo.passages.blob_media_type(sha)

        self._files.put(path, sha)
        self._repo.passages.ensure_blob(sha, size, media_type)
        doc_id = self._repo.add_document(assistant_id, sha, self.chunking, filename)
        pending = _Started(assistant_id, filename, sha, doc_id, started, progress, loaded, reused)
        with self._undo_on_failure(pending):
            if loaded is not None:
                progress(0.1, f"Splitting {filename} into passages")
                pending.chunks = chunk_pages(
                    loaded.pages,
                    self.chunking.size,
                    self.chunking.overlap,
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
            self._repo.passages.save_parsed(
                sha,
                self.chunking,
                loaded.pages,
                started.chunks,
                started.vectors,
                started.flags,
                self._exclude_flagged,
            )
        progress(0.97, "Updating the search index")
        ids, vectors = self._repo.passages.chunk_vectors([doc_id])
        self._indexes.add(assistant_id, ids, vectors)
        self._repo.set_document_status(doc_id, "ready")
        replaced = self._upkeep.replace_older_versions(assistant_id, doc_id, filename)
        if self._keywords is not None:
            self._keywords.invalidate(assistant_id)
            if refresh_keywords:
                progress(0.98, "Updating the keyword index")
                self._upkeep.refresh_keywords(assistant_id)
        progress(1.0, f"{filename} is ready")
        seconds = time.perf_counter() - started.started
        log.info(
            "added %s (%s) to assistant %d in %.1fs", filename, sha[:12], assistant_id, seconds
        )
        doc = self._repo.get_document(doc_id)
        empty = len(loaded.empty_pages) if loaded else self._repo.passages.empty_page_count(sha)
        flagged, hidden = self._repo.flags.flag_count(sha, self.chunking)
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
    def _undo_on_failure(self, started: _Started) -> Iterator[None]:
        """Leave nothing half-done behind, whatever went wrong (a cancel included); errors
        that are not the app's own become an IngestError naming the file."""
        try:
            yield
        except BaseException as err:
            self._abandon(started, err)
            if isinstance(err, GPTBuilderError) or not isinstance(err, Exception):
                raise
            raise _as_ingest_error(started.filename, err) from err

    def _abandon(self, started: _Started, err: BaseException | None = None) -> None:
        log.warning("ingestion of %s failed: %r", started.filename, err or "stopped")
        self._upkeep.forget(self._repo.get_document(started.doc_id))
