"""Whole-document tasks through the Chat use case and the UI handlers (issue 17), with the
fast fakes: routing (from the words, set by the user, follow-ups rewritten for questions too),
progress and points streamed, Stop, the saved format (old answers still load), and what the
chat shows (escaped, cited, the pages read)."""
# ruff: noqa: E501

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gptbuilder.tasks.engine import TaskSettings
from gptbuilder.types import ChatMessage
from gptbuilder.ui.chat import CHAT
from gptbuilder.ui.handlers import SCREEN, Handlers
from gptbuilder.ui.saved import render_saved
from gptbuilder.usecases import SavedAnswer, Step, TaskInfo
from gptbuilder.usecases.chat import STOPPED_ANSWER
from gptbuilder.usecases.saved import read_saved

NORMANS = """# Normans

The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III of West Francia.

## Rollo

Rollo was the first ruler of Normandy. In 911 he signed the treaty of Saint-Clair-sur-Epte with Charles the Simple. His descendants ruled the duchy for generations. Richard I of Normandy was his grandson.

## Conquest

In 1066 William the Conqueror led the Norman conquest of England. The Battle of Hastings was fought on 14 October 1066. A smaller campaign in 1071 cost $500.

## Italy

Robert Guiscard conquered southern Italy in the 1050s. The Normans founded the Kingdom of Sicily in 1130 under Roger II.
"""

STEAM = """# Steam engines

A steam engine is a heat engine that performs mechanical work using steam as its working fluid. Thomas Newcomen built the first commercial steam engine in 1712. James Watt improved it in 1776 with a separate condenser. Steam engines powered the factories of the Industrial Revolution in England.
"""

# Document text that tries to show HTML, a remote image and a link: shown as text only.
HOSTILE = """# Report

The committee met in 1999 to review the budget <img src="https://evil.invalid/x.png"> of the year. ![pixel](https://evil.invalid/p.png) The committee approved the plan in 2001 after a long debate. Read more at [here](https://evil.invalid/more) before the meeting in 2003.
"""


@pytest.fixture
def history_app(fake_services, tmp_path: Path):
    s = fake_services
    h = Handlers(s)
    aid = h.save_assistant(None, "History", "", "", "", "", "", "", 0.0)["current"]
    docs = {}
    for name, text in [("normans.md", NORMANS), ("steam_engine.md", STEAM)]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        docs[name] = s.library.add_file(aid, path, name).document
    return s, h, aid, docs


def _run(turn) -> tuple[list[Step], Step]:
    with turn:
        steps = list(turn.steps())
    assert steps[-1].answer is not None and all(s.answer is None for s in steps[:-1])
    return steps[:-1], steps[-1]


def _stream(h: Handlers, aid, question, history=(), **kw) -> list[dict]:
    """The handler's steps, each with the last message's content as it was at that step."""
    out = []
    for named in h.ask(aid, question, list(history), **kw):
        assert set(named) == set(CHAT)
        out.append({**named, "content": named["chatbot"][-1]["content"]})
    return out


def test_summary_in_chat_streams_progress_and_is_saved_with_what_was_read(history_app):
    s, h, aid, docs = history_app
    turn = s.chat.ask(aid, "Summarize the normans document")
    assert turn.kind == "summary" and turn.route.documents == (docs["normans.md"].id,)
    partial, last = _run(turn)
    assert any(p.progress.startswith("Read p. 1 of 1 in normans.md") for p in partial)
    assert partial[-1].points, "the points found are streamed before the answer"
    answer, info = last.answer, last.task
    assert answer.claims and {c.hit.filename for c in answer.citations} == {"normans.md"}
    assert info.kind == "summary" and info.coverage == "Read the 1 page with text of 1 document."
    assert not info.stopped and not info.rewritten
    # Saved once, with its kind and coverage; shown the same after a restart.
    stored = s.repo.list_messages(aid)
    assert [m.role for m in stored] == ["user", "assistant"]
    saved = read_saved(stored[1].content, stored[1].citations)
    assert saved.task == info and saved.shown is not None
    assert (saved.shown.text, saved.shown.claims) == (answer.text, answer.claims)
    assert [(c.number, c.hit.chunk_id, c.quote) for c in saved.shown.citations] == [
        (c.number, c.hit.chunk_id, c.quote) for c in answer.citations
    ]
    shown = h.chat_history(aid)[1]["content"]
    assert shown == render_saved(saved, h.links)
    assert "📖 _Read the 1 page with text of 1 document._" in shown
    assert "**Key points**" in shown and "<details><summary>Sources (" in shown
    for claim in answer.claims:  # every point links to the span that states it
        cit = answer.citations[claim.number - 1]
        assert (
            f"/gptb/passage/{cit.hit.document_id}/{cit.hit.chunk_id}?start={claim.span[0]}&end={claim.span[1]}"
            in shown
        )


def test_list_says_how_many_in_how_many_documents_and_when_it_was_cut(history_app):
    s, h, aid, _ = history_app
    s.tasks.settings = TaskSettings(list_items=3)
    steps = _stream(h, aid, "List every year mentioned in the documents")
    final = steps[-1]["content"]
    assert final.startswith("Found 7 years in 2 documents.")
    items = re.findall(r"^- (\S+) \[", final, re.MULTILINE)
    assert items == ["911", "1050s", "1066"], "deduplicated, in order, cut to 3"
    assert "The list was cut: the first 3 of 7 are shown." in final
    [saved] = [x for x in s.chat.history(aid) if isinstance(x, SavedAnswer)]
    assert saved.task.kind == "list" and (saved.task.found, saved.task.shown) == (7, 3)
    assert saved.task.in_documents == 2 and saved.task.note.startswith("The list was cut")
    # While it ran, the Stop button showed with the turn's id; at the end it is hidden.
    assert steps[0]["turn_id"] and steps[0]["stop_answer"]["visible"] is True
    assert steps[-1]["turn_id"] is None and steps[-1]["stop_answer"]["visible"] is False


def test_compare_cites_both_documents(history_app):
    s, h, aid, _ = history_app
    turn = s.chat.ask(aid, "Compare the normans and steam engine documents")
    assert turn.kind == "compare"
    _, last = _run(turn)
    assert {c.hit.filename for c in last.answer.citations} == {"normans.md", "steam_engine.md"}
    shown = render_saved(s.chat.history(aid)[-1], h.links)
    assert "**Only in steam\\_engine.md**" in shown or "*steam\\_engine.md:*" in shown


def test_follow_up_question_is_rewritten_before_retrieval_and_shown_on_request(
    history_app, monkeypatch
):
    s, h, aid, _ = history_app
    asked = []
    stream = s.answers.stream
    monkeypatch.setattr(
        s.answers, "stream", lambda a, q, past, docs=(): asked.append(q) or stream(a, q, past, docs)
    )
    list(h.ask(aid, "List every year mentioned in the normans document", []))
    steps = _stream(h, aid, "and the second one?")
    assert asked == ["Tell me about 1050s."], "the answer engine gets the rewritten request"
    final = steps[-1]["content"]
    assert "<details><summary>Understood as…</summary>" in final
    assert "Understood as: “Tell me about 1050s.”" in final
    saved = s.chat.history(aid)[-1]
    assert saved.task == TaskInfo("fact", "Tell me about 1050s.", rewritten=True)
    assert render_saved(saved, h.links) == final

    asked.clear()
    list(h.ask(aid, "Who was Rollo?", []))
    _stream(h, aid, "What did he sign?")
    assert asked == ["Who was Rollo?", "What did Rollo sign?"]


def test_kind_and_documents_chosen_by_the_user_win_over_the_words(history_app):
    s, h, aid, docs = history_app
    steam = docs["steam_engine.md"].id
    turn = s.chat.ask(aid, "Who built engines?", kind="summary", documents=[steam])
    assert turn.kind == "summary" and turn.route.documents == (steam,)
    _, last = _run(turn)
    assert {c.hit.filename for c in last.answer.citations} == {"steam_engine.md"}
    # The handler's "auto" is None: the words decide; documents not ready are ignored.
    steps = _stream(
        h, aid, "Who built the first commercial steam engine?", kind="auto", documents=[999]
    )
    assert "Thomas Newcomen" in steps[-1]["content"]
    with pytest.raises(ValueError):
        s.chat.ask(aid, "x", kind="poem")
    # A question with documents chosen is answered from those documents only.
    normans = docs["normans.md"].id
    for chosen, other in ((steam, "normans.md"), (normans, "steam_engine.md")):
        turn = s.chat.ask(aid, "Who signed the treaty with Rollo?", kind="fact", documents=[chosen])
        _, last = _run(turn)
        cited = {c.hit.filename for c in last.answer.citations}
        assert other not in cited, (chosen, cited)
    whole = s.answers.retrieve(aid, "Who signed the treaty with Rollo?", 8)
    assert {h.filename for h in whole} == {"normans.md", "steam_engine.md"}
    only = s.answers.retrieve(aid, "Who signed the treaty with Rollo?", 8, documents=[steam])
    assert only and {h.filename for h in only} == {"steam_engine.md"}


@pytest.mark.parametrize(
    ("starter", "kind"),
    [
        ("Summarize the essay on the Normans", "summary"),
        ("List all the authors of the paper", "list"),
    ],
)
def test_conversation_starters_route_to_a_summary_and_a_list(history_app, starter, kind):
    s, h, aid, _ = history_app
    turn = s.chat.ask(aid, starter)
    assert turn.kind == kind
    _, last = _run(turn)
    assert last.task.kind == kind and last.task.coverage.startswith("Read")


def test_stop_finishes_a_summary_from_what_was_read(history_app):
    s, h, aid, _ = history_app
    turn = s.chat.ask(aid, "Give me an overview of everything")
    assert turn.kind == "summary"
    steps = []
    with turn:
        for step in turn.steps():
            steps.append(step)
            if step.progress and len(steps) == 1:
                assert s.chat.stop(turn.id)
    last = steps[-1]
    assert last.task.stopped and last.task.note.startswith("Stopped")
    assert "Read 1 of 2 pages with text of 2 documents." in last.task.coverage
    assert "stopped before they were read" in last.task.coverage
    stored = s.repo.list_messages(aid)
    assert [m.role for m in stored] == ["user", "assistant"], "saved once"
    assert "Stopped" in stored[1].content
    assert not s.chat.stop(turn.id), "a finished turn is forgotten"


def test_stop_before_a_question_is_answered_saves_that_it_was_stopped(history_app):
    s, h, aid, _ = history_app
    turn = s.chat.ask(aid, "Who was Rollo?")
    assert s.chat.stop(turn.id)
    _, last = _run(turn)
    assert last.answer.text == STOPPED_ANSWER and last.task.stopped
    stored = s.repo.list_messages(aid)
    assert [(m.role, m.content) for m in stored] == [
        ("user", "Who was Rollo?"),
        ("assistant", STOPPED_ANSWER),
    ]
    assert "⏹" in h.chat_history(aid)[1]["content"]


def test_stop_handler_says_so_only_for_a_running_answer(history_app):
    s, h, aid, _ = history_app
    assert h.stop_answer(None) == {"__type__": "update"} == h.stop_answer("nope")
    stream = h.ask(aid, "Summarize the normans document", [])
    first = next(stream)
    assert first["stop_answer"]["value"] == "Stop" and first["stop_answer"]["interactive"]
    stopping = h.stop_answer(first["turn_id"])
    assert stopping["value"] == "Stopping…" and stopping["interactive"] is False
    final = list(stream)[-1]["chatbot"][-1]["content"]
    assert "Stopped: the points come from the pages read before you stopped." in final


def test_old_saved_answers_still_load(history_app):
    s, h, aid, _ = history_app
    hit = {
        "number": 1, "document_id": 1, "chunk_id": 1, "filename": "normans.md", "page": 1,
        "char_start": 0, "char_end": 20, "text": "Rollo was the first ruler.", "sha256": "",
        "uploaded_at": None, "quote": [0, 26],
    }  # fmt: skip
    meta = {"meta": {"text": "Rollo was the first ruler [1].", "lead": 1, "claims": []}}
    s.repo.add_message(aid, ChatMessage("user", "Who was Rollo?"))
    s.repo.add_message(aid, ChatMessage("assistant", "Rollo was the first ruler.", (hit, meta)))
    s.repo.add_message(aid, ChatMessage("user", "And before?"))
    s.repo.add_message(aid, ChatMessage("assistant", "Nothing [1].", (hit,)))  # oldest format
    one, two = [x for x in s.chat.history(aid) if isinstance(x, SavedAnswer)]
    assert one.task is None and one.shown is not None
    assert two.task is None and two.shown is None and two.citations
    shown = [m["content"] for m in h.chat_history(aid)]
    assert "Rollo was the first ruler" in shown[1] and "Understood as" not in shown[1]
    assert "**Sources**" in shown[3]
    # A saved task's info with a field this version does not know still loads.
    assert TaskInfo.from_json({"kind": "list", "found": 3, "later": 1}) == TaskInfo("list", found=3)


def test_document_text_is_shown_escaped_while_streaming_and_after(fake_services, tmp_path):
    s = fake_services
    h = Handlers(s)
    aid = h.save_assistant(None, "Budget", "", "", "", "", "", "", 0.0)["current"]
    name = "report_![x](https:__evil.invalid_y.png).md"
    path = tmp_path / "report.md"
    path.write_text(HOSTILE, encoding="utf-8")
    s.library.add_file(aid, path, name)
    for question in ("Summarize the report", "List every year mentioned in the report"):
        for step in _stream(h, aid, question):
            content = step["content"]
            assert "<img" not in content and "![" not in content, content
            assert "](https://evil" not in content and "<a " not in content, content
    saved = [m["content"] for m in h.chat_history(aid)]
    assert all("<img" not in c and "![" not in c for c in saved)
    assert "1999" in saved[3] and "2001" in saved[3]


def test_summarise_button_switches_to_the_chat_and_summarises_the_chosen_document(history_app):
    s, h, aid, docs = history_app
    screen = h.open_assistant(aid)
    assert set(screen) == set(SCREEN)
    choices = screen["scope_documents"]["choices"]
    assert choices == [
        ("normans.md", docs["normans.md"].id),
        ("steam_engine.md", docs["steam_engine.md"].id),
    ]
    assert list(h.summarise_document(aid, None, [])) == [
        {"notice": "⚠️ Choose a document to summarise."}
    ]
    steps = list(h.summarise_document(aid, docs["steam_engine.md"].id, []))
    assert steps[0]["tabs"] is not None and steps[0]["active_tab"] == "chat"
    assert all("tabs" not in st for st in steps[1:])
    final = steps[-1]["chatbot"]
    assert final[-2]["content"] == "Summarise “steam\\_engine.md”"
    assert "steam\\_engine.md" in final[-1]["content"] and "normans.md" not in final[-1]["content"]
    stored = s.repo.list_messages(aid)
    assert stored[-2].content == "Summarise “steam_engine.md”"
    assert read_saved(stored[-1].content, stored[-1].citations).task.kind == "summary"
