"""Citation mapping: markers become numbered sources only when they are real and supported."""

from gptbuilder.language import split_sentences
from gptbuilder.retrieval.cite import resolve_citations
from gptbuilder.types import Hit


def hit(i, text, page=1, name="doc.pdf"):
    return Hit(i, 1, name, page, 0, len(text), text, 1.0)


HITS = [
    hit(10, "The Eiffel Tower is 330 metres tall and stands in Paris.", page=4),
    hit(11, "Photosynthesis turns sunlight, water and carbon dioxide into sugar.", page=9),
]


def test_valid_supported_marker_is_kept():
    a = resolve_citations("The Eiffel Tower is 330 metres tall [1].", HITS)
    assert a.text == "The Eiffel Tower is 330 metres tall [1]."
    assert [(c.number, c.hit.page) for c in a.citations] == [(1, 4)]


def test_marker_beyond_the_sources_is_never_shown():
    a = resolve_citations("Something unrelated entirely happened yesterday [7].", HITS)
    assert "[7]" not in a.text
    assert a.citations == ()


def test_wrong_marker_is_repointed_to_the_supporting_source_and_renumbered():
    a = resolve_citations("Photosynthesis turns sunlight and water into sugar [1].", HITS)
    assert [c.hit.chunk_id for c in a.citations] == [11]
    assert a.text.endswith("[1].")  # renumbered: the first citation shown is [1]


def test_uncited_sentence_gets_its_supporting_source():
    a = resolve_citations(
        "Photosynthesis makes sugar from sunlight. The tower in Paris is 330 metres tall.", HITS
    )
    assert [c.hit.chunk_id for c in a.citations] == [11, 10]
    assert "sunlight [1]." in a.text and "tall [2]." in a.text


def test_unsupported_sentence_gets_no_citation():
    a = resolve_citations("Bananas are rich in potassium and grow in tropical climates [2].", HITS)
    assert a.citations == ()
    assert "[" not in a.text


def test_multiple_markers_and_source_words():
    a = resolve_citations(
        "The Eiffel Tower stands in Paris [Source 1, 2]. Photosynthesis makes sugar [2].", HITS
    )
    assert [c.number for c in a.citations] == [1, 2]
    assert "[2]" in a.text and "Source" not in a.text


def test_no_hits_means_no_citations():
    a = resolve_citations("I do not know [1].", [])
    assert a.citations == () and "[1]" not in a.text


def test_split_sentences_keeps_all_text():
    text = "One. Two! Three?\nFour without stop"
    assert "".join(split_sentences(text)) == text


def test_abbreviations_do_not_end_sentences():
    text = "It applies to Pilatus Aircraft Ltd. Model PC-12 planes. Dr. J. Smith agreed [1]."
    assert split_sentences(text) == [
        "It applies to Pilatus Aircraft Ltd. Model PC-12 planes. ",
        "Dr. J. Smith agreed [1].",
    ]
    # a time of day: "Deliver … between 9 a.m" was shown as a point, cut short
    hours = "Deliver it between 9 a.m. and 5 p.m., Monday to Friday. Call first."
    assert split_sentences(hours) == [
        "Deliver it between 9 a.m. and 5 p.m., Monday to Friday. ",
        "Call first.",
    ]


def test_only_citable_passages_are_cited_and_the_rest_is_left_out():
    text = (
        "The Eiffel Tower is 330 metres tall [2]. "
        "Photosynthesis turns sunlight and water into sugar [2]. Yes [2]."
    )
    a = resolve_citations(text, HITS, citable=[True, False])
    # The first sentence is re-pointed to the citable passage that supports it; the second
    # is supported only by a passage that may not be cited, so it goes (and is counted);
    # the short one keeps no marker that points outside the citable passages.
    assert a.text == "The Eiffel Tower is 330 metres tall [1]. Yes."
    assert [c.hit.chunk_id for c in a.citations] == [10]
    assert a.dropped == 1


def test_a_question_in_the_answer_is_never_shown_as_a_claim():
    """A small model often repeats the user's question; it matches the passage's words, but
    it is no claim of the documents."""
    a = resolve_citations(
        "Question: How tall is the Eiffel Tower [1]? The Eiffel Tower is 330 metres tall [1].",
        HITS,
    )
    assert a.text == "The Eiffel Tower is 330 metres tall [1]."
    assert a.dropped == 1
    only_question = resolve_citations("“How tall is the Eiffel Tower in Paris [1]?”", HITS)
    assert only_question.text == "" and only_question.citations == ()


def test_a_number_with_another_unit_is_not_supported():
    """SmolLM2 wrote "2 pm" for a passage's "10 pm", and the passage has a "2" elsewhere."""
    garage = [hit(20, "Visitors park on level 2. The garage closes at 10 PM every night.")]
    wrong = resolve_citations("The garage closes at 2 pm every night [1].", garage)
    assert wrong.text == "" and wrong.dropped == 1
    right = resolve_citations("The garage closes at 10 p.m. every night [1].", garage)
    assert right.text.endswith("[1].") and right.dropped == 0
    level = resolve_citations("Visitors park their cars on level 2 [1].", garage)
    assert level.dropped == 0


def test_a_sentence_the_answer_already_said_is_shown_once():
    """SmolLM2 often says the same thing twice in other words; the repeat adds nothing and is
    not counted as unsupported. A sentence with something new is kept."""
    a = resolve_citations(
        "The Eiffel Tower in Paris is 330 metres tall [1]. The Eiffel Tower is 330 metres tall "
        "[1]. Paris has the Eiffel Tower, 330 metres tall.",
        HITS,
    )
    assert a.text == "The Eiffel Tower in Paris is 330 metres tall [1]."
    assert a.dropped == 0
    b = resolve_citations(
        "The Eiffel Tower is 330 metres tall [1]. The Eiffel Tower stands in Paris [1].", HITS
    )
    assert b.text.count("[1]") == 2
