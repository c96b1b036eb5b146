"""Read any supported file into pages of text, in a child process with a time limit.

A malformed file can make a parser hang, loop or eat memory; in a child process it can be
stopped without harming the app or the other files of an upload.

The children are forked from a small server process that has imported only the readers (a
multiprocessing "forkserver"): a child starts in milliseconds, where a freshly spawned one
would import Python, the readers and the app's own main module (gradio, torch) again for
every file, seconds each.

Reading overlaps other work where there are cores for it: a long PDF is read by several
children at once, each a share of its pages (``load_file_isolated``), and ``ReadAhead`` reads
the next files of an upload while the current one is embedded.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from gptbuilder.errors import Cancelled, IngestError
from gptbuilder.ingest import sniff
from gptbuilder.ingest.pdf import PdfFile, PdfPart, assemble, page_count, read_pages, read_pdf
from gptbuilder.ingest.text import Loaded, normalize_text, ranges, read_text
from gptbuilder.ingest.webpage import read_html
from gptbuilder.ingest.word import read_docx
from gptbuilder.safety.images import strip_image_pages
from gptbuilder.safety.sanitize import notable, strip_invisible
from gptbuilder.types import Page

log = logging.getLogger(__name__)

__all__ = [
    "LoadLimits",
    "Loaded",
    "ReadAhead",
    "load_file",
    "load_file_isolated",
    "normalize_text",
]


@dataclass(frozen=True)
class LoadLimits:
    max_pages: int = 2000
    timeout_s: float = 600.0  # per file, OCR included
    ocr: bool = True
    memory_mb: int = 4096  # address-space cap of the child process
    keep_hidden_text: bool = False  # index text a reader cannot see (it is flagged either way)


DEFAULT_LIMITS = LoadLimits()


def load_file(path: Path, filename: str, limits: LoadLimits = DEFAULT_LIMITS) -> Loaded:
    if path.stat().st_size == 0:
        raise IngestError(f"“{filename}” is empty.")
    media_type, warning = sniff.detect(path, filename)
    if media_type == sniff.PDF:
        loaded = read_pdf(path, filename, limits.max_pages, limits.ocr, limits.keep_hidden_text)
    elif media_type == sniff.DOCX:
        loaded = read_docx(path, filename)
    elif media_type == sniff.HTML:
        loaded = read_html(path, filename)
    else:
        loaded = read_text(path, filename, media_type)
    return _finished(loaded, warning, filename)


def _finished(loaded: Loaded, sniff_warning: str | None, filename: str = "") -> Loaded:
    if sniff_warning:
        loaded = replace(loaded, warnings=[sniff_warning, *loaded.warnings])
    # Images first (invisible-character positions refer to the final text); again after, for
    # markup that invisible characters had split (rare: those positions may then shift a little).
    loaded = strip_invisible_pages(_without_images(loaded, filename))
    return _without_images(loaded, filename) if loaded.invisible else loaded


def _without_images(loaded: Loaded, filename: str) -> Loaded:
    pages, count = strip_image_pages(loaded.pages)
    if not count:
        return loaded
    log.info("%s: %d image(s) in the text replaced by their description", filename, count)
    return replace(loaded, pages=pages)


def strip_invisible_pages(loaded: Loaded) -> Loaded:
    """Invisible characters removed from every page, and where they were; chunk offsets refer
    to the cleaned text."""
    pages = []
    invisible = {}
    for page in loaded.pages:
        text, runs = strip_invisible(page.text)
        pages.append(Page(page.number, text) if runs else page)
        if notable(runs):
            invisible[page.number] = notable(runs)
    if not invisible:
        return replace(loaded, pages=pages)
    count = sum(r.count for runs in invisible.values() for r in runs)
    note = (
        f"{count} invisible character{'s' if count != 1 else ''} (used to hide text from "
        f"readers) removed on page{'s' if len(invisible) > 1 else ''} {ranges(sorted(invisible))}."
    )
    return replace(loaded, pages=pages, invisible=invisible, warnings=[*loaded.warnings, note])


def _child(
    conn: Connection, task: Callable[..., Any], args: tuple, filename: str, limits: LoadLimits
) -> None:
    try:
        cap = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):  # not allowed here: run without the cap
        pass
    try:
        conn.send(("ok", task(*args), _usage()))
    except IngestError as err:
        conn.send(("error", str(err), _usage()))
    except MemoryError:
        conn.send(("error", f"“{filename}” needs too much memory to read.", _usage()))
    except Exception as err:  # an unexpected parser failure on a strange file
        log.exception("reading %s failed", filename)
        message = f"“{filename}” could not be read ({type(err).__name__})."
        conn.send(("error", message, _usage()))
    finally:
        conn.close()


def _usage() -> tuple[float, float]:
    """(RSS high-water mark in MB, CPU seconds) of this reader child, Tesseract included."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return max(me.ru_maxrss, kids.ru_maxrss) / 1024, cpu_s


def _probe(path: Path, filename: str, limits: LoadLimits) -> tuple[str, str | None, int]:
    """(media type, the sniffer's warning, page count of a PDF else 0)."""
    media_type, warning = sniff.detect(path, filename)
    count = page_count(path, filename, limits.max_pages) if media_type == sniff.PDF else 0
    return media_type, warning, count


def _read_part(path: Path, filename: str, limits: LoadLimits, numbers: range) -> PdfPart:
    with PdfFile(path, filename, limits.max_pages) as pdf:
        return read_pages(pdf, numbers, limits.ocr, limits.keep_hidden_text)


# The readers import these when first used; the forkserver imports them once, so a child does
# not (pypdf alone took 120 ms in every child, most of the time of reading a small PDF).
READER_LIBRARIES = ("pypdf", "pypdf.generic", "pypdfium2", "PIL.Image", "docx", "bs4")

_context: BaseContext | None = None
_context_lock = threading.Lock()


def _reader_context() -> BaseContext:
    """Forkserver where the platform has one (it preloads only this module and the readers'
    libraries), else spawn.
    Never plain fork: forking the app, which runs threads, is unsafe."""
    global _context
    with _context_lock:
        if _context is None:
            ctx: BaseContext
            try:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload([__name__, *READER_LIBRARIES])
            except ValueError:  # no forkserver (Windows)
                ctx = multiprocessing.get_context("spawn")
            _context = ctx
        return _context


def load_file_isolated(
    path: Path,
    filename: str,
    limits: LoadLimits = DEFAULT_LIMITS,
    stop: Callable[[], bool] | None = None,
    usage: ReaderUsage | None = None,
) -> Loaded:
    """Like load_file, but in a child process that is stopped after ``limits.timeout_s``, or
    as soon as ``stop()`` returns True (then Cancelled is raised). The children's memory and
    CPU time are added to ``usage`` when given.

    A long PDF is read by several children at once, each a share of its pages (their text
    is the same as one child's), when the machine has cores for it."""
    run = _Runner(filename, limits, stop, usage)
    workers = _workers()
    if workers > 1 and path.stat().st_size >= PARALLEL_MIN_BYTES:
        [(media_type, warning, count)] = run([(_probe, (path, filename, limits))])
        if media_type == sniff.PDF and count >= 2 * PAGES_PER_PART:
            shares = _shares(count, workers)
            log.info("reading %s (%d pages) in %d parts", filename, count, len(shares))
            parts = run([(_read_part, (path, filename, limits, r)) for r in shares])
            loaded = assemble(filename, count, parts, limits.ocr, limits.keep_hidden_text)
            return _finished(loaded, warning, filename)
    [loaded] = run([(load_file, (path, filename, limits))])
    return loaded


PARALLEL_MIN_BYTES = 256 * 1024  # smaller files are read by one child, no page count first
PAGES_PER_PART = 40  # a PDF is split into parts of at least this many pages
MAX_READERS = 4  # children reading parts of one file at once, at most one per core
# Files of an upload read ahead (ReadAhead): enough for the next group of small files.
READ_AHEAD_FILES = 8


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_READERS))


def _shares(count: int, workers: int) -> list[range]:
    """Consecutive page ranges (1-based) covering ``count`` pages."""
    k = max(1, min(workers, count // PAGES_PER_PART))
    bounds = [1 + count * i // k for i in range(k + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(k)]


class ReaderUsage:
    """What the reader children of one reader of files used: the most memory (RSS high-water
    mark, MB) any child used on a file, and their CPU seconds (OCR included; children stopped
    on a time limit or a cancel are not counted). The children are the forkserver's, so the
    parent's RUSAGE_CHILDREN does not see them."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self.cpu_s = 0.0
        self._lock = threading.Lock()

    def record(self, peak_mb: float, cpu_s: float) -> None:
        with self._lock:
            self.peak_mb = max(self.peak_mb, peak_mb)
            self.cpu_s += cpu_s


class _Runner:
    """Runs tasks in reader children (all at once), within one file's time limit."""

    def __init__(
        self,
        filename: str,
        limits: LoadLimits,
        stop: Callable[[], bool] | None,
        usage: ReaderUsage | None,
    ) -> None:
        self._filename = filename
        self._limits = limits
        self._stop = stop
        self._usage = usage
        self._deadline = time.monotonic() + limits.timeout_s

    def __call__(self, tasks: list[tuple[Callable[..., Any], tuple]]) -> list[Any]:
        ctx = _reader_context()
        running: list[tuple[BaseProcess, Connection]] = []
        try:
            for task, args in tasks:
                receive, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(  # type: ignore[attr-defined]
                    target=_child,
                    args=(send, task, args, self._filename, self._limits),
                    daemon=True,
                    name="gptb-reader",
                )
                proc.start()
                send.close()
                running.append((proc, receive))
            return [self._result(receive) for _, receive in running]
        finally:
            for proc, receive in running:
                if proc.is_alive():
                    proc.kill()
                proc.join(5)
                receive.close()

    def _result(self, receive: Connection) -> Any:
        filename, limits = self._filename, self._limits
        while not receive.poll(min(_STOP_POLL_S, max(0.0, self._deadline - time.monotonic()))):
            if self._stop is not None and self._stop():
                raise Cancelled("Stopped by you.")
            if time.monotonic() >= self._deadline:
                raise IngestError(
                    f"Reading “{filename}” took longer than {limits.timeout_s:.0f} seconds and "
                    "was stopped (setting GPTB_INGEST_TIMEOUT_S)."
                )
        try:
            status, payload, (peak_mb, cpu_s) = receive.recv()
        except (EOFError, OSError) as err:
            raise IngestError(
                f"“{filename}” made the document reader crash; the file may be damaged."
            ) from err
        if self._usage is not None:
            self._usage.record(peak_mb, cpu_s)
        if status == "error":
            raise IngestError(payload)
        return payload


_STOP_POLL_S = 0.2  # how often a waiting reader checks whether it was cancelled


class ReadAhead:
    """Reads the files of an upload ahead: while files are chunked and embedded, the next
    ``ahead`` files are read, ``workers`` at a time (default: one per core, at most
    MAX_READERS), each in its own child process as ``load_file_isolated``. Reading and
    embedding overlap, and when embedding waits for a slow read (OCR runs on one core a page)
    the other cores read the files after it. Small files are embedded in groups
    (``Library.add_files``): reading several ahead keeps the cores reading the next group's
    files while one group is embedded. At most ``ahead`` files are held, so memory stays
    bounded. ``close`` (or ``stop`` being set: the upload was cancelled) stops the reads in
    progress and drops those not started."""

    def __init__(
        self,
        files: Sequence[tuple[Path, str]],
        limits: LoadLimits = DEFAULT_LIMITS,
        stop: threading.Event | None = None,
        ahead: int = READ_AHEAD_FILES,
        workers: int = 0,
        usage: ReaderUsage | None = None,
    ) -> None:
        self._files = [(Path(p), n) for p, n in files]
        self._limits = limits
        self._cancel = stop
        self._closed = threading.Event()
        self.ahead = max(1, ahead)
        self.workers = max(1, workers or _workers())
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="gptb-read-ahead")
        self._pending: dict[tuple[Path, str], Future[Loaded]] = {}
        self._usage = usage

    def read(self, path: Path, filename: str) -> Loaded:
        """The file's contents (read ahead, or read now); the files after it start being read.
        Raises IngestError (or Cancelled) as load_file_isolated does."""
        key = (Path(path), filename)
        future = self._pending.pop(key, None)
        if key in self._files and not self._stopped():
            following = self._files.index(key) + 1
            for ahead in self._files[following : following + self.ahead]:
                self._start(ahead)
        if future is None:
            return load_file_isolated(path, filename, self._limits, self._stopped, self._usage)
        return future.result()

    def _stopped(self) -> bool:
        return self._closed.is_set() or (self._cancel is not None and self._cancel.is_set())

    def _start(self, key: tuple[Path, str]) -> None:
        if key not in self._pending:
            self._pending[key] = self._pool.submit(
                load_file_isolated, key[0], key[1], self._limits, self._stopped, self._usage
            )

    def close(self) -> None:
        """Stop reading ahead: a read in progress is stopped, its child process killed."""
        self._closed.set()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
