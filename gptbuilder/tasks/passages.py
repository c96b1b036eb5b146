"""A document's stored passages, in reading order, with their stored vectors: what a task reads
(nothing is read from the file again or embedded again)."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sqlalchemy import select

from gptbuilder.db import Repository
from gptbuilder.db.schema import ChunkRow, DocumentRow, PageRow
from gptbuilder.language import fold, sentence_spans
from gptbuilder.types import Document, Hit

FLAGGED = "left out of answers (flagged as instructions to an AI)"
NO_TEXT = "no text on the page"


@dataclass(frozen=True)
class Passage:
    hit: Hit  # the passage as a citation points at it
    ordinal: int
    heading: str | None


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage: ``start``/``end`` index ``passage.hit.text``; ``key`` is where
    it is on its page, so the same sentence in two overlapping passages is read once."""

    passage: int  # index into DocumentText.passages
    start: int
    end: int
    page: int
    key: tuple[int, int]  # (page, start on the page)
    opens: bool = False  # the first sentence of a paragraph (its topic sentence)

    def text(self, doc: DocumentText) -> str:
        return doc.passages[self.passage].hit.text[self.start : self.end]


@dataclass(frozen=True)
class DocumentText:
    document: Document
    version: str  # the document's content and how it was cut: notes are kept per version
    passages: tuple[Passage, ...]
    vectors: np.ndarray  # (len(passages), dim) float32, stored at upload
    pages_total: int
    empty_pages: tuple[int, ...]  # no text on them
    flagged_pages: tuple[int, ...]  # pages whose only passages are excluded (flagged)
    # Per page, where its paragraphs start (offsets in the page's text; ``paragraph_starts``).
    paragraphs: dict[int, frozenset[int]] = field(default_factory=dict)

    @cached_property
    def recurring(self) -> frozenset[str]:
        """The shapes (``shape``) of lines found on 3 or more pages: running headers and
        footers ("47705 Federal Register / Vol. 85 …", "Caring for someone with cancer 65")."""
        pages: dict[str, set[int]] = defaultdict(set)
        for passage in self.passages:
            for line in passage.hit.text.split("\n"):
                if line.strip():
                    pages[shape(line)].add(passage.hit.page)
        return frozenset(k for k, v in pages.items() if len(v) >= RECURRING_PAGES)

    def boilerplate(self, text: str) -> bool:
        """A running header or footer (every line of it recurs on other pages, or is mostly
        one: "47712 Federal Register / … / Proposed Rules this AD", where the text extraction
        put two words of the page on the header's line), or a table of contents' line (dot
        leaders): not a point of the document, however well it scores."""
        if _LEADERS.search(text):
            return True
        lines = [shape(line) for line in text.split("\n") if line.strip()]
        return bool(lines) and all(self._recurs(line) for line in lines)

    def _recurs(self, line: str) -> bool:
        if line in self.recurring:
            return True
        return any(
            len(r) >= HEADER_MIN and 3 * len(r) >= 2 * len(line) and (
                line.startswith(r) or line.endswith(r)
            )
            for r in self.recurring
        )  # fmt: skip

    @property
    def pages_with_text(self) -> int:
        return self.pages_total - len(self.empty_pages)

    def sentences(self, indexes: range | list[int] | None = None) -> list[Sentence]:
        """The sentences of these passages (default: all), each once, in reading order."""
        out: list[Sentence] = []
        seen: set[tuple[int, int]] = set()
        texts: set[str] = set()
        for i in indexes if indexes is not None else range(len(self.passages)):
            hit = self.passages[i].hit
            for a, b in sentence_spans(hit.text):
                key = (hit.page, hit.char_start + a)
                norm = " ".join(fold(hit.text[a:b]).split())
                if key in seen or (len(norm) > 40 and norm in texts):
                    continue
                seen.add(key)
                texts.add(norm)
                opens = key[1] in self.paragraphs.get(hit.page, ())
                out.append(Sentence(i, a, b, hit.page, key, opens))
        return out


RECURRING_PAGES = 3  # a sentence on this many pages is a running header or footer
_LEADERS = re.compile(r"(?:\.\s?){5,}|…{2,}|(?:_\s?){5,}")
_DIGITS = re.compile(r"\d+")


HEADER_MIN = 20  # characters: a recurring line this long that makes most of a line


def shape(text: str) -> str:
    """A sentence with its numbers blanked, folded: the same header on pages 7 and 8 has one
    shape."""
    return " ".join(_DIGITS.sub("#", fold(text)).split())


def load_document(repo: Repository, document: Document) -> DocumentText:
    """The searchable (not excluded) passages of a ready document, in order."""
    with repo.session() as s:
        doc = s.get(DocumentRow, document.id)
        if doc is None:
            return DocumentText(document, "", (), np.zeros((0, 0), np.float32), 0, (), ())
        q = (
            select(ChunkRow)
            .where(ChunkRow.blob_sha == doc.blob_sha, ChunkRow.chunking_id == doc.chunking_id)
            .order_by(ChunkRow.ordinal, ChunkRow.id)
        )
        rows = list(s.scalars(q))
        page_texts = list(
            s.execute(select(PageRow.number, PageRow.text).where(PageRow.blob_sha == doc.blob_sha))
        )
        # A page of blanks alone (a picture, a rule) has no text to read.
        pages = [(n, not text.strip()) for n, text in page_texts]
        paragraphs = {int(n): paragraph_starts(text) for n, text in page_texts}
        version = f"{doc.blob_sha}:{doc.chunking_id}"
    passages: list[Passage] = []
    vectors: list[np.ndarray] = []
    kept_pages: set[int] = set()
    excluded_pages: set[int] = set()
    for r in rows:
        if r.excluded:
            excluded_pages.add(r.page)
            continue
        kept_pages.add(r.page)
        hit = Hit(
            chunk_id=r.id,
            document_id=document.id,
            filename=document.filename,
            page=r.page,
            char_start=r.char_start,
            char_end=r.char_end,
            text=r.text,
            score=0.0,
            sha256=document.sha256,
            uploaded_at=document.created_at,
        )
        passages.append(Passage(hit, r.ordinal, r.heading))
        vectors.append(np.frombuffer(r.embedding, dtype=np.float32))
    empty = tuple(sorted(int(n) for n, is_empty in pages if is_empty))
    return DocumentText(
        document,
        version,
        tuple(passages),
        np.vstack(vectors) if vectors else np.zeros((0, 0), np.float32),
        max(len(pages), max(kept_pages | excluded_pages, default=0)),
        empty,
        tuple(sorted(excluded_pages - kept_pages)),
        paragraphs,
    )


_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
_LINE = re.compile(r"[^\n]*\n?")
_HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s+\S.*|\d{1,2}(?:\.\d{1,2})*\.?\s+[A-Z].{0,70})$")


def paragraph_starts(text: str) -> frozenset[int]:
    """Where a page's paragraphs start: its first text, after a blank line or a heading line,
    and (text cut into lines, as PDFs are) after a line that ends a sentence well short of the
    page's usual line length."""
    starts = {m.end() for m in _BLANK_LINE.finditer(text)}
    lines = [(m.start(), m.group(0)) for m in _LINE.finditer(text) if m.group(0)]
    full = [len(ln.rstrip()) for _, ln in lines if ln.strip()]
    usual = statistics.quantiles(full, n=10)[-1] if len(full) >= 4 else 0.0
    for (_, line), (start, nxt) in zip(lines, lines[1:], strict=False):
        body = line.rstrip()
        if not nxt.strip():
            continue
        if _HEADING_LINE.match(body) or (
            usual and body[-1:] in '.!?:"”)' and len(body) < 0.75 * usual
        ):
            starts.add(start + len(nxt) - len(nxt.lstrip()))
    first = len(text) - len(text.lstrip())
    return frozenset({first} | {k for k in starts if k < len(text)})
