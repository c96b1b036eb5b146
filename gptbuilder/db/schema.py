"""SQLAlchemy schema.

A *blob* is one stored file, named by its sha256. Its pages and chunks (with their embedding
vectors) are derived from the content alone, so they are shared by every assistant that holds the
same file: the same file is stored, parsed and embedded once. A *document* links an assistant to a
blob under the file name the user gave it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false
from sqlalchemy.types import DateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class AssistantRow(Base):
    __tablename__ = "assistants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    starters_json: Mapped[str] = mapped_column(Text, default="[]")
    temperature: Mapped[float] = mapped_column(Float, default=0.2)
    # Which language model answers: "" is the app's default; see backends.models.ModelChoice.
    model: Mapped[str] = mapped_column(Text, default="", server_default="")
    answer_style: Mapped[str] = mapped_column(
        String(20), default="quote_first", server_default="quote_first"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When a message was last sent to it (the gallery shows it); None: never used.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # True while an assistant file is being imported: hidden, and removed at start-up if the
    # process stopped half-way, so a failed import never leaves a half-made assistant.
    importing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class BlobRow(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PageRow(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("blob_sha", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob_sha: Mapped[str] = mapped_column(ForeignKey("blobs.sha256", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1-based
    text: Mapped[str] = mapped_column(Text)


class ChunkingRow(Base):
    """One way of making passages and vectors (``ingest.chunk.Chunking``): the chunker's
    version and settings and the embedding model."""

    __tablename__ = "chunkings"
    __table_args__ = (
        UniqueConstraint("chunker_version", "chunk_size", "chunk_overlap", "embedding_model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunker_version: Mapped[str] = mapped_column(String(20))
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunk_overlap: Mapped[int] = mapped_column(Integer)
    embedding_model: Mapped[str] = mapped_column(String(300))


class ChunkRow(Base):
    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_blob_chunking", "blob_sha", "chunking_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # also the FAISS id
    blob_sha: Mapped[str] = mapped_column(ForeignKey("blobs.sha256", ondelete="CASCADE"))
    # Which chunker settings and embedding model produced this chunk and its vector.
    chunking_id: Mapped[int] = mapped_column(ForeignKey("chunkings.id"))
    ordinal: Mapped[int] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    heading: Mapped[str | None] = mapped_column(Text, nullable=True)
    # (dim,) float32, L2-normalised; lets the FAISS index be rebuilt without re-embedding.
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    # Left out of every index and every answer (the owner's choice for a flagged passage).
    # On the chunk, not the document: it is a judgement about the content, and every search
    # path (vectors, keywords) can filter on one column.
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    @classmethod
    def of(
        cls, blob_sha: str, chunking_id: int, chunk: Any, vector: Any, excluded: bool
    ) -> ChunkRow:
        """A row for ``chunk`` (a ``types.Chunk`` or another ChunkRow) with ``vector``."""
        return cls(
            blob_sha=blob_sha,
            chunking_id=chunking_id,
            ordinal=chunk.ordinal,
            page=chunk.page,
            char_start=chunk.char_start,
            char_end=chunk.char_end,
            text=chunk.text,
            heading=chunk.heading,
            embedding=np.asarray(vector, dtype=np.float32).tobytes(),
            excluded=excluded,
        )


class FlagRow(Base):
    """Why a passage, or text hidden in a file, looks aimed at the model (see
    safety.injection). Derived from the content, like chunks: shared by every assistant
    holding the same file."""

    __tablename__ = "flags"
    __table_args__ = (Index("ix_flags_blob", "blob_sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob_sha: Mapped[str] = mapped_column(ForeignKey("blobs.sha256", ondelete="CASCADE"))
    # None for hidden text, which is in no chunk.
    chunk_id: Mapped[int | None] = mapped_column(
        ForeignKey("chunks.id", ondelete="CASCADE"), nullable=True
    )
    page: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    hidden_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("assistant_id", "blob_sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assistant_id: Mapped[int] = mapped_column(ForeignKey("assistants.id", ondelete="CASCADE"))
    blob_sha: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    chunking_id: Mapped[int] = mapped_column(ForeignKey("chunkings.id"))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="processing")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assistant_id: Mapped[int] = mapped_column(ForeignKey("assistants.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    citations_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
