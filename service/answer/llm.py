"""The LLM answerer: asks a chat backend (OpenAI-compatible server or local transformers model) to answer from the
retrieved passages, checks every sentence of the reply against them, and falls back to the extractive answer
whenever the LLM cannot be used.

Streaming shows only checked text: the reply is buffered up to the end of each sentence (and the markers after
it), the sentence is checked, and what survives is yielded, so the streamed pieces join to the final answer text.
A sentence that no passage supports is never shown when unsupported sentences are dropped (the default); with
`grounding_unsupported=mark` it is shown followed by a note. If the LLM fails after some text was shown, the stream
goes on with a note and the extractive answer; the final `Answer` (the last item) then holds only the extractive
answer and is what clients should keep.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal, Protocol

from index.records import Hit

from .base import Answer, Citation, Generator, Turn
from .extractive import ExtractiveGenerator, split_sentences
from .grounding import (Grounder, GroundingResult, containment, content_chars, final_prefix, split_pieces,
                        strip_markers)
from .prompts import PromptSet, answer_messages

log = logging.getLogger("policyqa.llm")

Messages = list[dict[str, str]]
FALLBACK_NOTE = "大模型暂不可用，以下为摘录式回答。"


class LLMError(RuntimeError):
    """The LLM could not be used: unreachable, timed out, an error status, or a reply without usable text."""


class ChatBackend(Protocol):
    """A chat model: the whole reply, or the reply in pieces as it is generated; failures raise LLMError."""

    name: str

    def complete(self, messages: Messages) -> str:
        """The model's full reply to `messages`."""

    def stream(self, messages: Messages) -> Iterator[str]:
        """The model's reply to `messages`, in pieces."""


class LLMGenerator(Generator):
    """Answers with an LLM from the top passages; the extractive generator decides refusals and stands in on failure."""

    def __init__(
        self,
        backend: ChatBackend,
        prompts: PromptSet,
        extractive: ExtractiveGenerator,
        *,
        passages: int = 5,
        min_support: float = 0.5,
        unsupported: Literal["drop", "mark"] = "drop",
    ) -> None:
        self.backend = backend
        self.prompts = prompts
        self.extractive = extractive
        self.passages = passages
        self.min_support = min_support
        self.unsupported = unsupported
        self.name = backend.name

    def answer(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer:
        """A grounded LLM answer (one request, no streaming), a refusal, or the extractive fallback."""
        *_, final = self._run(question, hits, history, lambda messages: [self.backend.complete(messages)])
        return final

    def stream(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield the checked answer sentence by sentence as the LLM writes it, then the final `Answer`."""
        yield from self._run(question, hits, history, self.backend.stream)

    def _run(self, question: str, hits: Sequence[Hit], history: Sequence[Turn],
             call: Callable[[Messages], Iterable[str]]) -> Iterator[str | Answer]:
        hits = list(hits)
        answerable, reason = self.extractive.evidence_strength(question, hits)
        if not answerable:
            # weak evidence: the LLM is not asked, so it cannot talk itself into an answer
            refusal = Answer(question, self.prompts.refusal, False, [], hits, generator=self.name,
                             notes=[reason, "evidence too weak: the LLM was not asked"])
            yield refusal.text
            yield refusal
            return
        context = hits[: self.passages]
        grounder = Grounder([h.chunk.text for h in context], self.min_support, self.unsupported)
        refused = False
        shown = False
        buffer = ""
        try:
            for piece in call(answer_messages(self.prompts, question, context)):
                buffer += piece
                buffer, thinking = _skip_reasoning(buffer)
                if thinking:
                    continue
                cut = final_prefix(buffer)
                for sentence in split_pieces(buffer[:cut]):
                    text, refused = self._feed(grounder, sentence, refused)
                    if text:
                        shown = True
                        yield text
                buffer = buffer[cut:]
        except LLMError as exc:
            yield from self._fallback(question, hits, history, str(exc), shown)
            return
        for sentence in split_pieces(_skip_reasoning(buffer)[0]):
            text, refused = self._feed(grounder, sentence, refused)
            if text:
                shown = True
                yield text
        result = grounder.finish()
        if not result.cited and refused:
            answer = Answer(question, self.prompts.refusal, False, [], hits, generator=self.name,
                            notes=[reason, "the LLM found no answer in the passages"])
            yield answer.text
            yield answer
            return
        if not result.cited:
            why = "the LLM reply was empty" if not result.checks else "no sentence of the LLM reply is supported by the passages"
            yield from self._fallback(question, hits, history, why, shown)
            return
        yield self._grounded_answer(question, hits, context, result, reason)

    def _feed(self, grounder: Grounder, sentence: str, refused: bool) -> tuple[str, bool]:
        """Check one sentence; the fixed refusal sentence is not checked but remembered (shown at the end, and only
        when no supported sentence came with it)."""
        if content_chars(sentence) and content_chars(strip_markers(sentence)) == content_chars(self.prompts.refusal):
            return "", True
        return grounder.feed(sentence), refused

    def _grounded_answer(self, question: str, hits: list[Hit], context: list[Hit], result: GroundingResult,
                         reason: str) -> Answer:
        citations = []
        for number, n in enumerate(result.cited, 1):
            hit = context[n - 1]
            claims = [c.text for c in result.checks if n in c.cited]
            citations.append(Citation(number, hit, _quote(hit.chunk.text, claims)))
        checks = result.checks
        claims = [c for c in checks if c.counts]
        notes = [reason, (f"grounding: {sum(c.grounded for c in claims)}/{len(claims)} sentences supported"
                          f" ({sum(c.status == 'attached' for c in checks)} citations attached,"
                          f" {sum(c.status == 'recited' for c in checks)} corrected,"
                          f" {sum(c.removed_markers for c in checks)} markers to no passage removed,"
                          f" {sum(not c.grounded for c in claims)} unsupported {self._verb()})")]
        return Answer(question, result.text, True, citations, hits, generator=self.name, notes=notes,
                      grounded_ratio=result.grounded_ratio)

    def _verb(self) -> str:
        """How unsupported sentences are treated, for the notes."""
        return "dropped" if self.unsupported == "drop" else "marked"

    def _fallback(self, question: str, hits: list[Hit], history: Sequence[Turn], reason: str,
                  shown: bool) -> Iterator[str | Answer]:
        log.warning("LLM answer unavailable, using the extractive answer: %s", reason)
        answer = self.extractive.answer(question, hits, history)
        answer.fallback = True
        answer.fallback_reason = reason
        answer.notes.append(f"{FALLBACK_NOTE}（{reason}）")
        yield (f"\n\n{FALLBACK_NOTE}\n" if shown else "") + answer.text
        yield answer


def _skip_reasoning(buffer: str) -> tuple[str, bool]:
    """Drop a leading <think>…</think> block (reasoning models such as DeepSeek-R1 or Qwen3 write one); returns
    the rest and whether the block is still open, in which case nothing of the reply can be shown yet."""
    head = buffer.lstrip()
    if head.startswith("<think>"):
        if "</think>" not in head:
            return buffer, True
        return head.split("</think>", 1)[1].lstrip(), False
    return buffer, bool(head) and "<think>".startswith(head)


def _quote(passage: str, claims: Sequence[str]) -> str:
    """The passage sentences closest to the answer sentences that cite it, in passage order."""
    spans = split_sentences(passage)
    if not spans:
        return ""
    chosen = {max(spans, key=lambda s: containment(claim, passage[s[0]:s[1]])) for claim in claims}
    return "".join(passage[s:e] for s, e in sorted(chosen))
