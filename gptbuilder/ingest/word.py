"""Word (.docx) documents: paragraphs, headings and tables, split where Word broke pages."""

from __future__ import annotations

from pathlib import Path

from gptbuilder.errors import IngestError
from gptbuilder.ingest.text import Loaded, normalize_text
from gptbuilder.types import Page

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def read_docx(path: Path, filename: str) -> Loaded:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as err:  # python-docx raises several types on broken files
        raise IngestError(
            f"“{filename}” could not be read as a Word document; it may be damaged."
        ) from err

    pages: list[list[str]] = [[]]
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            # Word records where it broke pages when the file was last laid out; use them so
            # citations can name a page. Without them everything is page 1.
            breaks = block._p.xpath(".//w:br[@w:type='page'] | .//w:lastRenderedPageBreak")
            if breaks and pages[-1]:
                pages.append([])
            text = block.text.strip()
            if not text:
                continue
            # A heading is a paragraph of its own, written as it is: no Markdown marks ("# "),
            # which would show in passages, quotes and answers (the chunker reads Markdown
            # headings only in Markdown files).
            pages[-1].append(text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    pages[-1].append(" | ".join(cells))
    out = [Page(i + 1, normalize_text("\n\n".join(p))) for i, p in enumerate(pages)]
    if not any(p.text for p in out):
        raise IngestError(f"“{filename}” contains no text.")
    return Loaded(DOCX, out)
