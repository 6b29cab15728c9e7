"""Wiring from settings to a ready question-answering pipeline, and the one function that answers."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from index.encoders import Encoder, load_encoder
from index.records import Hit
from index.retrievers import Filters, Retriever
from index.store import PolicyIndex

from .answer.base import Answer, Generator, GeneratorConfigError, Turn
from .answer.extractive import ExtractiveGenerator
from .answer.llm import ChatBackend, LLMGenerator
from .answer.prompts import load_prompts
from .answer.rewrite import llm_rewrite, rule_rewrite
from .settings import Settings


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A loaded index with the retriever and generator built for it."""

    index: PolicyIndex
    retriever: Retriever
    generator: Generator
    top_k: int
    rewrite: Callable[[str, Sequence[Turn]], str] = rule_rewrite  # follow-up → standalone question


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


def build_extractive(settings: Settings, index: PolicyIndex) -> ExtractiveGenerator:
    """The extractive answerer (the default generator, and the refusal judge and fallback of LLM generators)."""
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
        translate=index.translate,
    )


def build_backend(settings: Settings) -> ChatBackend:
    """The chat backend of an LLM generator; raises GeneratorConfigError when its settings are incomplete."""
    if settings.generator == "openai":
        if not settings.llm_base_url or not settings.llm_model:
            raise GeneratorConfigError("generator=openai needs POLICYQA_LLM_BASE_URL and POLICYQA_LLM_MODEL")
        from .answer.openai_backend import OpenAIBackend

        return OpenAIBackend(settings.llm_base_url, settings.llm_model, api_key=os.environ.get(settings.llm_api_key_env),
                             timeout=settings.llm_timeout, max_retries=settings.llm_max_retries,
                             max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                             top_p=settings.llm_top_p)
    if settings.generator == "transformers":
        if settings.local_model_dir is None:
            raise GeneratorConfigError("generator=transformers needs POLICYQA_LOCAL_MODEL_DIR")
        from .answer.transformers_backend import TransformersBackend

        return TransformersBackend(settings.local_model_dir, device=settings.local_device, dtype=settings.local_dtype,
                                   max_new_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                                   top_p=settings.llm_top_p, repetition_penalty=settings.local_repetition_penalty,
                                   timeout=settings.llm_timeout)
    raise GeneratorConfigError(f"generator={settings.generator!r} has no chat backend")


def build_generator(settings: Settings, index: PolicyIndex) -> tuple[Generator, Callable[[str, Sequence[Turn]], str]]:
    """The answer generator named in settings and the follow-up rewriter that goes with it; prompt templates and
    backend settings are validated here, so a bad template fails at start-up, not at the first question."""
    extractive = build_extractive(settings, index)
    if settings.generator == "extractive":
        return extractive, rule_rewrite
    prompts = load_prompts(settings.prompts_dir)
    backend = build_backend(settings)
    generator = LLMGenerator(backend, prompts, extractive, passages=settings.llm_passages,
                             min_support=settings.grounding_min_support, unsupported=settings.grounding_unsupported)
    rewrite = partial(llm_rewrite, backend=backend, prompts=prompts) if settings.llm_rewrite else rule_rewrite
    return generator, rewrite


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
    generator, rewrite = build_generator(settings, index)
    return Pipeline(index, retriever, generator, settings.top_k, rewrite)


def warm_up(pipeline: Pipeline) -> None:
    """Load the lazy parts (encoder weights, the English-Chinese dictionary) before the first user waits for them;
    never calls an LLM."""
    pipeline.retriever.search("招商引资有哪些要求？", top_k=5)
    pipeline.index.translate("what are the requirements for investment attraction")


def answer_question(
    pipeline: Pipeline,
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | None = None,
    history: Sequence[Turn] = (),
) -> Answer:
    """Rewrite a follow-up into a standalone question, retrieve passages for it and compose the cited answer,
    with timings in milliseconds."""
    *_, answer = _answer(pipeline, question, top_k, filters, history, stream=False)
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
    yield from _answer(pipeline, question, top_k, filters, history, stream=True)


def _answer(pipeline: Pipeline, question: str, top_k: int | None, filters: Filters | None,
            history: Sequence[Turn], *, stream: bool) -> Iterator[list[Hit] | str | Answer]:
    t0 = time.perf_counter()
    standalone = pipeline.rewrite(question, history) if history else question
    t_rewrite = time.perf_counter()
    hits = pipeline.retriever.search(standalone, top_k=max(top_k or pipeline.top_k, 5), filters=filters)
    t_retrieve = time.perf_counter()
    if stream:
        yield list(hits)
    items = (pipeline.generator.stream(standalone, hits, history) if stream
             else [pipeline.generator.answer(standalone, hits, history)])
    for item in items:
        if isinstance(item, Answer):
            t_answer = time.perf_counter()
            item.question = question
            item.rewritten_question = standalone if standalone != question else None
            item.timings_ms = {
                **({"rewrite": round((t_rewrite - t0) * 1000, 2)} if history else {}),
                "retrieve": round((t_retrieve - t_rewrite) * 1000, 2),
                "answer": round((t_answer - t_retrieve) * 1000, 2),
                "total": round((t_answer - t0) * 1000, 2),
            }
        yield item
