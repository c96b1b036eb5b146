"""Flagged passages and the owner's keep/exclude decisions (part of the Repository).

A flag belongs to a blob (file content) like its chunks do; the owner's decision is the chunk's
``excluded`` column, which every search path filters on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gptbuilder.db.chunkings import chunking_id
from gptbuilder.db.schema import ChunkRow, DocumentRow, FlagRow
from gptbuilder.types import Chunking, Flag, FlagDraft


class FlagQueries:
    """Flags and the owner's keep/exclude decisions (``Repository.flags``)."""

    def __init__(self, session: Callable[[], AbstractContextManager[Session]]) -> None:
        self.session = session  # the Repository's: one transaction per call

    def save_flags(
        self, s: Session, sha256: str, chunking_id: int, flags: Sequence[FlagDraft]
    ) -> None:
        """Inside save_parsed's transaction, after the chunks have ids."""
        ids = dict(
            s.execute(
                select(ChunkRow.ordinal, ChunkRow.id).where(
                    ChunkRow.blob_sha == sha256, ChunkRow.chunking_id == chunking_id
                )
            ).all()
        )
        # Hidden text belongs to the file whatever the chunking: stored once per blob.
        has_hidden = (
            s.scalars(
                select(FlagRow.id).where(FlagRow.blob_sha == sha256, FlagRow.chunk_id.is_(None))
            ).first()
            is not None
        )
        for f in flags:
            if f.ordinal is None and has_hidden:
                continue
            s.add(
                FlagRow(
                    blob_sha=sha256,
                    chunk_id=ids.get(f.ordinal) if f.ordinal is not None else None,
                    page=f.page,
                    kind=f.kind,
                    reason=f.reason,
                    evidence=f.evidence if f.ordinal is not None else f.evidence[:300],
                    hidden_text=f.evidence if f.ordinal is None else None,
                )
            )

    def list_flags(self, assistant_id: int, document_id: int | None = None) -> list[Flag]:
        """Flags of the assistant's ready documents (or of one), by file, page and passage."""
        with self.session() as s:
            q = (
                select(FlagRow, DocumentRow.id, DocumentRow.filename, ChunkRow)
                .join(DocumentRow, DocumentRow.blob_sha == FlagRow.blob_sha)
                .outerjoin(ChunkRow, ChunkRow.id == FlagRow.chunk_id)
                .where(
                    DocumentRow.assistant_id == assistant_id,
                    DocumentRow.status == "ready",
                    # a chunk flag counts only for documents chunked the same way
                    (FlagRow.chunk_id.is_(None))
                    | (ChunkRow.chunking_id == DocumentRow.chunking_id),
                )
                .order_by(DocumentRow.id, FlagRow.page, FlagRow.chunk_id, FlagRow.id)
            )
            if document_id is not None:
                q = q.where(DocumentRow.id == document_id)
            return [
                Flag(
                    id=f.id,
                    document_id=doc_id,
                    filename=name,
                    page=f.page,
                    kind=f.kind,
                    reason=f.reason,
                    evidence=f.evidence,
                    chunk_id=f.chunk_id,
                    excluded=chunk.excluded if chunk is not None else True,
                    passage=chunk.text if chunk is not None else (f.hidden_text or ""),
                )
                for f, doc_id, name, chunk in s.execute(q)
            ]

    def flag_count(self, sha256: str, chunking: Chunking) -> tuple[int, int]:
        """(flagged passages, pieces of hidden text) of one file as chunked this way."""
        with self.session() as s:
            passages = s.scalar(
                select(func.count(func.distinct(FlagRow.chunk_id)))
                .join(ChunkRow, ChunkRow.id == FlagRow.chunk_id)
                .where(FlagRow.blob_sha == sha256, ChunkRow.chunking_id == chunking_id(s, chunking))
            )
            hidden = s.scalar(
                select(func.count(FlagRow.id)).where(
                    FlagRow.blob_sha == sha256, FlagRow.chunk_id.is_(None)
                )
            )
            return int(passages or 0), int(hidden or 0)

    def set_excluded(self, chunk_ids: Sequence[int], excluded: bool) -> list[int]:
        """Mark chunks excluded (or searchable again); returns the ids whose state changed."""
        with self.session() as s:
            changed = list(
                s.scalars(
                    select(ChunkRow.id).where(
                        ChunkRow.id.in_(list(chunk_ids)), ChunkRow.excluded.is_(not excluded)
                    )
                )
            )
            if changed:
                s.execute(
                    update(ChunkRow).where(ChunkRow.id.in_(changed)).values(excluded=excluded)
                )
            return changed

    def assistants_holding(self, chunk_ids: Sequence[int]) -> Iterator[tuple[int, list[int]]]:
        """(assistant id, its chunk ids among these) for every assistant whose ready
        documents contain some of the chunks (a file can be shared by assistants)."""
        with self.session() as s:
            q = (
                select(DocumentRow.assistant_id, ChunkRow.id)
                .join(
                    DocumentRow,
                    (DocumentRow.blob_sha == ChunkRow.blob_sha)
                    & (DocumentRow.chunking_id == ChunkRow.chunking_id),
                )
                .where(ChunkRow.id.in_(list(chunk_ids)), DocumentRow.status == "ready")
            )
            by_assistant: dict[int, list[int]] = {}
            for aid, cid in s.execute(q):
                by_assistant.setdefault(aid, []).append(cid)
        yield from by_assistant.items()

    def vectors_of(self, chunk_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Ids (n,) int64 and vectors (n, dim) float32 of these chunks."""
        with self.session() as s:
            rows = s.execute(
                select(ChunkRow.id, ChunkRow.embedding)
                .where(ChunkRow.id.in_(list(chunk_ids)))
                .order_by(ChunkRow.id)
            ).all()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        return ids, np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
