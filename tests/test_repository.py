"""The database layer on a real SQLite file."""

import numpy as np
import pytest

from gptbuilder.db import Repository
from gptbuilder.errors import InvalidInput, NotFound
from gptbuilder.types import AssistantDraft, ChatMessage, ChunkDraft, Chunking, Page


@pytest.fixture
def repo(tmp_path):
    r = Repository(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield r
    r.close()


def test_assistant_crud(repo):
    a = repo.create_assistant(AssistantDraft("Helper", "desc", "Be kind.", ("Hi?", "Why?"), 0.5))
    assert repo.get_assistant(a.id).starters == ("Hi?", "Why?")
    b = repo.update_assistant(a.id, AssistantDraft("Helper 2", "", "", (), 0.1))
    assert (b.name, b.starters, b.temperature) == ("Helper 2", (), 0.1)
    assert [x.name for x in repo.list_assistants()] == ["Helper 2"]
    repo.delete_assistant(a.id)
    with pytest.raises(NotFound):
        repo.get_assistant(a.id)


def test_duplicate_names_are_refused_with_a_message(repo):
    repo.create_assistant(AssistantDraft("Same"))
    with pytest.raises(InvalidInput, match="already exists"):
        repo.create_assistant(AssistantDraft("Same"))


KEY = Chunking(800, 120, "m")


def _store(repo, assistant_id, sha="a" * 64, key=KEY):
    repo.passages.ensure_blob(sha, 10, "text/plain")
    chunks = [ChunkDraft(0, 1, 0, 5, "hello"), ChunkDraft(1, 2, 0, 5, "world")]
    vectors = np.eye(2, 4, dtype=np.float32)
    repo.passages.save_parsed(sha, key, [Page(1, "hello"), Page(2, "world")], chunks, vectors)
    doc_id = repo.add_document(assistant_id, sha, key, "notes.txt")
    return doc_id


def test_documents_chunks_vectors_and_hits(repo):
    a = repo.create_assistant(AssistantDraft("A"))
    doc_id = _store(repo, a.id)
    doc = repo.get_document(doc_id)
    assert (doc.status, doc.pages, doc.chunks) == ("processing", 2, 0)
    ids, vecs = repo.passages.chunk_vectors([doc_id])
    assert vecs.shape == (2, 4) and vecs.dtype == np.float32
    # Not ready yet: retrieval must not see it.
    assert repo.passages.hits(a.id, [(int(ids[0]), 0.9)]) == []
    repo.set_document_status(doc_id, "ready")
    assert repo.get_document(doc_id).chunks == 2
    hits = repo.passages.hits(a.id, [(int(ids[1]), 0.8), (int(ids[0]), 0.5)])
    assert [(h.text, h.page, h.filename) for h in hits] == [
        ("world", 2, "notes.txt"),
        ("hello", 1, "notes.txt"),
    ]
    assert repo.passages.page_text("a" * 64, 2) == "world"


def test_hits_are_scoped_to_the_assistant(repo):
    a = repo.create_assistant(AssistantDraft("A"))
    b = repo.create_assistant(AssistantDraft("B"))
    doc_id = _store(repo, a.id)
    repo.set_document_status(doc_id, "ready")
    ids, _ = repo.passages.chunk_vectors([doc_id])
    assert repo.passages.hits(b.id, [(int(ids[0]), 1.0)]) == []


def test_shared_blob_is_kept_until_no_document_uses_it(repo):
    a = repo.create_assistant(AssistantDraft("A"))
    b = repo.create_assistant(AssistantDraft("B"))
    d1 = _store(repo, a.id)
    d2 = repo.add_document(b.id, "a" * 64, KEY, "copy.txt")
    repo.delete_document(d1)
    assert repo.passages.delete_unused_blobs() == []
    repo.delete_document(d2)
    assert repo.passages.delete_unused_blobs() == ["a" * 64]
    assert repo.passages.chunk_vectors([d2])[0].size == 0


def test_deleting_an_assistant_cascades(repo):
    a = repo.create_assistant(AssistantDraft("A"))
    _store(repo, a.id)
    repo.add_message(a.id, ChatMessage("user", "hi"))
    repo.delete_assistant(a.id)
    assert repo.list_documents(a.id) == []
    assert repo.list_messages(a.id) == []
    assert repo.passages.delete_unused_blobs() == ["a" * 64]


def test_messages_round_trip_with_citations(repo):
    a = repo.create_assistant(AssistantDraft("A"))
    repo.add_message(a.id, ChatMessage("user", "q"))
    repo.add_message(a.id, ChatMessage("assistant", "x [1]", ({"number": 1, "page": 3},)))
    msgs = repo.list_messages(a.id)
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[1].citations[0]["page"] == 3
    repo.clear_messages(a.id)
    assert repo.list_messages(a.id) == []
