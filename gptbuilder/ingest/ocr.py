"""Text recognition for pages that are pictures (scans), with the Tesseract program.

Tesseract is optional: without it, those pages are reported as having no text.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

DPI = 300  # Tesseract is most accurate at about 300 dots per inch
PAGE_TIMEOUT_S = 120
# Tesseract's OpenMP threads fight over few cores: one page took 8.3 s with its default and
# 1.2 s with one thread here (2 cores), with the same text.
THREADS = "1"


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def ocr_pdf_pages(path: Path, numbers: list[int], languages: str = "eng") -> dict[int, str]:
    """Recognised text of the given 1-based pages. Pages that fail are left out."""
    exe = tesseract_path()
    if exe is None or not numbers:
        return {}
    import pypdfium2 as pdfium  # renders pages to pixels; pypdf cannot

    out: dict[int, str] = {}
    doc = pdfium.PdfDocument(str(path))
    try:
        for number in numbers:
            try:
                bitmap = doc[number - 1].render(scale=DPI / 72, grayscale=True)
                buf = io.BytesIO()
                bitmap.to_pil().save(buf, format="PNG")
                done = subprocess.run(
                    [exe, "stdin", "stdout", "-l", languages],
                    input=buf.getvalue(),
                    capture_output=True,
                    timeout=PAGE_TIMEOUT_S,
                    check=True,
                    env={**os.environ, "OMP_THREAD_LIMIT": THREADS},
                )
                out[number] = done.stdout.decode("utf-8", errors="replace")
            except (subprocess.SubprocessError, OSError, pdfium.PdfiumError) as err:
                log.warning("OCR of page %d of %s failed: %r", number, path.name, err)
    finally:
        doc.close()
    return out
