"""Optional LLM judge (off by default): rates each answer's faithfulness to the passages it cites and its
correctness against the reference answer, each with a one-line reason, through any OpenAI-compatible endpoint."""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from .run import Question, QuestionResult

ASPECTS = ("faithfulness", "correctness")
_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


class JudgeUnavailableError(RuntimeError):
    """The judge cannot run at all (package missing, no endpoint or model): says what to set."""


def parse_verdict(text: str, has_reference: bool) -> dict:
    """The judge's JSON reply as {aspect: score in [0, 1] or None, aspect_reason: str}; a reply that is not
    such JSON gives None scores and the reason in "error"."""
    match = _JSON_OBJECT.search(text or "")
    try:
        raw = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        raw = None
    if not isinstance(raw, dict):
        return {**{a: None for a in ASPECTS}, **{f"{a}_reason": "" for a in ASPECTS},
                "error": f"judge reply is not a JSON object: {' '.join((text or '').split())[:120]!r}"}
    verdict: dict = {"error": None}
    for aspect in ASPECTS:
        value = raw.get(aspect)
        try:
            score = None if value is None else min(1.0, max(0.0, float(value)))
        except (TypeError, ValueError):
            score = None
        if aspect == "correctness" and not has_reference:
            score = None  # nothing to be correct against; a model's guess would not be a measurement
        verdict[aspect] = score
        verdict[f"{aspect}_reason"] = " ".join(str(raw.get(f"{aspect}_reason") or "").split())[:300]
    return verdict


def judge_prompt(question: Question, result: QuestionResult) -> str:
    """The judge's user message: question, answer, the cited passages and the reference."""
    from .report import render

    passages = [{"n": c["n"], "text": c["text"]} for c in result.response.get("citations", [])]
    return render("judge.md", question=question.question, answer=result.answer, passages=passages,
                  reference=question.reference)


def make_judge(
    base_url: str | None,
    model: str | None,
    api_key: str | None = None,
    timeout: float = 60.0,
) -> Callable[[Question, QuestionResult], dict]:
    """A judge function for `run_eval`; raises JudgeUnavailableError when it cannot be set up. Errors of single
    requests are recorded in the verdict's "error", never raised (a flaky endpoint must not sink the batch)."""
    if not base_url or not model:
        raise JudgeUnavailableError("the LLM judge needs an endpoint and a model: --judge-url http://HOST:PORT/v1 "
                                    "--judge-model NAME (or POLICYQA_LLM_BASE_URL / POLICYQA_LLM_MODEL)")
    try:
        from openai import OpenAI
    except ImportError:
        raise JudgeUnavailableError("the LLM judge needs the `openai` package: pip install openai") from None
    client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=1)

    def judge(question: Question, result: QuestionResult) -> dict:
        if not result.answered:
            return {**{a: None for a in ASPECTS}, **{f"{a}_reason": "" for a in ASPECTS},
                    "error": None, "skipped": "refusal: nothing to judge"}
        try:
            reply = client.chat.completions.create(
                model=model, temperature=0, max_tokens=300,
                messages=[{"role": "system", "content": "You are a strict grader. Reply with one JSON object only."},
                          {"role": "user", "content": judge_prompt(question, result)}],
            )
            text = reply.choices[0].message.content or ""
        except Exception as exc:  # noqa: BLE001 - any transport/API failure is one question's verdict, not a crash
            return {**{a: None for a in ASPECTS}, **{f"{a}_reason": "" for a in ASPECTS},
                    "error": f"judge request failed: {type(exc).__name__}: {exc}"[:300]}
        return parse_verdict(text, has_reference=bool(question.reference))

    return judge


def judge_summary(verdicts: list[Mapping]) -> dict[str, int]:
    """How many answers were judged, skipped and failed."""
    return {
        "judged": sum(1 for v in verdicts if not v.get("error") and not v.get("skipped")),
        "skipped": sum(1 for v in verdicts if v.get("skipped")),
        "failed": sum(1 for v in verdicts if v.get("error")),
    }
