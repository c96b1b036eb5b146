"""What every loader returns, text normalisation, and plain-text/Markdown files."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from gptbuilder.errors import IngestError
from gptbuilder.retrieval.sanitize import InvisibleRun
from gptbuilder.types import HiddenText, Page

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Loaded:
    media_type: str
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)
    empty_pages: list[int] = field(default_factory=list)
    hidden: list[HiddenText] = field(default_factory=list)  # left out of ``pages``
    invisible: dict[int, list[InvisibleRun]] = field(default_factory=dict)  # page -> removed


def normalize_text(text: str) -> str:
    """Tidy extracted text; chunk offsets refer to this normalised form."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1–3, 7'."""
    if not numbers:
        return ""
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def hidden_warnings(hidden: list[HiddenText], kept: bool) -> list[str]:
    """One line per kind of hidden text, with its pages and a sample."""
    by_reason: dict[str, list[HiddenText]] = {}
    for h in hidden:
        by_reason.setdefault(h.reason, []).append(h)
    fate = "kept in the index (setting GPTB_KEEP_HIDDEN_TEXT)" if kept else "left out"
    out = []
    for reason, items in by_reason.items():
        pages = sorted({h.page for h in items})
        sample = " ".join(items[0].text.split())
        sample = sample if len(sample) <= 80 else sample[:79] + "…"
        out.append(
            f"Hidden text ({reason}) on page{'s' if len(pages) > 1 else ''} {ranges(pages)} "
            f"was {fate}: “{sample}”."
        )
    return out


def decode(data: bytes, filename: str) -> tuple[str, str | None]:
    """Text and a warning when the encoding had to be guessed."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise IngestError(f"“{filename}”: the text encoding could not be recognised.")
    # Short texts fit several code pages equally well; then prefer the commonest, Windows-1252.
    least = min(m.chaos for m in matches)
    tied = [m for m in matches if m.chaos == least]
    most = max(m.coherence for m in tied)
    tied = [m for m in tied if m.coherence == most]
    best = next((m for m in tied if m.encoding == "cp1252"), tied[0])
    return str(best), f"“{filename}” is not UTF-8; it was read as {best.encoding}."


def read_text(path: Path, filename: str, media_type: str) -> Loaded:
    text, warning = decode(path.read_bytes(), filename)
    text = normalize_text(text)
    if not text:
        raise IngestError(f"“{filename}” contains no text.")
    return Loaded(media_type, [Page(1, text)], [warning] if warning else [])
