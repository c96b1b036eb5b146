"""Share tab handlers: export an assistant (its configuration as JSON, or everything as one
.gptb file) and import either; ``usecases.sharing`` does the work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gptbuilder.errors import GPTBuilderError
from gptbuilder.ui.render import counted, escape_untrusted, notice
from gptbuilder.usecases.sharing import Sharing

log = logging.getLogger("gptbuilder.ui.handlers")

Named = dict[str, Any]  # component name -> value, as in handlers


class ShareHandlers:
    """Export and import (``Handlers`` holds one). ``picker_update`` redraws the assistant
    picker with a given assistant chosen."""

    def __init__(self, sharing: Sharing, picker_update: Callable[[int | None], dict]) -> None:
        self.sharing = sharing
        self.picker_update = picker_update

    def export(self, assistant_id: int | None) -> Named:
        """Returns: export_file (the file to download), notice."""
        if assistant_id is None:
            return {
                "export_file": None,
                "notice": notice("Choose an assistant to export.", "error"),
            }
        try:
            done = self.sharing.export_config(int(assistant_id))
        except GPTBuilderError as err:
            return {"export_file": None, "notice": notice(escape_untrusted(str(err)), "error")}
        msg = notice(
            f"Exported “{escape_untrusted(done.assistant.name)}”. Download the file below.", "ok"
        )
        return {"export_file": str(done.path), "notice": msg}

    def export_bundle(self, assistant_id: int | None, include_index: bool = True) -> Named:
        """The whole assistant as one .gptb file. Returns: export_file, notice."""
        if assistant_id is None:
            return {
                "export_file": None,
                "notice": notice("Choose an assistant to export.", "error"),
            }
        try:
            done = self.sharing.export_bundle(int(assistant_id), bool(include_index))
        except GPTBuilderError as err:
            return {"export_file": None, "notice": notice(escape_untrusted(str(err)), "error")}
        except OSError:
            log.exception("export failed")
            return {
                "export_file": None,
                "notice": notice("The file could not be written.", "error"),
            }
        what = "with its search index" if include_index else "without its search index"
        msg = (
            f"Exported “{escape_untrusted(done.assistant.name)}” and "
            f"{counted(done.documents, 'document')}, {what}. Download the file below."
        )
        return {"export_file": str(done.path), "notice": notice(msg, "ok")}

    def import_file(self, file: str | None, progress: Any = None) -> Named:
        """Import a .gptb assistant file or a .json configuration, told apart by their
        content, not their name. ``progress(fraction, desc=...)`` as gr.Progress takes it.

        Returns: current, picker, notice, imported (whether an assistant was made); current
        and picker are left as they are unless the import succeeded."""
        if not file:
            return {"notice": "", "imported": False}
        path = Path(file if isinstance(file, str) else file.name)

        def step(fraction: float, what: str) -> None:
            if progress is not None:
                progress(fraction, desc=what)

        try:
            result = self.sharing.import_file(path, step)
        except GPTBuilderError as err:
            return {"notice": notice(escape_untrusted(str(err)), "error"), "imported": False}
        except OSError:
            return {"notice": notice("The file could not be read.", "error"), "imported": False}
        a = result.assistant
        if result.bundle:
            docs = counted(result.documents, "document")
            msg = f"Imported “{escape_untrusted(a.name)}” with {docs}."
            for count, what in [
                (result.vectors_imported, "came with their search index"),
                (result.already_indexed, "were already indexed here"),
            ]:
                if count:
                    who = "All" if count == result.documents else str(count)
                    msg += f" {who} {what}."
            msg += "".join(f"\n\n{escape_untrusted(n)}" for n in result.notes)
        else:
            msg = f"Imported as “{escape_untrusted(a.name)}”."
        return {
            "current": a.id,
            "picker": self.picker_update(a.id),
            "notice": notice(msg, "ok"),
            "imported": True,
        }
