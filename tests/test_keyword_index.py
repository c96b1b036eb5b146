"""BM25 keyword search: words, stems, persistence, and staying in step with the database."""

from pathlib import Path

import numpy as np

from gptbuilder.personas.definition import make_draft
from gptbuilder.search.keyword_index import KeywordIndex, KeywordIndexStore

TEXTS = {
    11: "Replace the filter cartridge XK-4471 every six months.",
    12: "Otters hold hands while sleeping so they do not drift apart.",
    13: "The pump model XK-4417 is quieter than the older models.",
    14: "Sea otters use rocks as tools to open shellfish.",
    15: "",
}


def index() -> KeywordIndex:
    return KeywordIndex(np.array(list(TEXTS)), list(TEXTS.values()))


def test_finds_exact_codes_and_stemmed_words():
    idx = index()
    assert idx.search("XK-4471", 3)[0][0] == 11
    assert [cid for cid, _ in idx.search("otter tool", 2)] == [14, 12]
    assert [cid for cid, _ in idx.search("sleep", 5)] == [12], "sleeping ~ sleep"


def test_only_chunks_sharing_a_word_are_returned():
    idx = index()
    hits = idx.search("otters", 10)
    assert {cid for cid, _ in hits} == {12, 14} and all(s > 0 for _, s in hits)
    assert idx.search("the and of", 10) == [], "stopwords alone match nothing"
    assert idx.search("zeppelin", 10) == []
    assert idx.search("", 10) == []
    assert len(idx.search("otters", 1)) == 1


def test_scores_for_named_chunks():
    idx = index()
    best = dict(idx.search("otters rocks", 5))
    assert idx.scores_for("otters rocks", [14, 11, 999]) == {14: best[14], 11: 0.0, 999: 0.0}


def test_empty_and_wordless_collections():
    assert KeywordIndex(np.zeros(0, dtype=np.int64), []).search("otters", 5) == []
    wordless = KeywordIndex(np.array([1, 2]), ["", "a ! ?"])
    assert wordless.search("otters", 5) == [] and wordless.ids() == {1, 2}


def test_save_and_load(tmp_path: Path):
    idx = index()
    idx.save(tmp_path / "a.bm25")
    again = KeywordIndex.load(tmp_path / "a.bm25")
    assert again.ids() == set(TEXTS)
    assert again.search("XK-4471 filter", 5) == idx.search("XK-4471 filter", 5)
    empty = KeywordIndex(np.zeros(0, dtype=np.int64), [])
    empty.save(tmp_path / "a.bm25")  # replaces the old one
    assert KeywordIndex.load(tmp_path / "a.bm25").search("filter", 5) == []


def _add(s, tmp_path: Path, assistant_id: int, name: str, text: str) -> int:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return s.library.add_file(assistant_id, p, name).document.id


def test_store_follows_documents_added_and_removed(fake_services, tmp_path):
    s = fake_services
    a = s.repo.create_assistant(make_draft("A"))
    pump = _add(s, tmp_path, a.id, "pump.txt", "The pump model XK-4417 is quiet. " * 3)
    assert s.keywords.search(a.id, "XK-4417", 5)
    _add(s, tmp_path, a.id, "otters.txt", "Otters use rocks as tools. " * 3)
    assert s.keywords.search(a.id, "otters", 5)
    s.library.remove_document(pump)
    assert s.keywords.search(a.id, "XK-4417", 5) == [], "a removed chunk is never returned"
    expected = s.repo.passages.chunk_ids(s.repo.ready_document_ids(a.id))
    assert s.keywords.get(a.id).ids() == set(expected.tolist())


def test_store_rebuilds_a_stale_or_damaged_file(tmp_path, settings):
    from gptbuilder.backends.embedder import HashingEmbedder
    from gptbuilder.backends.llm import ExtractiveFakeLLM
    from gptbuilder.backends.vector_index import FaissIndex
    from gptbuilder.services import Services

    s = Services.build(settings, HashingEmbedder(), ExtractiveFakeLLM, FaissIndex)
    a = s.repo.create_assistant(make_draft("A"))
    _add(s, tmp_path, a.id, "otters.txt", "Otters use rocks as tools. " * 3)
    folder = settings.index_dir / f"assistant-{a.id}.bm25"
    assert folder.is_dir(), "built when the document was added, saved beside the FAISS file"
    # A file from another state of the database: ids disagree, so it is rebuilt.
    KeywordIndex(np.array([123456]), ["zeppelins"]).save(folder)
    store = KeywordIndexStore(s.repo, settings.index_dir)
    assert store.search(a.id, "zeppelins", 5) == []
    assert store.search(a.id, "otters", 5)
    (folder / "chunk_ids.npy").write_bytes(b"garbage")
    store = KeywordIndexStore(s.repo, settings.index_dir)
    assert store.search(a.id, "otters", 5)
    s.library.delete_assistant(a.id)
    assert not folder.exists()
    s.close()
