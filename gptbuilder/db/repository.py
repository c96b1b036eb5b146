"""Repository over the SQLite database. Methods take and return our own types."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, delete, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gptbuilder.db import migrate
from gptbuilder.db.chunkings import chunking_id
from gptbuilder.db.chunks import ChunkQueries
from gptbuilder.db.flags import FlagQueries
from gptbuilder.db.reembed import ReembedQueries
from gptbuilder.db.schema import (
    AssistantRow,
    BlobRow,
    ChunkRow,
    DocumentRow,
    MessageRow,
    PageRow,
    utcnow,
)
from gptbuilder.errors import InvalidInput, NotFound
from gptbuilder.types import (
    Assistant,
    AssistantDraft,
    ChatMessage,
    Chunking,
    Document,
)

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _assistant(row: AssistantRow) -> Assistant:
    return Assistant(
        id=row.id,
        name=row.name,
        description=row.description,
        instructions=row.instructions,
        starters=tuple(json.loads(row.starters_json)),
        temperature=row.temperature,
        model=row.model or "",
        answer_style=row.answer_style or "quote_first",
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_used_at=row.last_used_at,
    )


class Repository:
    """Assistants, documents and messages here; passages, flags and re-embedding in the parts
    it holds (``passages``, ``flags``, ``reembedding``), which share its sessions."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        migrate.upgrade(self.engine)  # create, or bring an older database to the newest schema
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.flags = FlagQueries(self.session)
        self.passages = ChunkQueries(self.session, self.flags)
        self.reembedding = ReembedQueries(self.session)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()

    # -- assistants ---------------------------------------------------------------------------

    def create_assistant(self, draft: AssistantDraft, importing: bool = False) -> Assistant:
        """``importing``: hidden from lists until ``finish_import`` (see AssistantRow)."""
        row = AssistantRow(
            name=draft.name,
            description=draft.description,
            instructions=draft.instructions,
            starters_json=json.dumps(list(draft.starters)),
            temperature=draft.temperature,
            model=draft.model,
            answer_style=draft.answer_style,
            importing=importing,
        )
        try:
            with self.session() as s:
                s.add(row)
                s.flush()
                return _assistant(row)
        except IntegrityError as err:
            raise InvalidInput(f"An assistant called “{draft.name}” already exists.") from err

    def update_assistant(self, assistant_id: int, draft: AssistantDraft) -> Assistant:
        try:
            with self.session() as s:
                row = s.get(AssistantRow, assistant_id)
                if row is None:
                    raise NotFound("That assistant no longer exists.")
                row.name = draft.name
                row.description = draft.description
                row.instructions = draft.instructions
                row.starters_json = json.dumps(list(draft.starters))
                row.temperature = draft.temperature
                row.model = draft.model
                row.answer_style = draft.answer_style
                row.updated_at = utcnow()
                s.flush()
                return _assistant(row)
        except IntegrityError as err:
            raise InvalidInput(f"An assistant called “{draft.name}” already exists.") from err

    def get_assistant(self, assistant_id: int) -> Assistant:
        with self.session() as s:
            row = s.get(AssistantRow, assistant_id)
            if row is None:
                raise NotFound("That assistant no longer exists.")
            return _assistant(row)

    def list_assistants(self) -> list[Assistant]:
        with self.session() as s:
            q = select(AssistantRow).where(AssistantRow.importing.is_(False))
            rows = s.scalars(q.order_by(func.lower(AssistantRow.name)))
            return [_assistant(r) for r in rows]

    def assistant_names(self) -> set[str]:
        """Lower-cased names in use, those of assistants being imported included."""
        with self.session() as s:
            return {n.lower() for n in s.scalars(select(AssistantRow.name))}

    def finish_import(self, assistant_id: int) -> Assistant:
        with self.session() as s:
            row = s.get(AssistantRow, assistant_id)
            if row is None:
                raise NotFound("That assistant no longer exists.")
            row.importing = False
            s.flush()
            return _assistant(row)

    def unfinished_imports(self) -> list[int]:
        """Assistants an import left half-made (the process stopped in the middle)."""
        with self.session() as s:
            return list(s.scalars(select(AssistantRow.id).where(AssistantRow.importing)))

    def document_counts(self) -> dict[int, int]:
        """Ready documents per assistant id (assistants without any are left out)."""
        with self.session() as s:
            q = (
                select(DocumentRow.assistant_id, func.count(DocumentRow.id))
                .where(DocumentRow.status == "ready")
                .group_by(DocumentRow.assistant_id)
            )
            return {int(aid): int(n) for aid, n in s.execute(q)}

    def delete_assistant(self, assistant_id: int) -> None:
        with self.session() as s:
            row = s.get(AssistantRow, assistant_id)
            if row is None:
                raise NotFound("That assistant no longer exists.")
            s.delete(row)

    # -- documents -----------------------------------------------------------------------------

    def _documents(self, s: Session, where) -> list[Document]:
        chunk_count = (
            select(func.count(ChunkRow.id))
            .where(
                ChunkRow.blob_sha == DocumentRow.blob_sha,
                ChunkRow.chunking_id == DocumentRow.chunking_id,
            )
            .scalar_subquery()
        )
        page_count = (
            select(func.count(PageRow.id))
            .where(PageRow.blob_sha == DocumentRow.blob_sha)
            .scalar_subquery()
        )
        q = (
            select(DocumentRow, BlobRow, chunk_count, page_count)
            .join(BlobRow, BlobRow.sha256 == DocumentRow.blob_sha)
            .where(where)
            .order_by(DocumentRow.id)
        )
        return [
            Document(
                id=d.id,
                assistant_id=d.assistant_id,
                filename=d.filename,
                sha256=d.blob_sha,
                size_bytes=b.size_bytes,
                media_type=b.media_type,
                pages=int(pages or 0),
                chunks=int(chunks or 0) if d.status == "ready" else 0,
                status=d.status,
                error=d.error,
                created_at=d.created_at,
            )
            for d, b, chunks, pages in s.execute(q)
        ]

    def list_documents(self, assistant_id: int) -> list[Document]:
        with self.session() as s:
            return self._documents(s, DocumentRow.assistant_id == assistant_id)

    def get_document(self, document_id: int) -> Document:
        with self.session() as s:
            docs = self._documents(s, DocumentRow.id == document_id)
        if not docs:
            raise NotFound("That document no longer exists.")
        return docs[0]

    def find_document(self, assistant_id: int, sha256: str) -> Document | None:
        with self.session() as s:
            docs = self._documents(
                s, (DocumentRow.assistant_id == assistant_id) & (DocumentRow.blob_sha == sha256)
            )
        return docs[0] if docs else None

    def add_document(
        self, assistant_id: int, sha256: str, chunking: Chunking, filename: str
    ) -> int:
        with self.session() as s:
            row = DocumentRow(
                assistant_id=assistant_id,
                blob_sha=sha256,
                chunking_id=chunking_id(s, chunking),
                filename=filename,
                status="processing",
            )
            s.add(row)
            s.flush()
            return row.id

    def set_document_status(self, document_id: int, status: str, error: str | None = None) -> None:
        with self.session() as s:
            row = s.get(DocumentRow, document_id)
            if row is not None:
                row.status = status
                row.error = error

    def delete_document(self, document_id: int) -> None:
        with self.session() as s:
            row = s.get(DocumentRow, document_id)
            if row is None:
                raise NotFound("That document no longer exists.")
            s.delete(row)

    def ready_document_ids(self, assistant_id: int) -> list[int]:
        with self.session() as s:
            q = select(DocumentRow.id).where(
                DocumentRow.assistant_id == assistant_id, DocumentRow.status == "ready"
            )
            return list(s.scalars(q))

    def unfinished_documents(self) -> list[Document]:
        """Documents left 'processing' by a process that stopped in the middle."""
        with self.session() as s:
            return self._documents(s, DocumentRow.status == "processing")

    # -- chat history --------------------------------------------------------------------------

    def add_message(self, assistant_id: int, message: ChatMessage) -> None:
        """Store a message; the assistant counts as used now (the gallery's "last used")."""
        with self.session() as s:
            s.execute(
                update(AssistantRow)
                .where(AssistantRow.id == assistant_id)
                .values(last_used_at=utcnow())
            )
            s.add(
                MessageRow(
                    assistant_id=assistant_id,
                    role=message.role,
                    content=message.content,
                    citations_json=json.dumps(list(message.citations)),
                )
            )

    def list_messages(self, assistant_id: int) -> list[ChatMessage]:
        with self.session() as s:
            q = (
                select(MessageRow)
                .where(MessageRow.assistant_id == assistant_id)
                .order_by(MessageRow.id)
            )
            return [
                ChatMessage(
                    role=m.role,
                    content=m.content,
                    citations=tuple(json.loads(m.citations_json)),
                )
                for m in s.scalars(q)
            ]

    def clear_messages(self, assistant_id: int) -> None:
        with self.session() as s:
            s.execute(delete(MessageRow).where(MessageRow.assistant_id == assistant_id))
