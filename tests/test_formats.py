"""Every supported format, real files made by the real libraries, and the reader's limits."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gptbuilder.errors import Cancelled, IngestError
from gptbuilder.ingest.load import LoadLimits, ReadAhead, load_file, load_file_isolated
from gptbuilder.ingest.ocr import tesseract_path


def test_docx_with_headings_tables_and_page_breaks(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Travel policy", level=1)
    d.add_paragraph("Economy class is used for flights under six hours.")
    d.add_page_break()
    d.add_heading("Expenses", level=2)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Meal", "30 EUR"
    table.cell(1, 0).text, table.cell(1, 1).text = "Hotel", "120 EUR"
    path = tmp_path / "policy.docx"
    d.save(path)
    loaded = load_file(path, "policy.docx")
    assert loaded.media_type.endswith("wordprocessingml.document")
    assert [p.number for p in loaded.pages] == [1, 2]
    assert loaded.pages[0].text.startswith("Travel policy\n\nEconomy class")  # no "# " marks
    assert loaded.pages[1].text.startswith("Expenses\n\n") and "#" not in loaded.pages[1].text
    assert "Hotel | 120 EUR" in loaded.pages[1].text


def test_html_keeps_visible_text_and_headings_only(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<h2>Opening hours</h2><p>Open <b>9 to 5</b>.</p><script>steal()</script>"
        "<div style='display:none'>secret hidden text</div><p hidden>also hidden</p>"
        "<ul><li>Monday</li><li>Friday</li></ul></body></html>",
        encoding="utf-8",
    )
    text = load_file(path, "page.html").pages[0].text
    assert text.startswith("Opening hours\n\nOpen")  # no "## " marks
    assert "Open 9 to 5." in text and "Monday\nFriday" in text
    for absent in ("steal", "secret hidden", "also hidden", "color:red"):
        assert absent not in text


@pytest.mark.skipif(tesseract_path() is None, reason="Tesseract is not installed")
def test_scanned_pdf_is_read_by_ocr(pdf_dir, tmp_path):
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(str(pdf_dir / "py-pdf-sample-files" / "crazyones-pdfa.pdf"))
    image = source[0].render(scale=200 / 72).to_pil().convert("RGB")
    scan = tmp_path / "scan.pdf"
    image.save(scan, format="PDF", resolution=200)
    loaded = load_file(scan, "scan.pdf")
    assert loaded.ocr_pages == [1]
    assert "crazy ones" in loaded.pages[0].text.lower()
    assert any("OCR" in w for w in loaded.warnings)
    with pytest.raises(IngestError, match="No text could be read"):
        load_file(scan, "scan.pdf", LoadLimits(ocr=False))


@pytest.mark.skipif(tesseract_path() is None, reason="Tesseract is not installed")
def test_scanned_pages_are_recognised_in_parallel_each_on_its_page(pdf_dir, tmp_path):
    import pypdfium2 as pdfium

    from gptbuilder.ingest.ocr import ocr_pdf_pages

    source = pdfium.PdfDocument(str(pdf_dir / "py-pdf-sample-files" / "crazyones-pdfa.pdf"))
    crazy = source[0].render(scale=150 / 72).to_pil().convert("RGB")
    blank = crazy.copy()
    blank.paste((255, 255, 255), (0, 0, *blank.size))
    scan = tmp_path / "scans.pdf"
    crazy.save(scan, format="PDF", resolution=150, save_all=True, append_images=[blank, crazy])
    text = ocr_pdf_pages(scan, [1, 2, 3])
    assert sorted(text) == [1, 2, 3]
    assert "crazy ones" in text[1].lower() and "crazy ones" in text[3].lower()
    assert not text[2].strip()


@pytest.mark.skipif(tesseract_path() is None, reason="Tesseract is not installed")
def test_pages_with_nothing_drawn_are_not_recognised(pdf_dir, tmp_path):
    """A page with no objects at all is blank, and one a quarter of an inch across is too small
    to hold a line of text: no Tesseract run for either, and both are reported as pages without
    text while the scanned page between them is read."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader, PdfWriter

    source = pdfium.PdfDocument(str(pdf_dir / "py-pdf-sample-files" / "crazyones-pdfa.pdf"))
    image = source[0].render(scale=150 / 72).to_pil().convert("RGB")
    scan = tmp_path / "scan.pdf"
    image.save(scan, format="PDF", resolution=150)
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_page(PdfReader(scan).pages[0])
    tiny = writer.add_page(PdfReader(scan).pages[0])
    tiny.scale_to(18, 23)  # the same scan, shrunk to a quarter of an inch
    mixed = tmp_path / "blank-then-scan.pdf"
    with open(mixed, "wb") as fh:
        writer.write(fh)

    from gptbuilder.ingest.ocr import ocr_pdf_pages

    text = ocr_pdf_pages(mixed, [1, 2, 3])
    assert sorted(text) == [2] and "crazy ones" in text[2].lower()
    loaded = load_file(mixed, "mixed.pdf")
    assert loaded.ocr_pages == [2] and loaded.empty_pages == [1, 3]


def test_expected_page_counts_of_the_sample_corpus(pdf_dir):
    """Every PDF that files.json lists ingests with its page count, or fails plainly (for
    example unreadablemetadata.pdf, whose page tree neither pypdf nor PDFium can read)."""
    folder = pdf_dir / "py-pdf-sample-files"
    listed = json.loads((folder / "files.json").read_text())["data"]
    checked = 0
    failed: list[str] = []
    for entry in listed:
        path = folder / Path(entry["path"]).name
        if not path.exists() or "pages" not in entry:
            continue
        try:
            loaded = load_file(path, path.name, LoadLimits(ocr=False))
        except IngestError as err:
            assert path.name in str(err) and "Traceback" not in str(err)
            if "No text could be read" not in str(err):  # image-only samples have no text
                failed.append(path.name)
            continue
        assert len(loaded.pages) == entry["pages"], path.name
        checked += 1
    assert checked >= 20
    assert sorted(failed) == ["libreoffice-writer-password.pdf", "unreadablemetadata.pdf"]


def test_time_limit_stops_a_slow_read(pdf_dir):
    with pytest.raises(IngestError, match="took longer"):
        load_file_isolated(
            pdf_dir / "py-pdf-sample-files" / "GeoTopo-komprimiert.pdf",
            "GeoTopo.pdf",
            LoadLimits(timeout_s=0.05),
        )


def test_isolated_reader_returns_pages_and_plain_errors(pdf_dir, tmp_path):
    loaded = load_file_isolated(pdf_dir / "py-pdf-sample-files" / "pdflatex-4-pages.pdf", "4.pdf")
    assert len(loaded.pages) == 4
    with pytest.raises(IngestError, match="password"):
        load_file_isolated(pdf_dir / "pdfplumber" / "password-example.pdf", "pw.pdf")


def test_read_ahead_reads_the_next_file_while_this_one_is_used(pdf_dir, tmp_path):
    """An upload's files are read ahead, each in its own child: the same pages as reading
    them one by one, a broken file fails alone, and the file after it still comes."""
    good = pdf_dir / "py-pdf-sample-files" / "pdflatex-4-pages.pdf"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(good.read_bytes()[:300])
    note = tmp_path / "note.txt"
    note.write_text("The meeting moved to Thursday at ten.")
    files = [(good, "a.pdf"), (broken, "broken.pdf"), (note, "note.txt")]
    with ReadAhead(files, ahead=1) as reader:
        reader.read(good, "a.pdf")
        assert list(reader._pending) == [(broken, "broken.pdf")]  # one ahead, no more
    with ReadAhead(files, ahead=2) as reader:
        first = reader.read(good, "a.pdf")
        assert list(reader._pending) == [(broken, "broken.pdf"), (note, "note.txt")]
        ahead = reader._pending[(broken, "broken.pdf")]
        # read in the background, before it was asked for
        assert isinstance(ahead.exception(timeout=60), IngestError)
        with pytest.raises(IngestError, match="damaged|could not be read"):
            reader.read(broken, "broken.pdf")
        assert (note, "note.txt") in reader._pending
        last = reader.read(note, "note.txt")
    assert [p.text for p in first.pages] == [p.text for p in load_file(good, "a.pdf").pages]
    assert "Thursday" in last.pages[0].text


def test_a_cancel_stops_a_read_in_progress(tmp_path):
    import threading
    import time

    from pdf_maker import make_pdf, text_op

    # 1,000 pages of words with a speck of tiny text each: every page takes the careful way,
    # several seconds in all (a real PDF read by PDFium's fast path can finish before a
    # cancel on a fast machine).
    page = b"".join(text_op(f"Line {i} of visible words.", y=700 - 12 * i) for i in range(40))
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(make_pdf([page + text_op("tiny words", size=0.5)] * 1000))
    cancel = threading.Event()
    with ReadAhead([(slow, "slow.pdf")], stop=cancel) as reader:
        threading.Timer(0.3, cancel.set).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            reader.read(slow, "slow.pdf")
        assert time.monotonic() - started < 2


def test_a_long_pdf_is_read_in_parallel_parts_with_the_same_result(pdf_dir, monkeypatch, caplog):
    """Several children read shares of a long PDF's pages: the pages, warnings and hidden
    text found are exactly those of one reader (this file hides text on every page)."""
    import logging

    from gptbuilder.ingest import load

    assert load._shares(100, 4) == [range(1, 51), range(51, 101)]  # 40 pages a part at least
    path = pdf_dir / "pdfplumber" / "federal-register-2020-17221.pdf"  # 15 pages
    monkeypatch.setattr(load, "PAGES_PER_PART", 4)
    monkeypatch.setattr(load, "_workers", lambda: 3)
    with caplog.at_level(logging.INFO, logger="gptbuilder.ingest.load"):
        parallel = load_file_isolated(path, "register.pdf")
    assert "in 3 parts" in caplog.text
    whole = load_file(path, "register.pdf")
    assert parallel == whole
    assert parallel.hidden and any("Hidden text" in w for w in parallel.warnings)
    assert load._shares(15, 3) == [range(1, 6), range(6, 11), range(11, 16)]


def test_reader_children_do_not_import_the_app(tmp_path):
    """Each file is read in a child process that imports the main module again: app.py must
    stay light at import (gradio and torch cost seconds per file), and the children are forked
    from a server that has only the readers."""
    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys; import app; "
        "heavy = [m for m in ('gradio', 'torch', 'sentence_transformers', 'llama_cpp') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    from gptbuilder.ingest.load import _reader_context

    assert _reader_context().get_start_method() in ("forkserver", "spawn")
    if sys.platform == "linux":
        assert _reader_context().get_start_method() == "forkserver"


def test_page_limit(pdf_dir):
    with pytest.raises(IngestError, match="limit is 50"):
        load_file(
            pdf_dir / "py-pdf-sample-files" / "GeoTopo-komprimiert.pdf",
            "GeoTopo.pdf",
            LoadLimits(max_pages=50),
        )


def test_empty_file(tmp_path):
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    with pytest.raises(IngestError, match="empty"):
        load_file(p, "empty.pdf")
