"""Headings of Word files (and web pages) reach passages as words, without Markdown marks."""

from __future__ import annotations

import re

import pytest

from gptbuilder.ingest.chunk import chunk_pages
from gptbuilder.ingest.load import load_file
from gptbuilder.personas.definition import make_draft
from gptbuilder.types import Page

MARKS = re.compile(r"(?m)^#{1,6}[ \t]")  # a line that starts with Markdown heading marks


@pytest.fixture(scope="module")
def handbook(shared_data):
    path = shared_data / "trust" / "handbook-872p.docx"
    return load_file(path, path.name)


def test_real_handbook_headings_have_no_marks(handbook, shared_data):
    import docx

    # The premise: the handbook has hundreds of Word headings ("CHAPTER 1 – INTRODUCTION").
    document = docx.Document(str(shared_data / "trust" / "handbook-872p.docx"))
    headings = [
        " ".join(p.text.split())
        for p in document.paragraphs
        if p.text.strip() and p.style is not None and p.style.name.lower().startswith("heading")
    ]
    assert len(headings) > 200
    lines = {line for page in handbook.pages for line in page.text.split("\n")}
    assert "CHAPTER 1 – INTRODUCTION" in lines and "A. PURPOSE" in lines
    assert sum(h in lines for h in headings) > 0.9 * len(headings)
    assert not [p.number for p in handbook.pages if MARKS.search(p.text)]
    chunks = chunk_pages(handbook.pages, 800, 120)
    assert not [c.ordinal for c in chunks if MARKS.search(c.text)]


def small_docx(path):
    import docx

    d = docx.Document()
    d.add_heading("Travel policy", level=0)  # the "Title" style
    d.add_heading("Flights", level=1)
    d.add_paragraph("Economy class is used for flights under six hours.")
    d.add_heading("Hotels", level=3)
    d.add_paragraph("A hotel night costs at most 120 EUR in the capital.")
    d.save(path)
    return path


def test_passages_and_answers_from_a_word_file_show_no_marks(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(make_draft("A"))
    path = small_docx(tmp_path / "policy.docx")
    result = s.library.add_file(a.id, path, "policy.docx")
    assert result.document.status == "ready"
    hits = s.answers.retrieve(a.id, "How much may a hotel night cost?")
    text = "\n".join(h.text for h in hits)
    assert "Hotels\n\nA hotel night costs" in text and "Flights" in text
    assert not MARKS.search(text) and "#" not in text


def test_web_page_headings_have_no_marks(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<h1>Opening</h1><p>Open 9 to 5.</p><h3>Closed</h3><p>On Sunday.</p>")
    text = load_file(path, "page.html").pages[0].text
    assert text == "Opening\n\nOpen 9 to 5.\n\nClosed\n\nOn Sunday."


def test_markdown_file_headings_are_kept_as_headings_but_not_as_marks():
    md = "# Guide\n\n## Install\n\nRun the setup.\n\n### Usage ###\n\nAsk away. #1 fan.\n\n#tag"
    page = Page(1, md)
    chunks = chunk_pages([page], size=500, overlap=100, markdown=True)
    assert [c.heading for c in chunks] == ["Guide", "Install", "Usage"]
    assert [c.text.split("\n")[0] for c in chunks] == ["Guide", "Install", "Usage ###"]
    assert all(md[c.char_start : c.char_end] == c.text for c in chunks)
    assert "#1 fan." in chunks[2].text and "#tag" in chunks[2].text  # not heading marks
