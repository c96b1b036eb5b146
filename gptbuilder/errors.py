"""One exception tree. Every error a user can meet carries a plain-language message."""

from __future__ import annotations


class GPTBuilderError(Exception):
    """Base class. ``str(err)`` is safe to show to a user."""


class NotFound(GPTBuilderError):
    pass


class InvalidInput(GPTBuilderError):
    """The user gave something we cannot use (empty name, too many starters...)."""


class TooLongForModel(InvalidInput, ValueError):
    """A question (or an assistant's instructions) longer than the model can read at once.
    A ValueError too, as ``build_messages`` raised before it had a message for users."""


class IngestError(GPTBuilderError):
    """A file could not be read into the knowledge base."""


class UnsupportedFile(IngestError):
    pass


class Cancelled(IngestError):
    """The user stopped an upload; what was half-done has been undone."""


class AssistantFileError(GPTBuilderError):
    """An imported assistant file is malformed, foreign or unsafe."""


class ModelError(GPTBuilderError):
    """The language model could not be loaded or failed while answering."""
