"""FAISS dense index: flat below the threshold, HNSW above, memory-mapped reload."""
from __future__ import annotations

import numpy as np
import pytest

from index.dense import DenseIndex
from index.encoders import l2_normalize


@pytest.fixture(scope="module")
def vectors():
    return l2_normalize(np.random.default_rng(0).normal(size=(400, 32)))


def test_flat_below_threshold_finds_exact_neighbours(vectors):
    index = DenseIndex().build(vectors, hnsw_threshold=400)
    assert index.kind == "flat" and len(index) == 400 and index.dim == 32
    results = index.search(vectors[7], top_k=5)
    assert results[0][0] == 7 and results[0][1] == pytest.approx(1.0, abs=1e-5)
    expected = np.argsort(-(vectors @ vectors[7]))[:5]
    assert [r for r, _ in results] == expected.tolist()


def test_hnsw_above_threshold(vectors):
    index = DenseIndex().build(vectors, hnsw_threshold=100)
    assert index.kind == "hnsw"
    assert index.search(vectors[42], top_k=3)[0][0] == 42
    assert len(index.search(vectors[0], top_k=300)) == 300  # deeper than efSearch: the beam widens per call


def test_save_and_load_memory_maps(vectors, tmp_path):
    for threshold, kind in ((1000, "flat"), (10, "hnsw")):
        built = DenseIndex().build(vectors, hnsw_threshold=threshold)
        built.save(tmp_path / kind)
        assert (tmp_path / kind / "vectors.npy").is_file() and (tmp_path / kind / "faiss.index").is_file()
        loaded = DenseIndex.load(tmp_path / kind)
        assert loaded.kind == kind and isinstance(loaded.vectors, np.memmap)
        assert loaded.search(vectors[3], 4) == built.search(vectors[3], 4)


def test_small_and_empty_collections(tmp_path):
    one = DenseIndex().build(l2_normalize(np.ones((1, 8))))
    assert one.search(l2_normalize(np.ones((1, 8)))[0], top_k=10) == [(0, pytest.approx(1.0, abs=1e-5))]
    empty = DenseIndex().build(np.zeros((0, 8), dtype=np.float32))
    assert empty.search(np.ones(8), top_k=3) == []
    empty.save(tmp_path / "e")
    assert DenseIndex.load(tmp_path / "e").search(np.ones(8), top_k=3) == []


def test_rejects_one_dimensional_input():
    with pytest.raises(ValueError, match="2-D"):
        DenseIndex().build(np.ones(8, dtype=np.float32))
