"""Weighted reciprocal-rank fusion."""
from __future__ import annotations

import pytest

from index.fusion import reciprocal_rank_fusion


def test_rrf_sums_weighted_reciprocal_ranks_and_keeps_leg_details():
    fused = reciprocal_rank_fusion(
        {"bm25": [(1, 9.0), (2, 5.0)], "dense": [(2, 0.9), (3, 0.8)]}, {"bm25": 1.0, "dense": 2.0}, k=60
    )
    scores = {row: score for row, score, _ in fused}
    assert scores[2] == pytest.approx(1 / 62 + 2 / 61)
    assert scores[1] == pytest.approx(1 / 61)
    assert scores[3] == pytest.approx(2 / 62)
    assert [row for row, _, _ in fused] == [2, 3, 1]
    assert fused[0][2] == {"bm25": (2, 5.0), "dense": (1, 0.9)}


def test_missing_weight_counts_as_one_and_zero_weight_rows_drop():
    fused = reciprocal_rank_fusion({"a": [(1, 1.0)], "b": [(2, 1.0)]}, {"b": 0.0})
    assert [(row, legs) for row, _, legs in fused] == [(1, {"a": (1, 1.0)})]


def test_ties_break_by_best_rank_then_row():
    fused = reciprocal_rank_fusion({"a": [(5, 1.0), (9, 0.5)], "b": [(9, 1.0), (5, 0.5)], "c": [(3, 1.0)]}, {"c": 2.0})
    # rows 5 and 9 tie exactly (1/61 + 1/62); 3 scores 2/61 alone
    assert [row for row, _, _ in fused] == [3, 5, 9]
    again = reciprocal_rank_fusion({"b": [(9, 1.0), (5, 0.5)], "a": [(5, 1.0), (9, 0.5)], "c": [(3, 1.0)]}, {"c": 2.0})
    assert [row for row, _, _ in again] == [3, 5, 9]


def test_duplicate_rows_in_one_leg_keep_their_best_rank():
    fused = reciprocal_rank_fusion({"a": [(1, 3.0), (1, 2.0), (2, 1.0)]}, {})
    assert fused[0] == (1, pytest.approx(1 / 61), {"a": (1, 3.0)})
    assert fused[1][2] == {"a": (3, 1.0)}


def test_empty_and_invalid_inputs():
    assert reciprocal_rank_fusion({}, {}) == []
    assert reciprocal_rank_fusion({"a": []}, {"a": 1.0}) == []
    with pytest.raises(ValueError):
        reciprocal_rank_fusion({"a": [(1, 1.0)]}, {"a": -1.0})
    with pytest.raises(ValueError):
        reciprocal_rank_fusion({"a": [(1, 1.0)]}, {}, k=-1)
