"""Whole-document tasks with the real embedder, model and a real PDF (slow)."""

from __future__ import annotations

from gptbuilder.retrieval.claims import analyzer, check_in_passage
from gptbuilder.tasks.engine import TaskEngine
from gptbuilder.tasks.model import Finished, Progress
from gptbuilder.types import AssistantDraft


def test_summary_of_a_real_pdf_reads_every_page_and_every_point_holds(real_services, shared_data):
    s = real_services
    a = s.repo.create_assistant(AssistantDraft(name="Paper", temperature=0))
    pdf = shared_data / "trust" / "multi-column.pdf"
    doc = s.library.add_file(a.id, pdf, pdf.name).document
    engine = TaskEngine(s.repo, s.embedder, lambda _a: s.llm())
    route = engine.route(a, "Summarize the multi column document")
    assert route.documents == (doc.id,)
    events = list(engine.run(a, route))
    assert any(isinstance(e, Progress) for e in events)
    result = events[-1].result if isinstance(events[-1], Finished) else None
    assert result is not None and result.coverage.share == 1.0
    assert result.answer.claims
    nlp = analyzer()
    for claim in result.answer.claims:  # overview sentences of the model included
        hit = result.answer.citations[claim.number - 1].hit
        assert check_in_passage(claim.text, hit.text, nlp)[0] is not None, claim.text
