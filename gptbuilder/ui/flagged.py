"""The Knowledge tab's flagged passages: what was flagged, where, why, and the owner's choice.

Pure functions from stored flags to what the table and the picker show; the handlers call
them and ``Library.set_excluded`` acts on the choice.
"""

from __future__ import annotations

from collections.abc import Sequence

from gptbuilder.safety.injection import HIDDEN
from gptbuilder.types import Flag

HEADERS = ["File", "Page", "Why it was flagged", "Words that triggered it", "In answers?"]
EVIDENCE_CHARS = 140


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def status(flag: Flag) -> str:
    if flag.kind == HIDDEN:
        return "no (hidden text, left out)" if flag.chunk_id is None else "yes"
    return "no (excluded)" if flag.excluded else "yes, as quoted data"


def flags_table(flags: Sequence[Flag]) -> list[list]:
    """One row per flag. Document text is shown as plain text (the table renders no Markdown)."""
    return [
        [f.filename, f.page, f.reason, _short(f.evidence or f.passage, EVIDENCE_CHARS), status(f)]
        for f in flags
    ]


def passage_choices(flags: Sequence[Flag]) -> list[tuple[str, int]]:
    """(label, chunk id) per flagged passage, once each; hidden text is in no passage."""
    seen: dict[int, str] = {}
    for f in flags:
        if f.chunk_id is None or f.chunk_id in seen:
            continue
        state = "excluded" if f.excluded else "kept"
        seen[f.chunk_id] = f"{f.filename}, page {f.page} ({state}): {_short(f.evidence, 70)}"
    return [(label, cid) for cid, label in seen.items()]


def summary(flags: Sequence[Flag]) -> str:
    if not flags:
        return "No passage of this assistant's documents looks aimed at an AI."
    passages = {f.chunk_id for f in flags if f.chunk_id is not None}
    excluded = {f.chunk_id for f in flags if f.chunk_id is not None and f.excluded}
    hidden = sum(f.chunk_id is None for f in flags)
    parts = [
        f"{len(passages)} flagged passage{'s' if len(passages) != 1 else ''} "
        f"({len(excluded)} excluded from answers)"
    ]
    if hidden:
        parts.append(f"{hidden} piece{'s' if hidden != 1 else ''} of hidden text left out")
    return (
        "; ".join(parts)
        + ". Kept passages are quoted to the model as data, never as instructions; excluded "
        "ones are not used at all."
    )
