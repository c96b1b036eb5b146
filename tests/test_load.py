"""Reading real files: page numbers kept, bad files refused with a plain reason."""

from pathlib import Path

import pytest

from gptbuilder.errors import IngestError
from gptbuilder.ingest.load import load_file, normalize_text


def test_pdf_pages_keep_their_numbers(pdf_dir):
    loaded = load_file(pdf_dir / "py-pdf-sample-files" / "pdflatex-4-pages.pdf", "four.pdf")
    assert loaded.media_type == "application/pdf"
    assert [p.number for p in loaded.pages] == [1, 2, 3, 4]
    assert all(p.text for p in loaded.pages)


def test_pdf_that_opens_with_an_empty_password_is_read(pdf_dir):
    loaded = load_file(pdf_dir / "pdfplumber" / "pr-138-example.pdf", "enc.pdf")
    assert len(loaded.pages) == 2 and loaded.pages[0].text


@pytest.mark.parametrize(
    "folder, name, reason",
    [
        ("pdfplumber", "password-example.pdf", "password"),
        ("py-pdf-sample-files", "libreoffice-writer-password.pdf", "password"),
        ("pdfplumber", "empty.pdf", "empty"),
        ("pdfplumber", "issue-297-example.pdf", "No text could be read"),
    ],
)
def test_bad_pdfs_get_a_plain_reason(pdf_dir, folder, name, reason):
    with pytest.raises(IngestError, match=reason):
        load_file(pdf_dir / folder / name, name)


def test_truncated_pdf_is_refused(pdf_dir, tmp_path):
    data = (pdf_dir / "py-pdf-sample-files" / "pdflatex-4-pages.pdf").read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(data[: len(data) // 3])
    try:
        loaded = load_file(broken, "broken.pdf")
    except IngestError as err:
        assert "broken.pdf" in str(err)
    else:  # pypdf may recover some pages; then they must carry real text
        assert any(p.text for p in loaded.pages)


def test_html_named_pdf_is_read_as_html_with_a_warning(tmp_path):
    p = tmp_path / "report.pdf"
    p.write_text("<!DOCTYPE html><html><body><h1>Report</h1><p>Sales rose.</p></body></html>")
    loaded = load_file(p, "report.pdf")
    assert loaded.media_type == "text/html"
    assert loaded.pages[0].text == "Report\n\nSales rose."
    assert "named like a PDF but is really a web page" in loaded.warnings[0]


def test_text_in_another_encoding_is_read(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_bytes("Un café crème coûte 20 € à Noël — très cher.".encode("cp1252"))
    loaded = load_file(p, "notes.txt")
    assert loaded.pages[0].text == "Un café crème coûte 20 € à Noël — très cher."
    assert "not UTF-8" in loaded.warnings[0]
    p.write_bytes("Grüße".encode("utf-16"))
    assert load_file(p, "notes.txt").pages[0].text == "Grüße"


def test_binary_and_unknown_files_are_refused(tmp_path):
    p = tmp_path / "image.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(IngestError, match="PNG image"):
        load_file(p, "image.png")
    q = tmp_path / "sheet.xlsx"
    q.write_text("plain words")
    with pytest.raises(IngestError, match="not supported"):
        load_file(q, "sheet.xlsx")
    z = tmp_path / "archive.docx"
    z.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(IngestError, match="ZIP"):
        load_file(z, "archive.docx")


def test_markdown_is_markdown(tmp_path):
    p = tmp_path / "a.md"
    p.write_text("# Title\n\nBody text.")
    assert load_file(p, "a.md").media_type == "text/markdown"


def test_normalize_text():
    assert normalize_text("a  \t b\r\n\r\n\r\n\r\nc\x00") == "a b\n\nc"


def test_every_shared_pdf_loads_or_fails_plainly(pdf_dir):
    """No PDF of the shared corpus crashes the loader with anything but IngestError."""
    outcomes = {}
    for path in sorted(Path(pdf_dir).rglob("*.pdf")):
        try:
            outcomes[path.name] = len(load_file(path, path.name).pages)
        except IngestError as err:
            outcomes[path.name] = str(err)
    assert outcomes["pdflatex-4-pages.pdf"] == 4
    assert len(outcomes) > 80
