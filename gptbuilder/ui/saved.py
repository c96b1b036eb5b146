"""Saved answers shown again: a conversation opened again, after a restart too, shows each
answer exactly as it was given. The saved format itself belongs to ``usecases.saved``."""

from __future__ import annotations

from collections.abc import Sequence

from gptbuilder.types import Answer
from gptbuilder.ui.render import (
    escape_untrusted,
    render_answer,
    render_answer_text,
    render_closest,
    render_sources,
    render_task_answer,
    understood_as,
)
from gptbuilder.usecases.saved import SavedAnswer, TaskInfo, read_saved


def render_shown(answer: Answer, task: TaskInfo | None, allowed_hosts: Sequence[str] = ()) -> str:
    """A finished answer as Markdown, live or saved: a summary, list or comparison with its
    structure and the pages read; a question's answer as answers are shown; either with the
    rewritten request of a follow-up (collapsed) and its notes."""
    understood = task.question if task is not None and task.rewritten else ""
    if task is not None and task.whole_document:
        return render_task_answer(answer, task.kind, task.coverage, understood)
    if task is not None and task.stopped:
        shown = f"⏹ _{escape_untrusted(answer.text)}_"
    else:
        shown = render_answer(answer, allowed_hosts)
    if task is not None and task.note:
        shown += f"\n\n_{escape_untrusted(task.note)}_"
    if understood:
        shown += "\n\n" + understood_as(understood)
    return shown


def render_saved(saved: SavedAnswer, allowed_hosts: Sequence[str] = ()) -> str:
    """A saved answer as Markdown: as it was shown, or (answers saved before that was kept)
    its text with its sources or its closest passages."""
    if saved.shown is not None:
        return render_shown(saved.shown, saved.task, allowed_hosts)
    if saved.closest:
        return render_answer_text(saved.text, allowed_hosts) + render_closest(saved.closest)
    return render_answer_text(saved.text, allowed_hosts) + render_sources(saved.citations)


def render_stored_answer(
    content: str, citations: Sequence[dict], allowed_hosts: Sequence[str] = ()
) -> str:
    """An answer from the chat history, with the citations saved beside it."""
    return render_saved(read_saved(content, citations), allowed_hosts)
