"""Per-assistant model choice: the stored setting, the registry, and the OpenAI-compatible
backend against a real llama.cpp server started here."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import make_settings
from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.backends.models import ModelChoice, OpenAICompatibleLLM
from gptbuilder.backends.vector_index import NumpyIndex
from gptbuilder.config import bundled_llm_model
from gptbuilder.errors import InvalidInput, ModelError
from gptbuilder.services import Services
from gptbuilder.types import AssistantDraft
from gptbuilder.ui.handlers import Handlers


def test_choice_round_trips_and_validates():
    assert ModelChoice.parse("") == ModelChoice()
    assert ModelChoice().dumps() == ""
    c = ModelChoice("server", base_url="http://127.0.0.1:8080/v1", model="m", context_window=8192)
    assert ModelChoice.parse(c.dumps()) == c
    g = ModelChoice("gguf", file="tiny.gguf")
    assert ModelChoice.parse(g.dumps()) == g
    for bad in (
        ModelChoice("gguf", file="../etc/passwd.gguf"),
        ModelChoice("gguf", file="notes.txt"),
        ModelChoice("server", base_url="file:///etc/passwd", model="m"),
        ModelChoice("server", base_url="http://127.0.0.1:1/v1", model=""),
        ModelChoice("magic"),
    ):
        with pytest.raises(InvalidInput):
            bad.validated()
    with pytest.raises(InvalidInput):
        ModelChoice.parse("{not json")


def test_assistant_keeps_its_model_choice_and_old_databases_gain_the_column(tmp_path):
    import sqlite3

    settings = make_settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    # A database from before the column existed.
    con = sqlite3.connect(settings.data_dir / "gptbuilder.sqlite3")
    con.execute(
        "CREATE TABLE assistants (id INTEGER PRIMARY KEY, name VARCHAR(120) UNIQUE, "
        "description TEXT, instructions TEXT, starters_json TEXT, temperature FLOAT, "
        "created_at DATETIME, updated_at DATETIME)"
    )
    con.execute(
        "INSERT INTO assistants VALUES (1, 'Old', '', '', '[]', 0.2, "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    con.commit()
    con.close()
    services = Services.build(
        settings, embedder=HashingEmbedder(), llm=ExtractiveFakeLLM, new_index=NumpyIndex
    )
    try:
        assert services.repo.get_assistant(1).model == ""
        h = Handlers(services)
        (settings.models_dir).mkdir()
        (settings.models_dir / "other.gguf").write_bytes(b"GGUF")
        picker = h.model_values(services.repo.get_assistant(1))["model_pick"]
        assert ("Models folder: other.gguf", "gguf:other.gguf") in picker["choices"]
        note = h.save_assistant(
            1, "Old", "", "", "", "", "", "", 0.2, "server", "http://127.0.0.1:9/v1", "m", "k", 2048
        )["notice"]
        assert "Saved" in note
        stored = ModelChoice.parse(services.repo.get_assistant(1).model)
        assert (stored.kind, stored.model, stored.context_window) == ("server", "m", 2048)
        saved = h.save_assistant(1, "Old", "", "", "", "", "", "", 0.2, "server", "", "", "")
        note = saved["notice"]
        assert "http://" in note and "⚠️" in note
        # A broken model file is a clear error in the chat, not a crash.
        h.save_assistant(1, "Old", "", "", "", "", "", "", 0.2, "gguf:other.gguf")
        with pytest.raises(ModelError, match="could not be loaded"):
            services.models.for_assistant(services.repo.get_assistant(1).model)
    finally:
        services.close()


def test_unreachable_server_is_a_plain_error():
    llm = OpenAICompatibleLLM("http://127.0.0.1:9/v1", "m", timeout_s=5)
    with pytest.raises(ModelError, match="could not be reached"):
        list(llm.stream_chat([{"role": "user", "content": "hi"}], 0.0, 8))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """``python -m llama_cpp.server`` serving the bundled SmolLM2 on a free local port."""
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extras not installed")
    model = bundled_llm_model()
    assert model is not None
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--model_alias",
                "smollm2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.slow
def test_openai_compatible_backend_streams_from_a_real_server(llama_server):
    llm = OpenAICompatibleLLM(llama_server, "smollm2", context_window=2048)
    pieces = list(
        llm.stream_chat(
            [{"role": "user", "content": "Say the word hello."}], temperature=0.0, max_tokens=16
        )
    )
    assert len(pieces) > 1, "the answer should arrive in several streamed pieces"
    assert "".join(pieces).strip()


@pytest.mark.slow
def test_assistant_answers_through_the_server(tmp_path, llama_server, real_embedder):
    settings = make_settings(tmp_path / "data")
    services = Services.build(settings, embedder=real_embedder, llm=ExtractiveFakeLLM)
    try:
        choice = ModelChoice("server", base_url=llama_server, model="smollm2", context_window=2048)
        h = Handlers(services)
        saved = h.save_assistant(
            None,
            "Served",
            "",
            "",
            "",
            "",
            "",
            "",
            0.0,
            "server",
            llama_server,
            "smollm2",
            "",
            2048,
        )
        aid = saved["current"]
        assert services.repo.get_assistant(aid).model == choice.dumps(), saved["notice"]
        doc = tmp_path / "office.txt"
        doc.write_text(
            "The Lisbon office opens at 8 am on weekdays. Visitors sign in at the front desk.\n"
        )
        services.library.add_file(aid, doc, "office.txt")
        *_, (history, _) = h.chat(aid, "When does the Lisbon office open?", [])
        reply = history[-1]["content"]
        assert "office.txt" in reply and "8 am" in reply
        # The fake default model was not used: the server answered.
        assert not isinstance(services.models.for_assistant(choice.dumps()), ExtractiveFakeLLM)
    finally:
        services.close()
        shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_shared_files_carry_no_api_key_and_cannot_point_at_a_server(fake_services, tmp_path):
    import zipfile

    s = fake_services
    server = ModelChoice("server", base_url="http://model.invalid/v1", model="m", api_key="sk-1")
    a = s.repo.create_assistant(AssistantDraft("Served", model=server.dumps()))
    path = s.bundles.export(a.id, tmp_path / "out")
    with zipfile.ZipFile(path) as z:
        manifest = z.read("manifest.json").decode()
    assert "model.invalid" in manifest and "sk-1" not in manifest
    result = s.bundles.import_file(path)
    imported = s.repo.get_assistant(result.assistant.id)
    assert imported.model == "", "a shared file never sets up a model server by itself"
    assert any("model server" in n for n in result.notes)
    # A local model file choice travels.
    s.repo.update_assistant(
        a.id, AssistantDraft("Served", model=ModelChoice("gguf", file="x.gguf").dumps())
    )
    result = s.bundles.import_file(s.bundles.export(a.id, tmp_path / "out2"))
    assert ModelChoice.parse(s.repo.get_assistant(result.assistant.id).model).file == "x.gguf"


@pytest.mark.slow
def test_a_summary_is_written_through_the_server(
    tmp_path, llama_server, real_embedder, monkeypatch
):
    """Whole-document tasks use the assistant's model like answers do: with a server chosen,
    the summary's overview is asked of the server (the real one, streamed), and what is shown
    is still only the checked key points and overview sentences, each cited."""
    settings = make_settings(tmp_path / "data")
    services = Services.build(settings, embedder=real_embedder, llm=ExtractiveFakeLLM)
    asked: list[int] = []
    real_stream = OpenAICompatibleLLM.stream_chat

    def counted(self, messages, temperature, max_tokens):  # type: ignore[no-untyped-def]
        asked.append(len(messages))
        yield from real_stream(self, messages, temperature, max_tokens)

    monkeypatch.setattr(OpenAICompatibleLLM, "stream_chat", counted)
    try:
        h = Handlers(services)
        saved = h.save_assistant(
            None, "Served", "", "", "", "", "", "", 0.0, "server", llama_server, "smollm2", "", 2048
        )
        aid = saved["current"]
        doc = tmp_path / "office.md"
        doc.write_text(
            "# Office guide\n\n"
            "The Lisbon office opens at 8 am on weekdays. Visitors sign in at the front desk.\n\n"
            "The Porto office opened in 2019 and employs 40 people in software support.\n\n"
            "Both offices close on public holidays and during the last week of December.\n"
        )
        services.library.add_file(aid, doc, "office.md")
        *_, (history, _) = h.chat(aid, "Summarize the office guide", [])
        reply = history[-1]["content"]
        assert asked, "the server was not asked for the overview"
        assert "Key points" in reply and "office.md" in reply
        assert "Lisbon office opens at 8 am" in reply
    finally:
        services.close()
        shutil.rmtree(tmp_path / "data", ignore_errors=True)
