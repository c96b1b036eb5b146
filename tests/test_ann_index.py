"""The FAISS index turns approximate (IVF) for large collections and stays accurate enough."""

import numpy as np

from gptbuilder.backends.vector_index import FaissIndex, ivf_shape


def clustered(n: int, dim: int = 48, clusters: int = 150, seed: int = 0) -> np.ndarray:
    """(n, dim) float32, L2-normalised: points around random centres, like topics of text."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    points = centres[rng.integers(0, clusters, n)] + rng.normal(scale=0.08, size=(n, dim))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


def recall_at_10(index: FaissIndex, exact: FaissIndex, queries: np.ndarray) -> float:
    found = 0
    for q in queries:
        want = {i for i, _ in exact.search(q, 10)}
        found += len(want & {i for i, _ in index.search(q, 10)})
    return found / (10 * len(queries))


def test_index_kind_follows_the_collection_size():
    vectors = clustered(3000)
    ids = np.arange(1000, 4000, dtype=np.int64)
    index = FaissIndex(48, ann_threshold=2000)
    index.add(ids[:1500], vectors[:1500])
    assert not index.approximate
    index.add(ids[1500:], vectors[1500:])
    assert index.approximate and len(index) == 3000
    assert index.ids() == set(ids.tolist()), "crossing the threshold keeps every vector"
    index.remove(ids[:2500])  # 500 left: below half the threshold
    assert not index.approximate and index.ids() == set(ids[2500:].tolist())
    assert index.search(vectors[2600], 1)[0][0] == ids[2600]


def test_ivf_recall_against_exact_search():
    n, threshold = 20_000, 5_000
    vectors = clustered(n, seed=1)
    ids = np.arange(n, dtype=np.int64) * 7 + 3  # chunk ids are not positions
    index, exact = FaissIndex(48, ann_threshold=threshold), FaissIndex(48, ann_threshold=n + 1)
    for part in np.array_split(np.arange(n), 4):  # documents arrive one by one
        index.add(ids[part], vectors[part])
        exact.add(ids[part], vectors[part])
    assert index.approximate and not exact.approximate
    nlist, nprobe = ivf_shape(n)
    assert nprobe < nlist, "the test must exercise a partial scan"
    # Questions resemble passages without being one of them.
    rng = np.random.default_rng(2)
    queries = vectors[rng.choice(n, 200, replace=False)] + rng.normal(scale=0.05, size=(200, 48))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    assert recall_at_10(index, exact, queries) >= 0.95


def test_removed_vectors_are_never_returned_by_ivf(tmp_path):
    vectors = clustered(6000, seed=3)
    ids = np.arange(6000, dtype=np.int64)
    index = FaissIndex(48, ann_threshold=4000)
    index.add(ids, vectors)
    assert index.approximate
    gone = ids[::3]
    index.remove(gone)
    assert index.approximate and len(index) == 4000
    for q in vectors[gone[:50]]:
        assert not {i for i, _ in index.search(q, 20)} & set(gone.tolist())

    path = tmp_path / "a.faiss"
    index.save(path)
    again = FaissIndex.load(path, ann_threshold=4000)
    assert again.approximate and again.ids() == index.ids()
    q = vectors[1]
    assert again.search(q, 5) == index.search(q, 5)


def test_loading_with_a_higher_threshold_goes_back_to_exact(tmp_path):
    vectors = clustered(3000, seed=4)
    index = FaissIndex(48, ann_threshold=2000)
    index.add(np.arange(3000, dtype=np.int64), vectors)
    index.save(tmp_path / "a.faiss")
    again = FaissIndex.load(tmp_path / "a.faiss", ann_threshold=50_000)
    assert not again.approximate and len(again) == 3000
