"""Fusing dense and keyword rankings (pure logic)."""

import pytest

from gptbuilder.search.hybrid import Fusion, convex_fusion, fuse, min_max, rrf_fusion


def test_min_max_maps_best_to_one_and_worst_to_zero():
    assert min_max([(1, 0.8), (2, 0.5), (3, 0.2)]) == pytest.approx({1: 1.0, 2: 0.5, 3: 0.0})
    assert min_max([]) == {}
    # Nothing to tell apart: each is as good as the best.
    assert min_max([(7, 3.2)]) == {7: 1.0}
    assert min_max([(1, 0.4), (2, 0.4)]) == {1: 1.0, 2: 1.0}


def test_min_max_handles_negative_cosines():
    assert min_max([(1, 0.1), (2, -0.3)]) == pytest.approx({1: 1.0, 2: 0.0})


def test_min_max_from_a_floor():
    assert min_max([(1, 0.5), (2, 0.0)], floor=-1.0) == pytest.approx({1: 1.0, 2: 2 / 3})
    assert min_max([(1, 8.0), (2, 2.0)], floor=0.0) == pytest.approx({1: 1.0, 2: 0.25})


def test_convex_scales_from_the_lowest_possible_score_by_default():
    dense = [(1, 0.6), (2, 0.2)]  # cosine: floor -1
    keyword = [(2, 10.0), (3, 5.0)]  # BM25: floor 0
    fused = dict(convex_fusion(dense, keyword, dense_weight=0.75))
    assert fused == pytest.approx(
        {1: 0.75 * 1.0, 2: 0.75 * (1.2 / 1.6) + 0.25 * 1.0, 3: 0.25 * 0.5}
    )


def test_a_clear_keyword_match_beats_a_vague_dense_lead():
    # A bare product code: cosines are all low and close, BM25 is sure.
    dense = [(1, 0.20), (2, 0.17), (3, 0.16), (4, 0.09)]
    keyword = [(4, 0.59), (1, 0.04), (2, 0.035), (3, 0.04)]
    assert convex_fusion(dense, keyword)[0][0] == 4
    assert convex_fusion(dense, keyword, theoretical=False)[0][0] == 1, "plain min-max misses it"


def test_convex_min_max_mixes_normalised_scores_and_missing_counts_zero():
    dense = [(1, 0.9), (2, 0.7), (3, 0.5)]
    keyword = [(3, 12.0), (4, 6.0), (5, 2.0)]
    fused = dict(convex_fusion(dense, keyword, dense_weight=0.75, theoretical=False))
    assert fused == pytest.approx(
        {
            1: 0.75 * 1.0,
            2: 0.75 * 0.5,
            3: 0.75 * 0.0 + 0.25 * 1.0,
            4: 0.25 * 0.4,
            5: 0.0,
        }
    )


def test_convex_orders_best_first_and_ties_by_chunk_id():
    fused = convex_fusion([(9, 0.5), (4, 0.5)], [], dense_weight=0.75)
    assert [cid for cid, _ in fused] == [4, 9]
    dense, keyword = [(1, 0.9), (2, -0.5)], [(2, 5.0), (1, 1.0)]
    assert [cid for cid, _ in convex_fusion(dense, keyword, 0.75)] == [1, 2], "dense weighs more"
    assert [cid for cid, _ in convex_fusion(dense, keyword, 0.25)] == [2, 1]


def test_a_passage_both_retrievers_like_beats_one_only_one_likes():
    dense = [(1, 0.80), (2, 0.78), (3, 0.30)]
    keyword = [(2, 9.0), (3, 1.0)]
    assert convex_fusion(dense, keyword)[0][0] == 2
    assert rrf_fusion([dense, keyword])[0][0] == 2


def test_rrf_sums_reciprocal_ranks():
    fused = dict(rrf_fusion([[(1, 0.9), (2, 0.8)], [(2, 7.0), (3, 1.0)]], k=60))
    assert fused == pytest.approx({1: 1 / 61, 2: 1 / 62 + 1 / 61, 3: 1 / 62})


def test_rrf_ignores_score_scales():
    a = rrf_fusion([[(1, 1000.0), (2, 0.001)], [(2, 5.0)]])
    b = rrf_fusion([[(1, 0.51), (2, 0.50)], [(2, 99.0)]])
    assert a == b


def test_fuse_picks_the_method():
    dense, keyword = [(1, 0.9), (2, 0.2)], [(2, 3.0)]
    assert fuse(dense, keyword, Fusion("rrf")) == rrf_fusion([dense, keyword], 60)
    assert fuse(dense, keyword, Fusion()) == convex_fusion(dense, keyword, 0.75, theoretical=True)
    assert fuse(dense, keyword, Fusion(theoretical=False)) == convex_fusion(
        dense, keyword, 0.75, theoretical=False
    )
    assert fuse([], [], Fusion()) == []
