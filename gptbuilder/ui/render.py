"""Turn answers and sources into safe Markdown for the chat.

Model output and document text are untrusted: they are escaped so they can produce no raw
HTML, no image (a remote image would be fetched by the browser and could leak data) and no
link. Only the structure we add ourselves (bold file names, quotes) is Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gptbuilder.types import Answer, Citation, Document, Hit

# Characters that start Markdown/HTML constructs able to load or link something.
_ESCAPE = re.compile(r"([\\`*_\[\]<>!#|~])")
_CITE = re.compile(r"\\\[(\d{1,3})\\\]")
PASSAGE_CHARS = 420


# Bare URLs would be turned into clickable links by GFM autolinking, even when escaped.
_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"'`]*[^\s<>\"'`).,;:!?\]]", re.IGNORECASE
)


def _escape_plain(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text.replace("&", "&amp;"))


def escape_untrusted(text: str) -> str:
    """Markdown-escape text from a model or a document: shown literally, never rendered as
    HTML, image or link. URLs are shown as code, which Markdown never turns into a link."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_escape_plain(text[pos : m.start()]))
        out.append("`" + m.group(0).replace("`", "") + "`")
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def excerpt(text: str, limit: int = PASSAGE_CHARS) -> str:
    text = _one_line(text)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + " …"


def render_answer_text(text: str) -> str:
    """Escaped answer text whose [n] citation markers are shown bold."""
    return _CITE.sub(r"**[\1]**", escape_untrusted(text.strip()))


def render_sources(citations: Sequence[Citation]) -> str:
    if not citations:
        return ""
    lines = ["", "", "**Sources**", ""]
    for c in citations:
        h = c.hit
        lines.append(
            f"**[{c.number}]** {escape_untrusted(h.filename)}, page {h.page}  \n"
            f"> {escape_untrusted(excerpt(h.text))}"
        )
        lines.append("")
    return "\n".join(lines).rstrip()


def render_answer(answer: Answer) -> str:
    body = render_answer_text(answer.text) or "_(no answer)_"
    if answer.sources and not answer.citations:
        body += (
            "\n\n_No sentence of this answer could be matched to a passage of the documents; "
            "treat it with care._"
        )
    if not answer.sources:
        body += "\n\n_This answer is not based on any document._"
    return body + render_sources(answer.citations)


def citations_to_json(citations: Sequence[Citation]) -> list[dict]:
    return [
        {
            "number": c.number,
            "document_id": c.hit.document_id,
            "chunk_id": c.hit.chunk_id,
            "filename": c.hit.filename,
            "page": c.hit.page,
            "char_start": c.hit.char_start,
            "char_end": c.hit.char_end,
            "text": c.hit.text,
        }
        for c in citations
    ]


def render_stored_answer(content: str, citations: Sequence[dict]) -> str:
    """An answer from the chat history, with the citations saved beside it."""
    cits = [
        Citation(
            c["number"],
            Hit(
                c["chunk_id"],
                c["document_id"],
                c["filename"],
                c["page"],
                c["char_start"],
                c["char_end"],
                c["text"],
                0.0,
            ),
        )
        for c in citations
    ]
    return render_answer_text(content) + render_sources(cits)


def documents_table(docs: Sequence[Document]) -> list[list]:
    rows = []
    for d in docs:
        status = {"ready": "ready", "processing": "processing…", "failed": "failed"}.get(
            d.status, d.status
        )
        rows.append([d.filename, d.pages, d.chunks, f"{d.size_bytes / 1024:.0f} KB", status])
    return rows
