"""Split pages into overlapping passages that never cut a sentence and never cross a page.

Each chunk keeps its page and its character span in that page's (normalised) text, so a
citation can point at the exact passage. In Markdown files a heading starts a new chunk and is
remembered as the chunk's ``heading``; the chunk's text begins at the heading's words, after
its "#" marks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gptbuilder.language import sentence_ends
from gptbuilder.types import CHUNKER_VERSION, ChunkDraft, Page

__all__ = ["CHUNKER_VERSION", "chunk_pages"]


_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_MD_MARKS = re.compile(r"#{1,6}[ \t]+")  # the marks before a Markdown heading's words


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    heading: str | None
    breaks_before: bool  # a heading starts here: begin a new chunk


def _sentence_spans(text: str, markdown: bool) -> list[_Span]:
    spans: list[_Span] = []
    heading: str | None = None
    pos = 0
    # Paragraph by paragraph, so a Markdown heading line is its own span.
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        new_heading = False
        if markdown:
            first_line_end = text.find("\n", para.start(), para.end())
            first_line_end = para.end() if first_line_end == -1 else first_line_end
            m = _MD_HEADING.match(text[para.start() : first_line_end])
            if m:
                heading = m.group(1)
                new_heading = True
        start = para.start()
        pos = start
        first = True
        # Every stop ends a sentence here, abbreviations too (see ``language``).
        for gap_start, gap_end in sentence_ends(
            text, para.start(), para.end(), abbreviations=False
        ):
            if gap_start > pos:
                spans.append(_Span(pos, gap_start, heading, new_heading and first))
                first = False
            pos = gap_end
        if pos < para.end():
            spans.append(_Span(pos, para.end(), heading, new_heading and first))
    return spans


def _split_long(span: _Span, text: str, size: int) -> list[_Span]:
    """A 'sentence' longer than a chunk (a table, a list without stops): cut at spaces."""
    out: list[_Span] = []
    start = span.start
    while span.end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        cut = start + size if cut == -1 else cut
        out.append(_Span(start, cut, span.heading, span.breaks_before and not out))
        start = cut
        while start < span.end and text[start].isspace():
            start += 1
    if start < span.end:
        out.append(_Span(start, span.end, span.heading, span.breaks_before and not out))
    return out


def chunk_pages(
    pages: Sequence[Page], size: int = 800, overlap: int = 120, markdown: bool = False
) -> list[ChunkDraft]:
    """Greedily pack whole sentences into chunks of at most ``size`` characters.

    Consecutive chunks on a page share up to ``overlap`` characters of whole sentences.
    """
    chunks: list[ChunkDraft] = []
    for page in pages:
        text = page.text
        spans: list[_Span] = []
        for s in _sentence_spans(text, markdown):
            spans.extend(_split_long(s, text, size) if s.end - s.start > size else [s])
        i = 0
        while i < len(spans):
            j = i
            while (
                j + 1 < len(spans)
                and spans[j + 1].end - spans[i].start <= size
                and not spans[j + 1].breaks_before
            ):
                j += 1
            start, end = spans[i].start, spans[j].end
            if markdown and spans[i].breaks_before:
                # A chunk that starts at a heading starts at its words: the heading is kept
                # (``heading``, and in the text, where it helps the search), its marks are not
                # (they would show in quotes and answers).
                marks = _MD_MARKS.match(text, start, end)
                start = marks.end() if marks else start
            chunks.append(
                ChunkDraft(
                    ordinal=len(chunks),
                    page=page.number,
                    char_start=start,
                    char_end=end,
                    text=text[start:end],
                    heading=spans[i].heading,
                )
            )
            if j + 1 >= len(spans):
                break
            # Next chunk starts at the earliest sentence that lies within the overlap window,
            # but always moves forward, and never reaches back across a heading.
            nxt = j + 1
            if not spans[nxt].breaks_before:
                while nxt - 1 > i and end - spans[nxt - 1].start <= overlap:
                    nxt -= 1
            i = nxt
    return chunks
