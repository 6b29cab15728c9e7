"""The answer records and the `Generator` extension point that turns retrieved hits into an `Answer`."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from index.records import Hit


@dataclass(slots=True)
class Citation:
    """A numbered reference from the answer text ("[n]") to the passage that supports it."""

    n: int
    hit: Hit
    quote: str = ""  # the sentence(s) of the passage the answer used


@dataclass(slots=True)
class Answer:
    """What every front end (CLI, HTTP, eval) returns for one question."""

    question: str
    text: str
    answerable: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Hit] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    generator: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. why the question was judged unanswerable
    grounded_ratio: float | None = None  # share of the LLM's claim sentences a passage supports; None = no LLM text
    fallback: bool = False  # the LLM failed and the extractive answer stands in
    fallback_reason: str | None = None
    rewritten_question: str | None = None  # the standalone question retrieval used, when it differs


class GeneratorConfigError(ValueError):
    """Settings or files a generator needs are missing or wrong; raised when the generator is built."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier exchange of a conversation, given to generators for follow-up questions."""

    question: str
    answer: str


class Generator(ABC):
    """Composes an `Answer` from a question and the passages retrieved for it."""

    name: str = "generator"

    @abstractmethod
    def answer(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer:
        """Answer `question` from `hits` (best first); must cite only passages among `hits`."""

    def stream(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield answer text in pieces, then the complete `Answer`; the default yields it whole."""
        result = self.answer(question, hits, history)
        yield result.text
        yield result
