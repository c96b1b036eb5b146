"""Rows of the ``chunkings`` table: one per way of making passages and vectors
(``ingest.chunk.Chunking``), referenced by documents and chunks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gptbuilder.db.schema import ChunkingRow
from gptbuilder.errors import NotFound
from gptbuilder.types import Chunking


def chunking_id(s: Session, chunking: Chunking) -> int:
    """The id of ``chunking``'s row, made if it is new."""
    q = select(ChunkingRow.id).where(
        ChunkingRow.chunker_version == chunking.version,
        ChunkingRow.chunk_size == chunking.size,
        ChunkingRow.chunk_overlap == chunking.overlap,
        ChunkingRow.embedding_model == chunking.embedding_model,
    )
    found = s.scalars(q).first()
    if found is not None:
        return found
    row = ChunkingRow(
        chunker_version=chunking.version,
        chunk_size=chunking.size,
        chunk_overlap=chunking.overlap,
        embedding_model=chunking.embedding_model,
    )
    s.add(row)
    s.flush()
    return row.id


def chunking_of(s: Session, chunking_id: int) -> Chunking:
    row = s.get(ChunkingRow, chunking_id)
    if row is None:
        raise NotFound("That way of making passages is not recorded.")
    return Chunking(row.chunk_size, row.chunk_overlap, row.embedding_model, row.chunker_version)
