"""The conversation as it was understood (``usecases.saved.as_understood``), read from the
saved-answer format for routing follow-ups: each request as it was answered, the documents each
answer cited."""

from __future__ import annotations

from gptbuilder.types import Answer, ChatMessage, Citation, Hit
from gptbuilder.usecases.saved import TaskInfo, as_understood, citations_to_json


def _hit(chunk: int, doc: int) -> Hit:
    return Hit(chunk, doc, f"{doc}.pdf", 1, 0, 10, "Some text.", 0.5)


def _answered(*docs: int, task: TaskInfo | None = None) -> tuple[dict, ...]:
    """Citations as a given answer is saved beside its message."""
    cits = tuple(Citation(n, _hit(n, d), (0, 4)) for n, d in enumerate(docs, start=1))
    answer = Answer("Some text [1].", cits, tuple(c.hit for c in cits))
    return tuple(citations_to_json(answer, task))


def test_a_rewritten_request_reads_as_it_was_answered_and_answers_carry_their_documents():
    messages = [
        ChatMessage("user", "Summarise this"),
        ChatMessage("assistant", "Points", _answered(3, 1, 3, task=TaskInfo("summary", "Sum"))),
        ChatMessage("user", "who wrote it?"),
        ChatMessage(
            "assistant",
            "Someone.",
            _answered(3, task=TaskInfo("fact", "Who wrote the report document?", True)),
        ),
        ChatMessage("user", "and when?"),
    ]
    out = as_understood(messages)
    assert [m.content for m in out] == [
        "Summarise this",  # not rewritten: as typed (the task's question is not used)
        "Points",
        "Who wrote the report document?",
        "Someone.",
        "and when?",
    ]
    assert [m.documents for m in out] == [(), (3, 1), (), (3,), ()]
    assert [m.role for m in out] == [m.role for m in messages]
    assert out[1].citations == messages[1].citations  # kept as saved
    assert messages[2].content == "who wrote it?" and messages[1].documents == ()  # unchanged


def test_closest_passages_are_not_cited_and_older_formats_still_read():
    hit = _hit(1, 2)
    abstained = Answer("Not found.", (), (hit,), abstained=True, closest_quotes=(None,))
    oldest = tuple(citations_to_json([Citation(1, _hit(4, 5), None), Citation(2, hit, None)]))
    messages = [
        ChatMessage("user", "q1"),
        ChatMessage("assistant", "Not found.", tuple(citations_to_json(abstained, TaskInfo()))),
        ChatMessage("user", "q2"),
        ChatMessage("assistant", "Not found.", tuple(citations_to_json(abstained))),
        ChatMessage("user", "q3"),
        ChatMessage("assistant", "Old [1][2].", oldest),  # saved before answers kept meta
        ChatMessage("user", "q4"),
        ChatMessage("assistant", "(No answer was given.)"),
    ]
    out = as_understood(messages)
    assert [m.documents for m in out[1::2]] == [(), (), (5, 2), ()]
    assert [m.content for m in out[::2]] == ["q1", "q2", "q3", "q4"]


def test_a_damaged_saved_answer_tells_the_routing_nothing_and_breaks_nothing():
    damaged = ChatMessage("assistant", "An answer.", ({"number": 1, "page": 1},))  # no hit
    past = [ChatMessage("user", "Who founded it?"), damaged]
    out = as_understood(past)
    assert out == past and out[1].documents == ()
