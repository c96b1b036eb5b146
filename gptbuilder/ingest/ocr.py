"""Text recognition for pages that are pictures (scans), with the Tesseract program.

Tesseract is optional: without it, those pages are reported as having no text.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)

DPI = 300  # Tesseract is most accurate at about 300 dots per inch
PAGE_TIMEOUT_S = 120
# Tesseract's OpenMP threads fight over few cores: one page took 8.3 s with its default and
# 1.2 s with one thread here (2 cores), with the same text.
THREADS = "1"
# Pages recognised at once (one Tesseract process each), at most one per core.
MAX_PROCESSES = 4
# Tesseract reads each line a second time, inverted, when it is unsure of it (for light text on
# a dark ground). On the scanned pages of the shared PDFs that gave the same text 12-30% slower.
OPTIONS = ("-c", "tessedit_do_invert=0")
# The page goes to Tesseract as an uncompressed grey image (PGM, ~8 MB for a letter page at
# 300 dpi, on a pipe): writing it takes ~8 ms where PNG took 0.1-0.18 s, for the same text.
IMAGE_FORMAT = "PPM"
# A page less than half an inch across holds no line of text worth recognising (icons and
# test images 16 points square: Tesseract took 0.12 s each to find nothing).
MIN_SIDE_PT = 36


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def ocr_pdf_pages(path: Path, numbers: list[int], languages: str = "eng") -> dict[int, str]:
    """Recognised text of the given 1-based pages. Pages that fail are left out.

    Pages are rendered here one by one and recognised by one single-threaded Tesseract
    process per core at a time (a few rendered pages wait at most, so memory stays bounded).
    A page with nothing drawn on it (no text, picture or shape, no annotation) is blank: it is
    left out without starting Tesseract (0.4-0.5 s a page to find nothing), as is a page too
    small to hold a line of text."""
    exe = tesseract_path()
    if exe is None or not numbers:
        return {}
    import pypdfium2 as pdfium  # renders pages to pixels; pypdf cannot

    workers = max(1, min(len(numbers), os.cpu_count() or 1, MAX_PROCESSES))
    out: dict[int, str] = {}
    pending: dict[int, Future[str]] = {}

    def collect(number: int) -> None:
        try:
            out[number] = pending.pop(number).result()
        except (subprocess.SubprocessError, OSError) as err:
            log.warning("OCR of page %d of %s failed: %r", number, path.name, err)

    doc = pdfium.PdfDocument(str(path))
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="gptb-ocr") as pool:
            for number in numbers:
                try:
                    page = doc[number - 1]
                    if _blank(page) or min(page.get_size()) < MIN_SIDE_PT:
                        log.debug("page %d of %s: blank or tiny, not recognised", number, path.name)
                        continue
                    bitmap = page.render(scale=DPI / 72, grayscale=True)
                    buf = io.BytesIO()
                    bitmap.to_pil().save(buf, format=IMAGE_FORMAT)
                except (pdfium.PdfiumError, OSError) as err:
                    log.warning("rendering page %d of %s failed: %r", number, path.name, err)
                    continue
                pending[number] = pool.submit(_recognise, exe, buf.getvalue(), languages)
                if len(pending) > workers:  # the oldest page first: pages wait in order
                    collect(next(iter(pending)))
            for number in list(pending):
                collect(number)
    finally:
        doc.close()
    return out


def _blank(page) -> bool:
    """Nothing is drawn on the PDFium page: no page objects and no annotations."""
    import pypdfium2.raw as raw

    return raw.FPDFPage_CountObjects(page) == 0 and raw.FPDFPage_GetAnnotCount(page) == 0


def _recognise(exe: str, png: bytes, languages: str) -> str:
    done = subprocess.run(
        [exe, "stdin", "stdout", "-l", languages, *OPTIONS],
        input=png,
        capture_output=True,
        timeout=PAGE_TIMEOUT_S,
        check=True,
        env={**os.environ, "OMP_THREAD_LIMIT": THREADS},
    )
    return done.stdout.decode("utf-8", errors="replace")
