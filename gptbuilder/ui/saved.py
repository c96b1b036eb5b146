"""Saved answers shown again: a conversation opened again, after a restart too, shows each
answer exactly as it was given. The saved format itself belongs to ``usecases.saved``."""

from __future__ import annotations

from collections.abc import Sequence

from gptbuilder.ui.render import render_answer, render_answer_text, render_closest, render_sources
from gptbuilder.usecases.saved import SavedAnswer, read_saved


def render_saved(saved: SavedAnswer, allowed_hosts: Sequence[str] = ()) -> str:
    """A saved answer as Markdown: as it was shown, or (answers saved before that was kept)
    its text with its sources or its closest passages."""
    if saved.shown is not None:
        return render_answer(saved.shown, allowed_hosts)
    if saved.closest:
        return render_answer_text(saved.text, allowed_hosts) + render_closest(saved.closest)
    return render_answer_text(saved.text, allowed_hosts) + render_sources(saved.citations)


def render_stored_answer(
    content: str, citations: Sequence[dict], allowed_hosts: Sequence[str] = ()
) -> str:
    """An answer from the chat history, with the citations saved beside it."""
    return render_saved(read_saved(content, citations), allowed_hosts)
