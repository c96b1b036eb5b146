"""Passages left out of answers by an injection flag still get looked at for each question:
when one matches the question better than anything that was found, the answer says so and
shows it as data, so that a (possibly false) flag cannot silently steer an answer elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from gptbuilder.retrieval.evidence import Assessment
from gptbuilder.types import Hit


def best_excluded(
    excluded: Sequence[tuple[Hit, np.ndarray]],  # the assistant's excluded passages, vectors
    embed_question: Callable[[], np.ndarray],  # called only if there are excluded passages
    hits: Sequence[Hit],  # what retrieval found
    judged: Assessment | None,  # their judgement
    judge: Callable[[list[Hit]], Assessment],
) -> tuple[Hit, tuple[int, int]] | None:
    """The excluded passage that matches the question better than what was found, judged by
    the same sentence scores, with its best sentence; None when none does."""
    if not excluded:
        return None
    q = embed_question()
    scored = sorted(
        ((float(vec @ q), hit) for hit, vec in excluded if vec.shape == q.shape),
        key=lambda t: -t[0],
    )[:3]
    best_found = max((h.dense_score or 0.0 for h in hits), default=0.0)
    cands = [replace(h, dense_score=cos, score=cos) for cos, h in scored if cos > best_found]
    if not cands:
        return None
    theirs = judge(cands[:1])
    ours = judged.evidence[0].score if judged and judged.evidence else 0.0
    if theirs.evidence and theirs.evidence[0].score > ours:
        return cands[0], (theirs.evidence[0].start, theirs.evidence[0].end)
    return None
