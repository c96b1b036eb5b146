"""Chat with an assistant: a question is saved, answered step by step, and the answer saved
with its citations in the saved-answer format (``usecases.saved``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from gptbuilder.db import Repository
from gptbuilder.retrieval.answer import AnswerEngine, Partial
from gptbuilder.types import Answer, Assistant, ChatMessage
from gptbuilder.usecases.saved import (
    SavedAnswer,
    answer_text_for_history,
    citations_to_json,
    read_saved,
)

log = logging.getLogger(__name__)

NO_ANSWER = "(No answer was given.)"


@dataclass(frozen=True)
class Question:
    """A question of the conversation, as the user typed it."""

    text: str


class Turn:
    """One question being answered. The question is already saved; ``steps()`` streams the
    answer and saves it before its last step. ``close()`` (or leaving the ``with`` block)
    saves a placeholder answer if none was saved, so that the stored conversation stays a
    clean question/answer sequence even when the browser goes away mid-answer."""

    def __init__(
        self,
        repo: Repository,
        answers: AnswerEngine,
        assistant: Assistant,
        question: str,
        past: list[ChatMessage],
    ) -> None:
        self._repo = repo
        self._answers = answers
        self.assistant = assistant
        self.question = question
        self._past = past
        self._saved = False

    def steps(self) -> Iterator[Partial]:
        """The answer as it is written: partial steps (text so far, or what has been checked
        so far in ``preview``), then one step with the final ``answer``, saved before it is
        yielded. Errors (``GPTBuilderError`` with a message for the user) propagate."""
        answer: Answer | None = None
        last_text = ""
        for step in self._answers.stream(self.assistant, self.question, self._past):
            if step.answer is not None:
                answer, last_text = step.answer, step.text
                continue
            yield step
        assert answer is not None, "the answer engine ended without an answer"
        self._repo.add_message(
            self.assistant.id,
            ChatMessage(
                "assistant", answer_text_for_history(answer), tuple(citations_to_json(answer))
            ),
        )
        self._saved = True
        yield Partial(last_text, answer=answer)

    def close(self) -> None:
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
    """Conversations: ask, the history (questions and saved answers), clear."""

    def __init__(self, repo: Repository, answers: AnswerEngine) -> None:
        self._repo = repo
        self._answers = answers

    def ask(self, assistant_id: int, question: str) -> Turn:
        """Save ``question`` and return the turn that answers it. Raises ``NotFound`` (and
        saves nothing) if there is no such assistant."""
        a = self._repo.get_assistant(assistant_id)
        past = self._repo.list_messages(a.id)
        # Saved first, so a question is never lost, even if the browser goes away mid-answer.
        self._repo.add_message(a.id, ChatMessage("user", question))
        return Turn(self._repo, self._answers, a, question, past)

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
