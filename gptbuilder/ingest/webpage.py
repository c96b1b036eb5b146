"""Web pages (.html): visible text with headings, no scripts, styles or hidden elements."""

from __future__ import annotations

import re
from pathlib import Path

from gptbuilder.errors import IngestError
from gptbuilder.ingest.text import Loaded, decode, hidden_warnings, normalize_text
from gptbuilder.types import HiddenText, Page

HTML = "text/html"
_SKIP = ("script", "style", "noscript", "template", "svg", "head", "iframe", "object")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BLOCKS = (
    "p div section article main header footer aside nav li tr br h1 h2 h3 h4 h5 h6 pre "
    "blockquote table ul ol dl dt dd figcaption"
).split()


def read_html(path: Path, filename: str) -> Loaded:
    from bs4 import BeautifulSoup

    text, warning = decode(path.read_bytes(), filename)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(list(_SKIP)):
        tag.decompose()
    hidden: list[HiddenText] = []
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        if tag.has_attr("hidden") or _HIDDEN_STYLE.search(str(tag.get("style", ""))):
            words = normalize_text(tag.get_text(" "))
            if sum(ch.isalnum() for ch in words) >= 3:
                hidden.append(HiddenText(1, "an element hidden by its style", words))
            tag.decompose()
    # A heading is a paragraph of its own, without Markdown marks ("## "), which would show in
    # passages, quotes and answers.
    for h in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        h.insert(0, "\n\n")
        h.append("\n\n")
    for tag in soup.find_all(_BLOCKS):
        tag.append("\n\n" if tag.name not in ("br", "li", "tr") else "\n")
    body = normalize_text(soup.get_text())
    if not body:
        raise IngestError(f"“{filename}” contains no readable text.")
    warnings = [warning] if warning else []
    return Loaded(HTML, [Page(1, body)], warnings + hidden_warnings(hidden, False), hidden=hidden)
