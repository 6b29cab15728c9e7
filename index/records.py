"""Records produced by retrieval."""
from __future__ import annotations

from dataclasses import dataclass, field

from ingest.records import Chunk, Document


@dataclass(slots=True)
class Hit:
    """A retrieved chunk with its fused score and each leg's rank/score (1-based ranks)."""

    chunk: Chunk
    document: Document
    score: float
    legs: dict[str, tuple[int, float]] = field(default_factory=dict)  # leg name -> (rank, raw score)
