"""An assistant file through the real stack (real PDF reader, MiniLM, FAISS, SmolLM2 at
temperature 0): a fresh data folder answers exactly as the original did."""

from __future__ import annotations

import pytest

from conftest import make_settings
from gptbuilder.backends.vector_index import FaissIndex
from gptbuilder.personas.definition import make_draft
from gptbuilder.retrieval.prompt import PromptGuard
from gptbuilder.services import Services

pytestmark = pytest.mark.slow

FEDERAL = "federal-register-2020-17221.pdf"
QUESTIONS = [
    "What does a flight control law generate?",
    "Which airplanes does the directive apply to?",
]


def answers(s: Services, assistant_id: int) -> list[tuple]:
    a = s.repo.get_assistant(assistant_id)
    out = []
    for q in QUESTIONS:
        final = list(s.answers.stream(a, q, []))[-1].answer
        assert final is not None
        cited = [
            (c.number, c.hit.filename, c.hit.page, c.hit.char_start, c.hit.char_end, c.hit.text)
            for c in final.citations
        ]
        sources = [(h.filename, h.page, h.char_start, h.text) for h in final.sources]
        out.append((final.text, cited, sources))
    return out


def fresh(tmp_path, name, real_embedder, real_llm, **overrides) -> Services:
    return Services.build(
        make_settings(tmp_path / name, **overrides),
        embedder=real_embedder,
        llm=lambda: real_llm,
        new_index=FaissIndex,
    )


def test_round_trip_answers_and_citations_are_identical(
    real_services, real_embedder, real_llm, pdf_dir, tmp_path, monkeypatch
):
    # The fence tag and canary are random for every request, by design (a document cannot
    # guess them), and SmolLM2 words its answer differently around other random letters. Fixed
    # here, so that everything else that decides an answer must come through the file intact.
    monkeypatch.setattr(
        PromptGuard, "new", classmethod(lambda cls, datamark=False: cls("5eed", "C5EED", datamark))
    )
    s = real_services
    a = s.repo.create_assistant(
        make_draft("Aviation", "FAA notices", "Be brief.", ["What is an AD?"], 0.0)
    )
    for folder, name in [("pdfplumber", FEDERAL), ("py-pdf-sample-files", "pdflatex-4-pages.pdf")]:
        s.library.add_file(a.id, pdf_dir / folder / name, name)
    before = answers(s, a.id)
    assert any(cited for _, cited, _ in before), "the original answers cite their sources"
    path = s.bundles.export(a.id, tmp_path / "out", include_index=True)

    other = fresh(tmp_path, "fresh", real_embedder, real_llm)
    result = other.bundles.import_file(path)
    assert result.notes == () and result.vectors_imported == 2, "the included index is reused"
    b = result.assistant
    assert (b.name, b.starters, b.temperature) == ("Aviation", ("What is an AD?",), 0.0)
    assert answers(other, b.id) == before
    other.close()

    # Other passage settings here: the index cannot be reused, the documents are re-indexed.
    smaller = fresh(tmp_path, "smaller", real_embedder, real_llm, chunk_size=500, chunk_overlap=80)
    result = smaller.bundles.import_file(path)
    assert result.vectors_imported == 0 and "other settings" in result.notes[0]
    docs = smaller.repo.list_documents(result.assistant.id)
    assert [d.status for d in docs] == ["ready", "ready"]
    hits = smaller.answers.retrieve(result.assistant.id, QUESTIONS[0])
    assert (hits[0].filename, hits[0].page) == (FEDERAL, 3)
    smaller.close()
