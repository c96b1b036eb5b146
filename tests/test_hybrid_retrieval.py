"""Hybrid retrieval through the real stack: real embedding model, real FAISS, real BM25."""

from pathlib import Path

import pytest

from conftest import make_settings
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.backends.vector_index import FaissIndex
from gptbuilder.personas.definition import make_draft
from gptbuilder.search.hybrid import HybridRetriever
from gptbuilder.services import Services

pytestmark = pytest.mark.slow

# A maintenance manual: every section names spare parts by code. The question below is a bare
# code, which a sentence embedding cannot tell apart from its look-alikes.
SECTIONS = [
    (
        "Intake",
        "The intake assembly draws water through a coarse strainer before the pump. Inspect "
        "the strainer weekly and remove leaves, sand and shells by hand. The strainer basket "
        "is part XK-4417 and the lid gasket is part XK-4174. Never run the pump dry, because "
        "the seal overheats within a minute.",
    ),
    (
        "Filters",
        "The cartridge filter removes fine particles after the pump. Rinse the cartridge with "
        "a garden hose when the pressure gauge reads ten units above its clean reading. A "
        "spare cartridge is part XK-7144 and its O-ring is part XK-1447. Replace the cartridge "
        "every two seasons.",
    ),
    (
        "Heater",
        "The heater warms the water with a titanium exchanger. It starts only when the flow "
        "switch, part XK-4714, reports enough flow. The thermostat sensor, part XK-7414, sits "
        "in the return line. Descale the exchanger once a year with a mild acid.",
    ),
    (
        "Winter storage",
        "Before the first frost, drain the pump, the filter and the heater completely and open "
        "every valve. Store the cartridge indoors, dry. The drain plugs carry rubber washers; "
        "order spare washers under part XK-4471 from your dealer, since old ones crack in the "
        "cold and let the housing leak in spring.",
    ),
    (
        "Electrical",
        "The control box holds the timer and the residual-current breaker. Test the breaker "
        "every month with its test button. The timer module is part XK-1744 and the fuse "
        "holder is part XK-7441. Only a qualified electrician may open the control box.",
    ),
    (
        "Chemistry",
        "Keep the pH between 7.2 and 7.6 and the free chlorine between 1 and 3 ppm. The test "
        "kit refill is part XK-4741. Add chemicals with the pump running and never mix them "
        "in one bucket.",
    ),
]

QUESTION = "XK-4471"
TARGET = "Winter storage"


def manual(tmp_path: Path) -> Path:
    path = tmp_path / "manual.md"
    path.write_text("\n\n".join(f"# {h}\n\n{t}" for h, t in SECTIONS), encoding="utf-8")
    return path


def build(data_dir: Path, embedder) -> Services:
    return Services.build(
        make_settings(data_dir), embedder=embedder, llm=ExtractiveFakeLLM, new_index=FaissIndex
    )


def test_exact_code_found_by_hybrid_not_by_dense_alone(tmp_path, real_embedder):
    s = build(tmp_path / "data", real_embedder)
    a = s.repo.create_assistant(make_draft("Pool"))
    s.library.add_file(a.id, manual(tmp_path), "manual.md")
    k = s.settings.top_k

    dense_only = HybridRetriever(s.repo, s.indexes, None, real_embedder).retrieve(a.id, QUESTION, k)
    assert not any("XK-4471" in h.text for h in dense_only), "dense alone misses the code"
    hits = s.answers.retrieve(a.id, QUESTION)
    assert len(hits) == k
    assert "XK-4471" in hits[0].text, [h.text[:40] for h in hits]
    # Every hit carries both raw scores, for deciding later whether anything relevant was found.
    for h in hits:
        assert h.dense_score is not None and -1.0 <= h.dense_score <= 1.0
        assert h.keyword_score is not None and h.keyword_score >= 0.0
        assert 0.0 <= h.score <= 1.0
    # It won on its words ("4471"; "xk" is in every section), not on its meaning.
    assert hits[0].keyword_score > 5 * max(h.keyword_score for h in hits[1:])
    assert hits[0].dense_score < min(h.dense_score for h in dense_only)
    s.close()


def test_removing_a_document_removes_it_from_both_indexes(tmp_path, real_embedder):
    s = build(tmp_path / "data", real_embedder)
    a = s.repo.create_assistant(make_draft("Pool"))
    kept = s.library.add_file(a.id, manual(tmp_path), "manual.md").document
    extra = tmp_path / "otters.txt"
    extra.write_text("Sea otters use rocks as tools to crack shellfish. " * 4, encoding="utf-8")
    gone = s.library.add_file(a.id, extra, "otters.txt").document
    gone_ids, _ = s.repo.passages.chunk_vectors([gone.id])
    assert any(h.document_id == gone.id for h in s.answers.retrieve(a.id, "otters rocks"))

    s.library.remove_document(gone.id)
    gone_set = set(gone_ids.tolist())
    assert not gone_set & s.indexes.get(a.id).ids()
    assert not gone_set & s.keywords.get(a.id).ids()
    assert not s.keywords.search(a.id, "otters rocks shellfish", 100)
    hits = s.answers.retrieve(a.id, "otters rocks shellfish")
    assert hits and all(h.document_id == kept.id for h in hits)
    s.close()


def test_both_indexes_survive_a_restart(tmp_path, real_embedder):
    data_dir = tmp_path / "data"
    s = build(data_dir, real_embedder)
    a = s.repo.create_assistant(make_draft("Pool"))
    s.library.add_file(a.id, manual(tmp_path), "manual.md")
    before = s.answers.retrieve(a.id, QUESTION)
    s.close()
    bm25 = data_dir / "indexes" / f"assistant-{a.id}.bm25"
    written = {p.name: p.stat().st_mtime_ns for p in bm25.iterdir()}

    s = build(data_dir, real_embedder)
    after = s.answers.retrieve(a.id, QUESTION)
    assert [h.chunk_id for h in after] == [h.chunk_id for h in before]
    assert after[0].score == pytest.approx(before[0].score)
    assert {p.name: p.stat().st_mtime_ns for p in bm25.iterdir()} == written, "loaded, not rebuilt"
    s.close()


def test_questions_are_embedded_with_few_threads_and_batches_with_all(torch_embedder):
    import threading

    import torch

    seen = {}

    def run() -> None:  # a fresh thread, like a web request handler
        torch_embedder.embed(["What does the heater need to start?"])
        seen["question"] = torch.get_num_threads()
        torch_embedder.embed([f"passage number {i}" for i in range(40)])
        seen["batch"] = torch.get_num_threads()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen == {"question": torch_embedder.query_threads, "batch": torch_embedder.batch_threads}
