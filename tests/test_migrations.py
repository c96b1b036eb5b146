"""Schema migrations and the data-folder lock (issue 16 item 4).

``fixtures/data-before-migrations`` is a data folder written by the last version without
migrations (see ``fixtures/make_data_before_migrations.py``): one assistant, one document,
one question and its answer. It must open, upgrade to the newest revision, show its saved
answer and answer a new question.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from conftest import ROOT, make_settings
from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.backends.vector_index import NumpyIndex
from gptbuilder.datalock import DataFolderInUse, lock_data_folder
from gptbuilder.db import migrate
from gptbuilder.db.schema import Base
from gptbuilder.services import Services
from gptbuilder.ui.handlers import Handlers

OLD = Path(__file__).resolve().parent / "fixtures" / "data-before-migrations"


def differences(db: Path) -> list:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()


def test_a_new_database_is_made_by_the_migrations_and_matches_the_models(tmp_path):
    services = Services.build(
        make_settings(tmp_path / "data"), HashingEmbedder(), ExtractiveFakeLLM, NumpyIndex
    )
    try:
        assert migrate.current(services.repo.engine) == migrate.head()
    finally:
        services.close()
    assert differences(tmp_path / "data" / "gptbuilder.sqlite3") == []


def test_a_data_folder_from_before_migrations_upgrades_and_answers(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(OLD, data)
    db = data / "gptbuilder.sqlite3"
    engine = create_engine(f"sqlite:///{db}")
    assert "alembic_version" not in inspect(engine).get_table_names()
    engine.dispose()

    settings = make_settings(data, abstain=False)
    services = Services.build(settings, HashingEmbedder(), ExtractiveFakeLLM, NumpyIndex)
    try:
        assert migrate.current(services.repo.engine) == migrate.head()
        [a] = services.repo.list_assistants()
        assert a.name == "Lighthouse notes" and a.starters == ("When was it built?",)
        [doc] = services.repo.list_documents(a.id)
        assert (doc.filename, doc.status) == ("lighthouse.txt", "ready")
        h = Handlers(services)
        # The answer saved by the old version is shown again, with its source.
        old = h.chat_history(a.id)
        assert [m["role"] for m in old] == ["user", "assistant"]
        assert "1871" in old[1]["content"] and "lighthouse.txt" in old[1]["content"]
        # A new question is answered from the old document (its index rebuilt from the rows).
        *_, (chat, _) = h.chat(a.id, "Who was the last keeper?", old)
        assert "Margaret Hale" in chat[-1]["content"]
        assert "lighthouse.txt" in chat[-1]["content"]
    finally:
        services.close()
    assert differences(db) == []


def test_a_second_app_on_the_same_data_folder_is_refused(tmp_path):
    data = tmp_path / "data"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from gptbuilder.datalock import "
            "lock_data_folder; held = lock_data_folder(Path(sys.argv[1]), "
            "'http://127.0.0.1:7999'); print('locked', flush=True); sys.stdin.read()",
            str(data),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GPTB_")}
        env |= {"GPTB_DATA_DIR": str(data), "GPTB_PORT": "7998"}
        second = subprocess.run(
            [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"already running on the data folder {data}" in second.stderr
        assert f"process {holder.pid}, http://127.0.0.1:7999" in second.stderr
        assert not (data / "gptbuilder.sqlite3").exists(), "the second app touched nothing"
        with pytest.raises(DataFolderInUse):
            lock_data_folder(data)
    finally:
        holder.kill()
        holder.wait(30)
    # The lock went with the process that held it (even killed): the folder opens again.
    lock = lock_data_folder(data)
    lock.release()


def test_an_even_older_database_gets_the_columns_added_before_migrations(tmp_path):
    """Versions before the baseline added columns as they went (``answer_style``, ``model``):
    a database without them still upgrades, with their defaults."""
    import sqlite3

    data = tmp_path / "data"
    shutil.copytree(OLD, data)
    with sqlite3.connect(data / "gptbuilder.sqlite3") as con:
        con.execute("ALTER TABLE assistants DROP COLUMN answer_style")
        con.execute("ALTER TABLE assistants DROP COLUMN model")
    services = Services.build(make_settings(data), HashingEmbedder(), ExtractiveFakeLLM, NumpyIndex)
    try:
        [a] = services.repo.list_assistants()
        assert (a.answer_style, a.model) == ("quote_first", "")
    finally:
        services.close()
    assert differences(data / "gptbuilder.sqlite3") == []


def test_the_chunkings_migration_goes_back_to_the_keys_it_replaced(tmp_path):
    """0002 moved 'chunker1:800:120:hashing-fake' into a row; downgrading restores it."""
    data = tmp_path / "data"
    shutil.copytree(OLD, data)
    db = data / "gptbuilder.sqlite3"
    engine = create_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    with engine.begin() as conn:
        keys = {k for (k,) in conn.exec_driver_sql("SELECT chunking_key FROM documents")}
        chunk_keys = {k for (k,) in conn.exec_driver_sql("SELECT chunking_key FROM chunks")}
    assert keys == chunk_keys == {"chunker1:800:120:hashing-fake"}
    migrate.upgrade(engine)  # and up again
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    assert differences(db) == []
