"""Routing of requests (fact, summary, list, compare), follow-ups rewritten, lists' targets."""
# ruff: noqa: E501

from __future__ import annotations

from datetime import datetime

import pytest

from gptbuilder.tasks.listing import DATE, MENTIONS, MONEY, PERSON, TERM, YEAR, _years, wanted
from gptbuilder.tasks.model import COMPARE, FACT, LIST, SUMMARY, Coverage, Skipped, page_ranges
from gptbuilder.tasks.route import route
from gptbuilder.types import ChatMessage, Document


def _doc(i: int, name: str) -> Document:
    return Document(i, 1, name, "x" * 64, 1, "text/markdown", 1, 1, "ready", None, datetime.now())


DOCS = [_doc(1, "Normans.md"), _doc(2, "Steam_engine.md"), _doc(3, "annual-report-2020.pdf")]


@pytest.mark.parametrize(
    ("request_", "kind"),
    [
        ("Summarize the essay on the Normans", SUMMARY),
        ("What is this document about?", SUMMARY),
        ("List all the authors of the paper", LIST),
        ("Which documents mention Rollo?", LIST),
        ("every deadline", LIST),
        ("Compare the Normans and the Steam engine articles", COMPARE),
        ("Who was the first duke of Normandy?", FACT),
        ("How many people died in the battle?", FACT),
    ],
)
def test_kind_from_the_words(request_, kind):
    assert route(request_).kind == kind


def test_kind_set_explicitly_wins():
    r = route("Who was Rollo?", kind=SUMMARY)
    assert r.kind == SUMMARY and r.explicit
    with pytest.raises(ValueError):
        route("x", kind="poem")


def test_named_documents_in_order():
    r = route("Compare steam engine and normans", documents=DOCS)
    assert r.documents == (2, 1)
    assert route("Summarize the annual report 2020", documents=DOCS).documents == (3,)


def test_follow_up_pronoun_is_rewritten_with_the_last_request():
    history = [
        ChatMessage("user", "Summarize the essay on the Normans"),
        ChatMessage("assistant", "…"),
    ]
    r = route("who wrote it?", history)
    assert r.rewritten and r.question == "Who wrote the essay on the Normans?"
    assert r.kind == FACT


def test_follow_up_ordinal_takes_the_item_of_the_last_list():
    history = [
        ChatMessage("user", "List all the dukes of Normandy"),
        ChatMessage("assistant", "Found 3:\n- Rollo [1]\n- William Longsword [2]\n- Richard I [3]"),
    ]
    r = route("and the second one?", history)
    assert r.rewritten and "William Longsword" in r.question and r.kind == FACT


def test_what_about_keeps_the_kind_of_the_last_request():
    history = [ChatMessage("user", "Summarize the Normans document"), ChatMessage("assistant", "…")]
    r = route("What about steam engine?", history, DOCS)
    assert r.kind == SUMMARY and r.documents == (2,)


def test_no_history_no_rewrite():
    r = route("who wrote it?")
    assert not r.rewritten and r.question == "who wrote it?"


def test_list_targets():
    assert wanted("authors", "List all the authors of Y").what == PERSON
    assert wanted("authors", "List all the authors of Y").first_page
    money = wanted("amounts over $1,000", "List all the amounts over $1,000")
    assert money.what == MONEY and money.low == 1000.0
    assert wanted("years", "List every year").what == YEAR
    assert wanted("deadline", "every deadline").what == DATE
    assert wanted("deadline", "every deadline").context
    assert wanted("Rollo", "Which documents mention Rollo?").what == MENTIONS
    assert wanted("battles", "list all battles").what == TERM


def test_years_need_a_cue_and_skip_quantities():
    text = "In 911 he landed with 300 ships and in 300 ships more. The war of 1066 cost 1500 men."
    assert [y for _, _, y in _years(text)] == ["911", "1066"]


def test_coverage_says_which_pages_were_not_read_and_why():
    c = Coverage(1, 38, 40, 42, (Skipped("a.pdf", (3, 4, 9), "stopped before they were read"),))
    assert c.describe() == (
        "Read 38 of 40 pages with text of 1 document. Not read: a.pdf pp. 3–4, 9: "
        "stopped before they were read."
    )
    assert page_ranges([1, 2, 3, 7]) == "pp. 1–3, 7"
