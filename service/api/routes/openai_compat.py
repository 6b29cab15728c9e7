"""An OpenAI-compatible chat API (POST /v1/chat/completions, GET /v1/models) so that existing clients work.

Earlier user/assistant messages become the conversation history; the last user message is the question. The
answer text ends with numbered references ("[1] title — section"), and the citations travel in the extra
field `sources` (on the completion, and on the last chunk of a stream).
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from index.retrievers import Filters

from ...answer.base import Answer, Turn
from ...qa import Pipeline
from ..answering import answer_and_remember, answer_stream, remember
from ..deps import PipelineDep, RateLimited, StateDep, UserOnly
from ..errors import ERROR_RESPONSES, error_event
from ..schemas import (
    AnswerOut,
    ChatCompletionOut,
    ChatCompletionRequest,
    ChatMessage,
    CitationOut,
    CompletionChoice,
    CompletionMessage,
    ModelListOut,
    ModelOut,
    Usage,
)
from ..state import ServiceState
from .chat import checked_filters

log = logging.getLogger("policyqa.api")
router = APIRouter(prefix="/v1", tags=["openai-compatible"], dependencies=[UserOnly], responses=ERROR_RESPONSES)

MODEL_ID = "policyqa"
REFERENCES_HEADING = "\n\n参考来源：\n"
STARTED = int(time.time())


def split_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the earlier user/assistant exchanges as turns."""
    last_user = max(i for i, m in enumerate(messages) if m.role == "user" and m.plain_text().strip())
    turns: list[Turn] = []
    pending: str | None = None
    for message in messages[:last_user]:
        if message.role == "user":
            pending = message.plain_text().strip()
        elif message.role == "assistant" and pending is not None:
            # our own earlier answers carry a references block: history keeps the answer text only
            turns.append(Turn(pending, message.plain_text().split(REFERENCES_HEADING)[0].strip()))
            pending = None
    return messages[last_user].plain_text().strip(), turns


def citations_of(answer: Answer) -> list[CitationOut]:
    """The answer's citations in the public shape."""
    return AnswerOut.from_answer(answer).citations


def references_block(citations: Sequence[CitationOut]) -> str:
    """The numbered references appended to the answer text ("" when nothing is cited)."""
    if not citations:
        return ""
    lines = [f"[{c.n}] {c.title or c.source}" + (f" — {c.section}" if c.section else "")
             + (f"（{c.date}）" if c.date else "") for c in citations]
    return REFERENCES_HEADING + "\n".join(lines)


def new_completion_id() -> str:
    """A fresh completion id; answers are remembered under it, so feedback can name it as `answer_id`."""
    return "chatcmpl-" + secrets.token_urlsafe(12)


def _usage(question: str, text: str) -> Usage:
    return Usage(prompt_tokens=len(question), completion_tokens=len(text), total_tokens=len(question) + len(text))


def _chunk(completion_id: str, created: int, model: str, delta: dict, finish: str | None = None, **extra) -> str:
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return json.dumps(body, ensure_ascii=False)


async def completion_chunks(state: ServiceState, pipeline: Pipeline, question: str, history: Sequence[Turn],
                            top_k: int | None, filters: Filters | None, model: str) -> AsyncIterator[dict]:
    """The stream of an OpenAI chat completion: role, content pieces, references, a final chunk with
    `sources`, then [DONE]; an error becomes a chunk with an `error` object."""
    completion_id = new_completion_id()
    created = int(time.time())
    yield {"data": _chunk(completion_id, created, model, {"role": "assistant", "content": ""})}
    try:
        async for item in answer_stream(pipeline, question, history=history, top_k=top_k, filters=filters):
            if isinstance(item, str) and item:
                yield {"data": _chunk(completion_id, created, model, {"content": item})}
            elif isinstance(item, Answer):
                await asyncio.to_thread(remember, state, None, item, completion_id)
                citations = citations_of(item)
                if references := references_block(citations):
                    yield {"data": _chunk(completion_id, created, model, {"content": references})}
                text = item.text + references
                yield {"data": _chunk(completion_id, created, model, {}, "stop",
                                      sources=[c.model_dump() for c in citations], answerable=item.answerable,
                                      usage=_usage(question, text).model_dump())}
    except Exception as exc:  # noqa: BLE001 - headers are sent: the error can only travel in the stream
        log.exception("error while streaming a completion")
        state.metrics.errors.labels("/v1/chat/completions", "stream").inc()
        body = error_event(exc)
        yield {"data": json.dumps({"error": {"message": body["detail"], "type": body["error"]}},
                                  ensure_ascii=False)}
        return
    yield {"data": "[DONE]"}


@router.get("/models", response_model=ModelListOut)
async def list_models() -> ModelListOut:
    """The one model PolicyQA offers."""
    return ModelListOut(data=[ModelOut(id=MODEL_ID, created=STARTED)])


@router.post("/chat/completions", response_model=ChatCompletionOut, dependencies=[RateLimited],
             responses={200: {"content": {"text/event-stream": {}}}})
async def chat_completions(body: ChatCompletionRequest, state: StateDep, pipeline: PipelineDep):
    """OpenAI chat completion over the collection; `stream: true` streams chat.completion.chunk events."""
    question, history = split_messages(body.messages)
    filters = checked_filters(body.filters)
    model = body.model or MODEL_ID
    if body.stream:
        return EventSourceResponse(completion_chunks(state, pipeline, question, history, body.top_k, filters,
                                                     model))
    answer, completion_id = await answer_and_remember(
        state, pipeline, question, conversation_id=None, history=history, top_k=body.top_k, filters=filters,
        answer_id=new_completion_id())
    citations = citations_of(answer)
    text = answer.text + references_block(citations)
    return ChatCompletionOut(
        id=completion_id, created=int(time.time()), model=model,
        choices=[CompletionChoice(message=CompletionMessage(content=text))], usage=_usage(question, text),
        sources=citations, answerable=answer.answerable)
