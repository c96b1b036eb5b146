"""The same contract for real adapters and their fakes."""

import numpy as np
import pytest

from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.vector_index import FaissIndex, NumpyIndex


@pytest.mark.parametrize("make", [FaissIndex, NumpyIndex], ids=["faiss", "numpy"])
def test_vector_index_contract(make, tmp_path):
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(50, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(100, 150, dtype=np.int64)
    index = make(16)
    assert index.search(vecs[0], 3) == []
    index.add(ids, vecs)
    assert len(index) == 50 and index.ids() == set(range(100, 150))
    top = index.search(vecs[7], 3)
    assert top[0][0] == 107 and top[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    index.remove(np.array([107]))
    assert 107 not in {i for i, _ in index.search(vecs[7], 50)}
    assert len(index.search(vecs[0], 500)) == 49


@pytest.mark.parametrize("kind", [FaissIndex, NumpyIndex], ids=["faiss", "numpy"])
def test_vector_index_survives_save_and_load(kind, tmp_path):
    index = kind(8)
    index.add(np.array([5, 9]), np.eye(2, 8, dtype=np.float32))
    path = tmp_path / "i.index"
    index.save(path)
    again = kind.load(path)
    assert again.ids() == {5, 9}
    assert again.search(np.eye(1, 8, dtype=np.float32)[0], 1)[0][0] == 5


@pytest.mark.slow
@pytest.mark.parametrize("which", ["real", "fake"])
def test_embedder_contract(which, real_embedder):
    emb = real_embedder if which == "real" else HashingEmbedder()
    texts = ["The cat sat on the mat.", "A cat was sitting on a mat.", "Stock markets fell."]
    vecs = emb.embed(texts)
    assert vecs.shape == (3, emb.dim) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2], "related texts are closer than unrelated ones"
    assert np.allclose(emb.embed(texts), vecs, atol=1e-5), "deterministic"
    # The int8 model quantises each batch's activations together, so a text alone gets
    # nearly, not exactly, the vector it gets among others.
    assert float(emb.embed(texts[:1])[0] @ vecs[0]) > 0.99
    assert emb.embed([]).shape == (0, emb.dim)
