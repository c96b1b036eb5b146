"""The answer slot and disagreements between documents (spaCy's real pipeline, small
hand-written passages), the question rule of the evidence ranking, and how a disagreement is
shown and saved."""

from __future__ import annotations

from markdown_it import MarkdownIt

from gptbuilder.retrieval.claims import analyzer
from gptbuilder.retrieval.conflicts import (
    DATES,
    PEOPLE,
    PLACES,
    answer_types,
    find_conflict,
    other_documents,
    same_value,
    slot_values,
)
from gptbuilder.retrieval.evidence import Evidence, is_question
from gptbuilder.types import Answer, Citation, ConflictSide, Hit
from gptbuilder.ui.render import render_answer
from gptbuilder.ui.saved import render_stored_answer
from gptbuilder.usecases.saved import answer_text_for_history, citations_to_json

BRIDGE_A = "The Harbour Bridge was opened in 1932 after eight years of work."
BRIDGE_B = "The Harbour Bridge was opened in 1937, according to the city council."
BRIDGE_SAME = "After eight years of work, the Harbour Bridge opened to traffic in 1932."
QUESTION = "When was the Harbour Bridge opened?"


def hit(chunk: int, doc: int, text: str, name: str = "") -> Hit:
    return Hit(chunk, doc, name or f"doc{doc}.txt", 1, 0, len(text), text, 0.5)


def whole(i: int, h: Hit, score: float) -> Evidence:
    return Evidence(i, 0, len(h.text), score)


def conflict(question: str, *texts_docs: tuple[str, int], scores=None):  # type: ignore[no-untyped-def]
    hits = [hit(i + 1, doc, text) for i, (text, doc) in enumerate(texts_docs)]
    scores = scores or [0.7 - 0.01 * i for i in range(len(hits))]
    ev = [whole(i, h, s) for i, (h, s) in enumerate(zip(hits, scores, strict=True))]
    return hits, find_conflict(question, hits, ev, analyzer())


def test_answer_slot_follows_the_question_word():
    assert answer_types("Who founded the college?") == PEOPLE
    assert answer_types("When was the bridge opened?") >= DATES
    assert "CARDINAL" in answer_types("How many students enrolled in 1900?")
    assert answer_types("In what year was the treaty signed?") >= DATES
    assert answer_types("Which country did the Normans invade?") == PLACES
    assert "PERCENT" in answer_types("What percentage of the vote did they win?")
    assert answer_types("Name one country that banned driving on Sundays.") == PLACES
    assert answer_types("Name a luxury division of Toyota.") is not None
    assert answer_types("Why did the engine fail?") is None
    assert answer_types("Is the museum open on Mondays?") is None


def test_two_documents_giving_different_years_disagree():
    hits, sides = conflict(QUESTION, (BRIDGE_A, 1), (BRIDGE_B, 2))
    assert [s.value.text for s in sides] == ["1932", "1937"]
    assert {hits[s.hit_index].document_id for s in sides} == {1, 2}
    for s in sides:  # each side is cited to the sentence that states its value
        assert s.value.text in hits[s.hit_index].text[s.start : s.end]


def test_the_same_answer_worded_differently_is_no_disagreement():
    assert conflict(QUESTION, (BRIDGE_A, 1), (BRIDGE_SAME, 2))[1] == ()
    nlp = analyzer()
    a = slot_values(nlp, "It was built in 1066.", 0, 21, DATES, "When was it built?")[0]
    b = slot_values(nlp, "It was built in the year 1066.", 0, 30, DATES, "When was it built?")[0]
    assert same_value(a, b)
    c = slot_values(nlp, "Duke Rollo led them.", 0, 20, PEOPLE, "Who led them?")[0]
    d = slot_values(nlp, "They were led by Rollo.", 0, 23, PEOPLE, "Who led them?")[0]
    assert same_value(c, d)


def test_passages_of_one_document_do_not_count_as_two_sources():
    assert conflict(QUESTION, (BRIDGE_A, 1), (BRIDGE_B, 1))[1] == ()


def test_weak_or_off_question_sentences_are_no_side():
    # The second sentence scores far below the best: not well supported.
    assert conflict(QUESTION, (BRIDGE_A, 1), (BRIDGE_B, 2), scores=[0.8, 0.35])[1] == ()
    # Another kind of value than the slot asks for (a name, for "when").
    other = "The Harbour Bridge was opened by Jack Lang, the premier."
    assert conflict(QUESTION, (BRIDGE_A, 1), (other, 2))[1] == ()
    # Values the question itself names are not answers.
    named = "The bridge of 1932 was opened by Jack Lang."
    assert conflict("Who opened the bridge of 1932?", (named, 1), (BRIDGE_A, 2))[1] == ()


def test_a_restated_question_is_no_side_and_no_evidence():
    restated = f"{QUESTION} It was opened in 1937."
    hits = [hit(1, 1, BRIDGE_A), hit(2, 2, restated)]
    q_end = len(QUESTION)
    ev = [
        Evidence(1, 0, q_end, 0.99),
        whole(0, hits[0], 0.7),
        Evidence(1, q_end + 1, len(restated), 0.6),
    ]
    sides = find_conflict(QUESTION, hits, ev, analyzer())
    assert [s.value.text for s in sides] == ["1932", "1937"]
    assert all(not is_question(hits[s.hit_index].text[s.start : s.end]) for s in sides)
    assert is_question("Who led the troops?") and is_question('He asked: "why?"')
    assert not is_question("The troops were led by Guy.")


def test_other_documents_are_looked_at_beyond_the_top_passages():
    top = [hit(1, 1, "a"), hit(2, 1, "b")]
    more = [hit(3, 1, "c"), hit(4, 2, "d"), hit(5, 2, "e"), hit(6, 3, "f")]
    assert [h.chunk_id for h in other_documents(more, top)] == [4, 5, 6]
    assert [h.chunk_id for h in other_documents(more, top, per_document=1)] == [4, 6]
    assert [h.chunk_id for h in other_documents(more, top[:1])] == [3, 4, 5, 6]


def conflict_answer() -> Answer:
    a = Hit(1, 1, "bridge-history.pdf", 3, 0, len(BRIDGE_A), BRIDGE_A, 0.9, sha256="ab" * 32)
    b = Hit(7, 2, "council notes.txt", 7, 0, len(BRIDGE_B), BRIDGE_B, 0.8)
    cits = (Citation(1, a, (0, len(BRIDGE_A))), Citation(2, b, (0, len(BRIDGE_B))))
    return Answer(
        "The sources disagree: bridge-history.pdf, page 3, says 1932 [1]; council notes.txt, "
        "page 7, says 1937 [2]. Check which is right.",
        cits,
        (a, b),
        conflict=(ConflictSide(1, "1932"), ConflictSide(2, "1937")),
    )


def test_a_disagreement_is_shown_with_both_sides_cited():
    out = render_answer(conflict_answer())
    assert "The sources disagree" in out and "Check which is right" in out
    assert "bridge-history.pdf, page 3" in out and "council notes.txt, page 7" in out
    assert "“1932”" in out and "“1937”" in out
    assert "/gptb/passage/1/1?start=0" in out and "/gptb/passage/2/7?start=0" in out
    assert "**Sources**" in out and "sha256" in out  # provenance, as for every answer
    assert "From the documents, word for word" not in out  # no side is the answer
    html = MarkdownIt("commonmark").render(out)
    assert "<img" not in html and "<script" not in html


def test_a_disagreement_survives_saving_and_restoring():
    answer = conflict_answer()
    saved = citations_to_json(answer)
    again = render_stored_answer(answer_text_for_history(answer), saved)
    assert again == render_answer(answer)
    assert "The sources disagree" in answer_text_for_history(answer)
