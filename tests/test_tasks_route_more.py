"""Follow-ups after a summary, list or comparison (issue 17, leftovers): rewritten from what the
answer was about (the request as it was answered, the document it read), not only from the
words the user typed last."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from gptbuilder.tasks.model import FACT, SUMMARY
from gptbuilder.tasks.route import route
from gptbuilder.types import ChatMessage, Document
from gptbuilder.ui.handlers import Handlers
from gptbuilder.usecases.saved import as_understood


def _doc(i: int, name: str) -> Document:
    return Document(i, 1, name, "x" * 64, 1, "text/markdown", 1, 1, "ready", None, datetime.now())


DOCS = [_doc(1, "Normans.md"), _doc(2, "Steam_engine.md"), _doc(3, "annual-report-2020.pdf")]

SUMMARY_TEXT = """**Key points**
- The company grew in every region in 2020 [1].
- Profits fell by a tenth after the merger [2].
- A new board was elected in May [3].

Read all 3 pages with text of 1 document."""


def _after(request: str, answer: str, *documents: int) -> list[ChatMessage]:
    """A request as it was understood and its answer, citing ``documents`` (the conversation
    as routing gets it: ``usecases.saved.as_understood``)."""
    return [ChatMessage("user", request), ChatMessage("assistant", answer, documents=documents)]


def test_a_pronoun_after_a_summary_points_at_the_document_it_read():
    # The request named no document (it was chosen next to the chat box): the documents the
    # answer cited say which one was read.
    history = _after("Summarise this", SUMMARY_TEXT, 3)
    r = route("who wrote it?", history, DOCS)
    assert r.rewritten and r.question == "Who wrote the annual report 2020 document?"
    assert r.kind == FACT and r.documents == (3,)


def test_the_second_point_of_a_summary_is_that_point_of_its_document():
    history = _after("Summarise this", SUMMARY_TEXT, 3)
    r = route("and the second point?", history, DOCS)
    assert r.question == (
        "Tell me more about this point of the annual report 2020 document: "
        "“Profits fell by a tenth after the merger”."
    )
    assert r.kind == FACT, "a question about the point, not a new summary or list"
    r = route("the first one?", history, DOCS)
    # "every region" in the point does not make it a list of every region.
    assert r.question.endswith("“The company grew in every region in 2020”.") and r.kind == FACT


def test_a_point_of_a_summary_of_a_named_document_names_it():
    history = _after("Summarize the Normans document", SUMMARY_TEXT, 1)
    r = route("and the last point?", history, DOCS)
    assert r.question == (
        "Tell me more about this point of the normans document: “A new board was elected in May”."
    )


def test_a_follow_up_of_a_follow_up_starts_from_the_request_as_it_was_answered():
    # "and the other one?" was answered as "Summarize the steam engine document", which the
    # history as it was understood gives in its place; its answer cites nothing here, so only
    # that can say what "it" is.
    history = [
        *_after("Summarize the Normans document", SUMMARY_TEXT, 1),
        *_after("Summarize the steam engine document", "…"),
    ]
    r = route("who wrote it?", history, DOCS)
    assert r.question == "Who wrote the steam engine document?"


def test_after_a_summary_of_several_documents_none_is_picked_at_random():
    history = _after("Summarise the documents", SUMMARY_TEXT, 1, 2, 3)
    r = route("who wrote them?", history, DOCS)
    assert r.question == "Who wrote the documents?"


def test_after_a_question_the_name_it_asked_about_still_wins():
    history = _after("Who was Rollo?", "“Rollo was the first ruler.”", 1)
    r = route("when did he die?", history, DOCS)
    assert r.question == "When did Rollo die?"


def test_routing_reads_no_saved_format():
    # Only the typed history counts: citations saved beside an answer (their format belongs
    # to ``usecases.saved``) say nothing to routing until they are read as ``documents``.
    saved = (
        {"number": 1, "document_id": 3},
        {"meta": {"task": {"question": "x", "rewritten": True}}},
    )
    history = [ChatMessage("user", "Summarise this"), ChatMessage("assistant", SUMMARY_TEXT, saved)]
    r = route("who wrote it?", history, DOCS)
    assert r.rewritten and "annual report" not in r.question and " x" not in r.question


def test_the_second_document_after_a_summary_is_no_point_of_it():
    history = _after("Summarize the Normans document", SUMMARY_TEXT, 1)
    r = route("and the second document?", history, DOCS)
    assert "point" not in r.question and r.kind == SUMMARY


NORMANS = """# Normans

The Normans were the people who in the 10th and 11th centuries gave their name to Normandy,
a region in France. They were descended from Norse raiders and pirates.

## Rollo

Rollo was the first ruler of Normandy. In 911 he signed the treaty of Saint-Clair-sur-Epte
with Charles the Simple.
"""


def test_through_the_chat_a_follow_up_after_a_summary_refers_to_its_document(
    fake_services, tmp_path: Path
):
    s = fake_services
    h = Handlers(s)
    aid = h.save_assistant(None, "History", "", "", "", "", "", "", 0.0)["current"]
    for name, text in [("normans.md", NORMANS), ("steam_engine.md", "# Steam\n\nSteam works.\n")]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        doc = s.library.add_file(aid, path, name).document
        if name == "normans.md":
            normans = doc.id
    # The document chosen next to the chat box; the request does not name it.
    with s.chat.ask(aid, "Summarise this", "summary", [normans]) as turn:
        *_, last = turn.steps()
    assert last.task.kind == "summary"
    points = re.findall(r"^- (.+?) \[\d+\]", last.answer.text, re.MULTILINE)
    assert len(points) >= 2, last.answer.text
    second = points[1]

    # Routing reads the conversation as it was understood, not the saved format.
    stored = s.repo.list_messages(aid)
    assert stored[-1].documents == () and as_understood(stored)[-1].documents == (normans,)
    assistant = s.repo.get_assistant(aid)
    r = s.tasks.route(assistant, "and the second point?", as_understood(stored))
    assert r.kind == FACT
    assert r.question.startswith("Tell me more about this point of the normans document: “")
    assert " ".join(second.split()) in r.question

    # Through the chat: only the documents the saved summary cited say what "it" is.
    turn = s.chat.ask(aid, "who wrote it?")
    assert turn.understood == "Who wrote the normans document?" and turn.kind == FACT
    with turn:
        *_, answered = turn.steps()
    assert answered.task.question == "Who wrote the normans document?"

    # A follow-up of a follow-up: "it" comes from "who wrote it?" as it was answered (saved
    # with its answer), not as it was typed.
    turn = s.chat.ask(aid, "and when was it written?")
    assert turn.understood == "When was the normans document written?"
    with turn:
        *_, answered = turn.steps()
    assert answered.task.question == "When was the normans document written?"
    typed = [m.content for m in s.repo.list_messages(aid) if m.role == "user"]
    assert typed == ["Summarise this", "who wrote it?", "and when was it written?"]
