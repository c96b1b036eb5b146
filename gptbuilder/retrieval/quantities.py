"""Numbers as written in a claim or a source: digits, number words, scales, times, decades,
units ("10 p.m." = "10 PM", "330 m" = "330 metres") and what they count or label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gptbuilder.language import fold, stem

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
UNIT_ALIASES = {
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
UNIT_ENTS = frozenset(("QUANTITY", "MONEY", "PERCENT", "TIME"))
_DIGITS = re.compile(r"^\d[\d,]*(?:\.\d+)?$")
TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
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
        return UNIT_ALIASES[fold(prev.text)]
    if nxt is None:
        return ""
    t = fold(nxt.text)
    if t in ("%", "percent"):
        return "percent"
    if t == "per" and nxt.i + 1 < len(doc) and fold(doc[nxt.i + 1].text) == "cent":
        return "percent"
    if t in UNIT_ALIASES and t not in ("in", "a.m", "a.m.", "am", "s", "m", "h"):
        return UNIT_ALIASES[t]
    if t in ("a.m.", "a.m", "am", "p.m.", "p.m", "pm"):
        return UNIT_ALIASES[t]
    if nxt.pos_ == "NOUN" and nxt.ent_type_ in ("QUANTITY", "MONEY", "PERCENT", "TIME"):
        lemma = fold(nxt.lemma_)
        lemma = {"meter": "metre", "metres": "metre", "meters": "metre"}.get(lemma, lemma)
        return UNIT_ALIASES.get(lemma, lemma)
    return ""


def quantities(doc: Any, start: int, end: int) -> list[Quantity]:
    """Numbers written in doc[start:end] (token indexes), scales folded in ("2 million")."""
    out: list[Quantity] = []
    i = start
    while i < end:
        tok = doc[i]
        text = fold(tok.text)
        tm = TIME.match(text)
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
