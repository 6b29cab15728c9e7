"""Retrievers: BM25, dense, their fusion, and cross-encoder reranking, all behind one `search` contract."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.dense import DenseIndex
from index.encoders import Encoder
from index.fusion import reciprocal_rank_fusion
from index.lexical import LexicalIndex
from index.records import Hit
from ingest.normalize import normalize_text
from ingest.records import Chunk, Document

Ranked = list[tuple[int, float, dict[str, tuple[int, float]]]]  # (row, score, {leg: (rank, raw score)})


@dataclass(frozen=True)
class Filters:
    """Restrictions on which documents may answer; an empty or None field does not restrict.

    Dates are ISO strings and may be partial ("2021", "2021-06"); a document without a date is excluded
    as soon as a date bound is set.
    """

    sources: Collection[str] | None = None  # file names, e.g. "003_0bb6f145e860c0a7.txt"
    kinds: Collection[str] | None = None
    speakers: Collection[str] | None = None
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self):
        for name in ("sources", "kinds", "speakers"):
            value = getattr(self, name)
            if isinstance(value, str):  # a lone string would otherwise be read as a set of characters
                value = [value]
            object.__setattr__(self, name, frozenset(value) if value else None)
        for name in ("date_from", "date_to"):
            object.__setattr__(self, name, (getattr(self, name) or "").strip() or None)

    @property
    def active(self) -> bool:
        """True when at least one restriction is set."""
        return any(v is not None for v in (self.sources, self.kinds, self.speakers, self.date_from, self.date_to))

    def matches(self, doc: Document) -> bool:
        """Whether `doc` passes every restriction."""
        if self.sources is not None and doc.source not in self.sources and Path(doc.path).name not in self.sources:
            return False
        if self.kinds is not None and doc.kind not in self.kinds:
            return False
        if self.speakers is not None and doc.speaker not in self.speakers:
            return False
        if self.date_from or self.date_to:
            if not doc.date:
                return False
            # comparing equal-length prefixes makes partial bounds work: "2021-06-20"[:4] <= "2021"
            if self.date_from and doc.date[: len(self.date_from)] < self.date_from:
                return False
            if self.date_to and doc.date[: len(self.date_to)] > self.date_to:
                return False
        return True


class Retriever(ABC):
    """Finds the chunks that best answer a question."""

    @abstractmethod
    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[Hit]:
        """At most `top_k` hits, best first, scores non-increasing; [] for an empty query."""


class ChunkRetriever(Retriever):
    """Shared plumbing over chunk rows: query normalisation, filtering by over-fetching, `Hit` building."""

    def __init__(self, chunks: Sequence[Chunk], documents: Mapping[str, Document]):
        self.chunks = chunks
        self.documents = documents

    def prepare(self, query: str) -> Any:
        """Turn a normalised query into what `rank` needs (tokens, a vector…); called once per search."""
        return query

    @abstractmethod
    def rank(self, prepared: Any, k: int) -> Ranked:
        """The best `k` rows for a prepared query, best first."""

    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[Hit]:
        """At most `top_k` hits, best first; filters applied by fetching deeper until enough rows pass."""
        text = normalize_text(query or "").strip()
        if not text or top_k <= 0 or not self.chunks:
            return []
        prepared = self.prepare(text)
        if filters is None or not filters.active:
            return self._hits(self.rank(prepared, top_k)[:top_k])
        n = len(self.chunks)
        k = max(4 * top_k, 50)
        while True:
            ranked = self.rank(prepared, min(k, n))
            kept = [r for r in ranked if filters.matches(self._document(r[0]))]
            # stop when enough passed, when the leg has nothing more to give, or when everything was fetched
            if len(kept) >= top_k or len(ranked) < min(k, n) or k >= n:
                return self._hits(kept[:top_k])
            k *= 4

    def _document(self, row: int) -> Document:
        return self.documents[self.chunks[row].doc_id]

    def _hits(self, ranked: Ranked) -> list[Hit]:
        return [Hit(self.chunks[row], self._document(row), score, legs) for row, score, legs in ranked]


class BM25Retriever(ChunkRetriever):
    """Lexical leg: BM25 over jieba tokens."""

    leg = "bm25"

    def __init__(
        self,
        lexical: LexicalIndex,
        tokenize: Callable[[str], list[str]],
        chunks: Sequence[Chunk],
        documents: Mapping[str, Document],
    ):
        super().__init__(chunks, documents)
        self.lexical = lexical
        self.tokenize = tokenize

    def prepare(self, query: str) -> list[str]:
        """Query tokens."""
        return self.tokenize(query)

    def rank(self, prepared: list[str], k: int) -> Ranked:
        """BM25 ranking of rows with a positive score."""
        pairs = self.lexical.search(prepared, k)
        return [(row, score, {self.leg: (i, score)}) for i, (row, score) in enumerate(pairs, start=1)]


class DenseRetriever(ChunkRetriever):
    """Dense leg: cosine similarity of encoder vectors."""

    leg = "dense"

    def __init__(
        self,
        dense: DenseIndex,
        encoder: Encoder,
        chunks: Sequence[Chunk],
        documents: Mapping[str, Document],
    ):
        super().__init__(chunks, documents)
        self.dense = dense
        self.encoder = encoder

    def prepare(self, query: str):
        """Query vector."""
        return self.encoder.embed_queries([query])[0]

    def rank(self, prepared, k: int) -> Ranked:
        """Nearest rows by inner product."""
        pairs = self.dense.search(prepared, k)
        return [(row, score, {self.leg: (i, score)}) for i, (row, score) in enumerate(pairs, start=1)]


class HybridRetriever(ChunkRetriever):
    """BM25 and dense legs fused with weighted reciprocal-rank fusion."""

    def __init__(
        self,
        bm25: BM25Retriever,
        dense: DenseRetriever,
        weights: Mapping[str, float] | None = None,
        k: int = 60,
        depth: int = 50,
    ):
        super().__init__(bm25.chunks, bm25.documents)
        self.legs = {bm25.leg: bm25, dense.leg: dense}
        self.weights = {bm25.leg: 1.0, dense.leg: 1.0, **(weights or {})}
        self.k = k
        self.depth = depth  # rows each leg contributes to the fusion

    def prepare(self, query: str) -> dict[str, Any]:
        """Each leg's prepared query; legs weighted 0 are skipped (no embedding for a BM25-only setup)."""
        return {name: leg.prepare(query) for name, leg in self.legs.items() if self.weights.get(name, 0) > 0}

    def rank(self, prepared: dict[str, Any], k: int) -> Ranked:
        """Fused ranking of both legs' top max(k, depth) rows."""
        depth = max(k, self.depth)
        rankings = {
            name: [(row, score) for row, score, _ in self.legs[name].rank(query, depth)]
            for name, query in prepared.items()
        }
        return reciprocal_rank_fusion(rankings, self.weights, self.k)[:k]


class RerankingRetriever(Retriever):
    """Rescores an inner retriever's candidates with a local cross-encoder (sentence-transformers)."""

    leg = "rerank"

    def __init__(self, inner: Retriever, cross_encoder_path: str | Path, candidates: int = 20, device: str = "cpu"):
        self.inner = inner
        self.path = Path(cross_encoder_path).expanduser()
        if not self.path.is_dir():
            raise ValueError(f"cross-encoder folder not found: {self.path}")
        self.candidates = candidates
        self.device = device
        self._model = None

    @property
    def model(self):
        """The CrossEncoder, loaded on first use from local files only."""
        if self._model is None:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(str(self.path), device=self.device, local_files_only=True)
        return self._model

    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[Hit]:
        """The inner retriever's best `candidates` hits reordered by cross-encoder score, cut to `top_k`."""
        text = normalize_text(query or "").strip()
        if not text or top_k <= 0:
            return []
        hits = self.inner.search(text, max(self.candidates, top_k), filters)
        if not hits:
            return []
        scores = self.model.predict([(text, hit.chunk.text) for hit in hits], show_progress_bar=False)
        order = sorted(range(len(hits)), key=lambda i: (-float(scores[i]), i))  # ties keep the inner order
        out = []
        for rank, i in enumerate(order[:top_k], start=1):
            hit = hits[i]
            score = float(scores[i])
            out.append(Hit(hit.chunk, hit.document, score, {**hit.legs, self.leg: (rank, score)}))
        return out
