"""Assistants: list and find them, create, update, duplicate and delete them, and the
language models one can be given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gptbuilder.backends.models import ModelChoice, ModelRegistry
from gptbuilder.db import Repository
from gptbuilder.errors import GPTBuilderError
from gptbuilder.library import Library
from gptbuilder.personas.definition import make_draft
from gptbuilder.types import Assistant, AssistantDraft


@dataclass(frozen=True)
class AssistantForm:
    """What the owner fills in for an assistant; checked by ``Assistants.create``/``update``
    (``InvalidInput`` with a message for the user)."""

    name: str
    description: str = ""
    instructions: str = ""
    starters: tuple[str | None, ...] = ()
    temperature: float = 0.2
    model: ModelChoice = ModelChoice()
    answer_style: str = "quote_first"


@dataclass(frozen=True)
class AssistantSummary:
    """An assistant as the gallery lists it."""

    id: int
    name: str
    description: str
    documents: int  # ready documents in its knowledge
    last_used: datetime | None


@dataclass(frozen=True)
class ModelOptions:
    """The models an assistant can use: the app's default (its file name), the files of the
    models folder, and the assistant's own choice (the default if it cannot be read)."""

    default_name: str
    files: list[str]
    choice: ModelChoice


def as_utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; ours are all UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _matches(a: Assistant, words: list[str]) -> bool:
    haystack = f"{a.name} {a.description}".lower()
    return all(w in haystack for w in words)


class Assistants:
    def __init__(
        self, repo: Repository, library: Library, models: ModelRegistry, default_model: str
    ) -> None:
        self._repo = repo
        self._library = library
        self._models = models
        self._default_model = default_model  # the default model's file name, to show

    def list_all(self) -> list[Assistant]:
        return self._repo.list_assistants()

    def get(self, assistant_id: int) -> Assistant:
        """``NotFound`` if there is no such assistant."""
        return self._repo.get_assistant(assistant_id)

    def find(self, query: str | None = None) -> list[AssistantSummary]:
        """Assistants matching every word of ``query`` (name or description), most recently
        used first, then by name."""
        words = (query or "").lower().split()
        counts = self._repo.document_counts()
        found = [a for a in self._repo.list_assistants() if _matches(a, words)]
        never = datetime.min.replace(tzinfo=UTC)
        found.sort(key=lambda a: a.name.lower())
        found.sort(key=lambda a: as_utc(a.last_used_at) or never, reverse=True)
        return [
            AssistantSummary(a.id, a.name, a.description, counts.get(a.id, 0), a.last_used_at)
            for a in found
        ]

    def create(self, form: AssistantForm) -> Assistant:
        return self._repo.create_assistant(self._draft(form))

    def update(self, assistant_id: int, form: AssistantForm) -> Assistant:
        return self._repo.update_assistant(assistant_id, self._draft(form))

    @staticmethod
    def _draft(form: AssistantForm) -> AssistantDraft:
        return make_draft(
            form.name,
            form.description,
            form.instructions,
            form.starters,
            form.temperature,
            form.model.dumps(),
            form.answer_style or "quote_first",
        )

    def duplicate(self, assistant_id: int) -> Assistant:
        """A copy named "Name (2)" with the same configuration and documents."""
        return self._library.duplicate_assistant(assistant_id)

    def delete(self, assistant_id: int) -> Assistant:
        """Delete an assistant with its documents and conversation; returns what it was."""
        a = self._repo.get_assistant(assistant_id)
        self._library.delete_assistant(a.id)
        return a

    def model_options(self, assistant: Assistant | None) -> ModelOptions:
        try:
            choice = ModelChoice.parse(assistant.model) if assistant else ModelChoice()
        except GPTBuilderError:
            choice = ModelChoice()
        return ModelOptions(self._default_model, self._models.available_files(), choice)
