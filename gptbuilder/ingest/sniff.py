"""What a file really is, from its first bytes; the name is only a tie-breaker."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from gptbuilder.errors import UnsupportedFile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")
SUPPORTED_LABEL = "PDF, Word (.docx), web pages (.html), Markdown (.md) and plain text (.txt)"
_NAME_TYPES = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".html": HTML,
    ".htm": HTML,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
}
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive",
    b"\xd0\xcf\x11\xe0": "an old Office file (.doc/.xls); save it as .docx or PDF",
    b"\x7fELF": "a program",
    b"MZ": "a program",
    b"Rar!": "a RAR archive",
    b"\x1f\x8b": "a compressed (gzip) file",
}


def _display_name(media_type: str) -> str:
    return {
        PDF: "PDF",
        DOCX: "Word document",
        HTML: "web page",
        MARKDOWN: "Markdown",
        TEXT: "text",
    }[media_type]


def detect(path: Path, filename: str) -> tuple[str, str | None]:
    """(media type, warning). The warning says when the name and the content disagree.

    Raises UnsupportedFile with a plain reason for anything we cannot read.
    """
    with path.open("rb") as f:
        head = f.read(8192)
    by_name = _NAME_TYPES.get(Path(filename).suffix.lower())
    found = _by_content(path, head, by_name)
    if found is None:
        if head.startswith(b"PK\x03\x04"):
            raise UnsupportedFile(f"“{filename}” is a ZIP-based file that is not a Word document.")
        for magic, what in _BINARY_MAGIC.items():
            if head.startswith(magic):
                raise UnsupportedFile(
                    f"“{filename}” is {what}, not a document. Supported: {SUPPORTED_LABEL}."
                )
        raise UnsupportedFile(
            f"“{filename}” looks like a binary file that is not a document. "
            f"Supported: {SUPPORTED_LABEL}."
        )
    if by_name is None and found in (TEXT, MARKDOWN) and Path(filename).suffix:
        raise UnsupportedFile(
            f"“{filename}”: files of type “{Path(filename).suffix}” are not supported. "
            f"Supported: {SUPPORTED_LABEL}."
        )
    warning = None
    if by_name is not None and found != by_name and {found, by_name} != {TEXT, MARKDOWN}:
        warning = (
            f"“{filename}” is named like a {_display_name(by_name)} but is really a "
            f"{_display_name(found)}; it was read as a {_display_name(found)}."
        )
    return found, warning


def _by_content(path: Path, head: bytes, by_name: str | None) -> str | None:
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                if "word/document.xml" in z.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            return None
        return None
    if _looks_binary(head):
        return None
    if _HTML_START.match(head):
        return HTML
    if by_name == HTML and b"<" in head:
        return HTML
    return MARKDOWN if by_name == MARKDOWN else TEXT


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False  # a byte-order mark: text
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return bool(head) and control / len(head) > 0.1
