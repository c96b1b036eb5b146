"""Sharing assistants: export one (its configuration as JSON, or everything as one .gptb
file) and import either, told apart by their content, not their name."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gptbuilder.bundle.archive import looks_like_zip
from gptbuilder.bundle.transfer import AssistantBundles
from gptbuilder.db import Repository
from gptbuilder.personas.definition import make_draft, unique_name
from gptbuilder.personas.share import MAX_FILE_BYTES, export_json, parse_json
from gptbuilder.types import Assistant

Progress = Callable[[float, str], None]  # (fraction 0..1, what is happening)


def _no_progress(_fraction: float, _what: str) -> None:
    pass


@dataclass(frozen=True)
class Exported:
    path: Path
    assistant: Assistant
    documents: int = 0  # ready documents in the file (a .gptb file)


@dataclass(frozen=True)
class Imported:
    assistant: Assistant
    bundle: bool  # a whole assistant (.gptb); False: a configuration (.json)
    documents: int = 0
    vectors_imported: int = 0  # documents whose vectors came with the file
    already_indexed: int = 0  # documents this app had indexed before
    notes: tuple[str, ...] = ()  # plain-language remarks (index not used, and why)


def _new_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="gptb-export-"))


class Sharing:
    def __init__(self, repo: Repository, bundles: AssistantBundles) -> None:
        self._repo = repo
        self._bundles = bundles

    def export_config(self, assistant_id: int, folder: Path | None = None) -> Exported:
        """``<name>.assistant.json`` in ``folder`` (a new temporary folder by default)."""
        a = self._repo.get_assistant(assistant_id)
        safe = re.sub(r"[^\w\-]+", "-", a.name).strip("-")[:60] or "assistant"
        path = (folder or _new_folder()) / f"{safe}.assistant.json"
        path.write_text(export_json(a), encoding="utf-8")
        return Exported(path, a)

    def export_bundle(
        self, assistant_id: int, include_index: bool = True, folder: Path | None = None
    ) -> Exported:
        """The whole assistant as ``<name>.gptb`` in ``folder`` (a new temporary folder by
        default), with its search index or without."""
        a = self._repo.get_assistant(assistant_id)
        path = self._bundles.export(a.id, folder or _new_folder(), include_index)
        ready = sum(d.status == "ready" for d in self._repo.list_documents(a.id))
        return Exported(path, a, ready)

    def import_file(self, path: Path, progress: Progress = _no_progress) -> Imported:
        """Import a .gptb assistant file or a .json configuration, told apart by content. A
        name already taken gets a number ("Name (2)")."""
        with path.open("rb") as f:
            head = f.read(MAX_FILE_BYTES + 1)
        if looks_like_zip(head):
            r = self._bundles.import_file(path, progress)
            return Imported(
                r.assistant, True, r.documents, r.vectors_imported, r.already_indexed, r.notes
            )
        draft = parse_json(head)
        name = unique_name(draft.name, self._repo.assistant_names())
        a = self._repo.create_assistant(
            make_draft(
                name,
                draft.description,
                draft.instructions,
                draft.starters,
                draft.temperature,
                answer_style=draft.answer_style,
            )
        )
        return Imported(a, False)
