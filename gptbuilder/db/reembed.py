"""Queries that move stored passages to another embedding model (see
``Library.reembed_other_models``): part of ``Repository``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gptbuilder.db.chunkings import chunking_id, chunking_of
from gptbuilder.db.schema import ChunkRow, DocumentRow, FlagRow
from gptbuilder.errors import InvalidInput
from gptbuilder.types import Chunking


class ReembedQueries:
    """Moving stored passages to another embedding model (``Repository.reembedding``)."""

    def __init__(self, session: Callable[[], AbstractContextManager[Session]]) -> None:
        self.session = session  # the Repository's: one transaction per call

    def embedding_keys(self) -> list[tuple[str, Chunking]]:
        """Distinct (blob sha256, chunking) pairs of ready documents."""
        with self.session() as s:
            q = (
                select(DocumentRow.blob_sha, DocumentRow.chunking_id)
                .where(DocumentRow.status == "ready")
                .distinct()
                .order_by(DocumentRow.blob_sha, DocumentRow.chunking_id)
            )
            return [(sha, chunking_of(s, cid)) for sha, cid in s.execute(q)]

    def keyed_chunk_texts(self, sha256: str, chunking: Chunking) -> list[str]:
        """Texts of a blob's chunks made this way, in the order of their ids."""
        with self.session() as s:
            q = select(ChunkRow.text).where(
                ChunkRow.blob_sha == sha256, ChunkRow.chunking_id == chunking_id(s, chunking)
            )
            return list(s.scalars(q.order_by(ChunkRow.id)))

    def rekey_chunks(self, sha256: str, old: Chunking, new: Chunking, vectors: np.ndarray) -> None:
        """Give a blob's chunks made the ``old`` way new vectors (``vectors`` in the order of
        ``keyed_chunk_texts``) under ``new``, and move its documents to ``new``, in one
        transaction. The chunks get new ids, so every index holding them must be rebuilt; the
        owner's exclusions and the flags go with them."""
        with self.session() as s:
            old_id, new_id = chunking_id(s, old), chunking_id(s, new)
            rows = list(
                s.scalars(
                    select(ChunkRow)
                    .where(ChunkRow.blob_sha == sha256, ChunkRow.chunking_id == old_id)
                    .order_by(ChunkRow.id)
                )
            )
            if len(rows) != len(vectors):
                raise InvalidInput("the chunks changed while they were embedded again")
            if (
                s.scalars(
                    select(ChunkRow.id)
                    .where(ChunkRow.blob_sha == sha256, ChunkRow.chunking_id == new_id)
                    .limit(1)
                ).first()
                is None
            ):
                copies = [
                    ChunkRow.of(sha256, new_id, r, v, r.excluded)
                    for r, v in zip(rows, vectors, strict=True)
                ]
                s.add_all(copies)
                s.flush()
                moved = {r.id: c.id for r, c in zip(rows, copies, strict=True)}
                for flag in s.scalars(select(FlagRow).where(FlagRow.chunk_id.in_(list(moved)))):
                    if flag.chunk_id is not None:
                        flag.chunk_id = moved[flag.chunk_id]
            s.execute(
                update(DocumentRow)
                .where(DocumentRow.blob_sha == sha256, DocumentRow.chunking_id == old_id)
                .values(chunking_id=new_id)
            )
            # No document uses the old chunks any more (their flags moved or cascade).
            s.execute(
                delete(ChunkRow).where(ChunkRow.blob_sha == sha256, ChunkRow.chunking_id == old_id)
            )
