"""The evaluation's matching rule and summary figures."""
from __future__ import annotations

import json

import pytest

from eval.metrics import contains, evidence_rank, normalize_for_match, percentile
from eval.run import QuestionFileError, QuestionResult, load_questions, summarize


def test_normalize_for_match_follows_the_question_file_rule():
    assert normalize_for_match("再創(chuàng)新輝煌，ＡＢＣ 100%!") == "再创新辉煌abc100%"


def test_contains_ignores_punctuation_and_script():
    assert contains("要堅決執行“六項制度”。", "六项制度")
    assert not contains("六项制度", "")


def test_evidence_rank_is_one_based_first_match():
    assert evidence_rank(["无关", "这里有目标", "目标"], ["目标"]) == 2
    assert evidence_rank(["无关"], ["目标"]) is None


def test_percentile_interpolates():
    assert percentile([10, 20, 30, 40], 50) == pytest.approx(25)
    assert percentile([], 50) == 0.0


def _result(**kw) -> QuestionResult:
    base = dict(id="q", question="?", answerable=True, answered=True, answer="", has_evidence=True,
                evidence_rank=1, cited_evidence=True, key_points_found=[], key_points_missed=[],
                citations=[], latency_ms=10.0)
    base.update(kw)
    return QuestionResult(**base)


def test_summary_counts_refusals_and_hits_separately():
    results = [
        _result(evidence_rank=1, key_points_found=["a"], key_points_missed=["b"]),
        _result(evidence_rank=7, answered=False),
        _result(answerable=False, answered=False, has_evidence=False, evidence_rank=None),
    ]
    s = summarize(results)
    assert s["hit@1"] == 0.5 and s["hit@5"] == 0.5
    assert s["false_refusal_rate"] == 0.5
    assert s["refusal_accuracy"] == 1.0
    assert s["key_point_coverage"] == 0.5


def test_bad_question_line_names_line_and_field(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "问题"}) + "\n" + json.dumps({"id": "b"}) + "\n",
                    encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r"q.jsonl:2: field 'question'"):
        load_questions(path)


def test_summary_reports_grounded_ratio_over_llm_answers_and_fallback_rate():
    results = [_result(grounded_ratio=1.0), _result(grounded_ratio=0.5), _result(fallback=True), _result()]
    s = summarize(results)
    assert s["grounded_ratio"] == 0.75  # answers without an LLM text do not count
    assert s["fallback_rate"] == 0.25
    assert summarize([_result()])["grounded_ratio"] is None
