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
from gptbuilder.ingest.text import (
    Loaded,
    hidden_warnings,
    join_line_hyphens,
    normalize_text,
    ranges,
)
from gptbuilder.types import HiddenText, Page

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 8  # fewer characters than this on a page: treat it as a picture of text


def read_pdf(
    path: Path, filename: str, max_pages: int, ocr: bool, keep_hidden: bool = False
) -> Loaded:
    """Pages of visible text. Text a reader cannot see (see pdf_hidden) is left out, unless
    ``keep_hidden``, and reported either way."""
    with PdfFile(path, filename, max_pages) as pdf:
        part = read_pages(pdf, range(1, pdf.count + 1), ocr, keep_hidden)
    return assemble(filename, pdf.count, [part], ocr, keep_hidden)


def page_count(path: Path, filename: str, max_pages: int) -> int:
    """Number of pages; raises IngestError as ``read_pdf`` would on opening the file."""
    with PdfFile(path, filename, max_pages) as pdf:
        return pdf.count


class PdfFile:
    """An open PDF. PDFium opens it (in C++, a few milliseconds) and screens and reads most
    pages; pypdf's reader (pure Python, 10-100 ms to open a file, more for long ones) is opened
    only when a page needs the careful reading, or when PDFium cannot open the file: then pypdf
    reads it all, or says why it cannot (damaged, password). Raises IngestError when the file
    cannot be opened, has no pages or more than ``max_pages``."""

    def __init__(self, path: Path, filename: str, max_pages: int) -> None:
        self.path = path
        self.filename = filename
        self.document = open_document(path)
        self._reader: Any = None
        self._reader_error: IngestError | None = None
        if self.document is None:
            self._reader, self.count = _open_pypdf(path, filename)
        else:
            self.count = len(self.document)
        if self.count == 0:
            self.close()
            raise IngestError(f"“{filename}” has no pages.")
        if self.count > max_pages:
            self.close()
            raise IngestError(
                f"“{filename}” has {self.count} pages; the limit is {max_pages} "
                "(setting GPTB_MAX_PAGES). Split it into smaller files."
            )

    def pypdf_page(self, number: int) -> Any:
        """pypdf's page ``number`` (1-based), opening pypdf's reader on first use; raises
        IngestError when pypdf cannot open the file (PDFium could)."""
        if self._reader is None:
            if self._reader_error is None:
                try:
                    self._reader, _ = _open_pypdf(self.path, self.filename)
                except IngestError as err:
                    self._reader_error = err
            if self._reader is None:
                raise self._reader_error  # type: ignore[misc]
        return self._reader.pages[number - 1]

    def close(self) -> None:
        if self.document is not None:
            self.document.close()
            self.document = None

    def __enter__(self) -> PdfFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_pypdf(path: Path, filename: str) -> tuple[Any, int]:
    """A pypdf reader of the file and its page count, or an IngestError saying why not."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # many PDFs are "encrypted" with an empty password
                return reader, len(reader.pages)  # a wrong password shows only here
            except (FileNotDecryptedError, NotImplementedError, PdfReadError) as err:
                raise IngestError(
                    f"“{filename}” is protected by a password. Remove the password (for "
                    "example by printing it to a new PDF) and upload it again."
                ) from err
        return reader, len(reader.pages)
    except IngestError:
        raise
    except Exception as err:  # pypdf raises many kinds of errors on broken files
        log.info("could not open %s: %r", filename, err)
        raise IngestError(
            f"“{filename}” could not be read as a PDF; the file may be damaged or incomplete."
        ) from err


@dataclass
class PdfPart:
    """What reading some of a PDF's pages found (several parts can be read in parallel)."""

    texts: dict[int, str] = field(default_factory=dict)  # page number -> normalised text
    failed: list[int] = field(default_factory=list)  # pages that could not be read
    ocred: list[int] = field(default_factory=list)  # pages whose text came from OCR
    hidden: list[HiddenText] = field(default_factory=list)


def read_pages(pdf: PdfFile, numbers: range, ocr: bool, keep_hidden: bool) -> PdfPart:
    """Text of the given pages (1-based); pages without text are OCR'd when ``ocr``. A page
    that PDFium's screen finds nothing hidden on is read by PDFium, others by pypdf with the
    hidden-text checks (see pdf_screen)."""
    part = PdfPart()
    document = pdf.document
    for number in numbers:
        quick = clean_page_text(document, number) if document is not None else None
        if quick is not None:
            # PDFium's line-end hyphens (U+FFFE) are joined in ``assemble``, over all pages.
            part.texts[number] = normalize_text(quick, join_hyphens=False)
            continue
        try:
            text, found = _page_text(pdf.pypdf_page(number), number, keep_hidden)
            part.texts[number] = normalize_text(text)
            part.hidden += found
        except Exception as err:  # one bad page must not lose the others
            log.info("page %d of %s failed: %r", number, pdf.filename, err)
            part.texts[number] = ""
            part.failed.append(number)
    blank = [n for n, t in part.texts.items() if len(t) < MIN_TEXT_CHARS and n not in part.failed]
    if blank and ocr and tesseract_path():
        for number, text in ocr_pdf_pages(pdf.path, blank).items():
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
    # Words PDFium broke at a line end joined, with the whole document as the vocabulary.
    numbers = sorted(texts)
    texts = dict(zip(numbers, join_line_hyphens([texts[n] for n in numbers]), strict=True))
    failed.sort()
    ocred.sort()
    hidden.sort(key=lambda h: h.page)  # stable: a page's own order is kept
    no_text = [n for n in range(1, count + 1) if len(texts.get(n, "")) < MIN_TEXT_CHARS]
    if len(failed) == count:
        raise IngestError(
            f"“{filename}” could not be read as a PDF; the file may be damaged or incomplete."
        )
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
