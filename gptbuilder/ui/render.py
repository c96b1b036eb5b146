"""Turn answers and sources into safe Markdown for the chat.

Model output and document text are untrusted: they are escaped so they can produce no raw
HTML, no image (a remote image would be fetched by the browser and could leak data) and no
link, except links to hosts the owner allowed (setting GPTB_LINK_HOSTS, empty by default).
Only the structure we add ourselves (bold file names, quotes) is Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote as urlquote
from urllib.parse import urlsplit

from gptbuilder.types import Answer, Citation, Claim, Document, Hit

# Characters that start Markdown/HTML constructs able to load or link something.
_ESCAPE = re.compile(r"([\\`*_\[\]<>!#|~])")
_CITE = re.compile(r"\\\[(\d{1,3})\\\]")
PASSAGE_CHARS = 420


# Bare URLs and e-mail addresses would be turned into clickable links by GFM autolinking, even
# when escaped, and wherever they start: Gradio's Markdown links "1https://…", "_https://…",
# "xwww.…" and "name@host" (as mailto:). So they are found anywhere, not at a word boundary.
_URL = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"'`]*[^\s<>\"'`).,;:!?\]]"
    r"|[\w.!#$%&'*+/=?^{|}~-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+",
    re.IGNORECASE,
)


def _escape_plain(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text.replace("&", "&amp;"))


def allowed_link(url: str, allowed_hosts: Sequence[str]) -> str | None:
    """The address to link to, if ``url`` is http(s) on an allowed host (or a subdomain)."""
    if not allowed_hosts:
        return None
    href = url if "://" in url else "https://" + url  # "www.example.com/x"
    try:
        parts = urlsplit(href)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return None
    if any(host == h or host.endswith("." + h) for h in allowed_hosts):
        return href
    return None


def counted(n: int, noun: str) -> str:
    """ "1 document", "3 documents" (a noun whose plural takes an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def notice(text: str, kind: str = "info") -> str:
    """A status line for the UI: "info", "ok" or "error"."""
    icon = {"info": "ℹ️", "ok": "✅", "error": "⚠️"}[kind]
    return f"{icon} {text}"


def escape_untrusted(text: str, allowed_hosts: Sequence[str] = ()) -> str:
    """Markdown-escape text from a model or a document: shown literally, never rendered as
    HTML, image or link. URLs are shown as code, which Markdown never turns into a link;
    only URLs on ``allowed_hosts`` become links (never images: the ``!`` stays escaped)."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_escape_plain(text[pos : m.start()]))
        href = allowed_link(m.group(0), allowed_hosts)
        if href is not None and not re.search(r"[\s<>]", href):
            out.append(f"[{_escape_plain(m.group(0))}](<{href}>)")
        else:
            out.append("`" + m.group(0).replace("`", "") + "`")
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def one_line(text: str) -> str:
    return " ".join(text.split())


def excerpt(text: str, limit: int = PASSAGE_CHARS) -> str:
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + " …"


def render_answer_text(text: str, allowed_hosts: Sequence[str] = ()) -> str:
    """Escaped answer text whose [n] citation markers are shown bold."""
    return _CITE.sub(r"**[\1]**", escape_untrusted(text.strip(), allowed_hosts))


CONTEXT_CHARS = 160  # of the passage shown on each side of the highlighted quote


def quoted_passage(hit: Hit, quote: tuple[int, int] | None) -> str:
    """The passage as a Markdown quote, with the supporting sentence in bold. Long passages are
    cut around the quote, so the highlight is always visible."""
    text = hit.text
    if quote is None or not (0 <= quote[0] < quote[1] <= len(text)):
        return "> " + escape_untrusted(excerpt(text))
    start, end = quote
    before = one_line(text[:start])
    body = one_line(text[start:end])
    after = one_line(text[end:])
    if len(before) > CONTEXT_CHARS:
        cut = before.find(" ", len(before) - CONTEXT_CHARS)
        before = "… " + before[cut + 1 if cut != -1 else len(before) - CONTEXT_CHARS :]
    if len(after) > CONTEXT_CHARS:
        cut = after.rfind(" ", 0, CONTEXT_CHARS)
        after = after[: cut if cut > CONTEXT_CHARS // 2 else CONTEXT_CHARS] + " …"
    parts = [escape_untrusted(before), f"**{escape_untrusted(body)}**", escape_untrusted(after)]
    return "> " + " ".join(p for p in parts if p)


def passage_url(hit: Hit, quote: tuple[int, int] | None, words: Sequence[str] = ()) -> str:
    """Our own page that shows the passage in its page (quote highlighted, the words that
    support a claim marked), and opens the file there."""
    q = f"?start={quote[0]}&end={quote[1]}" if quote else ""
    if quote and words:
        q += "&w=" + urlquote(",".join(_plain_words(words)))
    return f"/gptb/passage/{hit.document_id}/{hit.chunk_id}{q}"


def passage_link(hit: Hit, quote: tuple[int, int] | None) -> str:
    return f"[show in context]({passage_url(hit, quote)})"


def _plain_words(words: Sequence[str]) -> list[str]:
    """Words safe inside a URL and a link title: letters, digits, spaces."""
    out = []
    for w in words:
        w = " ".join(re.sub(r"[^\w ]+", " ", w).split())[:40]
        if w:
            out.append(w)
    return out[:12]


def claim_marker(claim: Claim, citation: Citation | None) -> str:
    """The citation number of a checked sentence: a link to the sentence(s) of the source
    that state it, with the supporting words shown on hover."""
    if citation is None:
        return f"**[{claim.number}]**"
    words = _plain_words(claim.support)
    title = "Stated in the source" + (": " + ", ".join(words) if words else "")
    return f'[**[{claim.number}]**]({passage_url(citation.hit, claim.span, words)} "{title}")'


def provenance(hit: Hit) -> str:
    """When the file was uploaded and the start of its sha256, to tell versions apart."""
    parts = []
    if hit.uploaded_at is not None:
        parts.append(f"uploaded {hit.uploaded_at:%Y-%m-%d %H:%M} UTC")
    if hit.sha256:
        parts.append(f"sha256 `{hit.sha256[:12]}`")
    return "".join(f" · {p}" for p in parts)


def _source_line(label: str, hit: Hit, quote: tuple[int, int] | None) -> list[str]:
    return [
        f"{label} {escape_untrusted(hit.filename)}, page {hit.page}{provenance(hit)} · "
        f"{passage_link(hit, quote)}  ",
        quoted_passage(hit, quote),
        "",
    ]


def render_sources(citations: Sequence[Citation]) -> str:
    if not citations:
        return ""
    lines = ["", "", "**Sources**", ""]
    for c in citations:
        lines += _source_line(f"**[{c.number}]**", c.hit, c.quote)
    return "\n".join(lines).rstrip()


def render_closest(hits: Sequence[Hit], quotes: Sequence[tuple[int, int] | None] = ()) -> str:
    """The passages closest to an unanswered question, each with its best sentence in bold
    (the answer is often there, just not certain enough to give)."""
    if not hits:
        return ""
    lines = ["", "", "**Closest passages** (the sentence closest to your question in bold)", ""]
    for i, h in enumerate(hits):
        lines += _source_line("•", h, quotes[i] if i < len(quotes) else None)
    return "\n".join(lines).rstrip()


LEAD_LABEL = "📄 **From the documents, word for word**"
MODEL_LABEL = "💬 **The assistant's words**, each sentence checked against its source:"


def render_lead(answer: Answer) -> str:
    """The documents' best sentence, verbatim, as a quote: the only text styled as a quote."""
    c = next((c for c in answer.citations if c.number == answer.lead), None)
    if c is None or c.quote is None:
        return ""
    text = one_line(c.hit.text[c.quote[0] : c.quote[1]])
    where = f"{escape_untrusted(c.hit.filename)}, page {c.hit.page}"
    return (
        f'> {LEAD_LABEL} · [**[{c.number}]**]({passage_url(c.hit, c.quote)} "{where}")  \n'
        f"> “{escape_untrusted(text)}”"
    )


CONFLICT_LABEL = "⚠️ **The sources disagree.**"


def render_conflict(answer: Answer) -> str:
    """The documents give different answers: each side with its file, page and the sentence
    that states its value (word for word, as a quote), none of them given as the answer."""
    by_number = {c.number: c for c in answer.citations}
    said = []
    quotes = []
    for side in answer.conflict:
        c = by_number.get(side.number)
        if c is None:
            continue
        where = f"{escape_untrusted(c.hit.filename)}, page {c.hit.page}"
        link = f'[**[{c.number}]**]({passage_url(c.hit, c.quote)} "{where}")'
        said.append(f"{where}, says “{escape_untrusted(one_line(side.value))}” {link}")
        text = one_line(c.hit.text[c.quote[0] : c.quote[1]]) if c.quote else excerpt(c.hit.text)
        quotes.append(f"> 📄 **{where}** · {link}  \n> “{escape_untrusted(text)}”")
    lead = f"{CONFLICT_LABEL} They give different answers to this question: " + "; ".join(said)
    return "\n\n".join([lead + ". Check which is right.", *quotes])


def render_claims(answer: Answer, allowed_hosts: Sequence[str] = ()) -> str:
    """The model's checked sentences, plain (never styled as a quote), each with its marker."""
    by_number = {c.number: c for c in answer.citations}
    parts = [
        escape_untrusted(one_line(c.text), allowed_hosts)
        + " "
        + claim_marker(c, by_number.get(c.number))
        for c in answer.claims
    ]
    return " ".join(parts)


def _notes(answer: Answer) -> str:
    notes = []
    if answer.withheld:
        notes.append(
            "_The model's own answer was withheld: it repeated part of the assistant's hidden "
            "instructions, which a document may have asked it to reveal. This is the passage "
            "that answers the question best, word for word._"
        )
    elif answer.extractive:
        notes.append(
            "_The model's own answer could not be matched to the documents, so only the "
            "sentence that answers the question best is shown, word for word._"
        )
        if answer.dropped_reasons:
            notes.append(_why(answer.dropped_reasons))
    elif answer.dropped:
        n = answer.dropped
        notes.append(
            f"_{n} sentence{'s' if n > 1 else ''} of the model's answer "
            f"{'were' if n > 1 else 'was'} left out: no sentence of the documents states "
            f"{'them' if n > 1 else 'it'}._"
        )
        if answer.dropped_reasons:
            notes.append(_why(answer.dropped_reasons))
    if answer.style == "quotes_only" and answer.lead and not answer.withheld:
        notes.append("_This assistant answers with the documents' own words only._")
    if answer.flagged_best is not None:
        h = answer.flagged_best
        notes.append(
            f"_The passage that matches your question best ({escape_untrusted(h.filename)}, "
            f"page {h.page}) was left out of answers because it was flagged as possibly "
            "addressed to an AI. Its text, shown as data:_\n\n"
            + quoted_passage(h, answer.flagged_quote)
            + "\n\n_The assistant's owner can review it in Knowledge → Flagged passages and "
            "keep it._"
        )
    if answer.sources and not answer.citations and not answer.abstained:
        notes.append(
            "_No sentence of this answer could be matched to a passage of the documents; "
            "treat it with care._"
        )
    if not answer.sources:
        notes.append("_This answer is not based on any document._")
    return "".join(f"\n\n{n}" for n in notes)


def _why(reasons: Sequence[str]) -> str:
    counted: dict[str, int] = {}
    for r in reasons:
        counted[r] = counted.get(r, 0) + 1
    shown = "; ".join(f"{r}" + (f" (×{n})" if n > 1 else "") for r, n in counted.items())
    return f"_Why: {escape_untrusted(shown)}._"


def render_answer(answer: Answer, allowed_hosts: Sequence[str] = (), checking: bool = False) -> str:
    """An answer as Markdown. ``checking``: the model is still writing (streamed preview)."""
    if answer.withheld and not answer.citations:
        return f"_{escape_untrusted(answer.text)}_"
    if answer.abstained:
        body = render_answer_text(answer.text, allowed_hosts)
        return body + _notes(answer) + render_closest(answer.sources, answer.closest_quotes)
    parts = []
    if answer.conflict:
        parts.append(render_conflict(answer))
    lead = render_lead(answer) if answer.lead else ""
    if lead:
        parts.append(lead)
    if answer.claims:
        parts.append(f"{MODEL_LABEL}\n\n{render_claims(answer, allowed_hosts)}")
    elif not lead and answer.text and not answer.conflict:
        parts.append(render_answer_text(answer.text, allowed_hosts))
    if checking:
        parts.append("_The assistant is writing; each sentence is shown once it is checked…_")
    body = "\n\n".join(parts) or "_(no answer)_"
    if checking:
        return body
    return body + _notes(answer) + render_sources(answer.citations)


def documents_table(docs: Sequence[Document]) -> list[list]:
    rows = []
    for d in docs:
        status = {"ready": "ready", "processing": "processing…", "failed": "failed"}.get(
            d.status, d.status
        )
        size = f"{d.size_bytes / 1024:.0f} KB"
        uploaded = f"{d.created_at:%Y-%m-%d %H:%M}"
        rows.append([d.filename, d.pages, d.chunks, size, uploaded, d.sha256[:12], status])
    return rows


# -- summaries, lists, comparisons -------------------------------------------------------------

KIND_DOING = {"summary": "Summarising", "list": "Listing", "compare": "Comparing"}
_TITLE_LINE = re.compile(r"^\*\*(?P<t>.+)\*\*$")
_LABEL = re.compile(r"^\*(?P<name>[^*\n]+):\*\s+(?P<rest>.*)$")


def duration(seconds: float) -> str:
    """ "about 20 s" / "about 3 min"."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} min"


def understood_as(question: str) -> str:
    """The rewritten request of a follow-up, shown on request (collapsed), escaped."""
    return (
        "<details><summary>Understood as…</summary>\n\n"
        f"Understood as: “{escape_untrusted(one_line(question))}”\n\n</details>"
    )


def _task_line(line: str) -> str:
    """One line of a task's text (``tasks.compose.answer_of``, ``compare_answer``): our own
    structure (titles, bullets, "*file:*" labels) kept, every word from a document escaped."""
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()
    if not body:
        return ""
    bullet = ""
    if body.startswith("- "):
        bullet, body = "- ", body[2:]
    title = _TITLE_LINE.match(body)
    if title:
        return f"{indent}{bullet}**{escape_untrusted(title.group('t'))}**"
    label = _LABEL.match(body)
    if label:
        shown = (
            f"*{escape_untrusted(label.group('name'))}:* {escape_untrusted(label.group('rest'))}"
        )
        return f"{indent}{bullet}{shown}"
    return f"{indent}{bullet}{escape_untrusted(body)}"


def render_task_text(answer: Answer, coverage: str = "") -> str:
    """A summary's, list's or comparison's text: each [n] a link to the span of the source
    that states the point; the line that says which pages were read in italics."""
    by_claim = {c.number: c for c in answer.claims}
    by_number = {c.number: c for c in answer.citations}

    def marker(m: re.Match[str]) -> str:
        n = int(m.group(1))
        claim = by_claim.get(n)
        return claim_marker(claim, by_number.get(n)) if claim else f"**[{n}]**"

    lines = []
    for line in answer.text.strip().split("\n"):
        shown = _CITE.sub(marker, _task_line(line))
        if coverage and coverage in line and not line.lstrip().startswith("- "):
            shown = f"📖 _{shown}_"
        lines.append(shown)
    return "\n".join(lines)


def render_task_sources(citations: Sequence[Citation]) -> str:
    """The sources of a summary or list (many): collapsed under the answer."""
    if not citations:
        return ""
    body = render_sources(citations).strip()
    return f"\n\n<details><summary>Sources ({len(citations)})</summary>\n\n{body}\n\n</details>"


def render_task_answer(
    answer: Answer,
    kind: str,
    coverage: str = "",
    understood: str = "",
    dropped_note: bool = True,
) -> str:
    """A finished summary, list or comparison as Markdown."""
    parts = [render_task_text(answer, coverage) or "_(nothing was found)_"]
    if dropped_note and answer.dropped:
        n = answer.dropped
        what = "item" if kind == "list" else "point"
        parts.append(
            f"_{n} {what}{'s' if n > 1 else ''} found while reading "
            f"{'were' if n > 1 else 'was'} left out: no sentence of the documents states "
            f"{'them' if n > 1 else 'it'} word for word._"
        )
    if understood:
        parts.append(understood_as(understood))
    return "\n\n".join(parts) + render_task_sources(answer.citations)


def render_task_progress(
    kind: str,
    progress: str,
    eta_s: float | None,
    fraction: float | None,
    points: Sequence[tuple[str, str, int]],
    understood: str = "",
) -> str:
    """A summary, list or comparison being made: what has been read, the time left, and
    the points found so far (each with its file and page). Everything from a document is
    escaped."""
    doing = KIND_DOING.get(kind, "Working")
    head = f"⏳ **{doing}…**"
    if progress:
        head += f" {escape_untrusted(progress)}"
    if fraction is not None:
        head += f" · {fraction:.0%}"
    if eta_s is not None:
        head += f" · {duration(eta_s)} left"
    parts = [head]
    if points:
        lines = [
            f"- {escape_untrusted(one_line(text))} ({escape_untrusted(name)}, page {page})"
            for text, name, page in points
        ]
        parts.append("Found so far:\n\n" + "\n".join(lines))
    parts.append("_Press **Stop** to end it: what was read so far is kept._")
    if understood:
        parts.append(understood_as(understood))
    return "\n\n".join(parts)
