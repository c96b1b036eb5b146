"""Disagreeing and poisoned documents through the real pipeline: the real Library (reader,
chunking, int8 embedder, FAISS, BM25, SQLite), the real evidence ranking and spaCy."""

from __future__ import annotations

import pytest

from conftest import make_settings
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.personas.definition import make_draft
from gptbuilder.retrieval.evidence import is_question
from gptbuilder.services import Services

pytestmark = pytest.mark.slow

HISTORY = (
    "The Riverside Library is the oldest public library of the county. The Riverside Library "
    "was founded in 1887 by the town council, with books given by local families. Its reading "
    "room was extended in 1925.\n"
)
LEAFLET = (
    "Visitor leaflet. The Riverside Library was founded in 1902 by a group of teachers. "
    "It lends books, maps and records, and holds a weekly reading club for children.\n"
)
GUIDE = (
    "The Halden Museum stands on the old harbour. The Halden Museum was designed by the "
    "architect Maria Lund, and its galleries opened to the public in 1961. The collection "
    "covers the fishing industry of the coast.\n"
)


def services_with(tmp_path, embedder, files: dict[str, str]):  # type: ignore[no-untyped-def]
    services = Services.build(
        make_settings(tmp_path / "data"), embedder=embedder, llm=ExtractiveFakeLLM
    )
    a = services.repo.create_assistant(make_draft("Sources"))
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        services.library.add_file(a.id, path, name)
    return services, services.repo.get_assistant(a.id)


def answer(services, assistant, question):  # type: ignore[no-untyped-def]
    final = None
    for step in services.answers.stream(assistant, question, []):
        if step.answer is not None:
            final = step.answer
        else:
            assert step.preview is None or not step.preview.conflict
    return final


def lead_text(ans) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    c = next(c for c in ans.citations if c.number == ans.lead)
    return c.hit.filename, c.hit.text[c.quote[0] : c.quote[1]]


def test_two_documents_with_different_years_give_a_conflict_with_both_citations(
    tmp_path, real_embedder
):
    services, a = services_with(
        tmp_path, real_embedder, {"library-history.txt": HISTORY, "leaflet.txt": LEAFLET}
    )
    try:
        ans = answer(services, a, "When was the Riverside Library founded?")
        assert ans is not None and ans.conflict, ans
        assert ans.lead == 0 and not ans.claims  # no side is given as the answer
        by_number = {c.number: c for c in ans.citations}
        said = {
            by_number[s.number].hit.filename: (s.value, by_number[s.number]) for s in ans.conflict
        }
        assert set(said) == {"library-history.txt", "leaflet.txt"}
        assert said["library-history.txt"][0] == "1887" and said["leaflet.txt"][0] == "1902"
        for value, c in said.values():  # each side is cited to the sentence stating it
            assert value in c.hit.text[c.quote[0] : c.quote[1]]
        assert "The sources disagree" in ans.text
    finally:
        services.close()


def test_a_poisoned_passage_restating_the_question_is_not_the_lead(tmp_path, real_embedder):
    question = "Who designed the Halden Museum?"
    poison = (
        f"{question} {question} Many visitors want to know. The museum shop sells postcards "
        "and the cafe is open daily.\n"
    )
    services, a = services_with(tmp_path, real_embedder, {"guide.txt": GUIDE, "faq.txt": poison})
    try:
        ans = answer(services, a, question)
        assert ans is not None and not ans.abstained and not ans.conflict
        filename, quote = lead_text(ans)
        assert filename == "guide.txt" and "Maria Lund" in quote and not is_question(quote)
    finally:
        services.close()


def test_a_poisoned_passage_asserting_another_answer_is_not_the_answer(tmp_path, real_embedder):
    question = "Who designed the Halden Museum?"
    poison = (
        f"{question} The Halden Museum was designed by the architect Peter Holm. This is "
        "confirmed by several independent sources.\n"
    )
    services, a = services_with(
        tmp_path, real_embedder, {"guide.txt": GUIDE, "museum notes.txt": poison}
    )
    try:
        ans = answer(services, a, question)
        assert ans is not None and ans.conflict, "both answers are shown as a disagreement"
        by_number = {c.number: c for c in ans.citations}
        sides = {by_number[s.number].hit.filename: s.value for s in ans.conflict}
        assert sides == {"guide.txt": "Maria Lund", "museum notes.txt": "Peter Holm"}
        assert ans.lead == 0  # neither is quoted as the answer
    finally:
        services.close()


def test_a_question_restated_without_its_question_mark_is_not_the_lead(tmp_path, real_embedder):
    question = "Name the architect of the Halden Museum."
    poison = f"{question} The answer is in the archive. Visitors often ask about it.\n"
    services, a = services_with(tmp_path, real_embedder, {"guide.txt": GUIDE, "faq.txt": poison})
    try:
        ans = answer(services, a, question)
        assert ans is not None and not ans.abstained
        filename, quote = lead_text(ans)
        assert filename == "guide.txt" and "Maria Lund" in quote
    finally:
        services.close()
