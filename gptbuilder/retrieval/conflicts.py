"""When the documents disagree on the answer: find the answer slot and its competing values.

A question asks for one kind of thing (the *answer slot*): "who" a person or an organisation,
"when" a date, "how many" a number, "where" a place. The best sentences of the retrieved
passages each offer candidate values for it: the names, dates and numbers of that kind that
spaCy finds in them (``claims.Analyzer``, the pipeline the claim check already loaded), leaving
out those the question itself names. Two well-supported sentences from different documents
(or, when both state the slot strongly, different passages of one document) whose candidates
are not the same after normalisation ("1066" = "in 1066", "10th century" = "tenth century",
"Rollo" = "Duke Rollo") disagree: the answer then says so and shows both, each cited to the
sentence that states its value, instead of picking one.

This is the defence against knowledge poisoning (PoisonedRAG): a planted file that restates
the question and asserts another answer can no longer win silently against a true passage,
because one document cannot supply the answer when another contradicts it. Measured by
``bench/poisoning.py``; its false alarms on ordinary questions by ``bench/answers.py``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gptbuilder.language import fold
from gptbuilder.retrieval.evidence import Assessment, Evidence, terms
from gptbuilder.types import Answer, Citation, ConflictSide, Hit

log = logging.getLogger(__name__)

PEOPLE = frozenset(("PERSON", "ORG", "NORP"))
PLACES = frozenset(("GPE", "LOC", "FAC"))
DATES = frozenset(("DATE",))
YEARS = frozenset(("CARDINAL",))  # spaCy often reads a bare year ("in 911") as a number
COUNTS = frozenset(("CARDINAL", "QUANTITY", "MONEY", "PERCENT"))
AMOUNTS = frozenset(("CARDINAL", "QUANTITY", "MONEY", "PERCENT"))
NAMES = PEOPLE | PLACES | frozenset(("EVENT", "PRODUCT", "WORK_OF_ART", "LAW"))
# The noun after "what"/"which" ("what year", "which country") -> the kind of answer.
_NOUN_TYPES: dict[str, frozenset[str]] = {}
for _words, _types in (
    ("year years decade century centuries date day month era period", DATES | YEARS),
    (
        "country countries city cities state states region nation town place continent "
        "island river capital province county village location neighborhood neighbourhood "
        "district borough area street port site colony territory",
        PLACES,
    ),
    (
        "company companies organization organisation university college team group party "
        "agency institution body court newspaper church army",
        frozenset(("ORG",)),
    ),
    (
        "person man woman king queen leader president emperor general scientist author "
        "writer inventor engineer poet duke pope ruler minister architect",
        frozenset(("PERSON",)),
    ),
    ("percentage percent proportion", frozenset(("PERCENT",))),
    ("nationality ethnicity religion people tribe", frozenset(("NORP",))),
    ("war battle conflict revolution event", frozenset(("EVENT",))),
    ("language", frozenset(("LANGUAGE",))),
    ("name", NAMES),
    ("number amount population", COUNTS),
):
    for _w in _words.split():
        _NOUN_TYPES[_w] = _types

# How many of the best sentences of one passage may offer the slot's value.
SENTENCES_PER_PASSAGE = 2
# A sentence is well supported when its evidence score is within this of the best one's.
SUPPORT_MARGIN = 0.2
# ... and at least this (half cosine, half coverage of the question's words): a sentence off
# the question ("Fort Matanzas was hit by a hurricane" for "Which country was not hit by the
# embargo?") offers no answer to disagree with. On the answer benchmark the false alarms'
# sides scored 0.13-0.5, the sides of poisoned questions (tune articles) 0.39-0.73.
MIN_SIDE_SCORE = 0.4
# ... and holds at least this share of the question's content words: a sentence close in
# meaning but about something else ("It precipitated civil bloodshed ... Britain" for "What
# country became a leader in importing large cars?") is no side.
MIN_SIDE_COVERAGE = 0.25
MAX_SIDES = 3
OTHER_PASSAGES = 4  # retrieved passages of other documents than the top passages' looked at
CONFLICT_LEAD = "The sources disagree"


@dataclass(frozen=True)
class Value:
    """A candidate answer: as written, and its normalised forms."""

    text: str
    label: str
    numbers: frozenset[float]
    words: frozenset[str]


@dataclass(frozen=True)
class Side:
    """One side of a disagreement: the sentence ``hit.text[start:end]`` states ``value``."""

    hit_index: int
    start: int
    end: int
    value: Value  # the value this side gives and the others do not
    score: float


@dataclass(frozen=True)
class _Offer:
    """A well-supported sentence and the candidate answers it offers."""

    hit_index: int
    start: int
    end: int
    values: tuple[Value, ...]
    score: float


ANY = NAMES | DATES | YEARS | AMOUNTS | frozenset(("NORP", "TIME", "LANGUAGE"))


def answer_types(question: str) -> frozenset[str] | None:
    """The entity types (spaCy labels) that answer ``question``: by its wh-word and the noun
    after it; any name, date or number when they say nothing more ("what is …"); None for
    a question that asks for no slot at all (why, how, yes/no)."""
    q = " ".join(fold(question).replace("?", " ").split())
    q = re.sub(r"^(?:and|so|but|then|also)\s+", "", q)
    # "Name one country that ...", "Give a year when ...": asked like "which country ..."
    q = re.sub(r"^(?:name|list|give|identify)(?:\s+(?:a|an|one|the|two|some))?\b", "which", q)
    m = re.search(r"\b(what|which|how|who|whom|whose|when|where)\b(?:\s+(\w+))?", q)
    if not m:
        return None
    wh, nxt = m.group(1), m.group(2) or ""
    if wh in ("who", "whom"):
        return PEOPLE
    if wh == "whose":
        return PEOPLE
    if wh == "when":
        return DATES | YEARS | frozenset(("TIME",))
    if wh == "where":
        return PLACES
    if wh == "how":
        if nxt == "many":
            return COUNTS
        if nxt == "much":
            return AMOUNTS
        if nxt in ("long", "old"):
            return DATES | COUNTS | frozenset(("TIME",))
        return None
    if nxt in _NOUN_TYPES:
        return _NOUN_TYPES[nxt]
    # "what was the name of the king", "what is the population": the first listed noun
    for w in q[m.end() :].split()[:6]:
        if w in _NOUN_TYPES and w not in ("number", "amount", "date", "period", "body"):
            return _NOUN_TYPES[w]
    return ANY  # "what …": the sides must still give values of one kind (``_compatible``)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORDS = re.compile(r"[^\W_]+")


def _value(ent) -> Value:
    from gptbuilder.retrieval.quantities import quantities

    numbers = {q.value for q in quantities(ent.doc, ent.start, ent.end)}
    numbers |= {float(n.replace(",", "")) for n in _NUMBER.findall(ent.text) if "." not in n}
    words = frozenset(
        w
        for w in (fold(t.text).removesuffix("'s") for t in ent if not t.is_punct and not t.is_stop)
        if w and w not in ("'s", "s")
    )
    return Value(ent.text.strip(), ent.label_, frozenset(numbers), words)


def same_value(a: Value, b: Value) -> bool:
    """The same answer after normalisation: a shared number for dates and amounts, else one's
    words within the other's ("Rollo" / "Duke Rollo")."""
    if a.numbers and b.numbers:
        return bool(a.numbers & b.numbers)
    if a.numbers or b.numbers:
        return False
    return bool(a.words) and bool(b.words) and (a.words <= b.words or b.words <= a.words)


def _stated_in(v: Value, text: str) -> bool:
    """The value is written in ``text`` (spaCy may have read it as another type there)."""
    low = " " + " ".join(_WORDS.findall(fold(text))) + " "
    if v.numbers:
        found = {float(n.replace(",", "")) for n in _NUMBER.findall(text) if "." not in n}
        return bool(v.numbers & found)
    return bool(v.words) and all(f" {w} " in low for w in v.words)


def slot_values(
    nlp,  # claims.Analyzer
    passage: str,
    start: int,
    end: int,
    types: frozenset[str],
    question: str,
) -> list[Value]:
    """The candidate answers in ``passage[start:end]``: entities of ``types`` the question
    does not already name."""
    doc = nlp.parse(passage)
    out: list[Value] = []
    for ent in doc.ents:
        if ent.label_ not in types or ent.start_char < start or ent.end_char > end:
            continue
        v = _value(ent)
        if not v.words and not v.numbers:
            continue
        if _stated_in(v, question):
            continue
        out.append(v)
    return out


def _coverage(sentence: str, question: str) -> float:
    """Share of the question's content words (stemmed) that the sentence has."""
    asked = set(terms(question))
    return len(asked & set(terms(sentence))) / len(asked) if asked else 0.0


def _restates(sentence: str, question: str) -> bool:
    """The sentence is the question itself (PoisonedRAG passages open with it)."""
    return sentence.rstrip().rstrip("\"'”’)").endswith("?") and bool(
        set(terms(sentence)) >= set(terms(question))
    )


def find_conflict(
    question: str,
    hits: Sequence[Hit],
    evidence: Sequence[Evidence],  # over ``hits``, best first
    nlp,  # claims.Analyzer
    same_document: bool = False,
) -> tuple[Side, ...]:
    """The competing answers of the best sentences, one side per sentence (best supported
    first), or () when they agree or the question's slot is unclear."""
    types = answer_types(question)
    # A sentence restating the question (PoisonedRAG passages open with it) states nothing.
    evidence = [
        ev for ev in evidence if not _restates(hits[ev.hit_index].text[ev.start : ev.end], question)
    ]
    if types is None or not evidence:
        return ()
    top = evidence[0].score
    per_passage: dict[int, int] = {}
    offers: list[_Offer] = []
    for ev in evidence:
        if ev.score < max(top - SUPPORT_MARGIN, MIN_SIDE_SCORE):
            break
        if per_passage.get(ev.hit_index, 0) >= SENTENCES_PER_PASSAGE:
            continue
        per_passage[ev.hit_index] = per_passage.get(ev.hit_index, 0) + 1
        text = hits[ev.hit_index].text
        if _coverage(text[ev.start : ev.end], question) < MIN_SIDE_COVERAGE:
            continue
        values = slot_values(nlp, text, ev.start, ev.end, types, question)
        if values:
            offers.append(_Offer(ev.hit_index, ev.start, ev.end, tuple(values), ev.score))
    if len(offers) < 2:
        return ()
    # The best-supported pair that disagrees (a document may repeat the other side's value
    # elsewhere: "first offer against the rest" would miss it), then any further side that
    # disagrees with both.
    pair = next(
        (
            [a, b]
            for i, a in enumerate(offers)
            for b in offers[i + 1 :]
            if _differs(a, b, hits, same_document)
        ),
        None,
    )
    if pair is None:
        return ()
    chosen = pair
    for o in offers:
        if len(chosen) >= MAX_SIDES:
            break
        if o not in chosen and all(_differs(o, c, hits, same_document) for c in chosen):
            chosen.append(o)
    chosen.sort(key=lambda o: -o.score)
    return tuple(
        Side(o.hit_index, o.start, o.end, _own(o, [c for c in chosen if c is not o], hits), o.score)
        for o in chosen
    )


def _exclusive(a: _Offer, b: _Offer, hits: Sequence[Hit]) -> list[Value]:
    """Values ``a`` offers that ``b``'s sentence neither offers nor states."""
    b_text = hits[b.hit_index].text[b.start : b.end]
    return [
        v
        for v in a.values
        if not _stated_in(v, b_text) and not any(same_value(v, w) for w in b.values)
    ]


def _compatible(a: Value, b: Value) -> bool:
    """Values of one kind: spaCy's label of a name varies ("Sybilla of Normandy" a person or
    an organisation), and a bare year may be read as a number."""
    pair = {a.label, b.label}
    return a.label == b.label or pair <= NAMES or pair <= DATES | YEARS


def _differs(a: _Offer, b: _Offer, hits: Sequence[Hit], same_document: bool) -> bool:
    """``a`` and ``b`` come from different documents (or passages, when ``same_document``)
    and each offers a value of the same kind that the other's sentence does not have."""
    ha, hb = hits[a.hit_index], hits[b.hit_index]
    if ha.chunk_id == hb.chunk_id or (ha.document_id == hb.document_id and not same_document):
        return False
    ua, ub = _exclusive(a, b, hits), _exclusive(b, a, hits)
    return any(_compatible(x, y) for x in ua for y in ub)


def _own(o: _Offer, others: Sequence[_Offer], hits: Sequence[Hit]) -> Value:
    """The value that sets ``o`` apart from the other sides (its first one that none has)."""
    for v in o.values:
        if all(v in _exclusive(o, other, hits) for other in others):
            return v
    return o.values[0]


def other_documents(
    retrieved: Sequence[Hit], shown: Sequence[Hit], limit: int = 4, per_document: int = 2
) -> list[Hit]:
    """Retrieved passages beyond ``shown`` from documents that have fewer than
    ``per_document`` passages among them (up to ``limit``, best first): one document cannot
    supply all the evidence when another contradicts it, and the passage of the other
    document that states its answer is not always its best-ranked one."""
    count: dict[int, int] = {}
    for h in shown:
        count[h.document_id] = count.get(h.document_id, 0) + 1
    out: list[Hit] = []
    for h in retrieved:
        if len(out) >= limit:
            break
        if count.get(h.document_id, 0) < per_document:
            count[h.document_id] = count.get(h.document_id, 0) + 1
            out.append(h)
    return out


def disagreement(
    question: str,
    retrieved: Sequence[Hit],  # everything retrieved, best first
    hits: Sequence[Hit],  # the top passages (the answer's sources)
    judged: Assessment,  # their sentences, ranked
    nlp,  # claims.Analyzer
    rank: Callable[[list[Hit]], Assessment],  # ranks the sentences of more passages
    answers: Callable[[Hit], bool] | None = None,  # does one passage answer? None: not asked
) -> Answer | None:
    """An answer saying the sources disagree, each side cited to the sentence that states its
    value, when the best sentences of the top passages and of the best passage of each other
    retrieved document (one document cannot supply all the evidence) give different answers.

    ``answers`` is given when the top passages were judged not to answer: then a
    disagreement replaces "not found" only if one side's own passage answers."""
    pool = list(hits)
    evidence = list(judged.evidence)
    extras = other_documents(retrieved[len(hits) :], hits, OTHER_PASSAGES)
    if extras:
        theirs = rank(extras)
        evidence += [replace(e, hit_index=e.hit_index + len(pool)) for e in theirs.evidence]
        evidence.sort(key=lambda e: -e.score)
        pool += extras
    sides = find_conflict(question, pool, evidence, nlp)
    if not sides:
        return None
    if answers is not None:
        side_hits = {pool[s.hit_index].chunk_id: pool[s.hit_index] for s in sides}
        if not any(answers(h) for h in side_hits.values()):
            return None
    log.info("the sources disagree on %r: %s", question[:200], [s.value.text for s in sides])
    cits = tuple(Citation(n, pool[s.hit_index], (s.start, s.end)) for n, s in enumerate(sides, 1))
    said = "; ".join(
        f"{c.hit.filename}, page {c.hit.page}, says {s.value.text} [{c.number}]"
        for c, s in zip(cits, sides, strict=True)
    )
    return Answer(
        f"{CONFLICT_LEAD}: {said}. Check which is right.",
        cits,
        tuple(pool),
        conflict=tuple(
            ConflictSide(c.number, s.value.text) for c, s in zip(cits, sides, strict=True)
        ),
    )
