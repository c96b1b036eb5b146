"""The committed claim-check benchmark set (bench/data/claims.jsonl) is well-formed."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "claims.jsonl"

SUPPORTED = {"qa_statement", "clause", "reworded", "verbatim_quote"}
UNSUPPORTED = {
    "swapped_entity",
    "changed_number",
    "flipped_negation",
    "changed_subject",
    "added_detail",
    "invented_quote",
}
PREFIX = "The documents say: "
QUOTE = re.compile(r'^The documents say: "(.*)"$', re.S)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    assert DATA.is_file(), f"{DATA} missing: run python -m bench.claims_data"
    return [
        json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def test_rows_have_the_documented_fields(rows):
    for r in rows:
        assert {"id", "split", "origin", "passage", "span", "claim", "label", "kind"} <= set(r), r
        for k in ("id", "split", "origin", "passage", "span", "claim", "label", "kind", "note"):
            assert isinstance(r.get(k, ""), str), (r["id"], k)
        assert r["split"] in ("dev", "test"), r["id"]
        assert r["label"] in ("supported", "unsupported"), r["id"]
        assert re.fullmatch(r"squad:.+|pdf:.+\.pdf#p\d+", r["origin"]), r["origin"]
        assert r["claim"].strip() and r["span"].strip(), r["id"]
        assert 300 <= len(r["passage"]) <= 1300, (r["id"], len(r["passage"]))


def test_every_span_is_in_its_passage(rows):
    for r in rows:
        assert r["span"] in r["passage"], r["id"]


def test_ids_are_unique(rows):
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))


def test_no_duplicate_pairs(rows):
    pairs = Counter((r["passage"], r["claim"]) for r in rows)
    assert max(pairs.values()) == 1


def test_sizes(rows):
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == SUPPORTED | UNSUPPORTED
    for kind, n in kinds.items():
        assert n >= 30, (kind, n)
    labels = Counter(r["label"] for r in rows)
    assert len(rows) >= 400
    assert labels["supported"] >= 160 and labels["unsupported"] >= 240, labels
    assert sum(r["origin"].startswith("pdf:") for r in rows) >= 60


def test_both_splits_hold_every_kind(rows):
    per = Counter((r["kind"], r["split"]) for r in rows)
    for kind in SUPPORTED | UNSUPPORTED:
        assert per[(kind, "dev")] > 0 and per[(kind, "test")] > 0, kind


def test_split_is_by_document(rows):
    split_of: dict[str, set[str]] = {}
    for r in rows:
        doc = r["origin"].split("#")[0]
        split_of.setdefault(doc, set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values()), split_of
    dev_docs = {d for d, s in split_of.items() if s == {"dev"}}
    test_docs = {d for d, s in split_of.items() if s == {"test"}}
    for prefix in ("squad:", "pdf:"):
        assert any(d.startswith(prefix) for d in dev_docs), prefix
        assert any(d.startswith(prefix) for d in test_docs), prefix


def test_labels_match_kinds(rows):
    for r in rows:
        want = "supported" if r["kind"] in SUPPORTED else "unsupported"
        assert r["label"] == want, r["id"]


def test_verbatim_quotes_are_exact(rows):
    for r in rows:
        if r["kind"] != "verbatim_quote":
            continue
        m = QUOTE.match(r["claim"])
        assert m, r["claim"]
        assert m.group(1) in r["span"], r["id"]


def test_invented_quotes_are_not_in_the_passage(rows):
    for r in rows:
        if r["kind"] != "invented_quote":
            continue
        m = QUOTE.match(r["claim"])
        assert m, r["claim"]
        quoted = m.group(1)
        assert quoted not in r["passage"], r["id"]
        assert " ".join(quoted.split()) not in " ".join(r["passage"].split()), r["id"]


def test_only_quote_kinds_use_the_quote_frame(rows):
    for r in rows:
        framed = r["claim"].startswith(PREFIX)
        assert framed == (r["kind"] in ("verbatim_quote", "invented_quote")), r["id"]


def test_unsupported_claims_are_not_copied_from_the_passage(rows):
    for r in rows:
        if r["label"] == "unsupported" and r["kind"] != "invented_quote":
            assert r["claim"].rstrip(".") not in r["passage"], r["id"]
            assert r["claim"] != r["span"], r["id"]


def test_qa_statements_come_from_squad(rows):
    for r in rows:
        if r["kind"] == "qa_statement":
            assert r["origin"].startswith("squad:") and r["note"].startswith("Q: "), r["id"]


def test_question_conversion_patterns():
    """The generator's question-to-statement patterns (needs only spaCy)."""
    from bench.claims_data import qa_statement

    assert (
        qa_statement("In what country is Normandy located?", "France")
        == "Normandy is located in France."
    )
    assert (
        qa_statement("When did Henry issue the Edict of Nantes?", "1598")
        == "Henry issued the Edict of Nantes in 1598."
    )
    assert qa_statement("Who was the Norse leader?", "Rollo") == "The Norse leader was Rollo."
    # patterns the generator refuses rather than mangles
    assert qa_statement("Why did the Normans go to Italy?", "to fight") is None
    assert qa_statement("Who did not sign the treaty?", "Britain") is None
