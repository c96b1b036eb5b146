"""Images written into a document's text are replaced by their description at loading.

A Markdown image (``![alt](https://…)``), a badge (``[![alt](…svg)](…)``) or an HTML ``<img>``
tag in a document is markup for a picture the app never shows: the renderer never fetches
anything, and a model that copied one into an answer could otherwise make a browser contact
that address. So the markup leaves the text and its description (alt text, or nothing) stays
in its place; the passage is kept, not flagged, and is quoted as data like any other. Only
text that addresses the model is flagged (``safety/injection.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gptbuilder.types import Page

_ALT = r"[^\]\n]{0,300}"
_TARGET = (
    r"\(\s*(?:<[^<>\n]{0,2000}>|[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
)
# [![alt](image)](link): the badge as a whole becomes its description.
_BADGE = re.compile(rf"\[!\[({_ALT})\]{_TARGET}\]{_TARGET}")
_MD_IMAGE = re.compile(rf"!\[({_ALT})\]{_TARGET}")
_MD_REF_IMAGE = re.compile(rf"!\[({_ALT})\]\[[^\]\n]{{0,100}}\]")
_HTML_IMAGE = re.compile(r"<\s*(?:img|image)\b[^>]{0,2000}>", re.IGNORECASE)
_HTML_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def _alt(m: re.Match[str]) -> str:
    return " ".join(m.group(1).split())


def _html_alt(m: re.Match[str]) -> str:
    alt = _HTML_ALT.search(m.group(0))
    return " ".join(next(g for g in alt.groups() if g is not None).split()) if alt else ""


def strip_images(text: str) -> tuple[str, int]:
    """The text with image markup replaced by its description, and how many were replaced."""
    if "![" not in text and "<" not in text:
        return text, 0
    count = 0
    for pattern, repl in (
        (_BADGE, _alt),
        (_MD_IMAGE, _alt),
        (_MD_REF_IMAGE, _alt),
        (_HTML_IMAGE, _html_alt),
    ):
        text, n = pattern.subn(repl, text)
        count += n
    return text, count


def strip_image_pages(pages: Sequence[Page]) -> tuple[list[Page], int]:
    """Image markup removed from every page (before chunking: offsets refer to the result),
    and how many images were replaced."""
    out: list[Page] = []
    total = 0
    for page in pages:
        text, n = strip_images(page.text)
        out.append(Page(page.number, text) if n else page)
        total += n
    return out, total
