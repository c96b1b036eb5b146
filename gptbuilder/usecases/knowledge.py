"""An assistant's knowledge: its documents, uploads (several files, with progress and a
cancel), removal, the flagged passages and the owner's choice about them, and where a cited
passage and an original file are."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gptbuilder.adding import AddResult, Progress
from gptbuilder.db import Repository
from gptbuilder.errors import Cancelled, GPTBuilderError
from gptbuilder.library import Library
from gptbuilder.types import Document, Flag

log = logging.getLogger(__name__)


@dataclass
class FileStatus:
    name: str
    size: int
    state: str = "waiting"  # waiting | working | done | duplicate | failed | cancelled
    fraction: float = 0.0
    doing: str = ""
    result: AddResult | None = None
    error: str | None = None


@dataclass
class UploadJob:
    """Files of one upload, added in order in a worker thread, each with a live status. A
    cancel undoes only the files in progress: finished files stay, the rest are skipped."""

    library: Library
    assistant_id: int
    paths: list[Path]
    files: list[FileStatus] = field(init=False)
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.files = [FileStatus(p.name, p.stat().st_size) for p in self.paths]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gptb-upload", daemon=True)
        self._thread.start()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when every file is finished."""
        assert self._thread is not None
        self._thread.join(seconds)
        return not self._thread.is_alive()

    def _run(self) -> None:
        files = [(p, f.name) for p, f in zip(self.paths, self.files, strict=True)]
        # The next files are read while these are embedded; a cancel stops both. Small files
        # are embedded together (Library.add_files), so several can be "working" at once.
        with self.library.read_ahead(files, self.cancel) as reader:
            outcomes = self.library.add_files(self.assistant_id, files, self._step, reader)
            for position, outcome in outcomes:
                self._settle(self.files[position], outcome)

    def _step(self, position: int) -> Progress:
        status = self.files[position]

        def step(fraction: float, doing: str) -> None:
            if self.cancel.is_set():
                raise Cancelled("Stopped by you.")
            status.state, status.fraction, status.doing = "working", fraction, doing

        return step

    def _settle(self, status: FileStatus, outcome: AddResult | Exception) -> None:
        if isinstance(outcome, AddResult):
            status.result = outcome
            status.state = "duplicate" if outcome.duplicate else "done"
            status.fraction = 1.0
        elif isinstance(outcome, Cancelled):
            status.state = "cancelled"
        elif isinstance(outcome, GPTBuilderError):
            status.state, status.error = "failed", str(outcome)
        else:  # never lose the other files of the upload
            log.error("unexpected failure adding %s", status.name, exc_info=outcome)
            status.state = "failed"
            status.error = f"“{status.name}” could not be added (internal error)."

    def overall(self) -> tuple[float, float | None]:
        """(fraction done 0..1 by bytes, estimated seconds left or None)."""
        total = sum(f.size for f in self.files) or 1
        done = sum(
            f.size * (1.0 if f.state not in ("waiting", "working") else f.fraction)
            for f in self.files
        )
        fraction = done / total
        elapsed = time.monotonic() - self.started
        left = elapsed * (1 - fraction) / fraction if fraction > 0.03 and elapsed > 2 else None
        return fraction, left


@dataclass(frozen=True)
class PassageInPage:
    """A passage of a document in its page: ``page_text[start:end]`` is the passage."""

    document: Document
    page: int
    start: int
    end: int
    page_text: str


class Knowledge:
    """Documents of assistants and what is known about them. Running uploads are kept by id
    (``UploadJob.id``) until they end, so that another request can stop one."""

    def __init__(self, repo: Repository, library: Library) -> None:
        self._repo = repo
        self._library = library
        self._jobs: dict[str, UploadJob] = {}
        self._jobs_lock = threading.Lock()

    def documents(self, assistant_id: int) -> list[Document]:
        return self._repo.list_documents(assistant_id)

    def ready_count(self, assistant_id: int) -> int:
        """How many documents of the assistant are ready to answer from."""
        return sum(d.status == "ready" for d in self._repo.list_documents(assistant_id))

    # -- uploads ---------------------------------------------------------------------------

    def upload(self, assistant_id: int, paths: Sequence[Path]) -> UploadJob:
        """Start adding ``paths`` (in order, in a worker thread); the job reports as it goes.
        Call ``forget_upload`` when no cancel can come any more."""
        job = UploadJob(self._library, assistant_id, list(paths))
        with self._jobs_lock:
            self._jobs[job.id] = job
        job.start()
        return job

    def cancel_upload(self, job_id: str) -> bool:
        """Stop a running upload: the file in progress is undone, the rest are skipped.
        False if no upload with that id is running."""
        with self._jobs_lock:
            job = self._jobs.get(job_id)
        if job is None:
            return False
        job.cancel.set()
        return True

    def forget_upload(self, job_id: str) -> None:
        """No cancel will come for this upload (its page went away, or it ended); it still
        finishes in the background."""
        with self._jobs_lock:
            self._jobs.pop(job_id, None)

    # -- documents -------------------------------------------------------------------------

    def remove_document(self, document_id: int) -> Document:
        """Remove a document (its passages, vectors and, if unused, its file); returns it."""
        doc = self._repo.get_document(document_id)
        self._library.remove_document(doc.id)
        return doc

    def passage(self, document_id: int, chunk_id: int) -> PassageInPage:
        """Where a passage of a document is, with its whole page; ``NotFound`` otherwise."""
        doc = self._repo.get_document(document_id)
        page, start, end = self._repo.passages.chunk_location(document_id, chunk_id)
        return PassageInPage(doc, page, start, end, self._repo.passages.page_text(doc.sha256, page))

    def original_file(self, document_id: int) -> tuple[Document, Path]:
        """The document and where its original file is kept (the file may be gone);
        ``NotFound`` if there is no such document."""
        doc = self._repo.get_document(document_id)
        return doc, self._library.stored_file(doc.sha256)

    # -- flagged passages ------------------------------------------------------------------

    def flags(self, assistant_id: int) -> list[Flag]:
        return self._repo.flags.list_flags(assistant_id)

    def set_flagged(self, assistant_id: int, chunk_ids: Sequence[int], excluded: bool) -> int:
        """Exclude flagged passages of this assistant from answers (or keep them as data);
        ids of other passages are ignored. Returns how many changed."""
        allowed = {f.chunk_id for f in self._repo.flags.list_flags(assistant_id)}
        ids = [int(c) for c in chunk_ids if int(c) in allowed]
        return self._library.set_excluded(ids, excluded)
