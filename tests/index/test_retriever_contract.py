"""The contract every `Retriever` keeps; each retriever's tests subclass `RetrieverContract` and provide
a `retriever` fixture over the shared test corpus (tests/data/index)."""
from __future__ import annotations

import pytest

from index.retrievers import Filters

# a traditional-character question about the “四讲四比” plan, whose text is simplified
TRADITIONAL_QUERY = "四講四比主題活動領導小組的組長是誰"
TRADITIONAL_TARGET = "sijiang.txt"


class RetrieverContract:
    """Behaviour shared by BM25, dense, hybrid and reranking retrievers."""

    finds_within = 3  # the traditional query's document must be among this many hits

    @pytest.fixture()
    def retriever(self):
        raise NotImplementedError("subclasses provide the retriever under test")

    def test_returns_at_most_top_k(self, retriever):
        for k in (1, 3, 5):
            assert len(retriever.search("招商引资项目", top_k=k)) <= k
        assert retriever.search("招商引资项目", top_k=0) == []

    def test_top_k_larger_than_collection_is_fine(self, retriever):
        hits = retriever.search("干部作风", top_k=1000)
        assert 0 < len(hits) <= 1000
        assert len({h.chunk.id for h in hits}) == len(hits)

    def test_best_first_with_non_increasing_scores(self, retriever):
        hits = retriever.search("营商环境和放管服改革", top_k=8)
        assert hits
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)

    def test_hits_carry_chunk_document_and_legs(self, retriever):
        for hit in retriever.search("粮食产量", top_k=5):
            assert hit.document.id == hit.chunk.doc_id
            assert hit.document.text[hit.chunk.start : hit.chunk.end] == hit.chunk.text
            assert hit.legs and all(rank >= 1 for rank, _ in hit.legs.values())

    @pytest.mark.parametrize("query", ["", "   ", "\n\t", "　"])
    def test_empty_query_returns_nothing(self, retriever, query):
        assert retriever.search(query, top_k=5) == []

    def test_traditional_query_finds_simplified_text(self, retriever):
        hits = retriever.search(TRADITIONAL_QUERY, top_k=self.finds_within)
        assert TRADITIONAL_TARGET in {h.document.source for h in hits}

    def test_source_filter(self, retriever):
        hits = retriever.search("招商引资和特色产业", top_k=5, filters=Filters(sources={"nongye.txt"}))
        assert hits and {h.document.source for h in hits} == {"nongye.txt"}

    def test_kind_and_speaker_filters(self, retriever):
        hits = retriever.search("干部", top_k=10, filters=Filters(kinds={"讲话"}, speakers={"张伟"}))
        assert hits
        assert all(h.document.kind == "讲话" and h.document.speaker == "张伟" for h in hits)

    def test_date_filter_excludes_undated_documents(self, retriever):
        hits = retriever.search("干部作风建设", top_k=10, filters=Filters(date_from="2017-01-01"))
        assert hits and all(h.document.date is not None for h in hits)
        assert "zuofeng.txt" not in {h.document.source for h in hits}

    def test_date_range_with_partial_bounds(self, retriever):
        hits = retriever.search("工作", top_k=10, filters=Filters(date_from="2021", date_to="2021-12"))
        assert hits and {h.document.date[:4] for h in hits} == {"2021"}

    def test_filter_matching_nothing_returns_nothing(self, retriever):
        assert retriever.search("招商引资", top_k=5, filters=Filters(sources={"missing.txt"})) == []
