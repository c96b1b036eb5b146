"""The values a whole-document task streams and ends with."""

from __future__ import annotations

from dataclasses import dataclass

from gptbuilder.types import Answer

FACT = "fact"  # one answer from the closest passages: retrieval.answer.AnswerEngine
SUMMARY = "summary"
LIST = "list"
COMPARE = "compare"
FOLLOW_UP = "follow-up"  # only as a label: a follow-up is rewritten, then routed as the rest
KINDS = (FACT, SUMMARY, LIST, COMPARE)


@dataclass(frozen=True)
class Route:
    """What a request asks for.

    ``question`` is the request as it will be answered: for a follow-up ("and the second
    one?", "who wrote it?") it is rewritten with the conversation (``rewritten`` True), and
    can be shown. ``documents`` are the ids of the documents the request names (empty: all of
    the assistant's knowledge). ``target`` is the thing a list asks for ("authors"), or the
    term of "which documents mention X".
    """

    kind: str  # one of KINDS
    question: str
    original: str
    rewritten: bool = False
    explicit: bool = False  # the kind was set by the user, not recognised from the words
    documents: tuple[int, ...] = ()
    target: str = ""


@dataclass(frozen=True)
class Skipped:
    """Pages of a document that were not read, and why (plain words)."""

    filename: str
    pages: tuple[int, ...]
    why: str


@dataclass(frozen=True)
class Coverage:
    """What was read: pages with text read out of pages with text, per task."""

    documents: int
    pages_read: int
    pages_with_text: int
    pages_total: int
    skipped: tuple[Skipped, ...] = ()

    @property
    def share(self) -> float:
        return self.pages_read / self.pages_with_text if self.pages_with_text else 1.0

    def describe(self) -> str:
        docs = f"{self.documents} document{'s' if self.documents != 1 else ''}"
        if self.pages_read >= self.pages_with_text and not self.skipped:
            if self.pages_with_text == 1:
                return f"Read the 1 page with text of {docs}."
            return f"Read all {self.pages_with_text} pages with text of {docs}."
        head = f"Read {self.pages_read} of {self.pages_with_text} pages with text of {docs}."
        rest = [f"{s.filename} {page_ranges(s.pages)}: {s.why}" for s in self.skipped]
        return head + (" Not read: " + "; ".join(rest) + "." if rest else "")


@dataclass(frozen=True)
class TaskResult:
    """The end of a task. ``answer`` is an ordinary Answer (text with [n] markers, citations
    with their quote spans, one Claim per shown point), so it is shown, saved and checked as
    answers are. ``found`` counts what a list found (all of it), ``shown`` what it shows;
    ``note`` says when a list was cut and how to see the rest, or that a task was stopped."""

    kind: str
    question: str  # as answered (rewritten for a follow-up)
    answer: Answer
    coverage: Coverage
    found: int = 0
    shown: int = 0
    in_documents: int = 0  # a list: how many documents the found items are in
    note: str = ""
    stopped: bool = False
    dropped: int = 0  # the model's sentences left out: no source span states them
    seconds: float = 0.0
    # A list: every item found, (text, file name, page of its first mention), shown or not.
    items: tuple[tuple[str, str, int], ...] = ()


# -- events, in the order a task streams them ------------------------------------------------


@dataclass(frozen=True)
class Routed:
    """First event: what the request was taken to be (and its rewritten form)."""

    route: Route


@dataclass(frozen=True)
class Progress:
    """Pages read so far, e.g. "Read pages 12–18 of 40"; ``eta_s`` None until it can be
    estimated."""

    done: int  # pages read so far (all documents)
    total: int  # pages with text to read
    text: str
    eta_s: float | None = None


@dataclass(frozen=True)
class Point:
    """A checked point found while reading (a note of a section, an item of a list):
    ``text`` is the source's sentence or item, cited to ``filename`` page ``page``."""

    text: str
    filename: str
    page: int


@dataclass(frozen=True)
class Finished:
    result: TaskResult


Event = Routed | Progress | Point | Finished


def page_ranges(pages: tuple[int, ...] | list[int]) -> str:
    """ "p. 1–3, 7" for pages 1, 2, 3 and 7."""
    nums = sorted(set(pages))
    if not nums:
        return ""
    parts = []
    start = prev = nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}–{prev}" if prev > start else f"{start}")
        if n is not None:
            start = prev = n
    return ("pp. " if len(nums) > 1 else "p. ") + ", ".join(parts)
