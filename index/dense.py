"""Dense leg: FAISS inner-product search over L2-normalised passage vectors (cosine similarity)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

FAISS_FILE = "faiss.index"
VECTORS_FILE = "vectors.npy"
HNSW_M = 32
HNSW_EF_SEARCH = 256  # 174k x 384-d: recall@10 vs exact 0.76 at 64, 0.92 at 256 (1.6 ms; exact search 23 ms)
HNSW_EF_CONSTRUCTION = 80


class DenseIndex:
    """Exact `IndexFlatIP` for small collections, `IndexHNSWFlat` above a size threshold; rows are chunk positions."""

    def __init__(self, index=None, vectors: np.ndarray | None = None):
        self._index = index
        self._vectors = vectors

    @property
    def kind(self) -> str:
        """"flat" (exact) or "hnsw" (approximate)."""
        import faiss

        return "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "flat"

    @property
    def vectors(self) -> np.ndarray:
        """The stored passage vectors (n, dim), memory-mapped after `load`; reused by incremental updates."""
        return self._vectors

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return int(self._vectors.shape[0])

    def build(self, vectors: np.ndarray, hnsw_threshold: int = 50_000) -> DenseIndex:
        """Index `vectors` (n, dim): exact search when n <= hnsw_threshold, else HNSW."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (n, dim), got shape {vectors.shape}")
        n, dim = vectors.shape
        if n <= hnsw_threshold:
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        if n:
            index.add(vectors)
        self._index = index
        self._vectors = vectors
        return self

    def save(self, directory: str | Path) -> None:
        """Write the FAISS index file and `vectors.npy` into `directory`."""
        import faiss

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(directory / FAISS_FILE))
        np.save(directory / VECTORS_FILE, np.asarray(self._vectors, dtype=np.float32))

    @classmethod
    def load(cls, directory: str | Path) -> DenseIndex:
        """Load a saved index; vectors and (where FAISS supports it) the index data are memory-mapped."""
        import faiss

        directory = Path(directory)
        try:
            vectors = np.load(directory / VECTORS_FILE, mmap_mode="r")
        except ValueError:  # numpy cannot map a zero-length array (an index emptied by removals)
            vectors = np.load(directory / VECTORS_FILE)
        path = str(directory / FAISS_FILE)
        index = None
        # IO_FLAG_MMAP_IFC maps flat codes in place; fall back to plain reads where a build lacks it
        for flag in (getattr(faiss, "IO_FLAG_MMAP_IFC", None), getattr(faiss, "IO_FLAG_MMAP", None), 0):
            if flag is None:
                continue
            try:
                index = faiss.read_index(path, flag)
                break
            except RuntimeError:
                continue
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = max(index.hnsw.efSearch, HNSW_EF_SEARCH)
        return cls(index, vectors)

    def search(self, query_vec: np.ndarray, top_k: int) -> list[tuple[int, float]]:
        """Best `top_k` (row, cosine similarity) pairs, best first."""
        n = self._index.ntotal if self._index is not None else 0
        if n == 0 or top_k <= 0:
            return []
        query = np.ascontiguousarray(np.asarray(query_vec, dtype=np.float32).reshape(1, -1))
        k = min(top_k, n)
        if self.kind == "hnsw" and k > self._index.hnsw.efSearch:
            import faiss

            # HNSW returns at most efSearch results: widen the beam for this call only
            params = faiss.SearchParametersHNSW(efSearch=k)
            scores, rows = self._index.search(query, k, params=params)
        else:
            scores, rows = self._index.search(query, k)
        pairs = [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
        pairs.sort(key=lambda p: (-p[1], p[0]))  # deterministic order on equal scores
        return pairs

