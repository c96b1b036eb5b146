"""Whole-document tasks end to end on stored passages, with the fake embedder and model."""
# ruff: noqa: E501

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gptbuilder.tasks.engine import TaskEngine, TaskSettings
from gptbuilder.tasks.model import COMPARE, LIST, SUMMARY, Finished, Point, Progress, Routed
from gptbuilder.types import AssistantDraft

NORMANS = """# Normans

The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III of West Francia.

## Rollo

Rollo was the first ruler of Normandy. In 911 he signed the treaty of Saint-Clair-sur-Epte with Charles the Simple. His descendants ruled the duchy for generations. Richard I of Normandy was his grandson.

## Conquest

In 1066 William the Conqueror led the Norman conquest of England. The Battle of Hastings was fought on 14 October 1066. The conquest cost the kingdom more than $2,000,000 in silver, a chronicler wrote. A smaller campaign in 1071 cost $500.

## Italy

Robert Guiscard conquered southern Italy in the 1050s. The Normans founded the Kingdom of Sicily in 1130 under Roger II. Contact: archive@normans.example.org for copies.
"""

STEAM = """# Steam engines

A steam engine is a heat engine that performs mechanical work using steam as its working fluid. Thomas Newcomen built the first commercial steam engine in 1712. James Watt improved it in 1776 with a separate condenser. Steam engines powered the factories of the Industrial Revolution in England. Rollo is not mentioned here by anyone.
"""


def _add(services, tmp_path: Path, name: str, text: str, assistant_id: int):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return services.library.add_file(assistant_id, path, name).document


@pytest.fixture
def setup(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(AssistantDraft(name="History", temperature=0))
    _add(s, tmp_path, "normans.md", NORMANS, a.id)
    _add(s, tmp_path, "steam_engine.md", STEAM, a.id)
    engine = TaskEngine(s.repo, s.embedder, lambda _a: s.llm(), TaskSettings(summary_points=6))
    return s, a, engine


def _run(engine, a, request, stop=None, **kw):
    route = engine.route(a, request)
    events = list(engine.run(a, route, stop, **kw))
    assert isinstance(events[0], Routed) and isinstance(events[-1], Finished)
    return route, events, events[-1].result


def test_summary_of_one_named_document_cites_every_point(setup):
    s, a, engine = setup
    route, events, result = _run(engine, a, "Summarize the normans document")
    assert route.kind == SUMMARY and len(route.documents) == 1
    assert any(isinstance(e, Progress) for e in events)
    answer = result.answer
    assert answer.claims and all(c.hit.filename == "normans.md" for c in answer.citations)
    for claim in answer.claims:  # every shown point is its cited span, word for word
        cit = answer.citations[claim.number - 1]
        span = cit.hit.text[cit.quote[0] : cit.quote[1]]
        assert " ".join(claim.text.split()) in " ".join(span.split()) or claim.text in span
        assert f"[{claim.number}]" in answer.text
    assert result.coverage.pages_read == result.coverage.pages_with_text == 1
    assert "Read the 1 page with text of 1 document." in answer.text


def test_summary_of_all_knowledge_covers_both_documents(setup):
    s, a, engine = setup
    _, _, result = _run(engine, a, "Give me an overview of everything")
    files = {c.hit.filename for c in result.answer.citations}
    assert files == {"normans.md", "steam_engine.md"}
    assert result.coverage.documents == 2


def test_list_every_year_is_complete_sorted_and_cited(setup):
    s, a, engine = setup
    _, events, result = _run(engine, a, "List every year mentioned in the normans document")
    years = [t for t, _, _ in result.items]
    assert years == ["911", "1050s", "1066", "1071", "1130"]
    assert result.found == 5 and result.in_documents == 1
    assert "Found 5 years in 1 document" in result.answer.text
    assert sum(isinstance(e, Point) for e in events) == 5


def test_list_amounts_over_a_limit(setup):
    _, a, engine = setup
    _, _, result = _run(engine, a, "List all the amounts over $1,000")
    assert [t for t, _, _ in result.items] == ["$2,000,000"]


def test_which_documents_mention_a_term(setup):
    _, a, engine = setup
    _, _, result = _run(engine, a, "Which documents mention Rollo?")
    assert result.found == 2  # the steam article names Rollo once too
    normans = next(i for i in result.items if i[1] == "normans.md")
    assert normans[2] == 1
    assert "2 of 2 documents mention “Rollo”" in result.answer.text


def test_list_is_cut_with_a_note(setup):
    s, a, _ = setup
    engine = TaskEngine(s.repo, s.embedder, lambda _a: s.llm(), TaskSettings(list_items=2))
    _, _, result = _run(engine, a, "List every year")
    assert result.found > 2 and result.shown == 2 and len(result.answer.claims) == 2
    assert "The list was cut" in result.answer.text


def test_emails_and_headings(setup):
    _, a, engine = setup
    _, _, result = _run(engine, a, "List all e-mail addresses")
    assert [t for t, _, _ in result.items] == ["archive@normans.example.org"]
    _, _, result = _run(engine, a, "List every section heading of the normans document")
    assert [t for t, _, _ in result.items] == ["Normans", "Rollo", "Conquest", "Italy"]


def test_compare_two_documents_cites_both(setup):
    _, a, engine = setup
    route, _, result = _run(engine, a, "Compare normans and steam engine")
    assert route.kind == COMPARE and len(route.documents) == 2
    files = {c.hit.filename for c in result.answer.citations}
    assert files == {"normans.md", "steam_engine.md"}


def test_a_stopped_task_says_what_was_not_read(setup):
    _, a, engine = setup
    stop = threading.Event()
    stop.set()
    _, _, result = _run(engine, a, "Summarize everything", stop)
    assert result.stopped and result.coverage.pages_read == 0
    assert "stopped before they were read" in result.answer.text
    assert not result.answer.claims


def test_notes_are_reused_for_the_same_version(setup):
    _, a, engine = setup
    _run(engine, a, "Summarize the normans document")
    misses = engine.notes.misses
    _run(engine, a, "Summarize the normans document")
    assert engine.notes.misses == misses and engine.notes.hits > 0


def test_list_kind_can_be_set_explicitly(setup):
    _, a, engine = setup
    route = engine.route(a, "Rollo", kind=LIST)
    assert route.kind == LIST and route.explicit


def test_a_mention_is_the_whole_word_or_its_plural_never_a_longer_word():
    from gptbuilder.tasks.listing import _mentions

    def found(text: str, term: str) -> list[str]:
        return [t for _, _, t in _mentions(text, term, whole_sentence=False)]

    assert found("Protestant churches protested; protests grew.", "protest") == ["protests"]
    assert found("He commissioned the Commission.", "commission") == ["Commission"]
    assert found("Two treaties and the Treaty of Rome.", "treaty") == ["treaties", "Treaty"]
    assert found("the class and the classes", "class") == ["class", "classes"]
    assert found("World Wars and World War II", "World War") == ["World Wars", "World War"]


def test_paragraph_starts_after_a_blank_line_a_heading_or_a_short_last_line():
    from gptbuilder.tasks.passages import paragraph_starts

    md = "# Title\n\nFirst paragraph. Second sentence.\n\nNext one."
    assert [md[k : k + 5] for k in sorted(paragraph_starts(md))] == ["# Tit", "First", "Next "]
    pdf = (
        "A long line of text that goes on and on and on for a while and\n"
        "ends here.\n"
        "New paragraph on a line as long as the first one of the page is\n"
        "and it goes on.\n"
    )
    assert [pdf[k : k + 5] for k in sorted(paragraph_starts(pdf))] == ["A lon", "New p"]


def test_years_are_not_phone_numbers_model_numbers_sections_or_addresses():
    """From the Federal Register notice in the shared PDFs: none of these numbers is a year."""
    from gptbuilder.tasks.listing import _years

    not_years = [
        "applies to all The Boeing Company Model 737–8 and 737–9 (737 MAX) airplanes",
        "• Fax: 202–493–2251.",
        "call 206–231–3195. It is also available",
        "telephone 562–797–1717; internet",
        "Freedom of Information Act (FOIA) (5 U.S.C. 552), CBI is exempt",
        "Authority: 49 U.S.C. 106(g), 40113, 44701.",
        "Room W12–140, 1200 New Jersey Avenue SE, Washington, DC",
    ]
    for text in not_years:
        assert [v for *_, v in _years(text)] == [], text
    years = {
        "The war lasted from 1939–1945 in Europe.": ["1939", "1945"],
        "Rollo was baptised in 911 and died c. 931.": ["911", "931"],
        "This design standard was promulgated in 2007 and": ["2007"],
    }
    for text, want in years.items():
        assert [v for *_, v in _years(text)] == want, text


def test_running_headers_contents_lines_and_headings_are_not_key_points():
    """Seen on the shared PDFs: a Federal Register page header, a table of contents' dot
    leaders and a chapter heading with its page number were picked as "key points"."""
    from datetime import datetime

    import numpy as np

    from gptbuilder.tasks.notes import DocumentStats, section_notes, sections
    from gptbuilder.tasks.passages import DocumentText, Passage
    from gptbuilder.types import Document, Hit

    header = (
        "47{n}05 Federal Register / Vol. 85, No. 152 / Thursday, August 6, 2020 / Proposed Rules"
    )
    bodies = [
        "Chemotherapy....................................... 39\n\n"
        "The FAA estimates that this proposed rule affects 73 airplanes of U.S. registry.",
        "Caring for someone with cancer 65\n\n"
        "The agency will consider all comments received by the closing date for comments.",
        "Most people will have chemotherapy for three to six months in the hospital.",
    ]
    when = datetime(2026, 1, 1)
    doc = Document(1, 1, "fr.pdf", "a" * 64, 1000, "application/pdf", 3, 3, "ready", None, when)
    passages = []
    for page, body in enumerate(bodies, 1):
        text = header.format(n=page) + "\n\n" + body
        hit = Hit(page, 1, "fr.pdf", page, 0, len(text), text, 0.0, sha256="a" * 64)
        passages.append(Passage(hit, page - 1, None))
    d = DocumentText(doc, "v", tuple(passages), np.zeros((0, 0), np.float32), 3, (), ())
    assert d.boilerplate(header.format(n=7)) and d.boilerplate(bodies[0].split("\n")[0])
    assert not d.boilerplate(bodies[2])
    # two words of the page glued to the header's line by the text extraction
    assert d.boilerplate(header.format(n=9) + " this AD")
    assert not d.boilerplate(header.format(n=9) + " " + bodies[1].split("\n")[-1])
    stats = DocumentStats(d)
    shown = [n.sentence.text(d) for s in sections(d) for n in section_notes(d, s, stats)]
    assert shown and not [t for t in shown if "Federal Register" in t or "...." in t]
    assert not [t for t in shown if t.startswith("Caring for someone")], shown


def test_a_sentence_cut_by_a_passage_end_gives_way_to_the_whole_sentence():
    """Passages overlap, so a sentence near a passage's end is a note of two sections; in one it
    was cut where the passage ends ("In what became known as the St."). The cut one scored more
    per word and was shown in the whole sentence's place."""
    from types import SimpleNamespace

    from gptbuilder.tasks.notes import Note
    from gptbuilder.tasks.passages import Sentence
    from gptbuilder.tasks.summary import pick

    doc = SimpleNamespace(document=SimpleNamespace(id=1))
    whole = Note(Sentence(1, 0, 120, 1, (1, 500)), 0.9, 20, frozenset("a b c".split()), 1, True)
    cut = Note(Sentence(0, 700, 732, 1, (1, 500)), 0.5, 7, frozenset("a b".split()), 0, True)
    other = Note(Sentence(1, 130, 200, 1, (1, 630)), 0.6, 10, frozenset("x y".split()), 1, True)
    chosen = pick([(doc, cut), (doc, whole), (doc, other)], 100, 10)  # type: ignore[list-item]
    assert [n for _, n in chosen] == [whole, other]
