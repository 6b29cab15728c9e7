"""Rank fusion of retrieval legs; pure functions over (row, score) rankings."""
from __future__ import annotations

from collections.abc import Mapping, Sequence


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[tuple[int, float]]],
    weights: Mapping[str, float] | None = None,
    k: int = 60,
) -> list[tuple[int, float, dict[str, tuple[int, float]]]]:
    """Weighted RRF: score(row) = sum over legs of weight / (k + rank); returns (row, score, {leg: (rank, raw)}).

    Each ranking is best first; ranks are 1-based. A leg missing from `weights` weighs 1. Rows seen only by
    zero-weight legs are dropped. Ties go to the row with the better best rank, then the lower row number.
    """
    if k < 0:
        raise ValueError(f"fusion constant k must be >= 0, got {k}")
    weights = weights or {}
    fused: dict[int, float] = {}
    legs: dict[int, dict[str, tuple[int, float]]] = {}
    for leg, ranking in rankings.items():
        weight = float(weights.get(leg, 1.0))
        if weight < 0:
            raise ValueError(f"weight of leg {leg!r} must be >= 0, got {weight}")
        seen: set[int] = set()
        for rank, (row, raw) in enumerate(ranking, start=1):
            if row in seen:  # a leg listing a row twice keeps its best rank
                continue
            seen.add(row)
            legs.setdefault(row, {})[leg] = (rank, float(raw))
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    out = [(row, score, legs[row]) for row, score in fused.items() if score > 0]
    out.sort(key=lambda item: (-item[1], min(rank for rank, _ in item[2].values()), item[0]))
    return out
