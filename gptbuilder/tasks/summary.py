"""Summaries of one document, several, or all of an assistant's knowledge.

Map: every section's notes (``notes.section_notes``: its central, fact-dense, well-placed
sentences), read from the stored passages and vectors, cached per document version. Reduce:
key points picked across all sections within a word budget: first the paragraphs' first
sentences (their topic sentences), the most score per word first, so that as many paragraphs
as the budget holds are covered; then the best other notes, each section's further sentences
worth less (a summary covers the document, not its densest page); no two saying the same;
shown in the document's order, each cited to its page and span and held to it by the claim
checker. Over the key points the model may write a short overview: each of its
sentences is shown only if a span of the cited passages states it (``cite.resolve_citations``
with the claim check); if none holds up, there is no model prose at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from threading import Event as StopEvent

from gptbuilder.backends.llm import LLM, Message
from gptbuilder.retrieval.cite import Embed, resolve_citations
from gptbuilder.retrieval.claims import Analyzer, check_in_passage
from gptbuilder.safety.sanitize import FENCE_LIKE
from gptbuilder.tasks.compose import Cited, verify
from gptbuilder.tasks.model import Progress
from gptbuilder.tasks.notes import Note, NoteCache, Reading, read
from gptbuilder.tasks.passages import DocumentText
from gptbuilder.types import Hit

log = logging.getLogger(__name__)

SECTION_DECAY = 0.55  # each further point of one section counts this much less
REPICKS = 8  # rounds of choosing again without the points the claim check left out
LEAD_WORDS = 60  # a paragraph's first sentence longer than this is no better than the rest
REDUNDANT = 0.5  # share of shared words above which a sentence says what another one does
OVERVIEW_TOKENS = 120
OVERVIEW_SYSTEM = (
    "You write a short overview of a document. Use only the numbered sentences below, which "
    "were taken from it. Write 2 or 3 short sentences that say what the document is about. "
    "Add nothing that the sentences do not say. Cite the sentence you use like [2]."
)


@dataclass(frozen=True)
class Picked:
    document: DocumentText
    note: Note

    def cited(self) -> Cited:
        s = self.note.sentence
        hit = self.document.passages[s.passage].hit
        return Cited(" ".join(hit.text[s.start : s.end].split()), hit, s.start, s.end)


def pick(
    notes: Sequence[tuple[DocumentText, Note]], budget_words: int, max_points: int
) -> list[tuple[DocumentText, Note]]:
    """Key points within ``budget_words`` and ``max_points``, in reading order.

    First the paragraphs' first sentences (a paragraph's topic sentence), the most score per
    word first, so the summary covers as many paragraphs as the budget holds; in the room left,
    the other notes, the best first but each section's further sentences worth less. No two
    points say the same."""
    notes = _whole(notes)
    chosen: list[tuple[DocumentText, Note]] = []
    per_section: dict[tuple[int, int], int] = {}
    words = 0

    def take(doc: DocumentText, n: Note) -> None:
        nonlocal words
        chosen.append((doc, n))
        words += n.words
        key = (doc.document.id, n.section)
        per_section[key] = per_section.get(key, 0) + 1

    def redundant(n: Note) -> bool:
        return any(_overlap(n.stems, m.stems) > REDUNDANT for _, m in chosen)

    leads = sorted(
        (t for t in notes if t[1].opens and t[1].words <= LEAD_WORDS),
        key=lambda t: -t[1].score / t[1].words,
    )
    for doc, n in leads:
        if len(chosen) >= max_points:
            break
        if words + n.words <= budget_words and not redundant(n):
            take(doc, n)
    taken = {(d.document.id, n.sentence.key) for d, n in chosen}
    left = [t for t in notes if (t[0].document.id, t[1].sentence.key) not in taken]
    while left and len(chosen) < max_points:
        best_i, best = -1, -1.0
        for i, (doc, n) in enumerate(left):
            if words + n.words > budget_words:
                continue
            value = n.score * SECTION_DECAY ** per_section.get((doc.document.id, n.section), 0)
            if value > best:
                best_i, best = i, value
        if best_i < 0:
            break
        doc, n = left.pop(best_i)
        if not redundant(n):
            take(doc, n)
    order = {i: k for k, i in enumerate(dict.fromkeys(d.document.id for d, _ in notes))}
    chosen.sort(key=lambda t: (order[t[0].document.id], t[1].sentence.key))
    return chosen


def _whole(notes: Sequence[tuple[DocumentText, Note]]) -> list[tuple[DocumentText, Note]]:
    """Each sentence once: passages overlap, so a sentence near a passage's end is a note of two
    sections, and in one of them it may be cut where the passage ends ("… known as the St.").
    Of the notes that start at the same place of a page, the longest (the whole sentence) is
    kept; a cut one scores more per word, and would otherwise be shown in its place."""
    best: dict[tuple[int, tuple[int, int]], tuple[DocumentText, Note]] = {}
    for t in notes:
        key = (t[0].document.id, t[1].sentence.key)
        if key not in best or t[1].words > best[key][1].words:
            best[key] = t
    return [t for t in notes if best[(t[0].document.id, t[1].sentence.key)] is t]


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def budget_for(docs: Sequence[DocumentText], words: int, points: int) -> tuple[int, int]:
    """The whole task's words and points (a list of documents shares them)."""
    return max(words, 12 * len(docs)), max(points, len(docs))


class Summarizer:
    def __init__(self, nlp: Analyzer, embed: Embed, cache: NoteCache) -> None:
        self._nlp = nlp
        self._embed = embed
        self.cache = cache

    def read(
        self, docs: Sequence[DocumentText], stop: StopEvent | None, reading: Reading
    ) -> Iterator[Progress]:
        yield from read(docs, self.cache, stop, reading)

    def key_points(
        self,
        docs: Sequence[DocumentText],
        reading: Reading,
        budget_words: int,
        max_points: int,
    ) -> tuple[list[tuple[DocumentText, list[Cited]]], list[str]]:
        """Per document, its key points (checked), and why points were left out."""
        pool = [
            (doc, n)
            for doc in docs
            for _, notes in reading.notes.get(doc.document.id, [])
            for n in notes
        ]
        words, points = budget_for(docs, budget_words, max_points)
        # A point the claim checker cannot hold to its source (a list of names, a fragment) is
        # left out and the choice made again without it, so the budget goes to points shown.
        rejected: set[tuple[int, tuple[int, int]]] = set()
        checked: dict[tuple[int, tuple[int, int]], Cited | None] = {}
        for _round in range(REPICKS):
            chosen = pick(
                [t for t in pool if (t[0].document.id, t[1].sentence.key) not in rejected],
                words,
                points,
            )
            for doc, n in chosen:
                key = (doc.document.id, n.sentence.key)
                if key not in checked:
                    checked[key] = verify(Picked(doc, n).cited(), self._nlp)
            bad = {k for d, n in chosen if checked[k := (d.document.id, n.sentence.key)] is None}
            if not bad:
                break
            rejected |= bad
        out: dict[int, list[Cited]] = {}
        reasons: list[str] = []
        for doc, n in chosen:
            point = checked[(doc.document.id, n.sentence.key)]
            if point is None:
                reasons.append("the claim check found no source sentence stating it")
                continue
            out.setdefault(doc.document.id, []).append(point)
        return [(d, out[d.document.id]) for d in docs if d.document.id in out], reasons

    def overview(
        self, llm: LLM, points: Sequence[Cited], temperature: float = 0.0
    ) -> tuple[list[Cited], int]:
        """The model's overview of the key points, only its sentences that a cited passage
        states (each cited to that span); and how many of its sentences were left out."""
        if not points:
            return [], 0
        hits: list[Hit] = list(dict.fromkeys(p.hit for p in points))
        lines = [f"[{k}] {p.text}" for k, p in enumerate(points, 1)]
        room = llm.context_window - OVERVIEW_TOKENS - 4 * llm.per_message_overhead - 64
        room -= llm.count_tokens(OVERVIEW_SYSTEM)
        while len(lines) > 1 and llm.count_tokens("\n".join(lines)) > room:
            lines.pop()
        messages: list[Message] = [
            {"role": "system", "content": OVERVIEW_SYSTEM},
            {"role": "user", "content": "Sentences:\n" + "\n".join(lines) + "\n\nOverview:"},
        ]
        text = "".join(llm.stream_chat(messages, temperature, OVERVIEW_TOKENS))
        text = FENCE_LIKE.sub("", text)
        checked = resolve_citations(
            text, hits, self._embed, check=self._check, citable=None, numbered=()
        )
        out = []
        by_number = {c.number: c.hit for c in checked.citations}
        for claim in checked.claims:
            hit = by_number[claim.number]
            out.append(Cited(claim.text, hit, claim.span[0], claim.span[1], claim.support))
        return out, checked.dropped

    def _check(
        self, sentence: str, hit: Hit
    ) -> tuple[tuple[int, int, tuple[str, ...]] | None, str]:
        return check_in_passage(sentence, hit.text, self._nlp)
