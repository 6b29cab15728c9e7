"""Answering inside the service: conversation history in, the answer remembered out, streaming off-thread."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TypeVar

from index.retrievers import Filters

from ..answer.base import Answer, Turn
from ..qa import Pipeline, answer_question, stream_answer
from .state import ServiceState

T = TypeVar("T")
_END = object()


async def iterate_in_thread(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Drive a blocking iterator from worker threads so that the event loop keeps serving other requests."""
    while True:
        item = await asyncio.to_thread(next, iterator, _END)
        if item is _END:
            return
        yield item


def new_answer_id() -> str:
    """A fresh answer id (what feedback refers to)."""
    return "a_" + secrets.token_urlsafe(12)


def remember(state: ServiceState, conversation_id: str | None, answer: Answer, answer_id: str) -> None:
    """Add the turn to its conversation and keep the answer for feedback (blocking: SQLite)."""
    if conversation_id:
        # the standalone form keeps a chain of follow-ups ("那考核呢？" → "那时间呢？") on its topic
        state.conversations.append(conversation_id, Turn(answer.rewritten_question or answer.question, answer.text))
    state.feedback.record_answer(answer_id, conversation_id, answer.question, answer.text, answer.answerable,
                                 [c.hit.document.source for c in answer.citations])


async def answer_and_remember(state: ServiceState, pipeline: Pipeline, question: str, *,
                              conversation_id: str | None, history: Sequence[Turn], top_k: int | None,
                              filters: Filters | None, answer_id: str | None = None) -> tuple[Answer, str]:
    """Answer in a worker thread, remember it (under `answer_id`, or a new one), and return it with its id."""
    answer = await asyncio.to_thread(answer_question, pipeline, question, top_k=top_k, filters=filters,
                                     history=history)
    answer_id = answer_id or new_answer_id()
    await asyncio.to_thread(remember, state, conversation_id, answer, answer_id)
    return answer, answer_id


def answer_stream(pipeline: Pipeline, question: str, *, history: Sequence[Turn], top_k: int | None,
                  filters: Filters | None) -> AsyncIterator:
    """`qa.stream_answer` as an async iterator: the hits, then text pieces, then the `Answer`."""
    return iterate_in_thread(stream_answer(pipeline, question, top_k=top_k, filters=filters, history=history))
