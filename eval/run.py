"""Runs a question file through the pipeline and scores retrieval, citations, key points and refusals."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from service.answer.base import Answer
from service.api.schemas import AnswerOut

from .metrics import contains, evidence_rank, mean, percentile


@dataclass(slots=True)
class Question:
    """One line of a question file."""

    id: str
    question: str
    answerable: bool
    evidence: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)


@dataclass(slots=True)
class QuestionResult:
    """What happened to one question."""

    id: str
    question: str
    answerable: bool
    answered: bool
    answer: str
    has_evidence: bool  # the question file gives evidence spans to look for
    evidence_rank: int | None  # rank of the first retrieved passage with evidence
    cited_evidence: bool  # a cited passage contains the evidence
    key_points_found: list[str]
    key_points_missed: list[str]
    citations: list[str]
    latency_ms: float
    grounded_ratio: float | None = None  # share of the LLM answer's sentences a passage supports
    fallback: bool = False  # the LLM failed and the extractive answer stood in
    response: dict = field(default_factory=dict)  # the answer object, in the public contract's shape


class QuestionFileError(ValueError):
    """A question file line that cannot be used; the message names the line and field."""


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question file; a bad line raises QuestionFileError naming the line and field."""
    questions = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{path}:{no}: not JSON ({exc.msg})") from exc
        for key in ("id", "question"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise QuestionFileError(f"{path}:{no}: field '{key}' is missing or not a string")
        questions.append(
            Question(
                id=raw["id"],
                question=raw["question"],
                answerable=bool(raw.get("answerable", True)),
                evidence=[e["text"] if isinstance(e, dict) else str(e) for e in raw.get("evidence", [])],
                key_points=[str(k) for k in raw.get("key_points", [])],
            )
        )
    return questions


def score_question(q: Question, answer: Answer) -> QuestionResult:
    """Score one answer against its question's evidence and key points."""
    passages = [h.chunk.text for h in answer.retrieved]
    cited = [c.hit.chunk.text for c in answer.citations]
    found = [k for k in q.key_points if answer.answerable and contains(answer.text, k)]
    return QuestionResult(
        id=q.id,
        question=q.question,
        answerable=q.answerable,
        answered=answer.answerable,
        answer=answer.text,
        has_evidence=bool(q.evidence),
        evidence_rank=evidence_rank(passages, q.evidence) if q.evidence else None,
        cited_evidence=bool(q.evidence) and evidence_rank(cited, q.evidence) is not None,
        key_points_found=found,
        key_points_missed=[k for k in q.key_points if k not in found],
        citations=[f"[{c.n}] {c.hit.document.source} {' / '.join(c.hit.chunk.section)}" for c in answer.citations],
        latency_ms=answer.timings_ms.get("total", 0.0),
        grounded_ratio=answer.grounded_ratio,
        fallback=answer.fallback,
        response=AnswerOut.from_answer(answer).model_dump(),
    )


def summarize(results: list[QuestionResult]) -> dict[str, float | int | None]:
    """Summary figures over all results (None where a figure has no questions to stand on)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    with_evidence = [r for r in answerable if r.has_evidence]
    ranks = [r.evidence_rank for r in with_evidence]
    latencies = [r.latency_ms for r in results]

    def hit_at(k: int) -> float | None:
        return mean([1.0 if (rk is not None and rk <= k) else 0.0 for rk in ranks])

    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "hit@1": hit_at(1),
        "hit@3": hit_at(3),
        "hit@5": hit_at(5),
        "mrr": mean([1.0 / rk if rk else 0.0 for rk in ranks]),
        "citation_support": mean([1.0 if r.cited_evidence else 0.0 for r in answerable]),
        "key_point_coverage": mean(
            [len(r.key_points_found) / len(r.key_points_found + r.key_points_missed)
             for r in answerable if r.key_points_found or r.key_points_missed]
        ),
        "refusal_accuracy": mean([0.0 if r.answered else 1.0 for r in unanswerable]),
        "false_refusal_rate": mean([0.0 if r.answered else 1.0 for r in answerable]),
        # mean over the answers an LLM wrote (None with the extractive generator, which copies passages)
        "grounded_ratio": mean([r.grounded_ratio for r in results if r.grounded_ratio is not None]),
        "fallback_rate": mean([1.0 if r.fallback else 0.0 for r in results]),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def run_eval(
    questions: Iterable[Question], ask: Callable[[str], Answer], progress: Callable[[int], None] | None = None
) -> tuple[dict, list[QuestionResult]]:
    """Ask every question, score the answers; returns (summary, per-question results)."""
    results = []
    for q in questions:
        results.append(score_question(q, ask(q.question)))
        if progress:
            progress(1)
    return summarize(results), results


def result_row(result: QuestionResult) -> dict:
    """One report row: the answer object plus "id" and the scores of that answer under "scores"."""
    scores = {k: v for k, v in asdict(result).items() if k not in {"response", "id", "question", "answer"}}
    return {"id": result.id, **result.response, "scores": scores}


def write_report(path: Path, summary: dict, results: list[QuestionResult], config: dict) -> None:
    """Write the summary, the configuration it was measured with, and per-question rows as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"summary": summary, "config": config, "results": [result_row(r) for r in results]}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
