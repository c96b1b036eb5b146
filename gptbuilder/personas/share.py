"""Export an assistant's configuration as JSON, and import it back as a new assistant.

The file is untrusted on import: size-limited, strictly validated, and nothing in it is
executed or used as a path.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gptbuilder.errors import AssistantFileError, InvalidInput
from gptbuilder.personas.definition import (
    MAX_DESCRIPTION,
    MAX_INSTRUCTIONS,
    MAX_NAME,
    MAX_STARTER,
    MAX_STARTERS,
    make_draft,
)
from gptbuilder.types import Assistant, AssistantDraft

FORMAT = "gptbuilder.assistant"
VERSION = 1
MAX_FILE_BYTES = 256 * 1024


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    instructions: str = Field(default="", max_length=MAX_INSTRUCTIONS)
    starters: list[str] = Field(default_factory=list, max_length=MAX_STARTERS)
    temperature: float = Field(default=0.2, ge=0.0, le=1.5)
    answer_style: Literal["quote_first", "quotes_only"] = "quote_first"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str
    version: int
    assistant: _Config


def export_json(assistant: Assistant) -> str:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "assistant": {
            "name": assistant.name,
            "description": assistant.description,
            "instructions": assistant.instructions,
            "starters": list(assistant.starters),
            "temperature": assistant.temperature,
            "answer_style": assistant.answer_style,
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def parse_json(data: bytes) -> AssistantDraft:
    """Validate an assistant file. Raises AssistantFileError with a plain-language reason."""
    if len(data) > MAX_FILE_BYTES:
        raise AssistantFileError("This file is too large to be an assistant file.")
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise AssistantFileError(
            "This is not an assistant file: it is not valid JSON. "
            "Choose a file exported from GPT Builder."
        ) from err
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise AssistantFileError(
            "This is not a GPT Builder assistant file. Choose a file exported from GPT Builder."
        )
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise AssistantFileError(
            "This assistant file was made by a newer or unknown version of GPT Builder."
        )
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AssistantFileError(
            f"This assistant file is damaged: field “{where}”: {first['msg']}."
        ) from err
    c = parsed.assistant
    if any(len(s) > MAX_STARTER for s in c.starters):
        raise AssistantFileError("This assistant file is damaged: a starter is too long.")
    try:
        return make_draft(
            c.name,
            c.description,
            c.instructions,
            c.starters,
            c.temperature,
            answer_style=c.answer_style,
        )
    except InvalidInput as err:
        raise AssistantFileError(f"This assistant file is damaged: {err}") from err
