"""What every loader returns, text normalisation, and plain-text/Markdown files."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gptbuilder.errors import IngestError
from gptbuilder.safety.sanitize import InvisibleRun
from gptbuilder.types import HiddenText, Page

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# Unicode noncharacters: never text. PDFium writes U+FFFE for the hyphen of a word broken at a
# line end ("pas\ufffesages"); see ``join_line_hyphens``. The others are dropped.
_OTHER_NONCHARACTERS = re.compile(
    "[\ufdd0-\ufdef\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)
_NONCHARACTERS = re.compile(f"\ufffe|{_OTHER_NONCHARACTERS.pattern}")
# A word broken by PDFium's line-end hyphen, possibly with the line break kept after it.
_BROKEN_WORD = re.compile(r"(\w*)\ufffe(?:\n(?=\w))?(\w*)")
_WORDS = re.compile(r"\w+(?:-\w+)*")
# Words that mostly make hyphenated compounds ("self-attention", "well-known", "non-linear"):
# broken after one, the hyphen is kept unless the document spells the compound as one word.
_COMPOUND_FIRST = frozenset(
    "self well non cross multi high low semi anti half state open long".split()
)


@dataclass(frozen=True)
class Loaded:
    media_type: str
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)
    empty_pages: list[int] = field(default_factory=list)
    hidden: list[HiddenText] = field(default_factory=list)  # left out of ``pages``
    invisible: dict[int, list[InvisibleRun]] = field(default_factory=dict)  # page -> removed


def normalize_text(text: str, join_hyphens: bool = True) -> str:
    """Tidy extracted text; chunk offsets refer to this normalised form. Words broken by
    PDFium's line-end hyphen are joined (``join_line_hyphens``, with this text as the
    vocabulary) and noncharacters dropped, unless ``join_hyphens`` is False: then U+FFFE is
    kept for ``join_line_hyphens`` to join over the whole document."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _OTHER_NONCHARACTERS.sub("", _CONTROL.sub("", text))
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _MANY_NEWLINES.sub("\n\n", text).strip()
    if join_hyphens:
        [text] = join_line_hyphens([text])
    return text


def join_line_hyphens(texts: Sequence[str]) -> list[str]:
    """The texts (a document's pages) with the words PDFium broke at a line end joined, and no
    Unicode noncharacters left.

    PDFium gives the hyphen of a word broken at the end of a line as U+FFFE ("pas\ufffesages",
    sometimes with the line break after it). It cannot tell a syllable break ("pas-sages") from
    a compound that happened to break at its own hyphen ("open-domain"); the document usually
    can, so: the hyphen is kept where the document spells the word with a hyphen elsewhere, or
    the second part starts with a capital or a digit ("Lucene-BM25"), or a part is too short
    to be a syllable break (TeX leaves at least 2 letters before a break and 3 after:
    "d-dimensional", "state-of"), or the first part is a word that mostly makes compounds
    ("self-", "well-", "non-") and the document does not write the word as one; otherwise the
    parts are joined ("passages")."""
    if not any(_NONCHARACTERS.search(t) for t in texts):
        return list(texts)
    joined: dict[str, int] = {}
    hyphened: dict[str, int] = {}
    for text in texts:
        for word in _WORDS.findall(_BROKEN_WORD.sub(" ", text)):
            word = word.lower()
            table = hyphened if "-" in word else joined
            table[word] = table.get(word, 0) + 1

    def mend(m: re.Match[str]) -> str:
        first, second = m.group(1), m.group(2)
        if not first or not second:  # nothing to join: a hyphen at the end of a line or page
            return f"{first}-{second}" if first else second
        whole = (first + second).lower()
        compound = f"{first}-{second}".lower()
        if hyphened.get(compound, 0) > joined.get(whole, 0):
            keep = True
        elif joined.get(whole, 0):
            keep = False
        else:
            keep = (
                not second[0].islower()
                or len(first) < 2
                or len(second) < 3
                or (first.lower() in _COMPOUND_FIRST and len(second) >= 4)
            )
        return f"{first}-{second}" if keep else first + second

    return [_NONCHARACTERS.sub("", _BROKEN_WORD.sub(mend, text)) for text in texts]


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
