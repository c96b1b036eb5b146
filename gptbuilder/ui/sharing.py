"""Sharing handlers: export an assistant (its configuration as JSON, or everything as one
.gptb file) and import either, told apart by content."""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from gptbuilder.bundle.archive import looks_like_zip
from gptbuilder.errors import GPTBuilderError
from gptbuilder.personas.definition import make_draft, unique_name
from gptbuilder.personas.share import MAX_FILE_BYTES, export_json, parse_json
from gptbuilder.services import Services
from gptbuilder.ui.render import escape_untrusted, notice

log = logging.getLogger("gptbuilder.ui.handlers")


class Sharing:
    """Export and import (``Handlers`` holds one). ``picker_update`` redraws the assistant
    picker with a given assistant chosen."""

    def __init__(self, services: Services, picker_update: Callable[[int | None], dict]) -> None:
        self.s = services
        self.picker_update = picker_update

    def export(self, assistant_id: int | None) -> list[Any]:
        """Returns: file to download, notice."""
        if assistant_id is None:
            return [None, notice("Choose an assistant to export.", "error")]
        try:
            a = self.s.repo.get_assistant(int(assistant_id))
        except GPTBuilderError as err:
            return [None, notice(str(err), "error")]
        safe = re.sub(r"[^\w\-]+", "-", a.name).strip("-")[:60] or "assistant"
        folder = Path(tempfile.mkdtemp(prefix="gptb-export-"))
        path = folder / f"{safe}.assistant.json"
        path.write_text(export_json(a), encoding="utf-8")
        return [str(path), notice(f"Exported “{a.name}”. Download the file below.", "ok")]

    def export_bundle(self, assistant_id: int | None, include_index: bool = True) -> list[Any]:
        """The whole assistant as one .gptb file. Returns: file to download, notice."""
        if assistant_id is None:
            return [None, notice("Choose an assistant to export.", "error")]
        try:
            a = self.s.repo.get_assistant(int(assistant_id))
            folder = Path(tempfile.mkdtemp(prefix="gptb-export-"))
            path = self.s.bundles.export(a.id, folder, bool(include_index))
        except GPTBuilderError as err:
            return [None, notice(escape_untrusted(str(err)), "error")]
        except OSError:
            log.exception("export failed")
            return [None, notice("The file could not be written.", "error")]
        ndocs = sum(d.status == "ready" for d in self.s.repo.list_documents(a.id))
        what = "with its search index" if include_index else "without its search index"
        msg = (
            f"Exported “{escape_untrusted(a.name)}” and {ndocs} document(s), {what}. "
            "Download the file below."
        )
        return [str(path), notice(msg, "ok")]

    def import_file(self, file: str | None, progress: Any = None) -> list[Any]:
        """Import a .gptb assistant file or a .json configuration, told apart by their
        content, not their name. ``progress(fraction, desc=...)`` as gr.Progress takes it.

        Returns: state, picker, notice; the state is the new assistant's id only if the import
        succeeded (``gr.update()``, no change, otherwise)."""
        if not file:
            return [gr.update(), gr.update(), ""]
        path = Path(file if isinstance(file, str) else file.name)

        def step(fraction: float, what: str) -> None:
            if progress is not None:
                progress(fraction, desc=what)

        try:
            with path.open("rb") as f:
                head = f.read(MAX_FILE_BYTES + 1)
            if looks_like_zip(head):
                result = self.s.bundles.import_file(path, step)
                a = result.assistant
                msg = f"Imported “{escape_untrusted(a.name)}” with {result.documents} document(s)."
                for count, what in [
                    (result.vectors_imported, "came with their search index"),
                    (result.already_indexed, "were already indexed here"),
                ]:
                    if count:
                        who = "All" if count == result.documents else str(count)
                        msg += f" {who} {what}."
                msg += "".join(f"\n\n{escape_untrusted(n)}" for n in result.notes)
            else:
                draft = parse_json(head)
                name = unique_name(draft.name, self.s.repo.assistant_names())
                a = self.s.repo.create_assistant(
                    make_draft(
                        name,
                        draft.description,
                        draft.instructions,
                        draft.starters,
                        draft.temperature,
                        answer_style=draft.answer_style,
                    )
                )
                msg = f"Imported as “{escape_untrusted(a.name)}”."
        except GPTBuilderError as err:
            return [gr.update(), gr.update(), notice(escape_untrusted(str(err)), "error")]
        except OSError:
            return [gr.update(), gr.update(), notice("The file could not be read.", "error")]
        return [a.id, self.picker_update(a.id), notice(msg, "ok")]
