""" "List every …": every stored passage of the chosen documents is scanned, not the few closest
to the request's words.

What is asked for is read from the request's words (``wanted``): people, organisations,
places, dates, years, amounts (with "over $1,000"-style limits), percentages, e-mail
addresses, links, phone numbers, headings, the documents that mention a term, or, for any other
thing, the sentences that mention it. Instances are found with spaCy's entities by type and
with patterns, deduplicated (case, accents, possessives; a surname alone joins the full name
found in the same document), counted, and each cited to its document, page and the sentence it
is in; every shown item is in the span it cites, word for word.

An e-mail address that a line end breaks ("9-FAA-SACO-AD-Inquiry@" / "faa.gov") is shown whole
(``emails.emails``): the item checked against its span is the address as written there, line end
included, and the point shows it joined. Where the join cannot be told for sure (a hyphen that
may be the address's own, a dot that may end the sentence), the document decides when it spells
the word or the address elsewhere; otherwise the address is left out, never shown cut short.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from threading import Event as StopEvent

from gptbuilder.language import STOPWORDS, fold, sentence_spans
from gptbuilder.retrieval.claims import Analyzer
from gptbuilder.tasks.compose import Cited
from gptbuilder.tasks.emails import Spelled, emails
from gptbuilder.tasks.model import Progress, page_ranges
from gptbuilder.tasks.passages import DocumentText
from gptbuilder.types import Hit

PERSON, ORG, PLACE, DATE, YEAR, MONEY, PERCENT = (
    "person", "organisation", "place", "date", "year", "amount", "percentage",
)  # fmt: skip
EMAIL, URL, PHONE, HEADING, MENTIONS, TERM = (
    "e-mail", "link", "phone", "heading", "documents", "mention",
)  # fmt: skip

_KINDS: list[tuple[str, str]] = [
    (EMAIL, r"e-?mails?(?:\s+address(?:es)?)?|email\s+address(?:es)?"),
    (URL, r"links?|urls?|web\s*(?:sites?|addresses|pages?)|websites?"),
    (PHONE, r"(?:tele)?phone(?:\s+numbers?)?|phone\s+nos?"),
    (PERCENT, r"percent(?:age)?s?|rates?|shares?"),
    (
        MONEY,
        r"(?:dollar\s+|money\s+|monetary\s+|cash\s+)?amounts?|sums?|prices?|costs?|fees?"
        r"|payments?|money|dollars?|euros?|pounds?|budgets?|salar(?:y|ies)|fines?|figures?",
    ),
    (YEAR, r"years?|dates?\s+by\s+year"),
    (DATE, r"dates?|deadlines?|due\s+dates?|days?|months?|times?|periods?"),
    (HEADING, r"(?:section\s+)?headings?|sections?|chapters?|titles?|headers?|parts?"),
    (
        PERSON,
        r"people|persons?|names?|authors?|writers?|researchers?|scientists?|scholars?"
        r"|players?|members?|characters?|leaders?|kings?|queens?|rulers?|dukes?|presidents?"
        r"|founders?|employees?|staff|contacts?|doctors?|individuals?|men|women|figures?"
        r"|historians?|philosophers?|inventors?|engineers?|politicians?|officials?|ministers?"
        r"|professors?|students?|alumni|who",
    ),
    (
        ORG,
        r"organi[sz]ations?|companies|company|firms?|institutions?|universit(?:y|ies)"
        r"|agencies|agency|teams?|clubs?|banks?|groups?|parties|party|corporations?|courts?"
        r"|bodies|body|schools?|colleges?|publishers?",
    ),
    (
        PLACE,
        r"places?|locations?|cities|city|towns?|countries|country|nations?|states?"
        r"|regions?|areas?|sites?|provinces?|islands?|rivers?|territor(?:y|ies)",
    ),
]
_ENTITY = {
    PERSON: {"PERSON"},
    ORG: {"ORG"},
    PLACE: {"GPE", "LOC", "FAC"},
    DATE: {"DATE"},
    MONEY: {"MONEY"},
    PERCENT: {"PERCENT"},
}
_CONTEXT = {"deadline": r"deadline|due\b|no later than|must be (?:filed|submitted|received)"}
_LIMIT = re.compile(
    r"\b(?P<op>over|above|more\s+than|greater\s+than|exceeding|at\s+least|under|below|less"
    r"\s+than|up\s+to|at\s+most)\s+(?P<v>[$€£]?\s?\d[\d,]*(?:\.\d+)?\s*(?:k|m|bn|million"
    r"|billion|thousand)?)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\d,.$€£])\b(1[0-9]{3}s?|20[0-9]{2}s?|[1-9][0-9]{2})\b(?![,.]\d)")
# A three-digit number is a year only right after one of these ("in 911").
_SHORT_YEAR_CUE = re.compile(
    r"(?:\b(?i:in|since|from|until|year|circa|by)|(?<![\w.])c\.)\s*$"  # not "U.S.C. 552"
)
# A number that runs on into a phone number or a street address is neither a year nor part of
# a range of years ("202–493–2251", "1200 New Jersey Avenue").
_NOT_A_YEAR_AFTER = re.compile(
    r"[–-]\d{3}[–-]\d{4}"
    r"|(?:\s+[A-Z][a-z]+){1,3}\s+(?:Avenue|Ave|Street|St|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane"
    r"|Ln|Way|Place|Pl|Square|Court|Ct|Parkway|Pkwy|Highway|Hwy)\b"
)
_QUALIFIER = re.compile(
    r"^(?:(?:more|less|fewer|greater)\s+than|about|around|approximately|nearly|almost|some"
    r"|over|under|up\s+to|at\s+least|at\s+most|roughly|only|just|the|a|an)\s+",
    re.I,
)
_YEAR_CUE = re.compile(
    r"(?:\b(?:in|since|by|from|until|till|of|to|between|and|or|c\.|circa|year|years|during"
    r"|after|before|early|late|mid|the|spring|summer|autumn|fall|winter|[A-Z][a-z]+)\s*$)"
    r"|(?:,\s*$)"
    r"|(?:\b(?:1[0-9]|20)\d{2}\s?[–-]\s?$)"  # the end of a range: "1939–1945"
)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+[^\s<>\"').,;:\]]")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)")
_MONEY = re.compile(
    r"(?:[$€£]\s?\d[\d,]*(?:\.\d+)?(?:\s*(?:million|billion|thousand|k|m|bn)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s*(?:million|billion|thousand)?\s*(?:dollars|euros|pounds|USD|EUR"
    r"|GBP)\b)",
    re.IGNORECASE,
)
_HEADING_LINE = re.compile(
    r"(?m)^(?:#{1,6}\s+)?(?P<h>(?:\d{1,2}(?:\.\d{1,2})*\.?\s+[A-Z][^\n]{1,70}|[A-Z][A-Z0-9 ,&'’:-]"
    r"{3,60}[A-Z]))\s*$"
)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


@dataclass(frozen=True)
class Wanted:
    what: str
    label: str  # as the request says it ("authors")
    term: str = ""  # MENTIONS / TERM: what must be mentioned
    low: float | None = None  # amounts: more than this
    high: float | None = None  # amounts: at most this
    context: str = ""  # only in sentences that match this pattern ("deadline")
    first_page: bool = False  # authors: the by-line, on a document's first page


def wanted(target: str, question: str) -> Wanted:
    """What a list request asks for, from its target words and the whole request."""
    q = question.strip()
    if re.search(
        r"\b(?:which|what|any)\s+(?:of\s+the\s+|of\s+my\s+)?(?:documents?|files?|sources?"
        r"|papers?|pdfs?|articles?|reports?)\b",
        q,
        re.I,
    ):
        return Wanted(MENTIONS, "documents", term=target)
    head = target.lower().strip()
    head = re.sub(r"^(?:the|all|every|each|of|my|different|distinct|unique)\s+", "", head)
    low = high = None
    m = _LIMIT.search(question)
    if m:
        value = _amount(m.group("v"))
        if re.match(r"over|above|more|greater|exceeding|at\s+least", m.group("op"), re.I):
            low = value
        else:
            high = value
        head = head[: m.start() - question.find(target)] if question.find(target) >= 0 else head
    for what, pattern in _KINDS:
        if re.search(r"\b(?:" + pattern + r")\b", head):
            context = next((c for k, c in _CONTEXT.items() if k in head), "")
            return Wanted(
                what,
                target,
                low=low,
                high=high,
                context=context,
                first_page=what == PERSON and bool(re.search(r"\bauthors?\b|\bwriters?\b", head)),
            )
    return Wanted(TERM, target, term=head)


def _amount(text: str) -> float | None:
    m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(k|m|bn|million|billion|thousand)?\b", text, re.I)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return value * _SCALE.get((m.group(2) or "").lower(), 1.0)


@dataclass
class Item:
    """One thing found, with every place it was found."""

    key: str
    text: str
    first: Cited  # where it was first found: the sentence it is in
    count: int = 0
    documents: set[int] = field(default_factory=set)
    pages: dict[int, set[int]] = field(default_factory=dict)  # document id -> pages
    order: tuple[int, ...] = ()  # for sorting: document, page, place


def _key(text: str) -> str:
    text = fold(text)
    text = re.sub(r"['’]s\b", "", text)
    text = re.sub(r"^(?:the|a|an)\s+", "", text.strip())
    return " ".join(re.findall(r"\w+", text))


def _sentence_of(hit: Hit, start: int, end: int) -> tuple[int, int]:
    for a, b in sentence_spans(hit.text):
        if a <= start and end <= b:
            return a, b
    return start, end


class Lister:
    def __init__(self, nlp: Analyzer) -> None:
        self._nlp = nlp

    def scan(
        self,
        docs: Sequence[DocumentText],
        want: Wanted,
        stop: StopEvent | None,
        found: dict[str, Item],
        pages_read: dict[int, set[int]],
    ) -> Iterator[Progress]:
        """Every passage of every document, into ``found`` (key -> Item); a Progress every
        few passages. Stops between passages when ``stop`` is set."""
        total = sum(d.pages_with_text for d in docs) or 1
        done = 0
        seen: set[tuple[int, int, int, str]] = set()  # (document, page, page offset, key)
        for doc in docs:
            spelled = Spelled(doc) if want.what == EMAIL else None
            read = pages_read.setdefault(doc.document.id, set())
            first_page = min((p.hit.page for p in doc.passages), default=1)
            for i, passage in enumerate(doc.passages):
                if stop is not None and stop.is_set():
                    return
                hit = passage.hit
                if not (want.first_page and hit.page != first_page and _has_page(found, doc)):
                    for start, end, text in self._find(hit, want, passage.heading or "", spelled):
                        key = _key(text) if want.what != MENTIONS else str(doc.document.id)
                        if not key:
                            continue
                        place = (doc.document.id, hit.page, hit.char_start + start, key)
                        if place in seen:
                            continue  # the overlap of two passages: one mention
                        seen.add(place)
                        item = found.get(key)
                        if item is None:
                            a, b = _sentence_of(hit, start, end)
                            # An address broken by a line end is shown joined; the item is
                            # what the source says, word for word.
                            written = hit.text[start:end] if want.what == EMAIL else text
                            cited = Cited(text, hit, a, b, (written,))
                            item = found[key] = Item(
                                key, written, cited, order=(len(pages_read), hit.page, place[2])
                            )
                        item.count += 1
                        item.documents.add(doc.document.id)
                        item.pages.setdefault(doc.document.id, set()).add(hit.page)
                before = len(read)
                read.add(hit.page)
                done += len(read) - before
                if i % 8 == 7 or i == len(doc.passages) - 1:
                    yield Progress(
                        min(done, total),
                        total,
                        f"Searched {page_ranges(sorted(read))} of {doc.pages_total} in "
                        f"{doc.document.filename}",
                    )

    def _find(
        self, hit: Hit, want: Wanted, heading: str, spelled: Spelled | None = None
    ) -> Iterator[tuple[int, int, str]]:
        text = hit.text
        if want.what in (MENTIONS, TERM):
            yield from _mentions(text, want.term, whole_sentence=want.what == TERM)
            return
        if want.what == EMAIL:
            yield from emails(text, spelled or Spelled(None))
            return
        if want.what == URL:
            yield from ((m.start(), m.end(), m.group(0)) for m in _URL.finditer(text))
            return
        if want.what == PHONE:
            yield from ((m.start(), m.end(), m.group(0)) for m in _PHONE.finditer(text))
            return
        if want.what == HEADING:
            if heading and text.startswith(heading):
                yield 0, len(heading), heading
            for m in _HEADING_LINE.finditer(text):
                yield m.start("h"), m.end("h"), m.group("h").strip()
            return
        if want.what == YEAR:
            yield from _years(text)
            return
        spans: list[tuple[int, int, str]] = []
        if want.what == MONEY:
            spans = [(m.start(), m.end(), m.group(0).strip()) for m in _MONEY.finditer(text)]
        if want.what in _ENTITY and _worth_parsing(text, want.what):
            labels = _ENTITY[want.what]
            for ent in self._nlp.parse(text).ents:
                if ent.label_ in labels:
                    start, value = ent.start_char, ent.text
                    # "more than $2,000,000": the amount
                    while (q := _QUALIFIER.match(value)) is not None:
                        start, value = start + q.end(), value[q.end() :]
                    spans.append((start, start + len(value), value))
        for start, end, value in _merge(spans):
            if want.what == PERSON and not _person(value):
                continue
            if want.what == MONEY and (want.low is not None or want.high is not None):
                amount = _amount(value)
                if amount is None:
                    continue
                if want.low is not None and amount <= want.low:
                    continue
                if want.high is not None and amount > want.high:
                    continue
            if want.context:
                a, b = _sentence_of(hit, start, end)
                if not re.search(want.context, text[a:b], re.I):
                    continue
            yield start, end, value


def _has_page(found: dict[str, Item], doc: DocumentText) -> bool:
    """Some item was already found in this document (its first page had a by-line)."""
    return any(doc.document.id in item.documents for item in found.values())


def _worth_parsing(text: str, what: str) -> bool:
    """Cheap test before spaCy: names need capitals, dates and amounts need digits or words."""
    if what in (PERSON, ORG, PLACE):
        return bool(re.search(r"(?<!^)[A-Z][a-z]", text))
    if what in (MONEY, PERCENT):
        return bool(re.search(r"\d", text))
    return True


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans (a pattern's and an entity's) as the longest."""
    out: list[tuple[int, int, str]] = []
    for s in sorted(spans, key=lambda t: (t[0], -(t[1] - t[0]))):
        if out and s[0] < out[-1][1]:
            continue
        out.append(s)
    return out


def _person(value: str) -> bool:
    words = value.split()
    return (
        1 <= len(words) <= 5
        and any(w[:1].isupper() for w in words)
        and not re.search(r"\d|[@/]", value)
    )


def _years(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _YEAR.finditer(text):
        before = text[max(0, m.start() - 24) : m.start()]
        after = text[m.end() : m.end() + 12]
        if _NOT_A_YEAR_AFTER.match(text, m.end(), m.end() + 60) or _in_phone_number(
            text, m.start(1), m.end(1)
        ):
            continue
        era = re.match(r"\s*(?:AD|BC|BCE|CE)\b", after) or (
            len(m.group(1)) == 4 and re.match(r"[–-](?:1[0-9]|20)?\d{2}\b", after)
        )  # "1914–18", "1939–1945"; never "737–8"
        if len(m.group(1)) == 3:  # "in 911", never "in 300 ships"
            counted = re.match(r"\s+([a-z]+)", after)  # "300 ships": a count, not a year
            if not (_SHORT_YEAR_CUE.search(before) or era) or (
                counted and counted.group(1) not in STOPWORDS
            ):
                continue
        elif not (_YEAR_CUE.search(before) or era or m.start() == 0 or text[m.start() - 1] in "(["):
            continue
        if re.match(r"\s*(?:%|percent|per\s+cent|people|men|troops|soldiers|km|miles|m\b)", after):
            continue
        yield m.start(1), m.end(1), m.group(1)


def _in_phone_number(text: str, start: int, end: int) -> bool:
    around = text[max(0, start - 16) : end + 16]
    offset = max(0, start - 16)
    return any(
        m.start() + offset <= start and end <= m.end() + offset for m in _PHONE.finditer(around)
    )


def _inflected(word: str) -> str:
    """A folded word without a noun's plural or possessive ending ("treaties" → "treaty",
    "Normans'" → "norman"): a term matches its plurals but never a longer word that begins like
    it ("Protestant" is not "protest", "commissioned" not "commission")."""
    w = word.removesuffix("'s").removesuffix("’s").rstrip("'’")
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and re.search(r"(?:ch|sh|ss|x|z)es$", w):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _mentions(text: str, term: str, whole_sentence: bool) -> Iterator[tuple[int, int, str]]:
    """Where ``term`` is mentioned (every word, as whole words, in order; a word's plural or
    possessive counts); with ``whole_sentence`` the sentence it is in is the item."""
    words = re.findall(r"[\w'’]+", fold(term))
    words = [w for w in words if w not in ("the", "a", "an")]
    if not words:
        return
    want = [_inflected(w) for w in words]
    tokens = [
        (m.start(), m.end(), _inflected(fold(m.group(0)))) for m in re.finditer(r"[\w'’]+", text)
    ]
    for k in range(len(tokens) - len(want) + 1):
        if all(tokens[k + j][2] == want[j] for j in range(len(want))):
            start, end = tokens[k][0], tokens[k + len(want) - 1][1]
            if whole_sentence:
                for a, b in sentence_spans(text):
                    if a <= start < b:
                        yield a, b, " ".join(text[a:b].split())
                        break
            else:
                yield start, end, text[start:end]


def fold_people(found: dict[str, Item]) -> dict[str, Item]:
    """A surname or first name alone ("Rollo", "Bohemond") joins the full name it is part of,
    found in the same document ("Bohemond I"), when that full name is the only such one.

    A word in capitals alone ("WARDEN", "NASA", "PETITIONER") cannot be told from a heading, a
    role, an acronym or a shouted word, so it is a person only when it joins a full name that
    way ("KNOWLES" in "MICHAEL A. KNOWLES"); several words in capitals (a caption's "ALEXANDRE
    MIRZAYANCE") are still a name."""
    keys = sorted(found, key=lambda k: -len(k.split()))
    out = dict(found)
    for k in keys:
        if len(k.split()) != 1 or k not in out:
            continue
        longer = [
            o for o in out if o != k and k in o.split() and out[o].documents & out[k].documents
        ]
        if len(longer) == 1:
            target, item = out[longer[0]], out.pop(k)
            target.count += item.count
            target.documents |= item.documents
            for d, pages in item.pages.items():
                target.pages.setdefault(d, set()).update(pages)
    return {k: item for k, item in out.items() if not _capitals_alone(item.text)}


def _capitals_alone(text: str) -> bool:
    """One word, written in capitals ("WARDEN"; not an initial, "J.")."""
    words = text.split()
    return len(words) == 1 and sum(c.isalpha() for c in text) >= 2 and text.isupper()


def ordered(items: list[Item], what: str) -> list[Item]:
    """Years and amounts by value, everything else in the order it first appears."""
    if what == YEAR:
        return sorted(items, key=lambda i: int(re.sub(r"\D", "", i.text) or 0))
    if what == MENTIONS:
        return sorted(items, key=lambda i: -i.count)
    return sorted(items, key=lambda i: i.order)
