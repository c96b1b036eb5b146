"""The Gallery tab: every assistant as a card (name, description, documents, last used), a
search box, and open / duplicate / delete (with confirmation) on each card.

Plain methods over the use cases, like ``handlers``; the layout wires them to buttons that
``@gr.render`` draws, one set per card. Names and descriptions are untrusted (they may come
from an imported file): every one is escaped before it reaches Markdown.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import gradio as gr

from gptbuilder.errors import GPTBuilderError
from gptbuilder.ui.handlers import Handlers, Named
from gptbuilder.ui.render import escape_untrusted, excerpt, notice
from gptbuilder.usecases.assistants import AssistantSummary, as_utc

log = logging.getLogger(__name__)

DESCRIPTION_CHARS = 160

Card = AssistantSummary  # what a card shows: name, description, documents, last used


def last_used_text(when: datetime | None, now: datetime | None = None) -> str:
    when = as_utc(when)
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


class Gallery:
    """Gallery handlers; like ``Handlers``, they return the components they fill by name."""

    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers
        self.assistants = handlers.assistants

    def cards(self, query: str | None = None) -> list[Card]:
        """Assistants matching every word of ``query`` (name or description), most recently
        used first, then by name."""
        return self.assistants.find(query)

    def empty_text(self, query: str | None) -> str:
        if (query or "").strip():
            return f"No assistant matches “{escape_untrusted(query.strip())}”."  # type: ignore[union-attr]
        return "No assistants yet. Create one with **New assistant**, or import one in **Share**."

    @staticmethod
    def switch_to(tab: str) -> Named:
        """Returns: tabs, active_tab (the state that remembers it)."""
        return {"tabs": gr.Tabs(selected=tab), "active_tab": tab}

    def leave_gallery(self, active_tab: str | None) -> Named:
        """After an assistant is picked in the sidebar: its chat, if the gallery was showing.
        Returns: tabs, active_tab."""
        if active_tab in (None, "gallery"):
            return self.switch_to("chat")
        return {"active_tab": active_tab}

    def open(self, assistant_id: int) -> Named:
        """Returns: the SCREEN (see Handlers.open_assistant), tabs, picker, active_tab."""
        return {
            **self.h.open_assistant(assistant_id),
            **self.switch_to("chat"),
            "picker": self.h.picker_update(assistant_id),
        }

    def duplicate(self, assistant_id: int, version: int | None) -> Named:
        """Returns: picker, notice, gallery_version."""
        try:
            source = self.assistants.get(int(assistant_id)).name
            copy = self.assistants.duplicate(int(assistant_id))
        except GPTBuilderError as err:
            return {
                "notice": notice(escape_untrusted(str(err)), "error"),
                "gallery_version": version,
            }
        msg = f"Duplicated “{escape_untrusted(source)}” as “{escape_untrusted(copy.name)}”."
        return {
            "picker": self.h.picker_update(None),
            "notice": notice(msg, "ok"),
            "gallery_version": (version or 0) + 1,
        }

    def ask_delete(self, assistant_id: int) -> Named:
        """Returns: pending_delete, gallery_confirm (the confirmation row), its question."""
        try:
            name = self.assistants.get(int(assistant_id)).name
        except GPTBuilderError:
            return {
                "pending_delete": None,
                "gallery_confirm": gr.update(visible=False),
                "gallery_question": "",
            }
        question = (
            f"**Delete “{escape_untrusted(name)}”?** Its documents and conversation are "
            "removed too. This cannot be undone."
        )
        return {
            "pending_delete": int(assistant_id),
            "gallery_confirm": gr.update(visible=True),
            "gallery_question": question,
        }

    def delete(self, pending: int | None, current: int | None, version: int | None) -> Named:
        """Returns: current, picker, notice, gallery_confirm, pending_delete,
        gallery_version."""
        hidden = {"gallery_confirm": gr.update(visible=False), "pending_delete": None}
        if pending is None:
            return {"current": current, "notice": "", **hidden, "gallery_version": version}
        try:
            name = self.assistants.delete(int(pending)).name
        except GPTBuilderError as err:
            msg = notice(escape_untrusted(str(err)), "error")
            return {
                "current": current,
                "notice": msg,
                **hidden,
                "gallery_version": (version or 0) + 1,
            }
        still = None if current == pending else current
        return {
            "current": still,
            "picker": self.h.picker_update(still),
            "notice": notice(f"Deleted “{escape_untrusted(name)}”.", "ok"),
            **hidden,
            "gallery_version": (version or 0) + 1,
        }

    def screen_after_delete(self, current: int | None, note: str) -> Named:
        """The SCREEN (see Handlers.open_assistant) is cleared only if the assistant on it
        was deleted; otherwise it is left as it is, unsaved edits included."""
        if current is None:
            return {**self.h.open_assistant(None), "notice": note}
        return {"current": current, "notice": note}

    def cancel_delete(self) -> Named:
        """Returns: pending_delete, gallery_confirm."""
        return {"pending_delete": None, "gallery_confirm": gr.update(visible=False)}
