"""POST /api/chat: the cited answer, as one JSON object or streamed as server-sent events."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from index.retrievers import Filters

from ...answer.base import Answer, Turn
from ...errors import BadRequestError
from ...qa import Pipeline
from ..answering import answer_and_remember, answer_stream, new_answer_id, remember
from ..deps import PipelineDep, RateLimited, StateDep, UserOnly
from ..errors import ERROR_RESPONSES, error_event
from ..schemas import ChatAnswerOut, ChatRequest, FiltersIn, RetrievedOut, SourcesEvent
from ..state import ServiceState

log = logging.getLogger("policyqa.api")
router = APIRouter(tags=["chat"], dependencies=[RateLimited, UserOnly], responses=ERROR_RESPONSES)

STREAM_DOC = {200: {"description": "The answer object; with `Accept: text/event-stream` or `stream: true`, "
                                   "server-sent events `sources`, `delta`…, then `done` (or `error`).",
                    "content": {"text/event-stream": {}}}}


def checked_filters(filters: FiltersIn | None) -> Filters | None:
    """The retrieval filter of a request; BadRequestError for an empty date range."""
    if filters is None:
        return None
    lo, hi = filters.date_from, filters.date_to
    if lo and hi and lo[: min(len(lo), len(hi))] > hi[: min(len(lo), len(hi))]:
        raise BadRequestError(f"date_from {filters.date_from} is after date_to {filters.date_to}")
    result = filters.to_filters()
    return result if result.active else None


def wants_stream(body: ChatRequest, request: Request) -> bool:
    """Whether the client asked for server-sent events."""
    return body.stream or "text/event-stream" in request.headers.get("accept", "")


async def chat_events(state: ServiceState, pipeline: Pipeline, question: str, conversation_id: str,
                      history: Sequence[Turn], top_k: int | None, filters: Filters | None) -> AsyncIterator[dict]:
    """The SSE events of one streamed answer; an error ends the stream with an `error` event."""
    try:
        async for item in answer_stream(pipeline, question, history=history, top_k=top_k, filters=filters):
            if isinstance(item, Answer):
                answer_id = new_answer_id()
                await asyncio.to_thread(remember, state, conversation_id, item, answer_id)
                done = ChatAnswerOut.from_answer(item, answer_id=answer_id, conversation_id=conversation_id)
                yield {"event": "done", "data": done.model_dump_json()}
            elif isinstance(item, str):
                if item:
                    yield {"event": "delta", "data": json.dumps({"text": item}, ensure_ascii=False)}
            else:
                sources = SourcesEvent(conversation_id=conversation_id,
                                       retrieved=[RetrievedOut.from_hit(h) for h in item])
                yield {"event": "sources", "data": sources.model_dump_json()}
    except Exception as exc:  # noqa: BLE001 - headers are sent: the error can only travel as an event
        log.exception("error while streaming an answer")
        state.metrics.errors.labels("/api/chat", "stream").inc()
        yield {"event": "error", "data": json.dumps(error_event(exc), ensure_ascii=False)}


@router.post("/api/chat", response_model=ChatAnswerOut, responses=STREAM_DOC)
async def chat(body: ChatRequest, request: Request, state: StateDep, pipeline: PipelineDep):
    """Answer a question with citations, in the context of the conversation's earlier turns."""
    question = body.question.strip()
    if not question:
        raise BadRequestError("question is empty")
    filters = checked_filters(body.filters)
    conversation_id, history = state.conversations.history(body.conversation_id)
    if wants_stream(body, request):
        return EventSourceResponse(chat_events(state, pipeline, question, conversation_id, history,
                                               body.top_k, filters))
    answer, answer_id = await answer_and_remember(state, pipeline, question, conversation_id=conversation_id,
                                                  history=history, top_k=body.top_k, filters=filters)
    return ChatAnswerOut.from_answer(answer, answer_id=answer_id, conversation_id=conversation_id)
