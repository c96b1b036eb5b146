"""PDFium's line-end hyphen (U+FFFE) and other Unicode noncharacters never reach passages."""

from __future__ import annotations

import re

import pytest

from gptbuilder.ingest.chunk import chunk_pages
from gptbuilder.ingest.load import load_file
from gptbuilder.ingest.pdf_screen import clean_page_text, open_document
from gptbuilder.ingest.text import join_line_hyphens, normalize_text, read_text

NONCHARACTER = re.compile("[\ufdd0-\ufdef\ufffe\uffff\U0001fffe\U0010ffff]")


@pytest.fixture(scope="module")
def multi_column(shared_data):
    path = shared_data / "trust" / "multi-column.pdf"
    return path, load_file(path, path.name)


def test_pdfium_breaks_words_with_u_fffe_in_the_real_file(multi_column):
    """The premise: PDFium itself gives "pas\\ufffesages" on this file's pages."""
    path, _ = multi_column
    document = open_document(path)
    try:
        raw = "".join(clean_page_text(document, n) or "" for n in range(1, len(document) + 1))
    finally:
        document.close()
    assert raw.count("\ufffe") > 200 and "pas\ufffesages" in raw


def test_no_line_hyphen_in_any_page_or_passage_of_the_real_file(multi_column):
    _, loaded = multi_column
    assert not [p.number for p in loaded.pages if NONCHARACTER.search(p.text)]
    chunks = chunk_pages(loaded.pages, 800, 120)
    assert chunks and not [c.ordinal for c in chunks if NONCHARACTER.search(c.text)]
    texts = {p.number: p.text for p in loaded.pages}
    assert all(texts[c.page][c.char_start : c.char_end] == c.text for c in chunks)


def test_broken_words_are_joined_and_compounds_keep_their_hyphen(multi_column):
    _, loaded = multi_column
    text = "\n".join(p.text for p in loaded.pages)
    # PDFium gives "or more pas\ufffesages in the", "ef\ufffeficient", "exam\ufffeine"
    assert "or more passages in the" in text and "pas-sages" not in text
    assert "efficient" in text and "examine" in text and "ef-ficient" not in text
    # compounds that broke at their own hyphen
    assert "dual-encoder" in text and "open-domain" in text and "dualencoder" not in text
    assert "opendomain" not in text and "Lucene-BM25" in text


def test_join_rules():
    broken = [
        "Passages and open-domain questions.",
        "More pas\ufffesages here. An open\ufffedomain task.",
        "A d\ufffedimensional space, state\ufffeof the art, Lucene\ufffeBM25, self\ufffeattention.",
        "An ex\ufffe\nample on two lines, and a page that ends in mid-word: exam\ufffe",
    ]
    assert join_line_hyphens(broken) == [
        "Passages and open-domain questions.",
        "More passages here. An open-domain task.",
        "A d-dimensional space, state-of the art, Lucene-BM25, self-attention.",
        "An example on two lines, and a page that ends in mid-word: exam-",
    ]


def test_stray_noncharacters_are_dropped_from_any_text(tmp_path):
    assert normalize_text("a\uffffb \ufdd0c \U0001fffed \ufffee") == "ab c d e"
    path = tmp_path / "notes.txt"
    path.write_text("Broken pas\ufffe\nsages and a stray \uffff character.", encoding="utf-8")
    assert read_text(path, "notes.txt", "text/plain").pages[0].text == (
        "Broken passages and a stray character."
    )


def test_pages_read_in_parallel_parts_are_joined_too(shared_data):
    from gptbuilder.ingest.load import LoadLimits
    from gptbuilder.ingest.pdf import PdfFile, assemble, read_pages

    path = shared_data / "trust" / "multi-column.pdf"
    limits = LoadLimits(ocr=False)
    with PdfFile(path, path.name, limits.max_pages) as pdf:
        parts = [
            read_pages(pdf, range(1, 7), False, False),
            read_pages(pdf, range(7, 14), False, False),
        ]
    loaded = assemble(path.name, 13, parts, False, False)
    whole = load_file(path, path.name, limits)
    assert [p.text for p in loaded.pages] == [p.text for p in whole.pages]
    assert not any("\ufffe" in p.text for p in loaded.pages)
