"""The Gradio app builds and serves, and user journeys run through its handlers."""

import json
import urllib.request
from pathlib import Path

import pytest

from gptbuilder.ui.handlers import Handlers
from gptbuilder.ui.layout import build_app

TEXT = (
    "The office opens at 8 am on weekdays. Parking is free for visitors in lot B. "
    "Lunch is served in the canteen on the second floor from noon until 2 pm."
)


def make(h: Handlers, name="Office helper", starters=("When does it open?", "", "", "")):
    aid, _picker, note = h.save_assistant(
        None, name, "Answers office questions", "Be brief.", *starters, 0.0
    )
    assert aid is not None, note
    return aid


def test_app_builds_and_serves(fake_services):
    app = build_app(fake_services)
    _, url, _ = app.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=None, quiet=True
    )
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.status == 200
            assert b"GPT Builder" in resp.read()
    finally:
        app.close()


def test_create_upload_chat_journey(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    screen = h.open_assistant(aid)
    assert screen[0] == aid and "Office helper" in screen[1]
    assert screen[11]["visible"] and screen[11]["value"] == "When does it open?"

    f = tmp_path / "office.txt"
    f.write_text(TEXT)
    calls = []
    report, table, _picker, cleared = h.upload(aid, [str(f)], lambda p, desc: calls.append(p))
    assert "✅ office.txt" in report and cleared is None
    assert table[0][0] == "office.txt" and table[0][-1] == "ready"
    assert calls and calls[-1] == pytest.approx(1.0)

    steps = list(h.chat(aid, "When does the office open?", []))
    history, box = steps[-1]
    assert box == ""
    reply = history[-1]["content"]
    assert history[-1]["role"] == "assistant"
    assert "**Sources**" in reply and "office.txt, page 1" in reply
    assert "8 am" in reply
    # The conversation is saved and comes back when the assistant is opened again.
    again = h.open_assistant(aid)[2]
    assert [m["role"] for m in again] == ["user", "assistant"]
    assert "office.txt, page 1" in again[1]["content"]


def test_chat_without_assistant_or_documents(fake_services):
    h = Handlers(fake_services)
    history, _ = list(h.chat(None, "hello?", []))[-1]
    assert "Create or choose an assistant" in history[-1]["content"]
    aid = make(h)
    history, _ = list(h.chat(aid, "hello?", []))[-1]
    assert "not based on any document" in history[-1]["content"]


def test_bad_upload_is_reported_and_others_go_in(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    good = tmp_path / "good.txt"
    good.write_text(TEXT)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n garbage that is not a pdf")
    report, table, _, _ = h.upload(aid, [str(bad), str(good)], None)
    assert "❌" in report and "bad.pdf" in report
    assert "✅ good.txt" in report
    assert [row[0] for row in table] == ["good.txt"]


def test_export_import_and_errors(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    path, note = h.export(aid)
    data = json.loads(Path(path).read_text())
    assert data["assistant"]["name"] == "Office helper" and "✅" in note

    new_id, picker, note = h.import_file(path)
    assert "Office helper (2)" in note
    assert fake_services.repo.get_assistant(new_id).instructions == "Be brief."
    assert {c[0] for c in picker["choices"]} == {"Office helper", "Office helper (2)"}

    bad = tmp_path / "evil.json"
    bad.write_text('{"format": "something-else"}')
    before = fake_services.repo.list_assistants()
    _, _, note = h.import_file(str(bad))
    assert "not a GPT Builder assistant file" in note
    assert fake_services.repo.list_assistants() == before


def test_edit_and_delete(fake_services):
    h = Handlers(fake_services)
    aid = make(h)
    _, _, note = h.save_assistant(aid, "Renamed", "", "", "", "", "", "", 0.5)
    assert "Saved" in note
    assert fake_services.repo.get_assistant(aid).name == "Renamed"
    _, _, note = h.save_assistant(None, "", "", "", "", "", "", "", 0.5)
    assert "name" in note.lower() and "⚠️" in note
    state, picker, note = h.delete_assistant(aid)
    assert state is None and picker["choices"] == [] and "Deleted" in note


def test_question_is_kept_when_the_browser_leaves_mid_answer(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    f = tmp_path / "office.txt"
    f.write_text(TEXT)
    h.upload(aid, [str(f)], None)
    stream = h.chat(aid, "When does the office open?", [])
    next(stream)
    next(stream)
    stream.close()  # what happens when the page is closed while the answer streams
    stored = fake_services.repo.list_messages(aid)
    assert [(m.role, m.content) for m in stored] == [
        ("user", "When does the office open?"),
        ("assistant", "(No answer was given.)"),
    ]
    history, _ = list(h.chat(aid, "Where can visitors park?", []))[-1]
    assert "lot B" in history[-1]["content"]
