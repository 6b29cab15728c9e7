"""Request and response schemas of the HTTP API; the CLI's --json output uses the same answer shape."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from index.records import Hit
from index.retrievers import Filters

from ..answer.base import Answer

DATE_PATTERN = r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"  # "" means no bound (forms send empty fields)


# ----------------------------------------------------------------------------------------------- requests


class FiltersIn(BaseModel):
    """Which documents may answer; an empty or missing field does not restrict."""

    date_from: str | None = Field(None, pattern=DATE_PATTERN, description="Earliest date, YYYY[-MM[-DD]].")
    date_to: str | None = Field(None, pattern=DATE_PATTERN, description="Latest date, YYYY[-MM[-DD]].")
    speakers: list[str] | None = Field(None, max_length=50)
    kinds: list[str] | None = Field(None, max_length=50, description="Document kinds, e.g. 讲话, 实施方案.")
    sources: list[str] | None = Field(None, max_length=200, description="File names, e.g. 000_83ce6312508b97ba.txt.")

    def to_filters(self) -> Filters:
        """The retrieval filter these fields describe."""
        return Filters(sources=self.sources, kinds=self.kinds, speakers=self.speakers,
                       date_from=self.date_from, date_to=self.date_to)


class ChatRequest(BaseModel):
    """Body of POST /api/chat."""

    question: str = Field(min_length=1, max_length=2000, description="The question, in Chinese or English.")
    conversation_id: str | None = Field(None, max_length=64, description="Continue this conversation (from an earlier answer).")
    top_k: int | None = Field(None, ge=1, le=50)
    filters: FiltersIn | None = None
    stream: bool = Field(False, description="Stream server-sent events (same as `Accept: text/event-stream`).")


class FeedbackIn(BaseModel):
    """Body of POST /api/feedback."""

    answer_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


# ----------------------------------------------------------------------------------------------- answers


def _section(hit: Hit) -> str | None:
    return " / ".join(hit.chunk.section) or None


class CitationOut(BaseModel):
    """A numbered source of the answer: the passage and where it sits in the cleaned document."""

    n: int
    doc_id: str
    source: str
    title: str
    date: str | None
    section: str | None
    text: str
    quote: str
    start: int
    end: int
    score: float


class RetrievedOut(BaseModel):
    """A retrieved passage, best first; start/end are its offsets in the document's cleaned text."""

    doc_id: str
    source: str
    title: str
    date: str | None = None
    section: str | None
    text: str
    start: int
    end: int
    score: float

    @classmethod
    def from_hit(cls, hit: Hit) -> "RetrievedOut":
        """Convert a retrieval hit into the public shape."""
        return cls(doc_id=hit.document.id, source=hit.document.source, title=hit.document.title,
                   date=hit.document.date,
                   section=_section(hit), text=hit.chunk.text, start=hit.chunk.start, end=hit.chunk.end,
                   score=round(hit.score, 6))


class AnswerOut(BaseModel):
    """The answer object shared by CLI --json, HTTP and eval."""

    question: str
    answer: str
    answerable: bool
    citations: list[CitationOut]
    retrieved: list[RetrievedOut]
    timings_ms: dict[str, float]
    generator: str
    notes: list[str] = []
    grounded_ratio: float | None = Field(None, description="Share of the LLM answer's sentences that a cited passage supports.")
    fallback: bool = Field(False, description="True when the LLM failed and the extractive answer is returned instead.")
    fallback_reason: str | None = None
    rewritten_question: str | None = Field(None, description="The standalone question used for retrieval (follow-ups).")

    @classmethod
    def from_answer(cls, answer: Answer, **extra: Any) -> "AnswerOut":
        """Convert the internal `Answer` record into the public shape (`extra`: fields of subclasses)."""
        return cls(
            question=answer.question,
            answer=answer.text,
            answerable=answer.answerable,
            citations=[
                CitationOut(
                    n=c.n,
                    doc_id=c.hit.document.id,
                    source=c.hit.document.source,
                    title=c.hit.document.title,
                    date=c.hit.document.date,
                    section=_section(c.hit),
                    text=c.hit.chunk.text,
                    quote=c.quote,
                    start=c.hit.chunk.start,
                    end=c.hit.chunk.end,
                    score=round(c.hit.score, 6),
                )
                for c in answer.citations
            ],
            retrieved=[RetrievedOut.from_hit(h) for h in answer.retrieved],
            timings_ms=answer.timings_ms,
            generator=answer.generator,
            notes=answer.notes,
            grounded_ratio=None if answer.grounded_ratio is None else round(answer.grounded_ratio, 4),
            fallback=answer.fallback,
            fallback_reason=answer.fallback_reason,
            rewritten_question=answer.rewritten_question,
            **extra,
        )


class ChatAnswerOut(AnswerOut):
    """The answer object of POST /api/chat: with the id feedback refers to and the conversation to continue."""

    answer_id: str
    conversation_id: str


class SourcesEvent(BaseModel):
    """Data of the first server-sent event of a streamed chat answer."""

    conversation_id: str
    retrieved: list[RetrievedOut]


# ----------------------------------------------------------------------------------------------- documents


class DocumentMetaOut(BaseModel):
    """What every document view shows: identity and metadata."""

    id: str
    source: str
    title: str
    date: str | None
    speaker: str | None
    kind: str | None
    ingested_at: str | None


class DocumentOut(DocumentMetaOut):
    """An indexed document in the list, with its number of chunks."""

    chunks: int


class ChunkSpanOut(BaseModel):
    """Where a chunk lies in the document's cleaned text."""

    id: str
    start: int
    end: int
    section: str | None


class DocumentDetailOut(DocumentMetaOut):
    """An indexed document with its cleaned text (the text citation offsets point into)."""

    text: str
    chunks: list[ChunkSpanOut]


class JobAccepted(BaseModel):
    """A background index update was queued."""

    job_id: str
    status: Literal["queued", "running", "done", "failed"]


class JobOut(JobAccepted):
    """A background index update and what came of it (`report`: files indexed/unchanged/removed/failed)."""

    kind: Literal["upload", "delete"]
    target: str
    detail: str | None
    report: dict | None
    created_at: str


# ----------------------------------------------------------------------------------------------- misc


class FeedbackCreated(BaseModel):
    """The stored feedback's id."""

    id: int


class ConfigOut(BaseModel):
    """What the chat page needs to know about the deployment (never secrets)."""

    title: str
    auth_required: bool


class ErrorOut(BaseModel):
    """Every error response: a message a person can act on."""

    error: str
    detail: str | None = None


class ValidationErrorOut(ErrorOut):
    """A 422: `errors` is FastAPI's list of field errors (loc, msg, type)."""

    errors: list[dict[str, Any]]


# ----------------------------------------------------------------------------------------------- OpenAI-compatible


class ContentPart(BaseModel):
    """A part of a multi-part message; only text parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """A message of an OpenAI chat request."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def plain_text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """Body of POST /v1/chat/completions (OpenAI chat API; unknown OpenAI fields are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")
    model: str = "policyqa"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    top_k: int | None = Field(None, ge=1, le=50, description="PolicyQA extra: passages to retrieve.")
    filters: FiltersIn | None = Field(None, description="PolicyQA extra: document filters as in /api/chat.")

    @model_validator(mode="after")
    def _ends_with_a_question(self) -> "ChatCompletionRequest":
        if not any(m.role == "user" and m.plain_text().strip() for m in self.messages):
            raise ValueError("messages must contain a user message with text")
        return self


class CompletionMessage(BaseModel):
    """The assistant's message."""

    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    """The one choice PolicyQA returns."""

    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Token counts (PolicyQA counts characters: there is no tokenizer behind the extractive answerer)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(BaseModel):
    """A chat completion; `sources` (PolicyQA extra) are the citations the numbered references point to."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    sources: list[CitationOut]
    answerable: bool


class ModelOut(BaseModel):
    """A model as listed by GET /v1/models."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "policyqa"


class ModelListOut(BaseModel):
    """GET /v1/models."""

    object: Literal["list"] = "list"
    data: list[ModelOut]
