"""The Gallery tab: every assistant as a card (name, description, documents, last used), a
search box, and open / duplicate / delete (with confirmation) on each card.

Plain methods over the services, like ``handlers``; the layout wires them to buttons that
``@gr.render`` draws, one set per card. Names and descriptions are untrusted (they may come
from an imported file): every one is escaped before it reaches Markdown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gradio as gr

from gptbuilder.errors import GPTBuilderError
from gptbuilder.types import Assistant
from gptbuilder.ui.handlers import Handlers
from gptbuilder.ui.render import escape_untrusted, excerpt, notice

log = logging.getLogger(__name__)

DESCRIPTION_CHARS = 160


@dataclass(frozen=True)
class Card:
    id: int
    name: str
    description: str
    documents: int
    last_used: datetime | None


def _utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; ours are all UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def last_used_text(when: datetime | None, now: datetime | None = None) -> str:
    when = _utc(when)
    if when is None:
        return "Never used"
    seconds = max(0.0, ((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 60:
        return "Last used just now"
    if seconds < 3600:
        return f"Last used {int(seconds // 60)} min ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"Last used {hours} hour{'s' if hours > 1 else ''} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "Last used yesterday"
    if days < 30:
        return f"Last used {days} days ago"
    return f"Last used on {when:%d %b %Y}"


def card_markdown(card: Card, now: datetime | None = None) -> str:
    desc = (
        escape_untrusted(excerpt(card.description, DESCRIPTION_CHARS)) if card.description else ""
    )
    docs = f"{card.documents} document{'' if card.documents == 1 else 's'}"
    lines = [f"### {escape_untrusted(card.name)}"]
    if desc:
        lines.append(desc)
    lines.append(f"📄 {docs} · 🕒 {last_used_text(card.last_used, now)}")
    return "\n\n".join(lines)


def _matches(a: Assistant, words: list[str]) -> bool:
    haystack = f"{a.name} {a.description}".lower()
    return all(w in haystack for w in words)


class Gallery:
    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers
        self.s = handlers.s

    def cards(self, query: str | None = None) -> list[Card]:
        """Assistants matching every word of ``query`` (name or description), most recently
        used first, then by name."""
        words = (query or "").lower().split()
        counts = self.s.repo.document_counts()
        found = [a for a in self.s.repo.list_assistants() if _matches(a, words)]
        never = datetime.min.replace(tzinfo=UTC)
        found.sort(key=lambda a: a.name.lower())
        found.sort(key=lambda a: _utc(a.last_used_at) or never, reverse=True)
        return [
            Card(a.id, a.name, a.description, counts.get(a.id, 0), a.last_used_at) for a in found
        ]

    def empty_text(self, query: str | None) -> str:
        if (query or "").strip():
            return f"No assistant matches “{escape_untrusted(query.strip())}”."  # type: ignore[union-attr]
        return "No assistants yet. Create one with **New assistant**, or import one in **Share**."

    @staticmethod
    def switch_to(tab: str) -> list[Any]:
        """Returns: tabs, active tab (the state that remembers it)."""
        return [gr.Tabs(selected=tab), tab]

    def leave_gallery(self, active_tab: str | None) -> list[Any]:
        """After an assistant is picked in the sidebar: its chat, if the gallery was showing.
        Returns: tabs, active tab."""
        if active_tab in (None, "gallery"):
            return self.switch_to("chat")
        return [gr.update(), active_tab]

    def open(self, assistant_id: int) -> list[Any]:
        """Returns: the screen (see Handlers.open_assistant), tabs, picker, active tab."""
        tabs, active = self.switch_to("chat")
        return [
            *self.h.open_assistant(assistant_id),
            tabs,
            self.h.picker_update(assistant_id),
            active,
        ]

    def duplicate(self, assistant_id: int, version: int | None) -> list[Any]:
        """Returns: picker, notice, gallery version."""
        try:
            source = self.s.repo.get_assistant(int(assistant_id)).name
            copy = self.s.library.duplicate_assistant(int(assistant_id))
        except GPTBuilderError as err:
            return [gr.update(), notice(escape_untrusted(str(err)), "error"), version]
        msg = f"Duplicated “{escape_untrusted(source)}” as “{escape_untrusted(copy.name)}”."
        return [self.h.picker_update(None), notice(msg, "ok"), (version or 0) + 1]

    def ask_delete(self, assistant_id: int) -> list[Any]:
        """Returns: pending id, confirmation row, its question."""
        try:
            name = self.s.repo.get_assistant(int(assistant_id)).name
        except GPTBuilderError:
            return [None, gr.update(visible=False), ""]
        question = (
            f"**Delete “{escape_untrusted(name)}”?** Its documents and conversation are "
            "removed too. This cannot be undone."
        )
        return [int(assistant_id), gr.update(visible=True), question]

    def delete(self, pending: int | None, current: int | None, version: int | None) -> list[Any]:
        """Returns: current assistant, picker, notice, confirmation row, pending, version."""
        hide = gr.update(visible=False)
        if pending is None:
            return [current, gr.update(), "", hide, None, version]
        try:
            name = self.s.repo.get_assistant(int(pending)).name
            self.s.library.delete_assistant(int(pending))
        except GPTBuilderError as err:
            msg = notice(escape_untrusted(str(err)), "error")
            return [current, gr.update(), msg, hide, None, (version or 0) + 1]
        still = None if current == pending else current
        msg = notice(f"Deleted “{escape_untrusted(name)}”.", "ok")
        return [still, self.h.picker_update(still), msg, hide, None, (version or 0) + 1]

    def screen_after_delete(self, current: int | None, note: str) -> list[Any]:
        """The screen (see Handlers.open_assistant) is cleared only if the assistant on it
        was deleted; otherwise it is left as it is, unsaved edits included."""
        if current is None:
            return [*self.h.open_assistant(None)[:-1], note]
        size = len(self.h.open_assistant(None))
        return [current, *[gr.update()] * (size - 2), note]

    def cancel_delete(self) -> list[Any]:
        """Returns: pending, confirmation row."""
        return [None, gr.update(visible=False)]
