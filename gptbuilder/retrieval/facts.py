"""What a claim or a source span says, read from spaCy's parse: its content words, names,
numbers, negated and hedged statements, who does what, and its subject."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gptbuilder.retrieval.lexicon import (
    CONTENT_POS,
    EXCEPTS,
    HARD_WORDS,
    LIGHT,
    MODALS,
    MONTHS,
    NAME_ENTS,
    NEGATIONS,
    PRONOUNS,
    fold,
    stem,
)
from gptbuilder.retrieval.quantities import TIME, UNIT_ALIASES, UNIT_ENTS, Quantity, quantities


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
                if t.pos_ in CONTENT_POS and not t.is_stop and fold(t.lemma_) not in LIGHT
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
        unit = t.i > 0 and (doc[t.i - 1].like_num or TIME.match(fold(doc[t.i - 1].text)))
        unit = bool(unit) and (low in UNIT_ALIASES or t.ent_type_ in UNIT_ENTS)
        if (
            t.pos_ in CONTENT_POS
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
        if t.pos_ == "PROPN" or fold(t.text) in MONTHS and t.text[:1].isupper():
            w = fold(t.text).removesuffix("'s")
            if w and w not in PRONOUNS and not t.is_stop:
                f.names.append((w,))
                f.surfaces[(w,)] = t.text
    f.quantities = quantities(doc, start, end)
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
