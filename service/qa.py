"""Wiring from settings to a ready question-answering pipeline, and the one function that answers."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from index.crosslingual import translate_terms
from index.encoders import Encoder, load_encoder
from index.records import Hit
from index.retrievers import Filters, Retriever
from index.store import PolicyIndex

from .answer.base import Answer, Generator, Turn
from .answer.extractive import ExtractiveGenerator
from .settings import Settings


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A loaded index with the retriever and generator built for it."""

    index: PolicyIndex
    retriever: Retriever
    generator: Generator
    top_k: int


def build_encoder(settings: Settings) -> Encoder:
    """The dense encoder named in settings (weights load lazily on first use)."""
    return load_encoder(settings.encoder, settings.encoder_query_prefix, settings.encoder_passage_prefix)


def section_continuation(index: PolicyIndex) -> Callable[[Hit], list[Hit]]:
    """A function giving the chunks that follow a hit's chunk inside the same section, as hits."""
    position = {chunk.id: i for i, chunk in enumerate(index.chunks)}

    def following(hit: Hit) -> list[Hit]:
        out = []
        section = hit.chunk.section
        for chunk in index.chunks[position.get(hit.chunk.id, len(index.chunks)) + 1:]:
            if chunk.doc_id != hit.chunk.doc_id or chunk.section[: len(section)] != section:
                break
            out.append(Hit(chunk, hit.document, 0.0, {"context": (0, 0.0)}))
        return out

    return following


def build_generator(settings: Settings, index: PolicyIndex) -> Generator:
    """The answer generator named in settings."""
    return ExtractiveGenerator(
        index.tokenize,
        index.idf,
        index.encoder,
        max_sentences=settings.max_answer_sentences,
        min_answer_score=settings.min_answer_score,
        dense_center=settings.dense_center,
        dense_weight=settings.dense_weight,
        min_dense_similarity=settings.min_dense_similarity,
        continuation=section_continuation(index),
        translate=lambda question: translate_terms(question, vocabulary=lambda t: index.lexical.doc_freq(t) > 0),
    )


def load_pipeline(settings: Settings, *, leg: str | None = None, encoder: Encoder | None = None) -> Pipeline:
    """Load the index in `settings.index_dir` and build retriever and generator for it (reusing `encoder` if given)."""
    index = PolicyIndex.load(settings.index_dir, encoder or build_encoder(settings))
    retriever = index.retriever(
        leg=leg or settings.retrieval_leg,
        weights={"bm25": settings.weight_bm25, "dense": settings.weight_dense},
        fusion_k=settings.fusion_k,
        reranker=settings.reranker,
        candidates=settings.rerank_candidates,
    )
    return Pipeline(index, retriever, build_generator(settings, index), settings.top_k)


def answer_question(
    pipeline: Pipeline,
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | None = None,
    history: Sequence[Turn] = (),
) -> Answer:
    """Retrieve passages for `question` and compose the cited answer, with timings in milliseconds."""
    t0 = time.perf_counter()
    hits = pipeline.retriever.search(question, top_k=max(top_k or pipeline.top_k, 5), filters=filters)
    t1 = time.perf_counter()
    answer = pipeline.generator.answer(question, hits, history)
    t2 = time.perf_counter()
    answer.timings_ms = {
        "retrieve": round((t1 - t0) * 1000, 2),
        "answer": round((t2 - t1) * 1000, 2),
        "total": round((t2 - t0) * 1000, 2),
    }
    return answer


def stream_answer(
    pipeline: Pipeline,
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | None = None,
    history: Sequence[Turn] = (),
) -> Iterator[list[Hit] | str | Answer]:
    """Like `answer_question`, streamed: yields the retrieved hits first, then pieces of the answer text (in
    order; joined they are the answer), then the complete `Answer` with timings."""
    t0 = time.perf_counter()
    hits = pipeline.retriever.search(question, top_k=max(top_k or pipeline.top_k, 5), filters=filters)
    t1 = time.perf_counter()
    yield list(hits)
    for piece in pipeline.generator.stream(question, hits, history):
        if isinstance(piece, Answer):
            t2 = time.perf_counter()
            piece.timings_ms = {
                "retrieve": round((t1 - t0) * 1000, 2),
                "answer": round((t2 - t1) * 1000, 2),
                "total": round((t2 - t0) * 1000, 2),
            }
        yield piece
