"""Chunkings as rows: the one-string ``chunking_key`` of documents and chunks
(``chunker1:800:120:model``) becomes a ``chunkings`` row with its four parts as columns,
referenced by ``chunking_id``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _parse(key: str) -> tuple[str, int, int, str]:
    """(chunker version, size, overlap, embedding model) of a key; parts it lacks are empty."""
    parts = key.split(":", 3)
    if len(parts) < 4 or not parts[0].startswith("chunker"):
        return ("", 0, 0, "")
    size, overlap = (int(p) if p.isdigit() else 0 for p in parts[1:3])
    return (parts[0].removeprefix("chunker"), size, overlap, parts[3])


def upgrade() -> None:
    op.create_table(
        "chunkings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chunker_version", sa.String(length=20), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunk_overlap", sa.Integer(), nullable=False),
        sa.Column("embedding_model", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chunker_version", "chunk_size", "chunk_overlap", "embedding_model"),
    )
    conn = op.get_bind()
    keys = sorted(
        {k for (k,) in conn.execute(sa.text("SELECT DISTINCT chunking_key FROM chunks"))}
        | {k for (k,) in conn.execute(sa.text("SELECT DISTINCT chunking_key FROM documents"))}
    )
    for table in ("chunks", "documents"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("chunking_id", sa.Integer(), nullable=True))
    ids: dict[tuple[str, int, int, str], int] = {}
    for key in keys:
        c = _parse(key)
        if c not in ids:
            ids[c] = conn.execute(
                sa.text(
                    "INSERT INTO chunkings (chunker_version, chunk_size, chunk_overlap, "
                    "embedding_model) VALUES (:v, :s, :o, :m) RETURNING id"
                ),
                dict(zip("vsom", c, strict=True)),
            ).scalar_one()
        for table in ("chunks", "documents"):
            conn.execute(
                sa.text(f"UPDATE {table} SET chunking_id = :id WHERE chunking_key = :key"),
                {"id": ids[c], "key": key},
            )
    with op.batch_alter_table("chunks") as batch:
        batch.drop_index("ix_chunks_blob_key")
        batch.alter_column("chunking_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_chunks_chunking", "chunkings", ["chunking_id"], ["id"])
        batch.drop_column("chunking_key")
        batch.create_index("ix_chunks_blob_chunking", ["blob_sha", "chunking_id"], unique=False)
    with op.batch_alter_table("documents") as batch:
        batch.alter_column("chunking_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_documents_chunking", "chunkings", ["chunking_id"], ["id"])
        batch.drop_column("chunking_key")


def downgrade() -> None:
    """Back to one-string keys (for an older version of the app on this data folder)."""
    conn = op.get_bind()
    for table in ("chunks", "documents"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("chunking_key", sa.String(length=200), nullable=True))
        conn.execute(
            sa.text(
                f"UPDATE {table} SET chunking_key = (SELECT 'chunker' || c.chunker_version || ':' "
                "|| c.chunk_size || ':' || c.chunk_overlap || ':' || c.embedding_model "
                f"FROM chunkings c WHERE c.id = {table}.chunking_id)"
            )
        )
    with op.batch_alter_table("chunks") as batch:
        batch.drop_index("ix_chunks_blob_chunking")
        batch.drop_constraint("fk_chunks_chunking", type_="foreignkey")
        batch.drop_column("chunking_id")
        batch.alter_column("chunking_key", existing_type=sa.String(length=200), nullable=False)
        batch.create_index("ix_chunks_blob_key", ["blob_sha", "chunking_key"], unique=False)
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint("fk_documents_chunking", type_="foreignkey")
        batch.drop_column("chunking_id")
        batch.alter_column("chunking_key", existing_type=sa.String(length=200), nullable=False)
    op.drop_table("chunkings")
