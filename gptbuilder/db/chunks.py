"""Blobs (file contents), their pages and chunks: the queries that store a parsed file and
read its passages, vectors and locations back (part of the Repository)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gptbuilder.db.chunkings import chunking_id, chunking_of
from gptbuilder.db.flags import FlagQueries
from gptbuilder.db.schema import BlobRow, ChunkRow, DocumentRow, FlagRow, PageRow
from gptbuilder.errors import NotFound
from gptbuilder.types import ChunkDraft, Chunking, FlagDraft, Hit, Page


class ChunkQueries:
    """Blobs, their pages and passages (``Repository.passages``)."""

    def __init__(
        self, session: Callable[[], AbstractContextManager[Session]], flags: FlagQueries
    ) -> None:
        self.session = session  # the Repository's: one transaction per call
        self._flags = flags  # a file's flags are stored in the transaction of its passages

    def ensure_blob(self, sha256: str, size_bytes: int, media_type: str) -> None:
        with self.session() as s:
            if s.get(BlobRow, sha256) is None:
                s.add(BlobRow(sha256=sha256, size_bytes=size_bytes, media_type=media_type))

    def has_chunks(self, sha256: str, chunking: Chunking) -> bool:
        with self.session() as s:
            q = select(ChunkRow.id).where(
                ChunkRow.blob_sha == sha256, ChunkRow.chunking_id == chunking_id(s, chunking)
            )
            return s.scalars(q.limit(1)).first() is not None

    def save_parsed(
        self,
        sha256: str,
        chunking: Chunking,
        pages: Sequence[Page],
        chunks: Sequence[ChunkDraft],
        vectors: np.ndarray,  # (len(chunks), dim) float32
        flags: Sequence[FlagDraft] = (),
        exclude_flagged: bool = False,
    ) -> None:
        """Store pages, chunks, vectors and flags of a blob in one transaction (all or
        nothing). With ``exclude_flagged``, flagged chunks start out excluded."""
        assert len(chunks) == len(vectors)
        flagged = {f.ordinal for f in flags if f.ordinal is not None}
        with self.session() as s:
            key = chunking_id(s, chunking)
            existing = set(s.scalars(select(PageRow.number).where(PageRow.blob_sha == sha256)))
            s.add_all(
                PageRow(blob_sha=sha256, number=p.number, text=p.text)
                for p in pages
                if p.number not in existing
            )
            s.add_all(
                ChunkRow.of(sha256, key, c, v, exclude_flagged and c.ordinal in flagged)
                for c, v in zip(chunks, vectors, strict=True)
            )
            if flags:
                s.flush()
                self._flags.save_flags(s, sha256, key, flags)

    def page_count(self, sha256: str) -> int:
        with self.session() as s:
            q = select(func.count()).select_from(PageRow).where(PageRow.blob_sha == sha256)
            return int(s.scalar(q) or 0)

    def blob_media_type(self, sha256: str) -> str:
        with self.session() as s:
            row = s.get(BlobRow, sha256)
            if row is None:
                raise NotFound("That file is no longer stored.")
            return row.media_type

    def empty_page_count(self, sha256: str) -> int:
        with self.session() as s:
            q = select(func.count()).select_from(PageRow)
            return int(s.scalar(q.where(PageRow.blob_sha == sha256, PageRow.text == "")) or 0)

    def page_text(self, sha256: str, number: int) -> str:
        with self.session() as s:
            q = select(PageRow.text).where(PageRow.blob_sha == sha256, PageRow.number == number)
            return s.scalar(q) or ""

    def chunk_vectors(self, document_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids (n,) int64 and vectors (n, dim) float32 of the given documents' searchable
        (not excluded) chunks."""
        ids: list[int] = []
        vecs: list[np.ndarray] = []
        with self.session() as s:
            q = (
                select(ChunkRow.id, ChunkRow.embedding)
                .join(
                    DocumentRow,
                    (DocumentRow.blob_sha == ChunkRow.blob_sha)
                    & (DocumentRow.chunking_id == ChunkRow.chunking_id),
                )
                .where(DocumentRow.id.in_(list(document_ids)), ChunkRow.excluded.is_(False))
                .order_by(ChunkRow.id)
            )
            for cid, emb in s.execute(q):
                ids.append(cid)
                vecs.append(np.frombuffer(emb, dtype=np.float32))
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return np.asarray(ids, dtype=np.int64), np.vstack(vecs)

    def chunk_location(self, document_id: int, chunk_id: int) -> tuple[int, int, int]:
        """(page, char_start, char_end) of a chunk of that document; NotFound otherwise."""
        with self.session() as s:
            q = (
                select(ChunkRow.page, ChunkRow.char_start, ChunkRow.char_end)
                .join(
                    DocumentRow,
                    (DocumentRow.blob_sha == ChunkRow.blob_sha)
                    & (DocumentRow.chunking_id == ChunkRow.chunking_id),
                )
                .where(ChunkRow.id == chunk_id, DocumentRow.id == document_id)
            )
            row = s.execute(q).first()
        if row is None:
            raise NotFound("That passage is no longer in the documents.")
        return int(row[0]), int(row[1]), int(row[2])

    def ready_chunk_texts(self, assistant_id: int) -> list[str]:
        """Texts of every passage of the assistant's ready documents (for word statistics)."""
        with self.session() as s:
            q = (
                select(ChunkRow.text)
                .join(
                    DocumentRow,
                    (DocumentRow.blob_sha == ChunkRow.blob_sha)
                    & (DocumentRow.chunking_id == ChunkRow.chunking_id),
                )
                .where(
                    DocumentRow.assistant_id == assistant_id,
                    DocumentRow.status == "ready",
                    ChunkRow.excluded.is_(False),
                )
            )
            return list(s.scalars(q))

    def document_chunks(self, document_id: int) -> tuple[Chunking, list[ChunkDraft], np.ndarray]:
        """A document's chunking, its chunks in order, and their vectors (n, dim) float32."""
        with self.session() as s:
            doc = s.get(DocumentRow, document_id)
            if doc is None:
                raise NotFound("That document no longer exists.")
            q = (
                select(ChunkRow)
                .where(ChunkRow.blob_sha == doc.blob_sha, ChunkRow.chunking_id == doc.chunking_id)
                .order_by(ChunkRow.ordinal, ChunkRow.id)
            )
            rows = list(s.scalars(q))
            key = chunking_of(s, doc.chunking_id)
        chunks = [
            ChunkDraft(r.ordinal, r.page, r.char_start, r.char_end, r.text, r.heading) for r in rows
        ]
        vectors = [np.frombuffer(r.embedding, dtype=np.float32) for r in rows]
        return key, chunks, (np.vstack(vectors) if vectors else np.zeros((0, 0), np.float32))

    @staticmethod
    def _chunks_of(document_ids: Iterable[int]):
        """Join condition: searchable (not excluded) chunks of the given documents; callers
        pick the columns. Every index is built from these, so none holds an excluded one."""
        return (
            (DocumentRow.blob_sha == ChunkRow.blob_sha)
            & (DocumentRow.chunking_id == ChunkRow.chunking_id)
            & DocumentRow.id.in_(list(document_ids))
            & ChunkRow.excluded.is_(False)
        )

    def chunk_ids(self, document_ids: Iterable[int]) -> np.ndarray:
        """Chunk ids (n,) int64 of the given documents, ascending (no vectors: cheap)."""
        with self.session() as s:
            q = select(ChunkRow.id).join(DocumentRow, self._chunks_of(document_ids))
            ids = list(s.scalars(q.order_by(ChunkRow.id)))
        return np.asarray(ids, dtype=np.int64)

    def chunk_texts(self, document_ids: Iterable[int]) -> tuple[np.ndarray, list[str]]:
        """Chunk ids (n,) int64 and their texts, ascending by id, of the given documents."""
        with self.session() as s:
            q = select(ChunkRow.id, ChunkRow.text).join(DocumentRow, self._chunks_of(document_ids))
            rows = s.execute(q.order_by(ChunkRow.id)).all()
        return np.asarray([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def chunk_embeddings(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored vectors (dim,) float32 of the given chunks, by id."""
        with self.session() as s:
            q = select(ChunkRow.id, ChunkRow.embedding).where(ChunkRow.id.in_(list(chunk_ids)))
            return {cid: np.frombuffer(emb, dtype=np.float32) for cid, emb in s.execute(q)}

    def hits(self, assistant_id: int, scored: Sequence[tuple[int, float]]) -> list[Hit]:
        """Turn (chunk id, score) pairs into Hits, keeping only chunks of the assistant's
        ready documents, in the given order."""
        if not scored:
            return []
        ids = [cid for cid, _ in scored]
        with self.session() as s:
            q = _with_documents().where(
                ChunkRow.id.in_(ids),
                DocumentRow.assistant_id == assistant_id,
                DocumentRow.status == "ready",
                ChunkRow.excluded.is_(False),  # whichever index still had it
            )
            found = {c.id: (c, doc_id, name, at) for c, doc_id, name, at in s.execute(q)}
        return [_hit(*found[cid], float(score)) for cid, score in scored if cid in found]

    def excluded_passages(self, assistant_id: int) -> list[tuple[Hit, np.ndarray]]:
        """The assistant's excluded (flagged) passages with their vectors: searched apart, so
        that an answer can say when the best match for a question was left out."""
        with self.session() as s:
            q = _with_documents().where(
                DocumentRow.assistant_id == assistant_id,
                DocumentRow.status == "ready",
                ChunkRow.excluded.is_(True),
            )
            rows = list(s.execute(q))
        return [
            (_hit(row[0], row[1], row[2], row[3], 0.0), np.frombuffer(row[0].embedding, np.float32))
            for row in rows
        ]

    def delete_unused_blobs(self) -> list[str]:
        """Remove blobs that no document refers to; returns their sha256 (to delete files)."""
        with self.session() as s:
            used = select(DocumentRow.blob_sha)
            shas = list(s.scalars(select(BlobRow.sha256).where(BlobRow.sha256.not_in(used))))
            if shas:
                s.execute(delete(FlagRow).where(FlagRow.blob_sha.in_(shas)))
                s.execute(delete(ChunkRow).where(ChunkRow.blob_sha.in_(shas)))
                s.execute(delete(PageRow).where(PageRow.blob_sha.in_(shas)))
                s.execute(delete(BlobRow).where(BlobRow.sha256.in_(shas)))
            return shas


def _with_documents():
    """Chunks with the id, name and upload time of the documents they belong to."""
    return select(ChunkRow, DocumentRow.id, DocumentRow.filename, DocumentRow.created_at).join(
        DocumentRow,
        (DocumentRow.blob_sha == ChunkRow.blob_sha)
        & (DocumentRow.chunking_id == ChunkRow.chunking_id),
    )


def _hit(c: ChunkRow, document_id: int, filename: str, uploaded_at: Any, score: float) -> Hit:
    return Hit(
        chunk_id=c.id,
        document_id=document_id,
        filename=filename,
        page=c.page,
        char_start=c.char_start,
        char_end=c.char_end,
        text=c.text,
        score=score,
        sha256=c.blob_sha,
        uploaded_at=uploaded_at,
    )
