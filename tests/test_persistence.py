"""After a restart everything is there: assistants, documents, indexes, chat history."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, make_settings
from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.backends.vector_index import FaissIndex
from gptbuilder.services import Services
from gptbuilder.ui.handlers import Handlers

FIRST_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, "tests")
    from conftest import make_settings
    from gptbuilder.services import Services
    from gptbuilder.ui.handlers import Handlers

    data_dir, pdf = Path(sys.argv[1]), sys.argv[2]
    services = Services.build(make_settings(data_dir))  # the real backends, as the app uses
    h = Handlers(services)
    aid = h.save_assistant(None, "Aviation", "FAA notices", "Be brief.",
                           "What is an AD?", "", "", "", 0.0)["current"]
    report = list(h.upload(aid, [pdf], None))[-1]["report"]
    assert "✅ added" in report, report
    history, _ = list(h.chat(aid, "What does a flight control law generate?", []))[-1]
    assert "Sources" in history[-1]["content"], history[-1]["content"]
    """
)


@pytest.mark.slow
def test_everything_survives_a_restart_in_a_new_process(tmp_path, pdf_dir, real_embedder):
    data_dir = tmp_path / "data"
    pdf = pdf_dir / "pdfplumber" / "federal-register-2020-17221.pdf"
    subprocess.run(
        [sys.executable, "-c", FIRST_PROCESS, str(data_dir), str(pdf)],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    # A second process (this one) on the same data directory.
    s = Services.build(make_settings(data_dir), embedder=real_embedder, llm=ExtractiveFakeLLM)
    h = Handlers(s)
    [a] = s.repo.list_assistants()
    assert (a.name, a.starters) == ("Aviation", ("What is an AD?",))
    [doc] = s.repo.list_documents(a.id)
    assert (doc.filename, doc.status, doc.pages) == (pdf.name, "ready", 15)
    assert len(s.indexes.get(a.id)) == doc.chunks > 0
    hits = s.answers.retrieve(a.id, "What does a flight control law generate?")
    assert (hits[0].filename, hits[0].page) == (pdf.name, 3)
    history = h.open_assistant(a.id)["chatbot"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert f"{pdf.name}, page" in history[1]["content"].replace("\\", "")
    s.close()


def _services(data_dir: Path) -> Services:
    return Services.build(
        make_settings(data_dir),
        embedder=HashingEmbedder(),
        llm=ExtractiveFakeLLM,
        new_index=FaissIndex,
    )


def _add(s: Services, tmp_path: Path, name: str, text: str) -> int:
    a = s.repo.list_assistants()[0]
    p = tmp_path / name
    p.write_text(text)
    return s.library.add_file(a.id, p, name).document.id


def test_damaged_or_missing_index_is_rebuilt_from_the_database(tmp_path):
    data_dir = tmp_path / "data"
    s = _services(data_dir)
    from gptbuilder.personas.definition import make_draft

    a = s.repo.create_assistant(make_draft("A"))
    _add(s, tmp_path, "otters.txt", "Otters use rocks as tools. Otters hold hands. " * 20)
    n = len(s.indexes.get(a.id))
    s.close()
    index_file = data_dir / "indexes" / f"assistant-{a.id}.faiss"
    assert index_file.exists()

    index_file.write_bytes(b"garbage")
    s = _services(data_dir)
    assert len(s.indexes.get(a.id)) == n
    assert s.answers.retrieve(a.id, "otters tools")
    s.close()

    index_file.unlink()
    s = _services(data_dir)
    assert len(s.indexes.get(a.id)) == n
    s.close()


def test_ingestion_cut_off_midway_is_cleaned_up_on_start(tmp_path):
    """A process that died while ingesting leaves a 'processing' document and maybe vectors
    in the index; the next start removes both and keeps the finished documents."""
    data_dir = tmp_path / "data"
    s = _services(data_dir)
    from gptbuilder.personas.definition import make_draft

    a = s.repo.create_assistant(make_draft("A"))
    _add(s, tmp_path, "done.txt", "Finished document about herons. " * 30)
    done_chunks = len(s.indexes.get(a.id))
    # Simulate the state a crash leaves: document row 'processing', its vectors in the index.
    half = _add(s, tmp_path, "half.txt", "Half written document about cranes. " * 30)
    s.repo.set_document_status(half, "processing")
    s.close()

    s = Services.build(make_settings(data_dir), HashingEmbedder(), ExtractiveFakeLLM, FaissIndex)
    assert [d.filename for d in s.repo.list_documents(a.id)] == ["done.txt"]
    assert len(s.indexes.get(a.id)) == done_chunks
    assert all(h.filename == "done.txt" for h in s.answers.retrieve(a.id, "cranes"))
    s.close()
    settings = make_settings(data_dir)
    stored = [p for p in settings.files_dir.rglob("*") if p.is_file()]
    assert len(stored) == 1, "the half-done file's copy is removed"


KILLED_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, "tests")
    from conftest import make_settings
    from gptbuilder.personas.definition import make_draft
    from gptbuilder.services import Services

    data_dir, small, big = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    s = Services.build(make_settings(data_dir))
    a = s.repo.create_assistant(make_draft("Books"))
    s.library.add_file(a.id, small, small.name)
    print("small done", flush=True)
    said = []

    def progress(fraction, what):
        done = what.startswith("Embedding passages") and int(what.split()[2].split("/")[0])
        if done and not said:  # some passages of the big file are embedded, more to come
            said.append(what)
            print("embedding", flush=True)

    s.library.add_file(a.id, big, big.name, progress)  # killed while this runs
    print("big done", flush=True)
    """
)


@pytest.mark.slow
def test_killing_the_app_mid_ingestion_leaves_a_consistent_state(tmp_path, pdf_dir, real_embedder):
    data_dir = tmp_path / "data"
    small = pdf_dir / "pdfplumber" / "scotus-transcript-p1.pdf"
    big = pdf_dir / "py-pdf-sample-files" / "GeoTopo-komprimiert.pdf"  # 117 pages
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_PROCESS, str(data_dir), str(small), str(big)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "small done"
        # Killed in the middle of embedding the big file (its first batch is done).
        assert proc.stdout.readline().strip() == "embedding"
        proc.kill()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, "the process was killed before it finished"

    s = Services.build(make_settings(data_dir), embedder=real_embedder, llm=ExtractiveFakeLLM)
    [a] = s.repo.list_assistants()
    docs = s.repo.list_documents(a.id)
    assert [d.filename for d in docs] == [small.name], "the half-done file is absent"
    index = s.indexes.get(a.id)
    ids, _ = s.repo.passages.chunk_vectors([docs[0].id])
    assert index.ids() == set(ids.tolist()), "the index matches the database"
    stored = [p.name for p in s.settings.files_dir.rglob("*") if p.is_file()]
    assert stored == [docs[0].sha256]
    # And the app keeps working: the big file can be added again.
    r = s.library.add_file(a.id, big, big.name)
    assert r.document.status == "ready" and r.document.pages == 117
    s.close()
