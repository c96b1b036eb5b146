"""E-mail addresses in a page's text, whole even where a line end breaks them.

An address that a line end breaks ("9-FAA-SACO-AD-Inquiry@" / "faa.gov") is given whole
(``emails``) with the span it is written in, line end included. Where the join cannot be told
for sure (a hyphen that may be the address's own, a dot that may end the sentence), the
document decides when it spells the word or the address elsewhere (``Spelled``); otherwise the
address is left out, never given cut short.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from gptbuilder.tasks.passages import DocumentText

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# An address joined over line ends, checked whole: no empty part, a top-level domain of letters.
_EMAIL_WHOLE = re.compile(r"[\w+-]+(?:\.[\w+-]+)*@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_ADDRESS_RUN = re.compile(r"[\w.+@-]+")  # what an address is written with, up to a space
_LINE_END = re.compile(r"[ \t]*\n[ \t]*")  # one line end (a blank line ends a paragraph)
_WORD_PARTS = re.compile(r"\w+(?:-\w+)*")
# Top-level domains that are not two letters (two letters: a country's, "uk", "de").
_GENERIC_TLDS = frozenset(
    "com org net edu gov mil int info biz name pro io ai app dev aero coop museum mobi asia "
    "jobs tel travel".split()
)


class Spelled:
    """How a document spells words and addresses where no line end breaks them: what decides
    whether a hyphen at a line end inside an address is the address's own, and whether a dot
    there ends the sentence."""

    def __init__(self, doc: DocumentText | None) -> None:
        self.words: dict[str, int] = {}
        self.addresses: set[str] = set()
        for p in doc.passages if doc is not None else ():
            text = p.hit.text
            for w in _WORD_PARTS.findall(text):
                w = w.lower()
                self.words[w] = self.words.get(w, 0) + 1
            runs = list(_ADDRESS_RUN.finditer(text))
            for k, run in enumerate(runs):
                if "@" not in run.group(0):
                    continue
                alone = (k == 0 or _joinable(text, runs[k - 1], run) is None) and (
                    k + 1 == len(runs) or _joinable(text, run, runs[k + 1]) is None
                )
                if alone:
                    self.addresses.update(m.group(0).lower() for m in _EMAIL.finditer(run[0]))

    def count(self, word: str) -> int:
        return self.words.get(word.lower(), 0)

    def has(self, address: str) -> bool:
        return address.lower() in self.addresses


def _joinable(text: str, left: re.Match[str], right: re.Match[str]) -> str | None:
    """How a line end between two runs of address characters may join them: "@" or "." where
    one ends or the other starts (an address never ends at "@" or starts with "."), "-" where
    a hyphen ends the line; None where only a line end or more than one is between them."""
    if not _LINE_END.fullmatch(text, left.end(), right.start()):
        return None
    a, b = left.group(0), right.group(0)
    if a.endswith("@") or b.startswith(("@", ".")):
        return "@"
    if a.endswith("-") and re.search(r"\w-$", a):
        return "-"
    if a.endswith("."):
        return "."
    return None


def _tld_like(label: str) -> bool:
    """A label that may end a domain ("uk", "com"), so an address may end with it."""
    return label.isalpha() and (len(label) == 2 or label.lower() in _GENERIC_TLDS)


def _hyphen_kept(left: str, right: str, spelled: Spelled) -> bool | None:
    """A hyphen at a line end between two parts of an address: kept (the address's own, as in
    "pilatus-aircraft.com"), dropped (a word broken in two: "exam-" / "ple"), or None: cannot
    be told. The document decides when it spells the word elsewhere; a part that cannot be a
    syllable (one letter before, under three after, a capital or a digit after: "9-" /
    "ANM-…") keeps it; two lower-case syllables alone cannot be told apart."""
    a = re.search(r"\w+$", left.removesuffix("-"))
    b = re.match(r"\w+", right)
    if a is None or b is None:
        return None
    first, second = a.group(0), b.group(0)
    joined, hyphened = spelled.count(first + second), spelled.count(f"{first}-{second}")
    if hyphened > joined:
        return True
    if joined:
        return False
    if not second[0].islower() or len(first) < 2 or len(second) < 3:
        return True
    return None


def emails(text: str, spelled: Spelled) -> Iterator[tuple[int, int, str]]:
    """Every e-mail address: (start, end, the address). One that a line end breaks is joined
    (its span covers the break); one that cannot be joined for sure is left out."""
    runs = list(_ADDRESS_RUN.finditer(text))
    taken = -1  # runs up to this one belong to an address already given
    for k, run in enumerate(runs):
        if k <= taken or "@" not in run.group(0):
            continue
        first = last = k
        address: str | None = run.group(0)
        broken = False
        while address is not None and first > taken + 1:  # the line(s) before
            how = _joinable(text, runs[first - 1], runs[first])
            left = runs[first - 1].group(0)
            if how is None or "@" in left:
                break
            go_on, address = _glue(left, address, how, _after_dot_in_name, spelled, address)
            if not go_on:
                break  # the dot ended a sentence: the address starts on its own line
            first -= 1
            broken = True
        while address is not None and last + 1 < len(runs):  # the line(s) after
            how = _joinable(text, runs[last], runs[last + 1])
            right = runs[last + 1].group(0)
            if how is None or "@" in right:
                break
            go_on, address = _glue(address, right, how, _after_dot_in_domain, spelled, address)
            if not go_on:
                break  # the dot ended the sentence
            last += 1
            broken = True
        if not broken:
            yield from (
                (run.start() + m.start(), run.start() + m.end(), m.group(0))
                for m in _EMAIL.finditer(run.group(0))
            )
            continue
        taken = last
        if address is None:
            continue  # cannot be joined for sure: left out, never shown cut short
        start, end = runs[first].start(), runs[last].end()
        lead = len(address) - len(address.lstrip(".-"))
        tail = len(address) - len(address.rstrip(".-"))
        whole = address[lead : len(address) - tail]
        if _EMAIL_WHOLE.fullmatch(whole) and ".." not in whole:
            yield start + lead, end - tail, whole


def _glue(
    left: str,
    right: str,
    how: str,
    after_dot: Callable[[str, str, Spelled], str | None],
    spelled: Spelled,
    address: str,
) -> tuple[bool, str | None]:
    """Two pieces of an address a line end ``how`` ("-", "." or "") parts, joined: (whether
    the join goes on, the address so far: None when it cannot be told). A dot that ends a
    sentence (``after_dot`` gives the ``address`` back) stops it, the address unchanged."""
    if how == "-":
        kept = _hyphen_kept(left, right, spelled)
        return True, None if kept is None else (left if kept else left[:-1]) + right
    if how == ".":
        joined = after_dot(left, right, spelled)
        return joined != address, joined
    return True, left + right


def _after_dot_in_name(left: str, address: str, spelled: Spelled) -> str | None:
    """ "john." at a line end, "smith@example.com" on the next line: one address, or the end of
    a sentence before an address. The document decides when it writes either address
    elsewhere; a capitalised word ("Inc.", "Office.") ends a sentence; otherwise None."""
    joined = left + address
    if spelled.has(joined.strip(".-")):
        return joined
    if spelled.has(address.strip(".-")) or re.match(r"[A-Z]", left):
        return address
    return None


def _after_dot_in_domain(address: str, right: str, spelled: Spelled) -> str | None:
    """ "john@example." at a line end and "com" on the next line: one address, or the end of a
    sentence. An address whose domain cannot end there ("example.") goes on, if the next line
    ends it ("com"; else None); one that can
    ("example.com.") ends unless the next line starts like a domain ("uk", "mail.example"),
    when only the document can tell (else None); a capital on the next line ends it."""
    domain = address.split("@", 1)[1].rstrip(".")
    if not right[:1].islower():
        return address
    word = right.rstrip(".-")
    if "." not in domain or not _tld_like(domain.rsplit(".", 1)[-1]):
        # It cannot end here: it goes on, into a domain that can end ("example." / "com").
        return address + right if _tld_like(word.rsplit(".", 1)[-1]) else None
    if "." in word or _tld_like(word):
        if spelled.has(address + word):
            return address + right
        if spelled.has(address.rstrip(".")):
            return address
        return None
    return address
