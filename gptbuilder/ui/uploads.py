"""Uploads of several files: processed in order in a worker thread, with a live per-file
status, overall progress with an estimate of the time left, and a cancel that undoes only
the files in progress (finished files stay, the rest are skipped)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from gptbuilder.errors import Cancelled, GPTBuilderError
from gptbuilder.library import AddResult, Library, Progress
from gptbuilder.ui.render import escape_untrusted

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
    library: Library
    assistant_id: int
    paths: list[Path]
    files: list[FileStatus] = field(init=False)
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
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

    def describe(self) -> str:
        working = next((f for f in self.files if f.state == "working"), None)
        fraction, left = self.overall()
        n_done = sum(f.state not in ("waiting", "working") for f in self.files)
        text = f"{n_done}/{len(self.files)} files"
        if working:
            text += f" · {working.name}: {working.doing}"
        if left is not None:
            text += f" · about {_duration(left)} left"
        return text

    def report(self) -> str:
        """Markdown table, one row per file, plus warnings and errors under it."""
        icons = {
            "waiting": "⏳ waiting",
            "working": "⚙️ working",
            "done": "✅ added",
            "duplicate": "ℹ️ already there",
            "failed": "❌ not added",
            "cancelled": "⏹ cancelled",
        }
        rows = [
            "| File | Status | Pages | With text | OCR | Passages | Time |",
            "|---|---|---|---|---|---|---|",
        ]
        notes: list[str] = []
        for f in self.files:
            name = escape_untrusted(f.name)
            status = icons[f.state]
            if f.state == "working":
                status += f" {f.fraction:.0%}"
            r = f.result
            if r is not None and f.state == "done":
                d = r.document
                cells = [str(d.pages), str(r.text_pages), str(r.ocr_pages), str(d.chunks)]
                cells.append(f"{r.seconds:.1f} s")
                notes.extend(f"- ⚠️ **{name}**: {escape_untrusted(w)}" for w in r.warnings)
                if r.replaced:
                    notes.append(f"- 🔁 **{name}** replaced the earlier version of the file.")
                if r.reused:
                    notes.append(f"- ♻️ **{name}** was already indexed; its passages were reused.")
            else:
                cells = ["", "", "", "", ""]
            if f.error:
                notes.append(f"- ❌ {escape_untrusted(f.error)}")
            rows.append(f"| {name} | {status} | " + " | ".join(cells) + " |")
        return "\n".join(rows + ([""] + notes if notes else []))


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"
