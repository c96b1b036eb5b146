"""The manifest of a .gptb file, and the chunk list of its optional search index.

A .gptb file is a zip holding:

    manifest.json          this schema: format, version, configuration, embedding model,
                           chunk settings, and each document's sha256, name and media type
    documents/<sha256>     the original documents, named by their content
    index/chunks.json      optional: every chunk (document, page, character span, text)
    index/vectors.npy      optional: their vectors, (chunks, dim) float32, row i = chunk i

Both are validated strictly (unknown fields are refused) before anything is used.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from gptbuilder.bundle.archive import DAMAGED
from gptbuilder.errors import AssistantFileError
from gptbuilder.ingest.sniff import DOCX, HTML, MARKDOWN, PDF, TEXT
from gptbuilder.personas.definition import (
    MAX_DESCRIPTION,
    MAX_INSTRUCTIONS,
    MAX_NAME,
    MAX_STARTER,
    MAX_STARTERS,
)

FORMAT = "gptbuilder.bundle"
VERSION = 1
SUFFIX = ".gptb"
SHA256 = r"^[0-9a-f]{64}$"
MAX_CHUNK_TEXT = 100_000  # characters; a chunk is a few hundred


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ConfigPart(_Strict):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    instructions: str = Field(default="", max_length=MAX_INSTRUCTIONS)
    starters: list[str] = Field(default_factory=list, max_length=MAX_STARTERS)
    temperature: float = Field(default=0.2, ge=0.0, le=1.5)
    model: str | None = Field(default=None, min_length=1, max_length=2000)
    answer_style: Literal["quote_first", "quotes_only"] = "quote_first"

    @field_validator("starters")
    @classmethod
    def _starter_length(cls, v: list[str]) -> list[str]:
        if any(len(s) > MAX_STARTER for s in v):
            raise ValueError(f"a starter is longer than {MAX_STARTER} characters")
        return v


class EmbeddingPart(_Strict):
    model_id: str = Field(min_length=1, max_length=200)
    dim: int = Field(ge=1, le=16384)


class ChunkingPart(_Strict):
    size: int = Field(ge=1, le=1_000_000)
    overlap: int = Field(ge=0, le=1_000_000)
    chunker_version: str = Field(min_length=1, max_length=20)


class DocumentPart(_Strict):
    sha256: str = Field(pattern=SHA256)
    name: str = Field(min_length=1, max_length=255)
    media_type: Literal[PDF, DOCX, HTML, MARKDOWN, TEXT]  # type: ignore[valid-type]
    size: int = Field(ge=1)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        # Only ever shown and given to the loader as a name; still, keep it a bare file name.
        if v in (".", "..") or any(c in v for c in "/\\") or not v.isprintable():
            raise ValueError("a document name must be a plain file name")
        return v


class IndexPart(_Strict):
    chunks_sha256: str = Field(pattern=SHA256)
    vectors_sha256: str = Field(pattern=SHA256)
    count: int = Field(ge=0)


class Manifest(_Strict):
    format: Literal["gptbuilder.bundle"]
    version: int
    app_version: str = Field(default="", max_length=40)
    assistant: ConfigPart
    embedding: EmbeddingPart
    chunking: ChunkingPart
    documents: list[DocumentPart]
    index: IndexPart | None = None


class ChunkRecord(_Strict):
    document: str = Field(pattern=SHA256)
    ordinal: int = Field(ge=0)
    page: int = Field(ge=1)
    char_start: int = Field(ge=0)
    char_end: int = Field(ge=0)
    text: str = Field(max_length=MAX_CHUNK_TEXT)
    heading: str | None = Field(default=None, max_length=MAX_CHUNK_TEXT)


_CHUNKS = TypeAdapter(list[ChunkRecord])


def _first_problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "top level"
    return f"field “{where}”: {first['msg']}"


def parse_manifest(data: bytes) -> Manifest:
    """Validate manifest.json. Raises AssistantFileError with a plain-language reason."""
    try:
        raw: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise AssistantFileError(f"{DAMAGED}: its manifest is not valid JSON.") from err
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise AssistantFileError(
            "This is not a GPT Builder assistant file: its manifest is of another kind."
        )
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= VERSION:
        raise AssistantFileError(
            "This assistant file was made by a newer or unknown version of GPT Builder "
            f"(format version {shown_version(version)}; this app reads version {VERSION})."
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as err:
        raise AssistantFileError(f"{DAMAGED}: manifest {_first_problem(err)}.") from err
    shas = [d.sha256 for d in manifest.documents]
    if len(set(shas)) != len(shas):
        raise AssistantFileError(f"{DAMAGED}: its manifest lists the same document twice.")
    names = [d.name for d in manifest.documents]
    if len(set(names)) != len(names):
        raise AssistantFileError(f"{DAMAGED}: it holds two documents with the same name.")
    if manifest.chunking.overlap >= manifest.chunking.size:
        raise AssistantFileError(f"{DAMAGED}: its chunk overlap is not smaller than the size.")
    return manifest


def shown_version(version: object) -> str:
    if isinstance(version, int) and not isinstance(version, bool):
        return str(version)[:20]
    return "missing" if version is None else "not a number"


def parse_chunks(data: bytes) -> list[ChunkRecord]:
    try:
        return _CHUNKS.validate_json(data)
    except ValidationError as err:
        raise AssistantFileError(
            f"{DAMAGED}: its search index is invalid ({_first_problem(err)})."
        ) from err
