"""The Gradio app builds and serves, and user journeys run through its handlers."""

import json
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

from conftest import make_settings
from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.backends.vector_index import NumpyIndex
from gptbuilder.ingest.sniff import SUPPORTED_SUFFIXES
from gptbuilder.services import Services
from gptbuilder.ui.handlers import Handlers
from gptbuilder.ui.layout import build_app
from gptbuilder.ui.server import BackgroundServer

TEXT = (
    "The office opens at 8 am on weekdays. Parking is free for visitors in lot B. "
    "Lunch is served in the canteen on the second floor from noon until 2 pm."
)


def make(h: Handlers, name="Office helper", starters=("When does it open?", "", "", "")):
    saved = h.save_assistant(None, name, "Answers office questions", "Be brief.", *starters, 0.0)
    assert saved["current"] is not None, saved["notice"]
    return saved["current"]


def test_app_builds_and_serves(fake_services):
    blocks = build_app(fake_services)
    upload = next(c for c in blocks.blocks.values() if getattr(c, "elem_id", None) == "upload")
    # The file picker offers every type the readers take (Word and web pages too).
    assert set(upload.file_types) == set(SUPPORTED_SUFFIXES) >= {".docx", ".html", ".pdf"}
    with BackgroundServer(fake_services) as server:
        with urllib.request.urlopen(server.url + "/", timeout=30) as resp:
            assert resp.status == 200
            assert b"GPT Builder" in resp.read()


def test_citation_opens_the_passage_in_its_page_and_the_file(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    doc = tmp_path / "office.txt"
    doc.write_text(TEXT + " Welcome <b>guests</b>.")
    fake_services.library.add_file(aid, doc, "office.txt")
    *_, (history, _) = h.chat(aid, "When does the office open?", [])
    reply = history[-1]["content"]
    link = re.search(r"\]\((/gptb/passage/[^) ]+)[) ]", reply)
    assert link, reply
    with BackgroundServer(fake_services) as server:
        with urllib.request.urlopen(server.url + link.group(1), timeout=30) as resp:
            page = resp.read().decode()
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert "Welcome &lt;b&gt;guests&lt;/b&gt;" in page  # document text is escaped
        quote = re.search(r'<mark id="quote">(.*?)</mark>', page, re.S)
        assert quote and "8 am" in quote.group(1)
        file_link = re.search(r'id="open-file" href="([^"]+)"', page).group(1)
        with urllib.request.urlopen(server.url + file_link, timeout=30) as resp:
            assert resp.read() == doc.read_bytes()
            assert resp.headers["Content-Security-Policy"] == "sandbox"
        try:
            urllib.request.urlopen(server.url + "/gptb/passage/999/1", timeout=30)
            raise AssertionError("a missing passage must be a 404")
        except urllib.error.HTTPError as err:
            assert err.code == 404


def test_create_upload_chat_journey(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    screen = h.open_assistant(aid)
    assert screen["current"] == aid and "Office helper" in screen["title"]
    starter = screen["starter_button_1"]
    assert starter["visible"] and starter["value"] == "When does it open?"
    assert not screen["starter_button_2"]["visible"]

    f = tmp_path / "office.txt"
    f.write_text(TEXT)
    done = list(h.upload(aid, [str(f)], None))[-1]
    assert "| office.txt | ✅ added | 1 | 1 | 0 |" in done["report"]
    assert done["upload"] is None and done["upload_job"] is None
    assert done["cancel_upload"]["visible"] is False
    table = done["documents"]
    assert table[0][0] == "office.txt" and table[0][-1] == "ready"

    steps = list(h.chat(aid, "When does the office open?", []))
    history, box = steps[-1]
    assert box == ""
    reply = history[-1]["content"]
    assert history[-1]["role"] == "assistant"
    assert "**Sources**" in reply and "office.txt, page 1" in reply
    assert "8 am" in reply
    # The conversation is saved and comes back when the assistant is opened again.
    again = h.open_assistant(aid)["chatbot"]
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
    done = list(h.upload(aid, [str(bad), str(good)], None))[-1]
    report, table = done["report"], done["documents"]
    assert "| bad.pdf | ❌ not added |" in report and "❌ “bad.pdf”" in report
    assert "| good.txt | ✅ added |" in report
    assert [row[0] for row in table] == ["good.txt"]


def test_export_notices_show_an_assistant_name_as_text(fake_services):
    """A name is the user's (or an imported file's) text: a notice shows it, never renders
    it as an image or a link."""
    h = Handlers(fake_services)
    aid = make(h, name="Spy ![x](https://tracker.invalid/p.png) <b>bold</b>")
    for exported in (h.export(aid), h.export_bundle(aid)):
        assert "![" not in exported["notice"] and "<b>" not in exported["notice"]
        assert "`https://tracker.invalid/p.png`" in exported["notice"]


def test_export_import_and_errors(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    exported = h.export(aid)
    data = json.loads(Path(exported["export_file"]).read_text())
    assert data["assistant"]["name"] == "Office helper" and "✅" in exported["notice"]

    imported = h.import_file(exported["export_file"])
    assert "Office helper (2)" in imported["notice"] and imported["imported"] is True
    assert fake_services.repo.get_assistant(imported["current"]).instructions == "Be brief."
    names = {c[0] for c in imported["picker"]["choices"]}
    assert names == {"Office helper", "Office helper (2)"}

    bad = tmp_path / "evil.json"
    bad.write_text('{"format": "something-else"}')
    before = fake_services.repo.list_assistants()
    refused = h.import_file(str(bad))
    assert "not a GPT Builder assistant file" in refused["notice"]
    assert refused["imported"] is False and "current" not in refused, "the screen stays"
    assert fake_services.repo.list_assistants() == before


def test_edit_and_delete(fake_services):
    h = Handlers(fake_services)
    aid = make(h)
    assert "Saved" in h.save_assistant(aid, "Renamed", "", "", "", "", "", "", 0.5)["notice"]
    assert fake_services.repo.get_assistant(aid).name == "Renamed"
    note = h.save_assistant(None, "", "", "", "", "", "", "", 0.5)["notice"]
    assert "name" in note.lower() and "⚠️" in note
    deleted = h.delete_assistant(aid)
    assert deleted["current"] is None and deleted["picker"]["choices"] == []
    assert "Deleted" in deleted["notice"]


def test_question_is_kept_when_the_browser_leaves_mid_answer(fake_services, tmp_path):
    h = Handlers(fake_services)
    aid = make(h)
    f = tmp_path / "office.txt"
    f.write_text(TEXT)
    list(h.upload(aid, [str(f)], None))
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


class GatedEmbedder(HashingEmbedder):
    """Holds the embedding of any text containing "number 1" until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def embed(self, texts, progress=None, *, batch=None):
        if any("number 1" in t for t in texts):
            self.entered.set()
            self.release.wait(30)
        return super().embed(texts, progress, batch=batch)


def test_cancel_undoes_the_file_in_progress_and_keeps_finished_ones(tmp_path, monkeypatch):
    from gptbuilder import adding

    monkeypatch.setattr(adding, "GROUP_PASSAGES", 1)  # each file embedded alone
    embedder = GatedEmbedder()
    services = Services.build(
        make_settings(tmp_path / "data"), embedder, ExtractiveFakeLLM, NumpyIndex
    )
    h = Handlers(services)
    aid = make(h)
    paths = []
    for i in range(3):
        p = tmp_path / f"doc{i}.txt"
        p.write_text(f"Document number {i} talks about topic {i}. " * 40)
        paths.append(str(p))
    steps = h.upload(aid, paths, None)
    job_id = next(steps)["upload_job"]
    assert embedder.entered.wait(30), "the second file never started"
    assert "Stopping" in h.cancel_upload(job_id)
    embedder.release.set()
    done = list(steps)[-1]
    report, table = done["report"], done["documents"]
    assert "| doc0.txt | ✅ added |" in report
    assert "| doc1.txt | ⏹ cancelled |" in report and "| doc2.txt | ⏹ cancelled |" in report
    assert [row[0] for row in table] == ["doc0.txt"]
    [doc] = services.repo.list_documents(aid)
    assert len(services.indexes.get(aid)) == doc.chunks
    stored = [p for p in services.settings.files_dir.rglob("*") if p.is_file()]
    assert len(stored) == 1, "the cancelled file's copy is removed"
    services.close()


def test_an_upload_of_several_files_builds_the_keyword_index_once(tmp_path, monkeypatch):
    """BM25 is rebuilt from all of an assistant's passages: once per upload, not per file,
    and when the upload ends every file's words are searchable."""
    from gptbuilder.search.keyword_index import KeywordIndexStore

    services = Services.build(
        make_settings(tmp_path / "data"), HashingEmbedder(), ExtractiveFakeLLM, NumpyIndex
    )
    builds = []
    rebuild = KeywordIndexStore._rebuild
    monkeypatch.setattr(
        KeywordIndexStore, "_rebuild", lambda self, aid: builds.append(aid) or rebuild(self, aid)
    )
    h = Handlers(services)
    aid = make(h)
    paths = []
    for word in ("aardvark", "bassoon", "cormorant"):
        p = tmp_path / f"{word}.txt"
        p.write_text(f"This note is about the {word}. " * 30)
        paths.append(str(p))
    report = list(h.upload(aid, paths, None))[-1]["report"]
    assert report.count("✅ added") == 3
    assert builds == [aid]
    for word in ("aardvark", "bassoon", "cormorant"):
        assert services.keywords.search(aid, word, 3), word
    services.close()
