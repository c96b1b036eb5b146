"""Schema migrations (Alembic, in ``db/migrations``): every start brings the database to the
newest revision before anything else touches it.

A database made before migrations existed (tables, no ``alembic_version``) is first given the
columns that were added to it over time (``add_missing_columns``, the old way), which makes
it the baseline revision, and is stamped as such; the later revisions then run as usual. New
schema changes are new revisions (``alembic revision --autogenerate`` against a scratch
database, then read and fix by hand; batch operations for SQLite).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, inspect, text

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema of the last version without migrations


def _config(connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return str(ScriptDirectory.from_config(_config(None)).get_current_head())


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Create or upgrade the database to the newest revision."""
    tables = set(inspect(engine).get_table_names())
    legacy = "assistants" in tables and "alembic_version" not in tables
    if legacy:
        for column in add_missing_columns(engine):
            log.info("database from before migrations: added %s", column)
    with engine.begin() as conn:
        cfg = _config(conn)
        if legacy:
            command.stamp(cfg, BASELINE)
            log.info("database from before migrations stamped as revision %s", BASELINE)
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(cfg, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "nothing", after)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to ``revision`` (for running an older version of the app)."""
    with engine.begin() as conn:
        command.downgrade(_config(conn), revision)


def baseline_schema() -> MetaData:
    """The tables of the baseline revision, as the migrations make them (reflected from a
    scratch in-memory database)."""
    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as conn:
            command.upgrade(_config(conn), BASELINE)
        schema = MetaData()
        schema.reflect(scratch)
        return schema
    finally:
        scratch.dispose()


def add_missing_columns(engine: Engine) -> list[str]:
    """Tables and columns of the baseline schema that a database made by an even older version
    lacks
    (SQLite's ALTER TABLE ADD COLUMN, with the column's default): how the schema changed
    before migrations existed. Only for databases not yet under migrations."""
    added = []
    baseline = baseline_schema()
    existing_tables = set(inspect(engine).get_table_names())
    missing = [t for t in baseline.sorted_tables if t.name not in existing_tables]
    if missing:  # tables the oldest versions did not have yet
        baseline.create_all(engine, tables=missing)
        added += [t.name for t in missing]
    with engine.begin() as conn:
        for table in baseline.sorted_tables:
            if table.name not in existing_tables:
                continue
            have = {c["name"] for c in inspect(conn).get_columns(table.name)}
            for col in table.columns:
                if col.name in have:
                    continue
                ddl = f"{col.type.compile(engine.dialect)}"
                if col.server_default is not None:
                    default = str(col.server_default.arg.text)  # type: ignore[attr-defined]
                    null = "" if col.nullable else " NOT NULL"
                    ddl += f"{null} DEFAULT {default}"
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {ddl}'))
                added.append(f"{table.name}.{col.name}")
    return added
