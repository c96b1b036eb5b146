"""How an answer is kept with its message: its citations and how it was shown (lead quote,
checked sentences, notes), so that a conversation opened again, after a restart too, shows
each answer exactly as it was given.

This module owns the saved format (JSON beside each stored answer); the UI only renders what
``read_saved`` gives back, and routing reads the conversation as ``as_understood`` gives it
back (typed: each request as it was answered, the documents each answer cited).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime

from gptbuilder.types import Answer, ChatMessage, Citation, Claim, ConflictSide, Hit

log = logging.getLogger(__name__)

FACT = "fact"  # an answer to one question (the other kinds: "summary", "list", "compare")


@dataclass(frozen=True)
class TaskInfo:
    """How a request was understood and what was read for it, kept with its answer.

    ``question`` is the request as it was answered (rewritten with the conversation for a
    follow-up: ``rewritten``); ``coverage`` says which pages were read and ``note`` when a
    list was cut or a task stopped (plain words, untrusted: file names are in them)."""

    kind: str = FACT
    question: str = ""
    rewritten: bool = False
    coverage: str = ""
    note: str = ""
    stopped: bool = False
    found: int = 0  # a list: how many were found (all of them)
    shown: int = 0  # a list: how many are shown
    in_documents: int = 0  # a list: in how many documents

    @property
    def whole_document(self) -> bool:
        """A summary, list or comparison (not an answer to one question)."""
        return self.kind != FACT

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TaskInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class SavedAnswer:
    """An answer read back from the conversation.

    ``shown`` is the answer as it was shown (saved with everything since answers kept how
    they were shown). Answers saved before that have only their ``text`` with their
    ``citations``, or, when nothing answered the question, the ``closest`` passages."""

    text: str
    shown: Answer | None = None
    citations: tuple[Citation, ...] = ()
    closest: tuple[Hit, ...] = ()
    task: TaskInfo | None = None  # saved since whole-document tasks; None before


def _one_line(text: str) -> str:
    return " ".join(text.split())


def answer_text_for_history(answer: Answer) -> str:
    """What the conversation keeps of an answer (the model reads it in later turns): the
    quote and the checked sentences, without markers."""
    lead = next((c for c in answer.citations if c.number == answer.lead), None)
    quote = _one_line(lead.hit.text[lead.quote[0] : lead.quote[1]]) if lead and lead.quote else ""
    said = " ".join(c.text for c in answer.claims) if answer.claims else answer.text
    if quote and said:
        return f"“{quote}” {said}"
    return f"“{quote}”" if quote else said


def _hit_json(h: Hit) -> dict:
    return {
        "document_id": h.document_id,
        "chunk_id": h.chunk_id,
        "filename": h.filename,
        "page": h.page,
        "char_start": h.char_start,
        "char_end": h.char_end,
        "text": h.text,
        "sha256": h.sha256,
        "uploaded_at": h.uploaded_at.isoformat() if h.uploaded_at else None,
    }


def citations_to_json(
    answer_or_citations: Answer | Sequence[Citation], task: TaskInfo | None = None
) -> list[dict]:
    """What is saved beside an answer: its citations (with quotes), or for an answer that
    found nothing, the closest passages (``"closest": true``); with an answer, how it was
    shown (and ``task``: how the request was understood, what was read)."""
    if isinstance(answer_or_citations, Answer):
        a = answer_or_citations
        if a.abstained:
            closest = [{"number": 0, "closest": True, **_hit_json(h)} for h in a.sources]
            return closest + [{"meta": _meta_json(a, task)}] if task is not None else closest
        citations: Sequence[Citation] = a.citations
    else:
        citations = answer_or_citations
    out = [
        {
            "number": c.number,
            **_hit_json(c.hit),
            "quote": list(c.quote) if c.quote else None,
        }
        for c in citations
    ]
    if isinstance(answer_or_citations, Answer):
        out.append({"meta": _meta_json(answer_or_citations, task)})
    return out


def _meta_json(a: Answer, task: TaskInfo | None = None) -> dict:
    """How the answer was shown (lead quote, checked sentences, notes), so that it looks the
    same when the conversation is opened again."""
    return {
        "text": a.text,
        "lead": a.lead,
        "claims": [
            {"text": c.text, "number": c.number, "span": list(c.span), "support": list(c.support)}
            for c in a.claims
        ],
        "dropped": a.dropped,
        "dropped_reasons": list(a.dropped_reasons),
        "extractive": a.extractive,
        "withheld": a.withheld,
        "style": a.style,
        "closest_quotes": [list(q) if q else None for q in a.closest_quotes],
        "flagged_best": _hit_json(a.flagged_best) if a.flagged_best else None,
        "flagged_quote": list(a.flagged_quote) if a.flagged_quote else None,
        "no_sources": not a.sources,
        "conflict": [{"number": s.number, "value": s.value} for s in a.conflict],
        **({"task": task.to_json()} if task is not None else {}),
    }


def _hit_from_json(c: dict) -> Hit:
    return Hit(
        c["chunk_id"],
        c["document_id"],
        c["filename"],
        c["page"],
        c["char_start"],
        c["char_end"],
        c["text"],
        0.0,
        sha256=c.get("sha256", ""),
        uploaded_at=datetime.fromisoformat(c["uploaded_at"]) if c.get("uploaded_at") else None,
    )


def _citation_from_json(c: dict) -> Citation:
    return Citation(c["number"], _hit_from_json(c), tuple(c["quote"]) if c.get("quote") else None)


def read_saved(content: str, citations: Sequence[dict]) -> SavedAnswer:
    """An answer from the chat history, with the citations saved beside it."""
    meta = next((c["meta"] for c in citations if "meta" in c), None)
    citations = [c for c in citations if "meta" not in c]
    if meta is not None:
        task = TaskInfo.from_json(meta["task"]) if isinstance(meta.get("task"), dict) else None
        return SavedAnswer(content, shown=_answer_from_json(content, citations, meta), task=task)
    closest = tuple(_hit_from_json(c) for c in citations if c.get("closest"))
    if closest:
        return SavedAnswer(content, closest=closest)
    return SavedAnswer(content, citations=tuple(_citation_from_json(c) for c in citations))


def as_understood(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The conversation as it was understood, for routing follow-ups (``tasks.route``), which
    does not read the saved format: a request that was rewritten before it was answered (its
    answer's saved ``TaskInfo`` says so) reads as its rewritten question, and each answer
    carries ``documents``, the ids of the documents it cited in the order first cited (not
    the closest passages shown when nothing answered)."""
    out = list(messages)
    for i, m in enumerate(out):
        if m.role != "assistant":
            continue
        try:
            saved = read_saved(m.content, m.citations)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            # a damaged saved answer is no reason to refuse the next question: it just tells
            # the routing nothing
            log.warning("a saved answer could not be read back (%r); routing without it", err)
            continue
        cited = saved.shown.citations if saved.shown is not None else saved.citations
        out[i] = replace(m, documents=tuple(dict.fromkeys(c.hit.document_id for c in cited)))
        task = saved.task
        asked = task.question if task is not None and task.rewritten else ""
        if i and out[i - 1].role == "user" and isinstance(asked, str) and asked.strip():
            out[i - 1] = replace(out[i - 1], content=asked)
    return out


def _answer_from_json(content: str, citations: Sequence[dict], meta: dict) -> Answer:
    closest = [c for c in citations if c.get("closest")]
    cits = tuple(_citation_from_json(c) for c in citations if not c.get("closest"))
    hits = tuple(_hit_from_json(c) for c in closest) or tuple(c.hit for c in cits)
    return Answer(
        text=meta.get("text", content),
        citations=cits,
        sources=() if meta.get("no_sources") else hits,
        abstained=bool(closest),
        dropped=int(meta.get("dropped", 0)),
        extractive=bool(meta.get("extractive")),
        withheld=bool(meta.get("withheld")),
        lead=int(meta.get("lead", 0)),
        claims=tuple(
            Claim(
                c["text"],
                int(c["number"]),
                (int(c["span"][0]), int(c["span"][1])),
                tuple(c.get("support", ())),
            )
            for c in meta.get("claims", ())
        ),
        dropped_reasons=tuple(meta.get("dropped_reasons", ())),
        closest_quotes=tuple(
            (int(q[0]), int(q[1])) if q else None for q in meta.get("closest_quotes", ())
        ),
        style=meta.get("style", "quote_first"),
        flagged_best=_hit_from_json(meta["flagged_best"]) if meta.get("flagged_best") else None,
        flagged_quote=tuple(meta["flagged_quote"]) if meta.get("flagged_quote") else None,
        conflict=tuple(
            ConflictSide(int(s["number"]), str(s["value"])) for s in meta.get("conflict", ())
        ),
    )
