"""BM25, dense, hybrid and reranking retrievers: the shared contract plus what is particular to each."""
from __future__ import annotations

import pytest

from index.retrievers import (
    BM25Retriever,
    DenseRetriever,
    Filters,
    HybridRetriever,
    RerankingRetriever,
)
from tests.index.helpers import build_tiny_cross_encoder
from tests.index.test_retriever_contract import RetrieverContract


def _bm25(parts):
    return BM25Retriever(parts["lexical"], parts["tokenize"], parts["chunks"], parts["documents"])


def _dense(parts):
    return DenseRetriever(parts["dense"], parts["encoder"], parts["chunks"], parts["documents"])


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory):
    """A tiny random cross-encoder, built once for this module."""
    return build_tiny_cross_encoder(tmp_path_factory.mktemp("models") / "tiny-cross-encoder")


class TestBM25Retriever(RetrieverContract):
    @pytest.fixture()
    def retriever(self, parts):
        return _bm25(parts)

    def test_policy_term_question_ranks_its_passage_first(self, retriever):
        hit = retriever.search("亩均税收的准入标准是多少？", top_k=3)[0]
        assert "亩均税收" in hit.chunk.text and set(hit.legs) == {"bm25"}

    def test_question_of_only_unknown_words_finds_nothing(self, retriever):
        assert retriever.search("量子计算机", top_k=5) == []


class TestDenseRetriever(RetrieverContract):
    @pytest.fixture()
    def retriever(self, parts):
        return _dense(parts)

    def test_scores_are_cosine_similarities(self, retriever):
        hits = retriever.search("高标准农田建设", top_k=5)
        assert all(-1.0001 <= h.score <= 1.0001 for h in hits) and set(hits[0].legs) == {"dense"}


class TestHybridRetriever(RetrieverContract):
    @pytest.fixture()
    def retriever(self, parts):
        return HybridRetriever(_bm25(parts), _dense(parts), weights={"bm25": 1.0, "dense": 1.0}, k=60)

    def test_hits_record_both_legs(self, retriever):
        hit = retriever.search("两定五考考核评价体系", top_k=1)[0]
        assert "两定五考" in hit.chunk.text
        assert set(hit.legs) == {"bm25", "dense"}
        assert hit.score == pytest.approx(sum(1 / (60 + rank) for rank, _ in hit.legs.values()))

    def test_zero_weight_leg_is_not_consulted(self, parts):
        class Exploding:
            def embed_queries(self, texts):
                raise AssertionError("dense leg weighted 0 must not embed the query")

        dense = DenseRetriever(parts["dense"], Exploding(), parts["chunks"], parts["documents"])
        hybrid = HybridRetriever(_bm25(parts), dense, weights={"dense": 0.0})
        hits = hybrid.search("招商引资", top_k=3)
        assert hits and all(set(h.legs) == {"bm25"} for h in hits)


class TestRerankingRetriever(RetrieverContract):
    finds_within = 5  # a random cross-encoder reorders freely, but only among the inner retriever's candidates

    @pytest.fixture()
    def retriever(self, parts, cross_encoder_dir):
        inner = HybridRetriever(_bm25(parts), _dense(parts))
        return RerankingRetriever(inner, cross_encoder_dir, candidates=5)

    def test_rescored_hits_come_from_the_inner_candidates(self, parts, retriever):
        inner = retriever.inner.search("营商环境", top_k=5)
        hits = retriever.search("营商环境", top_k=3)
        assert {h.chunk.id for h in hits} <= {h.chunk.id for h in inner}
        assert all("rerank" in h.legs for h in hits)

    def test_model_loads_lazily(self, parts, cross_encoder_dir):
        reranker = RerankingRetriever(_bm25(parts), cross_encoder_dir)
        assert reranker._model is None
        reranker.search("", top_k=3)
        assert reranker._model is None

    def test_missing_model_folder_is_a_clear_error(self, parts, tmp_path):
        with pytest.raises(ValueError, match="cross-encoder folder not found"):
            RerankingRetriever(_bm25(parts), tmp_path / "nope")


def test_filters_treat_empty_collections_as_no_restriction():
    assert not Filters(sources=set(), kinds=[], speakers=None, date_from="", date_to=" ").active
    assert Filters(sources="a.txt").sources == frozenset({"a.txt"})


def test_filters_overfetch_until_enough_rows_pass(parts):
    # the filtered document ranks low for this query; fetching deeper must still fill top_k
    retriever = _dense(parts)
    wanted = "zuofeng.txt"
    hits = retriever.search("粮食播种面积和高标准农田", top_k=2, filters=Filters(sources={wanted}))
    assert len(hits) == 2 and {h.document.source for h in hits} == {wanted}


def test_filtered_search_fetches_deeper_until_top_k_pass():
    from index.retrievers import ChunkRetriever
    from ingest.records import Chunk, Document

    docs = {i: Document(id=i, source=f"{i}.txt", path=f"/x/{i}.txt", text="文" * 300, content_hash="h") for i in "ab"}
    chunks = [Chunk(id=f"{'a' if r < 250 else 'b'}:{r}", doc_id="a" if r < 250 else "b", text="文", start=0, end=1)
              for r in range(300)]
    asked = []

    class InOrder(ChunkRetriever):
        def rank(self, prepared, k):
            asked.append(k)
            return [(r, 1.0 - r / 1000, {"x": (r + 1, 0.0)}) for r in range(k)]

    hits = InOrder(chunks, docs).search("问题", top_k=3, filters=Filters(sources={"b.txt"}))
    assert [h.chunk.id for h in hits] == ["b:250", "b:251", "b:252"]
    assert asked == [50, 200, 300]
