"""Lists of every … (issue 17, leftovers): an e-mail address that a line end breaks is given
whole or not at all, never cut short; a word in capitals alone is not a person."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from gptbuilder.tasks.compose import Cited
from gptbuilder.tasks.emails import Spelled, emails
from gptbuilder.tasks.engine import TaskEngine
from gptbuilder.tasks.listing import Item, fold_people
from gptbuilder.types import AssistantDraft, Hit


def found_emails(text: str, *elsewhere: str) -> list[str]:
    """The addresses found in ``text``, in a document that also has the ``elsewhere``
    passages (how it spells words and addresses elsewhere decides some joins)."""
    passages = [SimpleNamespace(hit=SimpleNamespace(text=t)) for t in (text, *elsewhere)]
    spelled = Spelled(SimpleNamespace(passages=passages))  # type: ignore[arg-type]
    out = []
    for start, end, address in emails(text, spelled):
        written = text[start:end]
        # The span is the address as written: the same characters, save the line end (and a
        # hyphen that broke a word).
        assert "".join(written.split()).replace("-", "") == address.replace("-", ""), written
        out.append(address)
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Whole addresses stay as they were.
        ("Write to a@b.com or c.d+x@e-f.example.org.", ["a@b.com", "c.d+x@e-f.example.org"]),
        # After the "@", before a dot or the "@": an address never ends or starts there.
        ("Write to john.smith@\nexample.com for help.", ["john.smith@example.com"]),
        ("Write to john.smith\n@example.com for help.", ["john.smith@example.com"]),
        ("Write to john.smith@example\n.com for help.", ["john.smith@example.com"]),
        # The federal notice's: the sentence's stop and the next heading are no part of it.
        (
            "email: 9-FAA-SACO-AD-Inquiry@\nfaa.gov.\nSUPPLEMENTARY INFORMATION:",
            ["9-FAA-SACO-AD-Inquiry@faa.gov"],
        ),
        # A hyphen at the line end before a capital or after one character is the address's
        # own ("9-ANM-…"): never the cut-short "ANM-Seattle-…@faa.gov".
        (
            "Information may be emailed to: 9-\nANM-Seattle-ACO-AMOC-Requests@faa.gov.\n(2)",
            ["9-ANM-Seattle-ACO-AMOC-Requests@faa.gov"],
        ),
        # A domain that cannot end at the line end goes on.
        ("Mail john@example.\ncom today.", ["john@example.com"]),
        ("Mail john@mail.example.\ncom today.", ["john@mail.example.com"]),
        # A dot that ends the sentence ends the address.
        ("Write to doug@faa.gov.\nThe office replies.", ["doug@faa.gov"]),
        ("Write to doug@faa.gov.\nplease reply soon.", ["doug@faa.gov"]),
        ("Acme Inc.\ninfo@acme.com is the address.", ["info@acme.com"]),
        # A line end that is only a space between words joins nothing.
        ("Contact\ninfo@acme.com today.", ["info@acme.com"]),
    ],
)
def test_an_address_broken_by_a_line_end_is_found_whole(text, expected):
    assert found_emails(text) == expected


def test_a_hyphen_the_document_spells_decides_the_join():
    # The document writes the web site with the hyphen: the address keeps it.
    text = "email: Techsupport@pilatus-\naircraft.com; internet: https://\nwww.pilatus-aircraft.com/en."
    assert found_emails(text) == ["Techsupport@pilatus-aircraft.com"]
    # A word broken in two ("exam-" / "ple"): joined where the document has the word.
    broken = "Write to john.smith@exam-\nple.com for help."
    assert found_emails(broken, "For example, a letter.") == ["john.smith@example.com"]
    assert found_emails(broken, "See www.exam-ple.com.") == ["john.smith@exam-ple.com"]


@pytest.mark.parametrize(
    "text",
    [
        # Two lower-case syllables: the hyphen may be the address's own or a broken word.
        "Write to john.smith@exam-\nple.com for help.",
        "Write to john.smith@my-\ncompany.com for help.",
        # A dot at the line end in the name: "john." may end a sentence, or be part of it.
        "Write to john.\nsmith@example.com for help.",
        # "co." may end the address ("mail.co"), or go on ("mail.co.uk").
        "Write to jo@mail.co.\nuk today.",
    ],
)
def test_an_address_that_cannot_be_joined_for_sure_is_left_out(text):
    assert found_emails(text) == [], "never a part of it, never a guess"


def test_the_document_decides_a_dot_at_a_line_end():
    assert found_emails("Write to john.\nsmith@example.com now.", "Or john.smith@example.com.") == [
        "john.smith@example.com"
    ]
    assert found_emails("Ask the office.\nsmith@example.com knows.", "Or smith@example.com.") == [
        "smith@example.com"
    ]
    assert found_emails("Write to jo@mail.co.\nuk today.", "Or jo@mail.co.uk.") == ["jo@mail.co.uk"]


NOTICE = """FOR FURTHER INFORMATION CONTACT: Doug Rudolph, Aerospace Engineer;
email: 9-FAA-SACO-AD-Inquiry@
faa.gov.
SUPPLEMENTARY INFORMATION: Information may be emailed to: 9-
ANM-Seattle-ACO-AMOC-Requests@faa.gov. For service information, contact Pilatus;
email: Techsupport@pilatus-
aircraft.com; internet: https://
www.pilatus-aircraft.com/en. Or write to john.smith@exam-
ple.com or to doug.rudolph@faa.gov.
"""


@pytest.fixture
def engine_with(fake_services, tmp_path: Path):
    s = fake_services
    a = s.repo.create_assistant(AssistantDraft(name="Lists", temperature=0))

    def add(name: str, text: str):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        s.library.add_file(a.id, path, name)
        return a, TaskEngine(s.repo, s.embedder, lambda _a: s.llm())

    return add


def _list(engine, a, request):
    *_, finished = engine.run(a, engine.route(a, request))
    return finished.result


def test_a_list_of_addresses_shows_each_whole_and_cites_it_as_written(engine_with):
    a, engine = engine_with("notice.txt", NOTICE)
    result = _list(engine, a, "List every e-mail address")
    assert [t for t, _, _ in result.items] == [
        "9-FAA-SACO-AD-Inquiry@faa.gov",
        "9-ANM-Seattle-ACO-AMOC-Requests@faa.gov",
        "Techsupport@pilatus-aircraft.com",
        "doug.rudolph@faa.gov",
    ]  # "john.smith@exam-" / "ple.com" cannot be told: left out, not cut short
    assert result.dropped == 0, "every item is in its span, as written there"
    for claim in result.answer.claims:
        cit = result.answer.citations[claim.number - 1]
        span = cit.hit.text[cit.quote[0] : cit.quote[1]]
        assert "".join(claim.support[0].split()) in "".join(span.split())
    assert "9-FAA-SACO-AD-Inquiry@faa.gov [1]" in result.answer.text


def _items(*names: str) -> dict[str, Item]:
    hit = Hit(1, 1, "caption.pdf", 1, 0, 10, " ".join(names), 1.0)
    out = {}
    for k, name in enumerate(names):
        key = " ".join(name.lower().replace(".", " ").split())
        item = Item(key, name, Cited(name, hit, 0, len(name)), count=1, documents={1})
        item.pages = {1: {k + 1}}
        out[key] = item
    return out


def test_a_word_in_capitals_alone_is_no_person():
    people = fold_people(
        _items("MICHAEL A. KNOWLES", "WARDEN", "ALEXANDRE MIRZAYANCE", "NASA", "KNOWLES", "Rollo")
    )
    # "WARDEN" and "NASA" (a role, an acronym: no name can be told from them) are left out;
    # "KNOWLES" joins the full name; names in capitals of several words, and "Rollo", stay.
    assert [i.text for i in people.values()] == [
        "MICHAEL A. KNOWLES",
        "ALEXANDRE MIRZAYANCE",
        "Rollo",
    ]
    assert people["michael a knowles"].pages == {1: {1, 5}}


def test_an_initial_or_a_capitalised_word_alone_is_not_taken_for_capitals():
    people = fold_people(_items("J.", "Warden", "Smith"))
    assert [i.text for i in people.values()] == ["J.", "Warden", "Smith"]


CAPTION = """IN THE SUPREME COURT OF THE UNITED STATES

MICHAEL A. KNOWLES, :
WARDEN, :
Petitioner :
v. : No. 07-1315
ALEXANDRE MIRZAYANCE. :

The Warden asked the court. WARDEN KNOWLES said the judge was late.
Steven Mercer argued for the petitioner and Charles Sevilla for the respondent.
HOWEVER, the court did not agree with Mercer.
"""


def test_the_people_of_a_caption_are_named_without_its_words_in_capitals(engine_with):
    a, engine = engine_with("caption.txt", CAPTION)
    result = _list(engine, a, "List the people named")
    names = [t for t, _, _ in result.items]
    assert "WARDEN" not in names and "HOWEVER" not in names, names
    assert {"Steven Mercer", "Charles Sevilla"} <= set(names), names
    assert all(not (len(n.split()) == 1 and n.isupper()) for n in names), names
