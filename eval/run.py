"""Runs a question file through the pipeline and scores retrieval, citations, key points and refusals."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from service.answer.base import Answer
from service.api.schemas import AnswerOut

from .jsonl import read_json_objects
from .metrics import char_f1, contains, evidence_rank, mean, percentile, rouge_l


@dataclass(slots=True)
class Question:
    """One line of a question file."""

    id: str
    question: str
    answerable: bool
    evidence: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    reference: str | None = None  # a reference answer, scored by character F1 and ROUGE-L
    tags: list[str] = field(default_factory=list)  # figures are also broken down per tag


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
    tags: list[str] = field(default_factory=list)
    reference: str | None = None
    reference_char_f1: float | None = None
    reference_rouge_l: float | None = None
    judge: dict | None = None  # the LLM judge's verdict (eval/judge.py), when one was asked
    failures: list[str] = field(default_factory=list)  # causes (FAILURE_CAUSES keys), empty when all went well


# Why a question failed, in the order a reader should look at them (retrieval first, then the answer).
FAILURE_CAUSES = {
    "evidence_not_retrieved": "evidence not retrieved: no retrieved passage contains an evidence span",
    "retrieved_not_cited": "retrieved but not cited: the evidence was retrieved, the answer cites other passages",
    "key_points_missing": "key points missing: the answer leaves out expected key points",
    "wrong_refusal": "wrong refusal: an answerable question was refused",
    "answered_unanswerable": "answered when it should refuse: the corpus does not hold the answer",
}


def failure_causes(r: QuestionResult) -> list[str]:
    """The FAILURE_CAUSES that apply to one result (several can: a refusal often follows a retrieval miss)."""
    if not r.answerable:
        return ["answered_unanswerable"] if r.answered else []
    causes = []
    if r.has_evidence and r.evidence_rank is None:
        causes.append("evidence_not_retrieved")
    if not r.answered:
        causes.append("wrong_refusal")
        return causes
    if r.has_evidence and r.evidence_rank is not None and not r.cited_evidence:
        causes.append("retrieved_not_cited")
    if r.key_points_missed:
        causes.append("key_points_missing")
    return causes


class QuestionFileError(ValueError):
    """A question file line that cannot be used; the message names the line and field."""


def _string_list(path: Path, no: int, raw: dict, key: str) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QuestionFileError(f"{path}:{no}: field '{key}' must be a list of strings")
    return [v for v in value if v.strip()]


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question file; a bad line raises QuestionFileError naming the line and field."""
    questions = []
    for no, raw in read_json_objects(path, QuestionFileError):
        for key in ("id", "question"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise QuestionFileError(f"{path}:{no}: field '{key}' is missing or not a string")
        reference = raw.get("reference")
        if reference is not None and not isinstance(reference, str):
            raise QuestionFileError(f"{path}:{no}: field 'reference' must be a string")
        questions.append(
            Question(
                id=raw["id"],
                question=raw["question"],
                answerable=bool(raw.get("answerable", True)),
                evidence=[e["text"] if isinstance(e, dict) else str(e) for e in raw.get("evidence", [])],
                key_points=[str(k) for k in raw.get("key_points", [])],
                reference=reference if reference and reference.strip() else None,
                tags=_string_list(path, no, raw, "tags"),
            )
        )
    return questions


def score_question(q: Question, answer: Answer) -> QuestionResult:
    """Score one answer against its question's evidence, key points and reference answer."""
    passages = [h.chunk.text for h in answer.retrieved]
    cited = [c.hit.chunk.text for c in answer.citations]
    found = [k for k in q.key_points if answer.answerable and contains(answer.text, k)]
    result = QuestionResult(
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
        tags=list(q.tags),
        reference=q.reference,
        reference_char_f1=char_f1(answer.text, q.reference) if q.reference else None,
        reference_rouge_l=rouge_l(answer.text, q.reference) if q.reference else None,
    )
    result.failures = failure_causes(result)
    return result


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
        **_optional_figures(results),
    }


def _optional_figures(results: list[QuestionResult]) -> dict[str, float | None]:
    """Figures that exist only when their inputs do: references, the LLM judge, LLM generators' fields."""
    figures: dict[str, float | None] = {}
    referenced = [r for r in results if r.reference]
    if referenced:
        figures["reference_char_f1"] = mean([r.reference_char_f1 or 0.0 for r in referenced])
        figures["reference_rouge_l"] = mean([r.reference_rouge_l or 0.0 for r in referenced])
    judged = [r.judge for r in results if r.judge]
    if judged:
        for aspect in ("faithfulness", "correctness"):
            figures[f"judge_{aspect}"] = mean([j[aspect] for j in judged if j.get(aspect) is not None])
    grounded = [r.response.get("grounded_ratio") for r in results]
    if any(g is not None for g in grounded):
        figures["grounded_ratio"] = mean([g for g in grounded if g is not None])
    if any("fallback" in r.response for r in results) and any(r.response.get("generator") != "extractive"
                                                              for r in results):
        figures["fallback_rate"] = mean([1.0 if r.response.get("fallback") else 0.0 for r in results])
    return figures


def summarize_by_tag(results: list[QuestionResult]) -> dict[str, dict[str, float | int | None]]:
    """Summary figures over the questions of each tag, tags in alphabetical order."""
    tags = sorted({t for r in results for t in r.tags})
    return {tag: summarize([r for r in results if tag in r.tags]) for tag in tags}


def run_eval(
    questions: Iterable[Question],
    ask: Callable[[str], Answer],
    progress: Callable[[QuestionResult], None] | None = None,
    judge: Callable[[Question, QuestionResult], dict] | None = None,
) -> tuple[dict, list[QuestionResult]]:
    """Ask every question, score the answers (and have `judge` rate them, if given); returns (summary, results)."""
    results = []
    for q in questions:
        result = score_question(q, ask(q.question))
        if judge is not None:
            result.judge = judge(q, result)
        results.append(result)
        if progress:
            progress(result)
    return summarize(results), results


def result_row(result: QuestionResult) -> dict:
    """One report row: the answer object plus "id" and the scores of that answer under "scores"."""
    scores = {k: v for k, v in asdict(result).items() if k not in {"response", "id", "question", "answer"}}
    return {"id": result.id, **result.response, "scores": scores}


def write_report(path: Path, summary: dict, results: list[QuestionResult], config: dict) -> dict:
    """Write the summary, the configuration it was measured with, figures per tag and per-question rows as JSON;
    returns what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"summary": summary, "config": config, "by_tag": summarize_by_tag(results),
               "results": [result_row(r) for r in results]}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return payload
