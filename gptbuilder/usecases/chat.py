"""Chat with an assistant: a question is saved, answered step by step, and the answer saved
with its citations in the saved-answer format (``usecases.saved``).

A request is routed first (``tasks.TaskEngine.route``): its kind is recognised from its words
or set by the user (a question, a summary, a list of every instance of a thing, a comparison),
and a follow-up ("and the second one?", "who wrote it?") is rewritten with the conversation
as it was understood (``saved.as_understood``: earlier follow-ups as rewritten, the documents
each answer cited).
A question goes to the answer engine with the rewritten request; the other kinds read whole
documents (``TaskEngine.run``), with progress, the points found so far, and a stop.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from types import TracebackType

from gptbuilder.db import Repository
from gptbuilder.retrieval.answer import AnswerEngine
from gptbuilder.tasks.engine import TaskEngine
from gptbuilder.tasks.model import FACT, KINDS, Finished, Point, Progress, Route, TaskResult
from gptbuilder.types import Answer, Assistant, ChatMessage
from gptbuilder.usecases.saved import (
    SavedAnswer,
    TaskInfo,
    answer_text_for_history,
    as_understood,
    citations_to_json,
    read_saved,
)

log = logging.getLogger(__name__)

NO_ANSWER = "(No answer was given.)"
STOPPED_ANSWER = "Stopped by you before the answer was written."
STEP_EVERY_S = 0.25  # points found faster than this are shown together


@dataclass(frozen=True)
class Question:
    """A question of the conversation, as the user typed it."""

    text: str


@dataclass(frozen=True)
class Found:
    """A checked point found while reading: the source's sentence or item, its file, page."""

    text: str
    filename: str
    page: int


@dataclass(frozen=True)
class Step:
    """One step of an answer being written.

    A question: ``text`` (the model's words so far) or ``preview`` (what has been checked so
    far). A summary, list or comparison: ``progress`` ("Read pages 12–18 of 40"), ``eta_s``
    (seconds left, once it can be estimated), ``fraction`` and the ``points`` found so far.
    The last step has the final ``answer`` (already saved) and ``task``; ``kind`` and
    ``understood`` (the rewritten request of a follow-up, or "") are on every step."""

    kind: str = FACT
    understood: str = ""
    text: str = ""
    preview: Answer | None = None
    progress: str = ""
    eta_s: float | None = None
    fraction: float | None = None
    points: tuple[Found, ...] = ()
    answer: Answer | None = None
    task: TaskInfo | None = None


class Turn:
    """One question being answered. The question is already saved; ``steps()`` streams the
    answer and saves it before its last step. ``close()`` (or leaving the ``with`` block)
    saves a placeholder answer if none was saved, so that the stored conversation stays a
    clean question/answer sequence even when the browser goes away mid-answer. ``stop()``
    (or ``Chat.stop`` with ``id``) ends it early: a summary, list or comparison is finished
    from what was read, a question says it was stopped."""

    def __init__(
        self,
        repo: Repository,
        answers: AnswerEngine,
        tasks: TaskEngine,
        assistant: Assistant,
        question: str,
        past: list[ChatMessage],
        route: Route,
        scope: tuple[int, ...] = (),
        forget: Callable[[str], None] | None = None,
    ) -> None:
        self._repo = repo
        self._answers = answers
        self._tasks = tasks
        self.assistant = assistant
        self.question = question
        self.route = route
        self._past = past
        self._scope = scope  # the documents the user chose to read (empty: all)
        self._forget = forget
        self._saved = False
        self._stop = threading.Event()
        self.id = uuid.uuid4().hex

    @property
    def kind(self) -> str:
        return self.route.kind

    @property
    def understood(self) -> str:
        """The request as it is answered, when a follow-up was rewritten; else ""."""
        return self.route.question if self.route.rewritten else ""

    def stop(self) -> None:
        self._stop.set()

    def steps(self) -> Iterator[Step]:
        """The answer as it is written, then one step with the final ``answer``, saved before
        it is yielded. Errors (``GPTBuilderError`` with a message for the user) propagate."""
        if self.route.kind == FACT:
            yield from self._fact()
        else:
            yield from self._task()

    def _fact(self) -> Iterator[Step]:
        answer: Answer | None = None
        last_text = ""
        base = Step(kind=FACT, understood=self.understood)
        stream = self._answers.stream(self.assistant, self.route.question, self._past, self._scope)
        try:
            for step in stream:
                if self._stop.is_set():
                    break
                if step.answer is not None:
                    answer, last_text = step.answer, step.text
                    continue
                yield replace(base, text=step.text, preview=step.preview)
        finally:
            close = getattr(stream, "close", None)  # a generator: its model call ends too
            if close is not None:
                close()
        stopped = answer is None and self._stop.is_set()
        if stopped:
            answer = Answer(STOPPED_ANSWER, (), ())
        assert answer is not None, "the answer engine ended without an answer"
        info = TaskInfo(FACT, self.route.question, self.route.rewritten, stopped=stopped)
        text = STOPPED_ANSWER if stopped else answer_text_for_history(answer)
        self._save(text, answer, info)
        yield replace(base, text=last_text, answer=answer, task=info)

    def _task(self) -> Iterator[Step]:
        base = Step(kind=self.route.kind, understood=self.understood)
        shown = base
        points: list[Found] = []
        result: TaskResult | None = None
        last = 0.0
        pending = False  # points found since the last step shown
        for event in self._tasks.run(self.assistant, self.route, self._stop):
            if isinstance(event, Progress):
                fraction = event.done / event.total if event.total else None
                shown = replace(shown, progress=event.text, eta_s=event.eta_s, fraction=fraction)
            elif isinstance(event, Point):
                points.append(Found(event.text, event.filename, event.page))
                shown = replace(shown, points=tuple(points))
                pending = True
                if time.monotonic() - last < STEP_EVERY_S:
                    continue
            elif isinstance(event, Finished):
                result = event.result
                if pending:  # every point found is shown before the answer
                    yield shown
                continue
            else:  # Routed: what the request was taken to be is already known
                continue
            last, pending = time.monotonic(), False
            yield shown
        assert result is not None, "the task ended without a result"
        info = TaskInfo(
            kind=result.kind,
            question=result.question,
            rewritten=self.route.rewritten,
            coverage=result.coverage.describe() if result.coverage.documents else "",
            note=result.note,
            stopped=result.stopped,
            found=result.found,
            shown=result.shown,
            in_documents=result.in_documents,
        )
        # The text keeps its lines ("- item [n]"): a follow-up ("the second one") reads them.
        self._save(result.answer.text, result.answer, info)
        yield replace(shown, answer=result.answer, task=info)

    def _save(self, text: str, answer: Answer, info: TaskInfo) -> None:
        self._repo.add_message(
            self.assistant.id,
            ChatMessage("assistant", text, tuple(citations_to_json(answer, info))),
        )
        self._saved = True

    def close(self) -> None:
        if self._forget is not None:
            self._forget(self.id)
        if not self._saved:
            self._saved = True
            self._repo.add_message(self.assistant.id, ChatMessage("assistant", NO_ANSWER))

    def __enter__(self) -> Turn:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Chat:
    """Conversations: ask (and stop), the history (questions and saved answers), clear.
    Running turns are kept by id (``Turn.id``) until they close, so that another request
    (the Stop button) can stop one."""

    def __init__(self, repo: Repository, answers: AnswerEngine, tasks: TaskEngine) -> None:
        self._repo = repo
        self._answers = answers
        self._tasks = tasks
        self._turns: dict[str, Turn] = {}
        self._lock = threading.Lock()

    def ask(
        self,
        assistant_id: int,
        question: str,
        kind: str | None = None,
        documents: Sequence[int] = (),
    ) -> Turn:
        """Save ``question`` and return the turn that answers it.

        ``kind`` (one of "fact", "summary", "list", "compare"; None: recognised from the
        words) and ``documents`` (ids of ready documents to read; empty: those the request
        names, else all) are the user's choice. Raises ``NotFound`` (and saves nothing) if
        there is no such assistant, ``ValueError`` for an unknown kind."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind of request: {kind!r}")
        a = self._repo.get_assistant(assistant_id)
        past = self._repo.list_messages(a.id)
        # Routed with the conversation as it was understood (typed, not the saved format).
        route = self._tasks.route(a, question, as_understood(past), kind)
        chosen: tuple[int, ...] = ()
        if documents:
            ready = {d.id for d in self._repo.list_documents(a.id) if d.status == "ready"}
            chosen = tuple(dict.fromkeys(int(d) for d in documents if int(d) in ready))
            if chosen:
                route = replace(route, documents=chosen)
        log.info("request routed as %s%s", route.kind, " (rewritten)" if route.rewritten else "")
        # Saved first, so a question is never lost, even if the browser goes away mid-answer.
        self._repo.add_message(a.id, ChatMessage("user", question))
        turn = Turn(
            self._repo, self._answers, self._tasks, a, question, past, route, chosen, self._forget
        )
        with self._lock:
            self._turns[turn.id] = turn
        return turn

    def stop(self, turn_id: str) -> bool:
        """Stop a running turn; False if none with that id is running."""
        with self._lock:
            turn = self._turns.get(turn_id)
        if turn is None:
            return False
        turn.stop()
        return True

    def _forget(self, turn_id: str) -> None:
        with self._lock:
            self._turns.pop(turn_id, None)

    def history(self, assistant_id: int) -> list[Question | SavedAnswer]:
        """The conversation in order: each question, and each answer as it was shown."""
        out: list[Question | SavedAnswer] = []
        for m in self._repo.list_messages(assistant_id):
            if m.role == "user":
                out.append(Question(m.content))
            else:
                out.append(read_saved(m.content, m.citations))
        return out

    def clear(self, assistant_id: int) -> None:
        self._repo.clear_messages(assistant_id)
