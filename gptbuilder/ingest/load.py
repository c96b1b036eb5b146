"""Read a file into pages of text. The real type comes from the content, not the name."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from gptbuilder.errors import IngestError, UnsupportedFile
from gptbuilder.types import Page

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".markdown")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """Tidy extracted text; chunk offsets refer to this normalised form."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", text).strip()


@dataclass(frozen=True)
class Loaded:
    media_type: str
    pages: list[Page]
    warnings: list[str]


def sniff_media_type(head: bytes, filename: str) -> str:
    """Media type from the first bytes; the name only decides between text flavours."""
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if filename.lower().endswith(".pdf"):
        raise UnsupportedFile(f"“{filename}” is named like a PDF but is not one.")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedFile(
            f"“{filename}” looks like a binary file. Supported: PDF, plain text and Markdown."
        )
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(
            f"“{filename}”: files of type “{suffix or 'unknown'}” are not supported yet. "
            "Supported: PDF, plain text (.txt) and Markdown (.md)."
        )
    return "text/markdown" if suffix in (".md", ".markdown") else "text/plain"


def load_file(path: Path, filename: str) -> Loaded:
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"“{filename}” is empty.")
    media_type = sniff_media_type(data[:4096], filename)
    if media_type == "application/pdf":
        return _load_pdf(path, filename)
    return Loaded(media_type, [Page(1, normalize_text(_decode(data, filename)))], [])


def _decode(data: bytes, filename: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as err:
        raise IngestError(f"“{filename}”: the text encoding could not be recognised.") from err


def _load_pdf(path: Path, filename: str) -> Loaded:
    # Imported here: only PDF loading needs it.
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
                _ = len(reader.pages)
            except (FileNotDecryptedError, NotImplementedError, PdfReadError) as err:
                raise IngestError(
                    f"“{filename}” is protected by a password. Remove the password "
                    "(for example by printing it to a new PDF) and upload it again."
                ) from err
        page_objects = list(reader.pages)
    except IngestError:
        raise
    except Exception as err:  # pypdf raises many types on broken files
        log.info("could not open %s: %r", filename, err)
        raise IngestError(
            f"“{filename}” could not be read as a PDF; the file may be damaged or incomplete."
        ) from err
    if not page_objects:
        raise IngestError(f"“{filename}” has no pages.")

    pages: list[Page] = []
    warnings: list[str] = []
    failed: list[int] = []
    for number, page in enumerate(page_objects, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as err:  # one bad page must not lose the others
            log.info("page %d of %s failed: %r", number, filename, err)
            text = ""
            failed.append(number)
        pages.append(Page(number, normalize_text(text)))
    empty = [p.number for p in pages if not p.text]
    if len(empty) == len(pages):
        raise IngestError(
            f"No text could be read from “{filename}”. It may be a scan (pictures of pages); "
            "text recognition (OCR) is not available yet."
        )
    if failed:
        warnings.append(f"Pages that could not be read: {_ranges(failed)}.")
    if empty and empty != failed:
        warnings.append(f"Pages without any text (maybe images): {_ranges(empty)}.")
    return Loaded("application/pdf", pages, warnings)


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1–3, 7'."""
    out: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)
