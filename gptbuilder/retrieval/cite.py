"""Map the model's [n] markers to retrieved passages, and check them against the text.

A marker is kept only if it names a passage that was given to the model *and* that passage
supports the sentence. A sentence without a (valid) marker gets the passage that supports it
best, if one does. A sentence that no passage supports is left out of the answer (and counted,
so the user is told). Citations are renumbered 1, 2, ... in order of first appearance, so a
number shown to the user always matches an entry of the sources list.

Support is half word overlap, half embedding cosine; a passage never supports a sentence that
states a number the passage does not contain, or with another unit (small models invent dates,
times and amounts).

The answer pipeline also says which passages may be cited at all (``citable``): those that hold
the documents' best answer to the question. Then each sentence gets the one citable passage that
supports it best, whatever number the model wrote, and a sentence that only other passages
support is left out: a small model's sentence that leans on a passage off the question is
usually a wrong answer (measured in ``bench/answers.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from gptbuilder.language import STOPWORDS, content_words, fold, split_sentences
from gptbuilder.types import Answer, Citation, Claim, Hit

MARKER = re.compile(r"\s*\[(?:sources?\s*)?(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SUPPORT_THRESHOLD = 0.45  # of the blended score below; tuned on the tests' real answers
MIN_CONTENT_WORDS = 3  # shorter sentences ("Yes.") are not checked or cited on their own

Embed = Callable[[Sequence[str]], np.ndarray]  # (n, dim) float32, L2-normalised
# (sentence, passage) -> ((start, end, source words) of the span of the passage stating the
# sentence, or None; and why not). ``claims.find_support`` over the passage's sentences.
SpanCheck = Callable[[str, Hit], "tuple[tuple[int, int, tuple[str, ...]] | None, str]"]
MIN_CHECK_SUPPORT = 0.2  # blended score below which a passage is not even tried (speed)

# "The documents say:", "According to the sources," ...: the model imitating the app's own
# quotes. The words after it are checked like any claim; quoted words must be verbatim.
FRAMING = re.compile(
    r"^\s*(?:(?:according\s+to|based\s+on|as\s+(?:stated|said|written)\s+in|in)\s+the\s+"
    r"(?:documents?|sources?|passages?|text|context)(?:\s*\[\d+\])?\s*[:,]?\s*"
    r"|(?:the\s+|these\s+|this\s+)?(?:documents?|sources?|passages?|text|context)"
    r"(?:\s*\[\d+\])?\s+(?:says?|states?|reads?|mentions?|notes?|indicates?|explains?)"
    r"(?:\s+that)?\s*[:,]?\s*"
    r"|the\s+answer(?:\s+to\s+(?:this|the|your)\s+question)?\s+is\s*:\s*)",
    re.IGNORECASE,
)
LABEL = re.compile(r"^\s*(?:A|Answer)\s*:\s+")
QUOTED = re.compile(r"[“\"«„]([^“”\"«»„]{2,})[”\"»“]")
_DASHES = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u00ad]+")


def numbers(text: str) -> set[str]:
    """Numbers written in ``text``, normalised ("1,200" and "1200" are the same)."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


# A number and the lower-case word right after it, its unit when it is one ("2 pm", "330
# metres", "40%"), dots dropped ("p.m.").
_QUANTITY = re.compile(r"(\d+(?:[.,]\d+)*)(?:\s?(%|[a-z][a-z.]{0,11}))?")


def quantities(text: str) -> set[str]:
    """Numbers of ``text`` with their unit where a lower-case non-stopword follows them."""
    out = set()
    for m in _QUANTITY.finditer(text):
        number = m.group(1).replace(",", "")
        unit = (m.group(2) or "").replace(".", "")
        out.add(f"{number} {unit}" if unit and unit not in STOPWORDS else number)
    return out


def _states_other_numbers(
    sentence: str, passage_numbers: set[str], passage_quantities: set[str]
) -> bool:
    """The sentence states a number the passage lacks, or one with another unit ("2 pm" where
    the passage has "10 pm" and "level 2")."""
    for q in quantities(sentence):
        if q not in (passage_quantities if " " in q else passage_numbers):
            return True
    return False


def _support(
    sentences: list[str], hits: Sequence[Hit], embed: Embed | None, numbers_veto: bool = True
) -> np.ndarray:
    """(n_sentences, n_hits) in [0, 1]: half word overlap, half embedding cosine; 0 where the
    sentence states a number the passage lacks (unless not ``numbers_veto``: the strict check
    reads numbers itself, "eight" = "8")."""
    lexical = np.zeros((len(sentences), len(hits)), dtype=np.float32)
    hit_words = [content_words(h.text) for h in hits]
    hit_numbers = [numbers(h.text) for h in hits]
    hit_quantities = [quantities(h.text.lower()) for h in hits]
    agrees = np.ones_like(lexical)
    for i, s in enumerate(sentences):
        words = content_words(s)
        for j, hw in enumerate(hit_words):
            if words:
                lexical[i, j] = len(words & hw) / len(words)
            if numbers_veto and _states_other_numbers(s, hit_numbers[j], hit_quantities[j]):
                agrees[i, j] = 0.0
    if embed is None:
        return lexical * agrees
    vecs = embed([*sentences, *(h.text for h in hits)])
    cosine = np.clip(vecs[: len(sentences)] @ vecs[len(sentences) :].T, 0.0, 1.0)
    return (0.5 * lexical + 0.5 * cosine) * agrees


def verbatim_key(text: str) -> str:
    """Text compared word for word: case, accents, whitespace, hyphens and dashes, curly
    quotes and the punctuation at either end do not count."""
    return _DASHES.sub(" ", fold(text)).strip(" .,;:!?'\"()[]")


def is_verbatim(quote: str, passages: Sequence[str]) -> bool:
    """Every piece of ``quote`` (split at an ellipsis) is word for word in one passage, in
    order."""
    pieces = [verbatim_key(p) for p in re.split(r"\.\.\.|…", MARKER.sub("", quote))]
    pieces = [p for p in pieces if p]
    if not pieces:
        return False
    for passage in passages:
        key = verbatim_key(passage)
        pos = 0
        for p in pieces:
            found = key.find(p, pos)
            if found < 0:
                break
            pos = found + len(p)
        else:
            return True
    return False


def unframe(sentence: str) -> tuple[str, bool]:
    """The sentence without a leading "The documents say:", and whether it had one. A bare
    "A:" or "Answer:" label (the model imitating a question-and-answer layout) goes too."""
    label = LABEL.match(sentence)
    if label and sentence[label.end() :].strip():
        sentence = sentence[label.end() :]
    m = FRAMING.match(sentence)
    if not m or not sentence[m.end() :].strip():
        return sentence, False
    rest = sentence[m.end() :]
    return rest[:1].upper() + rest[1:], True


def _bad_quote(sentence: str, framed: bool, passages: Sequence[str]) -> bool:
    """The sentence quotes words (or, after "The documents say:", presents itself as the
    documents' words) that no passage holds word for word."""
    quoted = [m.group(1) for m in QUOTED.finditer(sentence)]
    if framed and sentence.lstrip()[:1] in '“"«„':
        # The documents' words, all of it (quotes may nest inside): verbatim or nothing.
        whole = sentence.strip().strip('“”"«»„').rstrip(".").strip('“”"«»„ ')
        return not is_verbatim(whole, passages)
    if framed and not quoted:
        return False  # "The documents say that X": X is a claim, checked as one
    return any(len(q.split()) >= 2 and not is_verbatim(q, passages) for q in quoted)


def _strip_quote_marks(sentence: str) -> str:
    """A model sentence is never styled as a quote: only the app's verified quotes are."""
    return QUOTED.sub(lambda m: m.group(1), sentence)


def resolve_citations(
    text: str,
    hits: Sequence[Hit],
    embed: Embed | None = None,
    drop_unsupported: bool = True,
    citable: Sequence[bool] | None = None,  # per hit; None: any hit may be cited
    check: SpanCheck | None = None,  # strict claim check; None: passage-level support only
    numbered: Sequence[int] = (),  # hit indexes already shown with numbers 1, 2, ...
) -> Answer:
    if check is not None:
        return _resolve_strict(text, hits, embed, check, citable, numbered)
    sentences = split_sentences(text)
    cleaned: list[str] = []
    marked: list[list[int]] = []  # per sentence: valid 0-based hit indexes the model named
    for s in sentences:
        named: list[int] = []
        for m in MARKER.finditer(s):
            for n in re.split(r"[,;]", m.group(1)):
                idx = int(n) - 1
                if 0 <= idx < len(hits) and idx not in named:
                    named.append(idx)
        cleaned.append(MARKER.sub("", s))
        marked.append(named)

    support = (
        _support([c.strip() for c in cleaned], hits, embed)
        if hits and cleaned
        else np.zeros((len(cleaned), 0))
    )
    shown: dict[int, int] = {}  # hit index -> shown number
    out: list[str] = []
    said: list[set[str]] = []  # content words of each sentence shown
    dropped = 0
    for i, sentence in enumerate(cleaned):
        chosen: list[int] = []
        if _is_question(sentence):
            # A question is no claim (a small model often repeats the user's): never shown as
            # if the documents said it.
            dropped += 1
            continue
        words = content_words(sentence)
        if words and any(words <= earlier for earlier in said):
            continue  # says again what a sentence shown above says (small models repeat)
        if hits and len(content_words(sentence)) >= MIN_CONTENT_WORDS:
            if citable is not None:
                ok = [j for j in range(len(hits)) if citable[j]]
                best = max(ok, key=lambda j: support[i, j], default=None)
                if best is not None and support[i, best] >= SUPPORT_THRESHOLD:
                    chosen = [best]
            else:
                chosen = [j for j in marked[i] if support[i, j] >= SUPPORT_THRESHOLD]
            if not chosen and citable is None:
                best = int(np.argmax(support[i]))
                if support[i, best] >= SUPPORT_THRESHOLD:
                    chosen = [best]
            if not chosen and drop_unsupported:
                dropped += 1
                continue
        elif hits:
            # Too short to check: keep what the model said, if valid (and citable).
            chosen = [j for j in marked[i] if citable is None or citable[j]]
        for j in chosen:
            shown.setdefault(j, len(shown) + 1)
        out.append(_attach(sentence, [shown[j] for j in chosen]))
        said.append(words)

    citations = tuple(
        Citation(number=n, hit=hits[j]) for j, n in sorted(shown.items(), key=lambda t: t[1])
    )
    return Answer(
        text="".join(out).strip(), citations=citations, sources=tuple(hits), dropped=dropped
    )


def _is_question(sentence: str) -> bool:
    return sentence.strip().rstrip("\"'”’)]*_ ").endswith("?")


def cited_sentences(answer_text: str) -> dict[int, str]:
    """Shown citation number -> the answer's sentences that carry it, joined."""
    claims: dict[int, list[str]] = {}
    for s in split_sentences(answer_text):
        body = MARKER.sub("", s).strip()
        for m in MARKER.finditer(s):
            for n in re.split(r"[,;]", m.group(1)):
                claims.setdefault(int(n), []).append(body)
    return {n: " ".join(v) for n, v in claims.items()}


def _attach(sentence: str, labels: list[int]) -> str:
    if not labels:
        return sentence
    marks = "".join(f"[{n}]" for n in labels)
    body = sentence.rstrip()
    tail = sentence[len(body) :]
    if body and body[-1] in ".!?":
        return f"{body[:-1]} {marks}{body[-1]}{tail}"
    return f"{body} {marks}{tail}"


def _markers(sentence: str, n_hits: int) -> list[int]:
    named: list[int] = []
    for m in MARKER.finditer(sentence):
        for n in re.split(r"[,;]", m.group(1)):
            idx = int(n) - 1
            if 0 <= idx < n_hits and idx not in named:
                named.append(idx)
    return named


def _resolve_strict(
    text: str,
    hits: Sequence[Hit],
    embed: Embed | None,
    check: SpanCheck,
    citable: Sequence[bool] | None,
    numbered: Sequence[int],
) -> Answer:
    """Every sentence, however short, is shown only if one sentence (or two adjacent ones) of
    a citable passage states it (``check``); quoted words must be in a passage verbatim."""
    allowed = [j for j in range(len(hits)) if citable is None or citable[j]]
    passages = [hits[j].text for j in allowed]
    sentences = [s for s in split_sentences(text) if MARKER.sub("", s).strip()]
    bodies = []
    for s in sentences:
        body, framed = unframe(MARKER.sub("", s).strip())
        bodies.append((body, framed))
    support = (
        _support([b for b, _ in bodies], hits, embed, numbers_veto=False)
        if hits and bodies
        else np.zeros((len(bodies), len(hits)))
    )
    shown: dict[int, int] = {j: n for n, j in enumerate(numbered, 1)}
    out: list[str] = []
    claims: list[Claim] = []
    reasons: list[str] = []
    said: list[set[str]] = []
    for i, (body, framed) in enumerate(bodies):
        if _is_question(body):
            reasons.append("a question, not a statement")
            continue
        if _bad_quote(body, framed, passages):
            reasons.append("words in quotation marks that the documents do not have")
            continue
        claim = _strip_quote_marks(body).strip()
        words = content_words(claim)
        # A verbatim quote of the documents, long enough to say something (not "electric motor")
        whole_quote = framed and body.lstrip()[:1] in '“"«„' and len(claim.split()) >= 4
        if words and any(words <= earlier for earlier in said):
            continue  # says again what a sentence shown above says (small models repeat)
        order = sorted(
            (
                j
                for j in allowed
                if support[i, j] >= MIN_CHECK_SUPPORT or j in _markers(sentences[i], len(hits))
            ),
            key=lambda j: -support[i, j],
        )
        found = None
        why = "no passage of the documents states it"
        if whole_quote:  # verbatim (checked above): the documents' own words
            j = next((j for j in allowed if is_verbatim(claim, [hits[j].text])), None)
            if j is not None:
                found = (j, (0, len(hits[j].text), tuple(sorted(words))))
                order = []
        for j in order:
            span, reason = check(claim, hits[j])
            if span is not None:
                found = (j, span)
                break
            why = reason or why
        if found is None:
            reasons.append(why)
            continue
        j, (a, b, words_) = found
        number = shown.setdefault(j, len(shown) + 1)
        out.append(_attach(claim + ("" if claim[-1:] in ".!?" else "."), [number]) + " ")
        claims.append(Claim(claim, number, (a, b), words_))
        said.append(words)
    citations = tuple(
        Citation(number=n, hit=hits[j]) for j, n in sorted(shown.items(), key=lambda t: t[1])
    )
    return Answer(
        text="".join(out).strip(),
        citations=citations,
        sources=tuple(hits),
        dropped=len(reasons),
        claims=tuple(claims),
        dropped_reasons=tuple(reasons),
    )
