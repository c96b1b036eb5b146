"""Alembic's environment: run by ``db.migrate`` on the connection it is given (never from a
URL in a config file), in batch mode so that SQLite can alter tables."""

from __future__ import annotations

from alembic import context

from gptbuilder.db.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
