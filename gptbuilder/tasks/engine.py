"""The hub of whole-document tasks: route a request, then summarise, list or compare.

    engine = TaskEngine(repo, embedder, llm_for_assistant)
    r = engine.route(assistant, request, history)          # Route: kind, rewritten question
    if r.kind == FACT: ... retrieval.answer.AnswerEngine.stream(assistant, r.question, history)
    else:
        for event in engine.run(assistant, r, stop):        # Routed, Progress, Point, Finished
            ...

The documents are paged through from their stored passages and vectors (nothing is read from
the file again or embedded again), one section at a time; progress is streamed with an estimate
of the time left; a ``threading.Event`` stops the task between sections, and what was read so
far is still shown, with the pages that were not read said. Every point shown is held to a
source span (``compose.verify`` with the claim checker; list items are in their span word for
word); the result is an ordinary ``Answer`` inside a ``TaskResult``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from threading import Event as StopEvent

from gptbuilder.backends.embedder import Embedder
from gptbuilder.backends.llm import LLM
from gptbuilder.db import Repository
from gptbuilder.retrieval.claims import Analyzer, analyzer
from gptbuilder.tasks.compare import align, compare_answer
from gptbuilder.tasks.compose import Cited, answer_of, verbatim
from gptbuilder.tasks.listing import (
    MENTIONS,
    PERSON,
    TERM,
    Item,
    Lister,
    fold_people,
    ordered,
    wanted,
)
from gptbuilder.tasks.model import (
    COMPARE,
    FACT,
    LIST,
    SUMMARY,
    Coverage,
    Event,
    Finished,
    Point,
    Route,
    Routed,
    Skipped,
    TaskResult,
    page_ranges,
)
from gptbuilder.tasks.notes import NoteCache, Reading
from gptbuilder.tasks.passages import FLAGGED, DocumentText, load_document
from gptbuilder.tasks.route import route as route_request
from gptbuilder.tasks.summary import Summarizer
from gptbuilder.types import Answer, Assistant, ChatMessage, Document

log = logging.getLogger(__name__)

NO_DOCUMENTS = "There are no ready documents to read yet."
COMPARE_NEEDS_TWO = (
    "To compare, name two documents in the request (for example “compare {a} and {b}”)."
)
STOPPED = "Stopped: the points come from the pages read before you stopped."


@dataclass(frozen=True)
class TaskSettings:
    summary_words: int = 250  # most words of key points in a summary
    summary_points: int = 10  # most key points in a summary
    compare_points: int = 6  # key points per document in a comparison
    list_items: int = 50  # most items shown in a list (all are counted)
    overview: bool = True  # the model writes a checked overview over the key points


class TaskEngine:
    def __init__(
        self,
        repo: Repository,
        embedder: Embedder,
        llm: Callable[[Assistant], LLM],  # the assistant's model, loaded on first use
        settings: TaskSettings | None = None,
        nlp: Analyzer | None = None,
        cache: NoteCache | None = None,
    ) -> None:
        self._repo = repo
        self._embedder = embedder
        self._llm = llm
        self.settings = settings or TaskSettings()
        self._nlp = nlp or analyzer()
        self.notes = cache or NoteCache()
        self._summarizer = Summarizer(self._nlp, embedder.embed, self.notes)
        self._lister = Lister(self._nlp)

    # -- routing ------------------------------------------------------------------------------

    def route(
        self,
        assistant: Assistant,
        request: str,
        history: Sequence[ChatMessage] = (),
        kind: str | None = None,
    ) -> Route:
        """What the request asks for (``kind`` set: the user's choice), follow-ups rewritten
        with the conversation, and the documents it names."""
        return route_request(request, history, self._ready(assistant.id), kind)

    def _ready(self, assistant_id: int) -> list[Document]:
        return [d for d in self._repo.list_documents(assistant_id) if d.status == "ready"]

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        assistant: Assistant,
        route: Route,
        stop: StopEvent | None = None,
        *,
        words: int | None = None,
        points: int | None = None,
    ) -> Iterator[Event]:
        """Events: ``Routed`` first, then ``Progress`` and ``Point`` while reading, and
        ``Finished`` with the result last (also when stopped)."""
        if route.kind == FACT:
            raise ValueError("a fact request is answered by retrieval.answer.AnswerEngine")
        t0 = time.perf_counter()
        yield Routed(route)
        ready = self._ready(assistant.id)
        chosen = [d for i in route.documents for d in ready if d.id == i] or ready
        if route.kind == COMPARE and len(route.documents) < 2 and len(ready) != 2:
            names = [d.filename for d in ready[:2]] or ["one.pdf", "other.pdf"]
            text = COMPARE_NEEDS_TWO.format(a=names[0], b=names[-1])
            yield Finished(self._empty(route, text, t0))
            return
        if route.kind == COMPARE:
            chosen = chosen[:2] if len(route.documents) >= 2 else ready
        if not chosen:
            yield Finished(self._empty(route, NO_DOCUMENTS, t0))
            return
        docs = [load_document(self._repo, d) for d in chosen]
        if route.kind == SUMMARY:
            yield from self._summary(assistant, route, docs, stop, words, points, t0)
        elif route.kind == LIST:
            yield from self._list(route, docs, stop, t0)
        elif route.kind == COMPARE:
            yield from self._compare(route, docs, stop, t0)
        else:
            raise ValueError(f"unknown kind of request: {route.kind!r}")

    def _empty(self, route: Route, text: str, t0: float) -> TaskResult:
        return TaskResult(
            route.kind,
            route.question,
            Answer(text, (), ()),
            Coverage(0, 0, 0, 0),
            seconds=time.perf_counter() - t0,
        )

    def _summary(
        self,
        assistant: Assistant,
        route: Route,
        docs: list[DocumentText],
        stop: StopEvent | None,
        words: int | None,
        points: int | None,
        t0: float,
    ) -> Iterator[Event]:
        reading = Reading({}, {})
        yield from self._summarizer.read(docs, stop, reading)
        per_doc, reasons = self._summarizer.key_points(
            docs,
            reading,
            words or self.settings.summary_words,
            points or self.settings.summary_points,
        )
        for _doc, cited in per_doc:
            for p in cited:
                yield Point(p.text, p.hit.filename, p.hit.page)
        overview: list[Cited] = []
        model_dropped = 0
        all_points = [p for _, cited in per_doc for p in cited]
        if self.settings.overview and all_points and not reading.stopped:
            if stop is None or not stop.is_set():
                overview, model_dropped = self._summarizer.overview(
                    self._llm(assistant), all_points, assistant.temperature
                )
        blocks: list[tuple[str, Sequence[Cited], bool]] = []
        if overview:
            blocks.append(("Overview", overview, False))
        for doc, cited in per_doc:
            title = "Key points" if len(per_doc) == 1 else doc.document.filename
            blocks.append((title, cited, True))
        coverage = _coverage(docs, reading.pages_read, reading.stopped)
        outro = coverage.describe() + (f" {STOPPED}" if reading.stopped else "")
        answer = answer_of(
            blocks,
            outro=outro,
            dropped=len(reasons) + model_dropped,
            reasons=reasons,
        )
        if overview:
            answer = replace(answer, extractive=False)
        yield Finished(
            _points_result(
                SUMMARY, route, answer, coverage, reading, len(reasons) + model_dropped, t0
            )
        )

    def _list(
        self, route: Route, docs: list[DocumentText], stop: StopEvent | None, t0: float
    ) -> Iterator[Event]:
        want = wanted(route.target, route.question)
        found: dict[str, Item] = {}
        pages_read: dict[int, set[int]] = {}
        yield from self._lister.scan(docs, want, stop, found, pages_read)
        stopped = stop is not None and stop.is_set()
        if want.what == PERSON:
            found = fold_people(found)
        items = ordered(list(found.values()), want.what)
        names = {d.document.id: d.document.filename for d in docs}
        points: list[Cited] = []
        left_out = 0
        for item in items:
            first = item.first
            shown_text = first.hit.text[first.start : first.end]
            if not verbatim(item.text, first):
                left_out += 1
                continue
            if want.what == MENTIONS:
                doc_id = next(iter(item.documents))
                mentions = f"{item.count} mention{'s' if item.count != 1 else ''}"
                after = f"{mentions}, {page_ranges(sorted(item.pages[doc_id]))}"
                points.append(
                    replace(
                        first, text=" ".join(shown_text.split()), label=names[doc_id], after=after
                    )
                )
            elif want.what == TERM:
                points.append(replace(first, text=item.text))
            else:
                where = "; ".join(
                    f"{names[d]} {page_ranges(sorted(p))}" for d, p in item.pages.items()
                )
                points.append(
                    replace(
                        first,
                        after=where
                        if len(docs) > 1
                        else page_ranges(sorted(next(iter(item.pages.values())))),
                    )
                )
        limit = self.settings.list_items
        shown = points[:limit]
        for p in shown:
            yield Point(p.text, p.hit.filename, p.hit.page)
        in_docs = len({d for i in items for d in i.documents})
        label = _plural(want.label or "item", len(points))
        if want.what == MENTIONS:
            intro = (
                f"{len(points)} of {len(docs)} document{'s' if len(docs) != 1 else ''} "
                f"mention “{want.term}”."
                if points
                else f"No document mentions “{want.term}”."
            )
        else:
            intro = (
                f"Found {len(points)} {label} in {in_docs} document{'s' if in_docs != 1 else ''}."
                if points
                else f"Found no {label} in the {len(docs)} document"
                f"{'s' if len(docs) != 1 else ''} searched."
            )
        note = ""
        if len(points) > limit:
            note = (
                f"The list was cut: the first {limit} of {len(points)} are shown. To see the "
                "rest, ask for one document at a time or name a narrower thing."
            )
        if stopped:
            note = (note + " " if note else "") + "Stopped: only the pages read are searched."
        coverage = _coverage(docs, pages_read, stopped)
        outro = " ".join(x for x in (note, coverage.describe()) if x)
        answer = answer_of([("", shown, True)], intro=intro, outro=outro, dropped=left_out)
        yield Finished(
            TaskResult(
                LIST,
                route.question,
                answer,
                coverage,
                found=len(points),
                shown=len(shown),
                in_documents=in_docs,
                note=note,
                stopped=stopped,
                dropped=left_out,
                seconds=time.perf_counter() - t0,
                items=tuple((p.text, p.hit.filename, p.hit.page) for p in points),
            )
        )

    def _compare(
        self, route: Route, docs: list[DocumentText], stop: StopEvent | None, t0: float
    ) -> Iterator[Event]:
        reading = Reading({}, {})
        yield from self._summarizer.read(docs, stop, reading)
        sides: list[list[Cited]] = []
        reasons: list[str] = []
        n = self.settings.compare_points
        for doc in docs:
            per_doc, why = self._summarizer.key_points(
                [doc], reading, self.settings.summary_words, n
            )
            sides.append(per_doc[0][1] if per_doc else [])
            reasons += why
        pairs, only_a, only_b = align(sides[0], sides[1], self._embedder.embed)
        for p in [x for pair in pairs for x in pair] + only_a + only_b:
            yield Point(p.text, p.hit.filename, p.hit.page)
        answer = compare_answer(
            docs[0].document.filename,
            docs[1].document.filename,
            pairs,
            only_a,
            only_b,
            dropped=len(reasons),
            reasons=reasons,
        )
        coverage = _coverage(docs, reading.pages_read, reading.stopped)
        answer = replace(answer, text=f"{answer.text}\n\n{coverage.describe()}")
        yield Finished(_points_result(COMPARE, route, answer, coverage, reading, len(reasons), t0))


def _points_result(
    kind: str,
    route: Route,
    answer: Answer,
    coverage: Coverage,
    reading: Reading,
    dropped: int,
    t0: float,
) -> TaskResult:
    """The result of a task whose answer is its checked points (a summary, a comparison)."""
    return TaskResult(
        kind,
        route.question,
        answer,
        coverage,
        shown=len(answer.claims),
        note=STOPPED if reading.stopped else "",
        stopped=reading.stopped,
        dropped=dropped,
        seconds=time.perf_counter() - t0,
    )


def _plural(label: str, n: int) -> str:
    """ "year" → "years" for a count other than one (the request may say "every year")."""
    if n == 1 or label.endswith("s") or " " in label.strip():
        return label
    return (
        label[:-1] + "ies" if label.endswith("y") and label[-2:-1] not in "aeiou" else label + "s"
    )


def _coverage(docs: Sequence[DocumentText], read: dict[int, set[int]], stopped: bool) -> Coverage:
    skipped: list[Skipped] = []
    pages_read = 0
    for doc in docs:
        with_text = set(range(1, doc.pages_total + 1)) - set(doc.empty_pages)
        got = read.get(doc.document.id, set()) & with_text
        pages_read += len(got)
        missing = with_text - got
        flagged = sorted(missing & set(doc.flagged_pages))
        if flagged:
            skipped.append(Skipped(doc.document.filename, tuple(flagged), FLAGGED))
        rest = sorted(missing - set(flagged))
        if rest:
            why = "stopped before they were read" if stopped else "no passage holds their text"
            skipped.append(Skipped(doc.document.filename, tuple(rest), why))
    return Coverage(
        documents=len(docs),
        pages_read=pages_read,
        pages_with_text=sum(d.pages_with_text for d in docs),
        pages_total=sum(d.pages_total for d in docs),
        skipped=tuple(skipped),
    )
