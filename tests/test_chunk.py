from gptbuilder.ingest.chunk import chunk_pages
from gptbuilder.types import Chunking, Page

TEXT = (
    "The first sentence is here. The second one follows, and it is longer than the first. "
    "Dr. Smith wrote the third? Yes! The fourth sentence ends the paragraph.\n\n"
    "A new paragraph starts. It has two sentences."
)


def test_spans_point_at_the_page_text():
    pages = [Page(1, TEXT), Page(2, "Page two has its own text. Nothing crosses pages.")]
    chunks = chunk_pages(pages, size=90, overlap=30)
    assert chunks, "expected chunks"
    for c in chunks:
        page = pages[c.page - 1]
        assert page.text[c.char_start : c.char_end] == c.text
        assert len(c.text) <= 90
    assert {c.page for c in chunks} == {1, 2}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_sentences_are_not_cut():
    chunks = chunk_pages([Page(1, TEXT)], size=90, overlap=0)
    for c in chunks:
        assert c.text[-1] in ".!?", c.text
        assert c.text[0].isupper(), c.text


def test_every_sentence_is_covered_and_overlap_repeats_whole_sentences():
    chunks = chunk_pages([Page(1, TEXT)], size=120, overlap=60)
    covered = set()
    for c in chunks:
        covered.update(range(c.char_start, c.char_end))
    for i, ch in enumerate(TEXT):
        if not ch.isspace():
            assert i in covered, f"character {i} ({ch!r}) not in any chunk"
    starts = [c.char_start for c in chunks]
    assert starts == sorted(set(starts)), "chunks must move forward"
    # With overlap, at least one pair of neighbours shares text.
    assert any(a.char_end > b.char_start for a, b in zip(chunks, chunks[1:], strict=False))


def test_long_sentence_is_split_at_spaces():
    words = " ".join(f"word{i}" for i in range(200))
    chunks = chunk_pages([Page(1, words)], size=100, overlap=0)
    assert len(chunks) > 5
    for c in chunks:
        assert len(c.text) <= 100
        assert not c.text.startswith(" ") and not c.text.endswith(" ")
        assert words[c.char_start : c.char_end] == c.text


def test_markdown_headings_start_chunks_and_are_remembered():
    md = "# Install\n\nRun the setup. It takes a while.\n\n## Usage\n\nOpen the browser. Ask away."
    chunks = chunk_pages([Page(1, md)], size=500, overlap=100, markdown=True)
    assert [c.heading for c in chunks] == ["Install", "Usage"]
    assert chunks[1].text.startswith("Usage\n\nOpen the browser.")  # no "## " in passages
    assert "Open the browser" not in chunks[0].text


def test_empty_pages_give_no_chunks():
    assert chunk_pages([Page(1, ""), Page(2, "")]) == []


def test_chunkings_differ_with_settings():
    assert Chunking(800, 100, "m") != Chunking(600, 100, "m")
    assert Chunking(800, 100, "m") != Chunking(800, 100, "other")
    assert Chunking(800, 100, "m").with_model("other") == Chunking(800, 100, "other")
