"""Points cited to source spans, checked, and put together as an ordinary ``Answer``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gptbuilder.language import fold
from gptbuilder.retrieval.claims import Analyzer, check_in_passage
from gptbuilder.types import Answer, Citation, Claim, Hit


@dataclass(frozen=True)
class Cited:
    """A point to show: ``text`` stated by ``hit.text[start:end]``."""

    text: str
    hit: Hit
    start: int
    end: int
    support: tuple[str, ...] = ()
    label: str = ""  # shown before the point, outside the claim ("report.pdf")
    after: str = ""  # shown after its marker, outside the claim ("3 mentions, pp. 2–4")


def verify(point: Cited, nlp: Analyzer) -> Cited | None:
    """The point held to its passage by the claim checker (``claims.check_in_passage``): the
    span that states it, or None (left out)."""
    found, _why = check_in_passage(point.text, point.hit.text, nlp)
    if found is None:
        return None
    a, b, words = found
    return Cited(point.text, point.hit, a, b, words, point.label, point.after)


def verbatim(item: str, point: Cited) -> bool:
    """A list item is shown only if its words are in the span it cites, as written there."""
    span = point.hit.text[point.start : point.end]
    return " ".join(fold(item).split()) in " ".join(fold(span).split())


def answer_of(
    blocks: Sequence[tuple[str, Sequence[Cited], bool]],
    intro: str = "",
    outro: str = "",
    dropped: int = 0,
    reasons: Sequence[str] = (),
) -> Answer:
    """An Answer whose text is ``intro``, then per block (title, points, as a bulleted list
    or as prose) a title line and its points, each with its own [n] (citation n quotes the
    point's span), then ``outro``."""
    lines: list[str] = [intro] if intro else []
    citations: list[Citation] = []
    claims: list[Claim] = []
    for title, points, bullet in blocks:
        if title:
            lines.append(f"\n**{title}**" if lines else f"**{title}**")
        prose: list[str] = []
        for p in points:
            n = len(citations) + 1
            citations.append(Citation(n, p.hit, (p.start, p.end)))
            claims.append(Claim(p.text, n, (p.start, p.end), p.support))
            body = " ".join(p.text.split())
            shown = f"{body[:-1]} [{n}]{body[-1]}" if body[-1:] in ".!?" else f"{body} [{n}]"
            if p.label:
                shown = f"{p.label}: {shown}"
            if p.after:
                shown = f"{shown} ({p.after})"
            if bullet:
                lines.append(f"- {shown}")
            else:
                prose.append(shown)
        if prose:
            lines.append(" ".join(prose))
    if outro:
        lines.append(f"\n{outro}")
    text = "\n".join(lines).strip()
    sources = tuple(dict.fromkeys(c.hit for c in citations))
    return Answer(
        text=text,
        citations=tuple(citations),
        sources=sources,
        dropped=dropped,
        extractive=True,
        claims=tuple(claims),
        dropped_reasons=tuple(reasons),
    )
