"""How an upload of several files is shown: a live per-file status table, and overall
progress with an estimate of the time left. The upload itself (worker thread, cancel) is
``usecases.knowledge.UploadJob``."""

from __future__ import annotations

from gptbuilder.ui.render import escape_untrusted
from gptbuilder.usecases.knowledge import UploadJob

ICONS = {
    "waiting": "⏳ waiting",
    "working": "⚙️ working",
    "done": "✅ added",
    "duplicate": "ℹ️ already there",
    "failed": "❌ not added",
    "cancelled": "⏹ cancelled",
}


def describe(job: UploadJob) -> str:
    """One line for the progress bar: files done, the file in progress, time left."""
    working = next((f for f in job.files if f.state == "working"), None)
    _fraction, left = job.overall()
    n_done = sum(f.state not in ("waiting", "working") for f in job.files)
    text = f"{n_done}/{len(job.files)} files"
    if working:
        text += f" · {working.name}: {working.doing}"
    if left is not None:
        text += f" · about {_duration(left)} left"
    return text


def report(job: UploadJob) -> str:
    """Markdown table, one row per file, plus warnings and errors under it."""
    rows = [
        "| File | Status | Pages | With text | OCR | Passages | Time |",
        "|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for f in job.files:
        name = escape_untrusted(f.name)
        status = ICONS[f.state]
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
