"""Adding and removing documents keeps files, database and index in step (fast fakes)."""

from pathlib import Path

import pytest

from conftest import make_settings
from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.backends.vector_index import NumpyIndex
from gptbuilder.errors import IngestError
from gptbuilder.personas.definition import make_draft
from gptbuilder.services import Services


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


TEXT = "Otters hold hands while sleeping. They use rocks as tools. " * 5


def test_add_search_remove(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(make_draft("A"))
    seen = []
    r = s.library.add_file(
        a.id, write(tmp_path, "otters.txt", TEXT), "otters.txt", lambda f, what: seen.append(f)
    )
    assert r.document.status == "ready" and r.document.chunks > 0
    assert seen[-1] == 1.0 and seen == sorted(seen), "progress goes forward to 100%"
    assert s.library._files.path(r.document.sha256).exists()
    hits = s.answers.retrieve(a.id, "what do otters use as tools")
    assert hits and hits[0].filename == "otters.txt" and hits[0].page == 1
    assert len(s.indexes.get(a.id)) == r.document.chunks

    s.library.remove_document(r.document.id)
    assert s.answers.retrieve(a.id, "otters") == []
    assert len(s.indexes.get(a.id)) == 0
    assert not s.library._files.path(r.document.sha256).exists()


def test_same_file_twice_is_stored_and_embedded_once(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(make_draft("A"))
    b = s.repo.create_assistant(make_draft("B"))
    path = write(tmp_path, "otters.txt", TEXT)
    first = s.library.add_file(a.id, path, "otters.txt")
    again = s.library.add_file(a.id, path, "otters-copy.txt")
    assert again.duplicate and again.document.id == first.document.id
    assert len(s.repo.list_documents(a.id)) == 1
    other = s.library.add_file(b.id, path, "otters.txt")
    assert other.reused and not other.duplicate
    ids_a, _ = s.repo.passages.chunk_vectors([first.document.id])
    ids_b, _ = s.repo.passages.chunk_vectors([other.document.id])
    assert list(ids_a) == list(ids_b), "the second assistant reuses the same chunks"
    # Removing from one assistant keeps the other's copy working.
    s.library.remove_document(first.document.id)
    assert s.answers.retrieve(b.id, "otters tools")
    assert s.library._files.path(other.document.sha256).exists()


def test_failed_file_leaves_nothing_and_others_still_work(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(make_draft("A"))
    s.library.add_file(a.id, write(tmp_path, "good.txt", TEXT), "good.txt")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage, no pages, no xref")
    with pytest.raises(IngestError, match="damaged|no pages"):
        s.library.add_file(a.id, bad, "bad.pdf")
    empty = write(tmp_path, "empty.txt", "   \n")
    with pytest.raises(IngestError, match="empty"):
        s.library.add_file(a.id, empty, "empty.txt")
    assert [d.filename for d in s.repo.list_documents(a.id)] == ["good.txt"]
    assert s.answers.retrieve(a.id, "otters")


def test_crash_during_embedding_rolls_back(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(make_draft("A"))

    class Boom(RuntimeError):
        pass

    def explode(fraction, what):
        if "Embedding" in what:
            raise Boom("disk on fire")

    with pytest.raises(IngestError, match="could not be added"):
        s.library.add_file(a.id, write(tmp_path, "x.txt", TEXT), "x.txt", explode)
    assert s.repo.list_documents(a.id) == []
    assert len(s.indexes.get(a.id)) == 0
    assert not any(p.is_file() for p in s.settings.files_dir.rglob("*"))


def test_upload_size_limit(tmp_path):
    settings = make_settings(tmp_path / "data", max_upload_mb=1)
    s = Services.build(settings, HashingEmbedder(), ExtractiveFakeLLM, NumpyIndex)
    a = s.repo.create_assistant(make_draft("A"))
    big = tmp_path / "big.txt"
    big.write_bytes(b"a " * (1024 * 1024))
    with pytest.raises(IngestError, match="limit is 1 MB"):
        s.library.add_file(a.id, big, "big.txt")
    assert s.repo.list_documents(a.id) == []
    s.close()


def test_changed_file_with_the_same_name_replaces_the_old_version(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(make_draft("A"))
    path = write(tmp_path, "prices.txt", "Coffee costs 2 euros. Tea costs 1 euro.")
    old = s.library.add_file(a.id, path, "prices.txt").document
    path.write_text("Coffee costs 3 euros now. Tea costs 2 euros now.")
    new = s.library.add_file(a.id, path, "prices.txt")
    assert new.replaced == "prices.txt"
    [doc] = s.repo.list_documents(a.id)
    assert doc.id == new.document.id and doc.sha256 != old.sha256
    texts = [h.text for h in s.answers.retrieve(a.id, "coffee price")]
    assert texts and all("3 euros" in t for t in texts)
    assert not s.library._files.path(old.sha256).exists()


class CountingEmbedder(HashingEmbedder):
    """The hashing fake, recording how many texts each call embedded; it fails on demand."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.fail_on = fail_on

    def embed(self, texts, progress=None, *, batch=None):
        self.calls.append(len(texts))
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise RuntimeError("out of memory")
        return super().embed(texts, progress, batch=batch)


def _notes(tmp_path: Path, count: int) -> list[tuple[Path, str]]:
    return [
        (
            write(tmp_path, f"note{i}.txt", f"Note {i}: otter number {i} sleeps by the river."),
            f"note{i}.txt",
        )
        for i in range(count)
    ]


def test_an_upload_embeds_small_files_together_each_its_own_transaction(tmp_path):
    embedder = CountingEmbedder()
    s = Services.build(make_settings(tmp_path / "data"), embedder, ExtractiveFakeLLM, NumpyIndex)
    a = s.repo.create_assistant(make_draft("A"))
    notes = _notes(tmp_path, 4)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage, no pages, no xref")
    files = [*notes[:2], (bad, "bad.pdf"), notes[0][0:1] + ("same-as-note0.txt",), *notes[2:]]
    seen: dict[int, list[str]] = {}
    outcomes = dict(
        s.library.add_files(
            a.id, files, lambda i: lambda f, what: seen.setdefault(i, []).append(what)
        )
    )
    assert sorted(outcomes) == list(range(len(files)))
    assert isinstance(outcomes[2], IngestError) and "bad.pdf" in str(outcomes[2])
    # The same content again: the group is stored first, then it is a duplicate.
    assert outcomes[3].duplicate and outcomes[3].document.id == outcomes[0].document.id
    added = [outcomes[i] for i in (0, 1, 4, 5)]
    assert all(r.document.status == "ready" and r.document.chunks == 1 for r in added)
    assert embedder.calls == [2, 2], "note0+note1, then note2+note3: one call per group"
    assert any("with 1 other file" in w for w in seen[4])
    assert sorted(d.filename for d in s.repo.list_documents(a.id)) == [
        "note0.txt",
        "note1.txt",
        "note2.txt",
        "note3.txt",
    ]
    assert len(s.indexes.get(a.id)) == 4
    hits = s.answers.retrieve(a.id, "otter number 3 sleeps")
    assert hits and hits[0].filename == "note3.txt"
    s.close()


def test_a_failed_group_embedding_leaves_those_files_out_and_the_others_in(tmp_path, monkeypatch):
    from gptbuilder import adding

    monkeypatch.setattr(adding, "GROUP_PASSAGES", 2)
    embedder = CountingEmbedder(fail_on="otter number 2")
    s = Services.build(make_settings(tmp_path / "data"), embedder, ExtractiveFakeLLM, NumpyIndex)
    a = s.repo.create_assistant(make_draft("A"))
    outcomes = dict(s.library.add_files(a.id, _notes(tmp_path, 5)))
    assert embedder.calls == [2, 2, 1]
    for i in (2, 3):  # the group holding note2
        assert isinstance(outcomes[i], IngestError) and "out of memory" in str(outcomes[i])
    assert sorted(d.filename for d in s.repo.list_documents(a.id)) == [
        "note0.txt",
        "note1.txt",
        "note4.txt",
    ]
    assert all(d.status == "ready" for d in s.repo.list_documents(a.id))
    assert len(s.indexes.get(a.id)) == 3
    stored = [p for p in s.settings.files_dir.rglob("*") if p.is_file()]
    assert len(stored) == 3, "the failed files' copies are removed"
    s.close()


def test_stopping_an_upload_midway_leaves_no_half_added_file(tmp_path, monkeypatch):
    """The caller stops iterating (the app closing) while a group fills or is being stored:
    its files not yet stored are removed, the stored ones stay."""
    from gptbuilder import adding

    monkeypatch.setattr(adding, "GROUP_PASSAGES", 2)
    s = Services.build(
        make_settings(tmp_path / "data"), HashingEmbedder(), ExtractiveFakeLLM, NumpyIndex
    )
    a = s.repo.create_assistant(make_draft("A"))
    note0, note1, note2 = _notes(tmp_path, 3)
    bad = write(tmp_path, "empty.txt", "  ")
    outcomes = s.library.add_files(a.id, [note0, (bad, "empty.txt"), note1])
    assert next(outcomes)[0] == 1  # the empty file's error; note0 waits for its group
    outcomes.close()
    assert s.repo.list_documents(a.id) == []
    outcomes = s.library.add_files(a.id, [note0, note1, note2])
    position, first = next(outcomes)  # note0 stored; note1, embedded with it, not yet
    assert position == 0 and first.document.status == "ready"
    outcomes.close()
    assert [d.filename for d in s.repo.list_documents(a.id)] == ["note0.txt"]
    assert len(s.indexes.get(a.id)) == 1
    assert len([p for p in s.settings.files_dir.rglob("*") if p.is_file()]) == 1
    s.close()
