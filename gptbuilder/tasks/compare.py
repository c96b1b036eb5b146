"""Two documents side by side: each one's key points, paired with the other's closest point
on the same subject (sentence vectors of the candidate points only), cited to both."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gptbuilder.retrieval.cite import Embed
from gptbuilder.tasks.compose import Cited
from gptbuilder.types import Answer, Citation, Claim

SAME_SUBJECT = 0.55  # cosine of two points' vectors from which they are about the same thing


def align(
    a: Sequence[Cited], b: Sequence[Cited], embed: Embed
) -> tuple[list[tuple[Cited, Cited]], list[Cited], list[Cited]]:
    """Pairs (a point of A, the point of B on the same subject), then A's and B's points
    without a counterpart. Each point of B is paired at most once, the closest pair first."""
    if not a or not b:
        return [], list(a), list(b)
    vecs = embed([p.text for p in [*a, *b]])
    sims = vecs[: len(a)] @ vecs[len(a) :].T
    pairs: list[tuple[int, int]] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    for flat in np.argsort(-sims, axis=None):
        i, j = divmod(int(flat), len(b))
        if sims[i, j] < SAME_SUBJECT:
            break
        if i in used_a or j in used_b:
            continue
        pairs.append((i, j))
        used_a.add(i)
        used_b.add(j)
    pairs.sort()
    return (
        [(a[i], b[j]) for i, j in pairs],
        [p for i, p in enumerate(a) if i not in used_a],
        [p for j, p in enumerate(b) if j not in used_b],
    )


def compare_answer(
    name_a: str,
    name_b: str,
    pairs: Sequence[tuple[Cited, Cited]],
    only_a: Sequence[Cited],
    only_b: Sequence[Cited],
    dropped: int = 0,
    reasons: Sequence[str] = (),
) -> Answer:
    """Side by side: "On the same subject" rows citing both, then what only one covers."""
    citations: list[Citation] = []
    claims: list[Claim] = []

    def cite(p: Cited) -> str:
        n = len(citations) + 1
        citations.append(Citation(n, p.hit, (p.start, p.end)))
        claims.append(Claim(p.text, n, (p.start, p.end), p.support))
        body = " ".join(p.text.split())
        return f"{body[:-1]} [{n}]{body[-1]}" if body[-1:] in ".!?" else f"{body} [{n}]"

    lines: list[str] = []
    if pairs:
        lines.append("**On the same subject**")
        for x, y in pairs:
            lines.append(f"- *{name_a}:* {cite(x)}\n  *{name_b}:* {cite(y)}")
    for name, only in ((name_a, only_a), (name_b, only_b)):
        if only:
            lines.append(f"\n**Only in {name}**")
            lines.extend(f"- {cite(p)}" for p in only)
    if not lines:
        lines.append("Neither document had key points that could be checked.")
    return Answer(
        text="\n".join(lines).strip(),
        citations=tuple(citations),
        sources=tuple(dict.fromkeys(c.hit for c in citations)),
        dropped=dropped,
        extractive=True,
        claims=tuple(claims),
        dropped_reasons=tuple(reasons),
    )
