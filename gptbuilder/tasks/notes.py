"""Reading documents section by section, with notes kept per document version.

A task pages a document through in sections (a heading's passages, or a few passages at a
time), so however long the document, only one section is in hand at a time. The notes of a
section (its best sentences, scored) depend only on the document's version, so they are kept
in a small LRU: summarising the same document again reads nothing; a replaced document is a new
version (another content hash), so its old notes are never used.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from threading import Event as StopEvent

import numpy as np

from gptbuilder.retrieval.evidence import terms
from gptbuilder.tasks.model import Progress, page_ranges
from gptbuilder.tasks.passages import DocumentText, Sentence

SCORER_VERSION = "3"  # change when notes are scored differently: cached notes are not reused
SECTION_PASSAGES = 2  # passages per section when headings do not cut the document
NOTES_PER_SECTION = 8  # candidate sentences kept per section

# The weights of a sentence's score (see ``section_notes``): tuned on 4 of the 8 SQuAD
# articles of bench/documents.py (the other 4 are reported apart).
W_LEXICAL = 0.20  # holds the section's frequent, document-specific words (centroid, tf-idf)
W_SEMANTIC = 0.15  # its passage is close to the section's and the document's stored vectors
W_DENSITY = 0.60  # names and numbers per word: the facts a reader wants kept
W_POSITION = 0.10  # the first sentence of a section or after a heading
MIN_WORDS, LONG_WORDS = 6, 55
# How a key point ends: a statement's stop (a question is not a point; a line without a stop is
# a heading, a running footer or a sentence cut by the page).
_SENTENCE_END = frozenset('.!…"”’)')

_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’.-]*")
_NUMBER = re.compile(r"\b\d[\d,.:/]*\b")
_WORDS = re.compile(r"\S+")


@dataclass(frozen=True)
class Section:
    index: int
    passages: tuple[int, ...]  # indexes into DocumentText.passages, in order
    heading: str | None
    first_page: int
    last_page: int


@dataclass(frozen=True)
class Note:
    """A candidate point: a sentence of a passage, with its score in its section."""

    sentence: Sentence
    score: float
    words: int
    stems: frozenset[str]
    section: int
    opens: bool = False  # the first sentence of a paragraph (``Sentence.opens``)


def sections(doc: DocumentText, size: int = SECTION_PASSAGES) -> list[Section]:
    """The document's passages in runs under one heading, at most ``size`` each."""
    out: list[Section] = []
    run: list[int] = []

    def close() -> None:
        if run:
            pages = [doc.passages[i].hit.page for i in run]
            out.append(
                Section(len(out), tuple(run), doc.passages[run[0]].heading, min(pages), max(pages))
            )
            run.clear()

    for i, p in enumerate(doc.passages):
        if run and (p.heading != doc.passages[run[-1]].heading or len(run) >= size):
            close()
        run.append(i)
    close()
    return out


class DocumentStats:
    """What a section's notes are scored against: the document's word rarity over its
    passages and its centre in the stored vectors."""

    def __init__(self, doc: DocumentText) -> None:
        df: Counter[str] = Counter()
        for p in doc.passages:
            df.update(set(terms(p.hit.text)))
        self.n = max(1, len(doc.passages))
        self._df = df
        vecs = doc.vectors
        if len(vecs):
            centre = vecs.mean(axis=0)
            centre /= np.linalg.norm(centre) or 1.0
            self.centrality = vecs @ centre
        else:
            self.centrality = np.zeros(0, np.float32)

    def idf(self, term: str) -> float:
        return math.log(1 + self.n / (self._df.get(term, 0) + 0.5))


def density(text: str) -> float:
    """Names and numbers per word."""
    words = max(1, len(_WORDS.findall(text)))
    return (len(_CAPITALISED.findall(text)) + len(_NUMBER.findall(text))) / words


def section_notes(
    doc: DocumentText, section: Section, stats: DocumentStats, keep: int = NOTES_PER_SECTION
) -> tuple[Note, ...]:
    """The section's best sentences: central (the section's weighted words, its passages'
    stored vectors), dense in names and numbers, placed first; best first; then the first
    sentences of its paragraphs that are not among them."""
    sents = doc.sentences(list(section.passages))
    if not sents:
        return ()
    tokens = [terms(s.text(doc)) for s in sents]
    tf: Counter[str] = Counter(t for ts in tokens for t in ts)
    weight = {t: c * stats.idf(t) for t, c in tf.items()}
    vecs = doc.vectors[list(section.passages)] if len(doc.vectors) else np.zeros((0, 0))
    if len(vecs):
        centre = vecs.mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        local = dict(zip(section.passages, (vecs @ centre).tolist(), strict=True))
    else:
        local = {}
    lexical = []
    for ts in tokens:
        uniq = set(ts)
        lexical.append(sum(weight[t] for t in uniq) / math.sqrt(len(uniq)) if uniq else 0.0)
    top = max(lexical) or 1.0
    first_passage = section.passages[0]
    notes = []
    for k, (s, ts) in enumerate(zip(sents, tokens, strict=True)):
        text = s.text(doc)
        n_words = len(_WORDS.findall(text))
        if (
            n_words < MIN_WORDS
            or not ts
            or text.rstrip()[-1:] not in _SENTENCE_END  # a heading, a footer, a cut line
            or doc.boilerplate(text)
        ):
            continue
        semantic = 0.5 * local.get(s.passage, 0.0) + 0.5 * (
            float(stats.centrality[s.passage]) if len(stats.centrality) else 0.0
        )
        first = k == 0 or (s.passage == first_passage and s.start == 0)
        score = (
            W_LEXICAL * lexical[k] / top
            + W_SEMANTIC * semantic
            + W_DENSITY * min(1.0, 3 * density(text))
            + W_POSITION * (1.0 if first else 0.0)
        )
        if n_words > LONG_WORDS:
            score *= LONG_WORDS / n_words
        notes.append(Note(s, score, n_words, frozenset(ts), section.index, s.opens))
    notes.sort(key=lambda n: -n.score)
    # Every paragraph's first sentence stays a candidate (the summary covers paragraphs).
    return tuple(notes[:keep]) + tuple(n for n in notes[keep:] if n.opens)


class NoteCache:
    """Notes per (document version, section), least recently used dropped first."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._data: OrderedDict[tuple[str, int, tuple[int, ...]], tuple[Note, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(
        self, version: str, section: Section, make: Callable[[], tuple[Note, ...]]
    ) -> tuple[Note, ...]:
        key = (f"{version}:{SCORER_VERSION}", section.index, section.passages)
        with self._lock:
            got = self._data.get(key)
            if got is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return got
        notes = make()  # outside the lock: a section takes a while
        with self._lock:
            self.misses += 1
            self._data[key] = notes
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return notes

    def forget(self, version: str) -> None:
        """Drop a version's notes (its document was replaced or removed)."""
        with self._lock:
            for key in [k for k in self._data if k[0].startswith(f"{version}:")]:
                del self._data[key]


@dataclass
class Reading:
    """What a pass over documents read: notes per section, pages read, stopped or not."""

    notes: dict[int, list[tuple[Section, tuple[Note, ...]]]]  # document id -> sections read
    pages_read: dict[int, set[int]]
    stopped: bool = False


def read(
    docs: Sequence[DocumentText],
    cache: NoteCache,
    stop: StopEvent | None,
    reading: Reading,
    step: Callable[[DocumentText, Section], tuple[Note, ...]] | None = None,
) -> Iterator[Progress]:
    """Page every document through, section by section, into ``reading``; a Progress after
    each section. Stops (``reading.stopped``) between sections when ``stop`` is set: what was
    read stays whole, nothing is half-kept."""
    total = sum(d.pages_with_text for d in docs) or 1
    done = 0
    t0 = time.perf_counter()
    for doc in docs:
        stats: DocumentStats | None = None
        secs = sections(doc)
        read_pages = reading.pages_read.setdefault(doc.document.id, set())
        kept = reading.notes.setdefault(doc.document.id, [])
        for sec in secs:
            if stop is not None and stop.is_set():
                reading.stopped = True
                return
            if step is None:
                if stats is None:
                    stats = DocumentStats(doc)
                notes = cache.get(doc.version, sec, partial(section_notes, doc, sec, stats))
            else:
                notes = step(doc, sec)
            kept.append((sec, notes))
            before = len(read_pages)
            read_pages.update(doc.passages[i].hit.page for i in sec.passages)
            done += len(read_pages) - before
            elapsed = time.perf_counter() - t0
            eta = elapsed / done * (total - done) if done and elapsed > 0.5 else None
            pages = page_ranges(sorted({doc.passages[i].hit.page for i in sec.passages}))
            yield Progress(
                min(done, total),
                total,
                f"Read {pages} of {doc.pages_total} in {doc.document.filename} "
                f"({min(done, total)} of {total} pages with text)",
                eta,
            )
