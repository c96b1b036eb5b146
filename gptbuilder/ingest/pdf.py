"""PDF pages with PDFium or pypdf; pages without text are recognised by OCR when it is available."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gptbuilder.errors import IngestError
from gptbuilder.ingest.ocr import ocr_pdf_pages, tesseract_path
from gptbuilder.ingest.pdf_screen import clean_page_text, open_document
from gptbuilder.ingest.pdf_visible import read_page
from gptbuilder.ingest.text import Loaded, hidden_warnings, normalize_text, ranges
from gptbuilder.types import HiddenText, Page

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 8  # fewer characters than this on a page: treat it as a picture of text


def read_pdf(
    path: Path, filename: str, max_pages: int, ocr: bool, keep_hidden: bool = False
) -> Loaded:
    """Pages of visible text. Text a reader cannot see (see pdf_hidden) is left out, unless
    ``keep_hidden``, and reported either way."""
    reader, count = open_pdf(path, filename, max_pages)
    part = read_pages(reader, path, filename, range(1, count + 1), ocr, keep_hidden)
    return assemble(filename, count, [part], ocr, keep_hidden)


def page_count(path: Path, filename: str, max_pages: int) -> int:
    """Number of pages; raises IngestError as ``read_pdf`` would on opening the file."""
    return open_pdf(path, filename, max_pages)[1]


def open_pdf(path: Path, filename: str, max_pages: int) -> tuple[Any, int]:
    """A pypdf reader of the file and its page count, or an IngestError saying why not."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # many PDFs are "encrypted" with an empty password
                count = len(reader.pages)
            except (FileNotDecryptedError, NotImplementedError, PdfReadError) as err:
                raise IngestError(
                    f"“{filename}” is protected by a password. Remove the password (for "
                    "example by printing it to a new PDF) and upload it again."
                ) from err
        count = len(reader.pages)
    except IngestError:
        raise
    except Exception as err:  # pypdf raises many kinds of errors on broken files
        log.info("could not open %s: %r", filename, err)
        raise IngestError(
            f"“{filename}” could not be read as a PDF; the file may be damaged or incomplete."
        ) from err
    if count == 0:
        raise IngestError(f"“{filename}” has no pages.")
    if count > max_pages:
        raise IngestError(
            f"“{filename}” has {count} pages; the limit is {max_pages} "
            "(setting GPTB_MAX_PAGES). Split it into smaller files."
        )
    return reader, count


@dataclass
class PdfPart:
    """What reading some of a PDF's pages found (several parts can be read in parallel)."""

    texts: dict[int, str] = field(default_factory=dict)  # page number -> normalised text
    failed: list[int] = field(default_factory=list)  # pages that could not be read
    ocred: list[int] = field(default_factory=list)  # pages whose text came from OCR
    hidden: list[HiddenText] = field(default_factory=list)


def read_pages(
    reader: Any, path: Path, filename: str, numbers: range, ocr: bool, keep_hidden: bool
) -> PdfPart:
    """Text of the given pages (1-based); pages without text are OCR'd when ``ocr``. A page
    that PDFium's screen finds nothing hidden on is read by PDFium, others by pypdf with the
    hidden-text checks (see pdf_screen)."""
    part = PdfPart()
    document = open_document(path)
    try:
        for number in numbers:
            quick = clean_page_text(document, number) if document is not None else None
            if quick is not None:
                part.texts[number] = normalize_text(quick)
                continue
            try:
                text, found = _page_text(reader.pages[number - 1], number, keep_hidden)
                part.texts[number] = normalize_text(text)
                part.hidden += found
            except Exception as err:  # one bad page must not lose the others
                log.info("page %d of %s failed: %r", number, filename, err)
                part.texts[number] = ""
                part.failed.append(number)
    finally:
        if document is not None:
            document.close()
    blank = [n for n, t in part.texts.items() if len(t) < MIN_TEXT_CHARS and n not in part.failed]
    if blank and ocr and tesseract_path():
        for number, text in ocr_pdf_pages(path, blank).items():
            text = normalize_text(text)
            if len(text) >= MIN_TEXT_CHARS:
                part.texts[number] = text
                part.ocred.append(number)
    return part


def assemble(
    filename: str, count: int, parts: list[PdfPart], ocr: bool, keep_hidden: bool
) -> Loaded:
    """The document from the parts that together read its ``count`` pages."""
    texts: dict[int, str] = {}
    failed: list[int] = []
    ocred: list[int] = []
    hidden: list[HiddenText] = []
    for part in parts:
        texts.update(part.texts)
        failed += part.failed
        ocred += part.ocred
        hidden += part.hidden
    failed.sort()
    ocred.sort()
    hidden.sort(key=lambda h: h.page)  # stable: a page's own order is kept
    no_text = [n for n in range(1, count + 1) if len(texts.get(n, "")) < MIN_TEXT_CHARS]
    if len(no_text) == count:
        hint = (
            "Text recognition (OCR) found nothing readable either."
            if ocr and tesseract_path()
            else "Text recognition (OCR) is not available on this computer (install Tesseract)."
        )
        raise IngestError(f"No text could be read from “{filename}”; it may be a scan. {hint}")
    warnings: list[str] = []
    if failed:
        warnings.append(f"Pages that could not be read: {ranges(failed)}.")
    rest = [n for n in no_text if n not in failed]
    if rest:
        warnings.append(f"Pages without text (pictures or blank): {ranges(rest)}.")
    if ocred:
        warnings.append(f"Pages read by text recognition (OCR), check them: {ranges(ocred)}.")
    warnings += hidden_warnings(hidden, keep_hidden)
    pages = [Page(n, texts[n] if n not in no_text else "") for n in range(1, count + 1)]
    return Loaded(PDF_TYPE, pages, warnings, ocr_pages=ocred, empty_pages=no_text, hidden=hidden)


def _page_text(page: Any, number: int, keep_hidden: bool) -> tuple[str, list[HiddenText]]:
    try:
        visible, hidden = read_page(page, number)
    except Exception as err:  # an operator the interpreter trips on: read the page as is
        log.info("hidden-text check of page %d failed: %r", number, err)
        return page.extract_text() or "", []
    # Whitespace or a stray glyph hides nothing worth reporting.
    hidden = [
        HiddenText(h.page, h.reason, normalize_text(h.text))
        for h in hidden
        if sum(ch.isalnum() for ch in h.text) >= 3
    ]
    if keep_hidden and hidden:
        return page.extract_text() or "", hidden
    return visible or "", hidden


PDF_TYPE = "application/pdf"
