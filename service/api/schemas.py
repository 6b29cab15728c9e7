"""Request and response schemas of the HTTP API; the CLI's --json output uses the same response shape."""
from __future__ import annotations

from pydantic import BaseModel, Field

from ..answer.base import Answer


class ChatRequest(BaseModel):
    """Body of POST /api/chat."""

    question: str = Field(min_length=1, max_length=2000, description="The question, in Chinese or English.")
    top_k: int | None = Field(None, ge=1, le=50)


class CitationOut(BaseModel):
    """A numbered source of the answer: the passage and where it sits in the cleaned document."""

    n: int
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
    """A retrieved passage, best first."""

    source: str
    title: str
    section: str | None
    text: str
    score: float


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
    def from_answer(cls, answer: Answer) -> "AnswerOut":
        """Convert the internal `Answer` record into the public shape."""
        return cls(
            question=answer.question,
            answer=answer.text,
            answerable=answer.answerable,
            citations=[
                CitationOut(
                    n=c.n,
                    source=c.hit.document.source,
                    title=c.hit.document.title,
                    date=c.hit.document.date,
                    section=" / ".join(c.hit.chunk.section) or None,
                    text=c.hit.chunk.text,
                    quote=c.quote,
                    start=c.hit.chunk.start,
                    end=c.hit.chunk.end,
                    score=round(c.hit.score, 6),
                )
                for c in answer.citations
            ],
            retrieved=[
                RetrievedOut(
                    source=h.document.source,
                    title=h.document.title,
                    section=" / ".join(h.chunk.section) or None,
                    text=h.chunk.text,
                    score=round(h.score, 6),
                )
                for h in answer.retrieved
            ],
            timings_ms=answer.timings_ms,
            generator=answer.generator,
            notes=answer.notes,
            grounded_ratio=None if answer.grounded_ratio is None else round(answer.grounded_ratio, 4),
            fallback=answer.fallback,
            fallback_reason=answer.fallback_reason,
            rewritten_question=answer.rewritten_question,
        )


class ErrorOut(BaseModel):
    """Every error response: a message a person can act on."""

    error: str
    detail: str | None = None
