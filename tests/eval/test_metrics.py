"""The evaluation's matching rule and summary figures."""
from __future__ import annotations

import json
import math

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


# ----------------------------------------------------------------------------------------------- ranking metrics


def test_ndcg_hand_computed():
    from eval.metrics import ndcg_at_k

    # relevant a (grade 1) at rank 2 of 3; ideal puts it at rank 1 -> (1/log2 3) / (1/log2 2)
    assert ndcg_at_k(["x", "a", "y"], {"a": 1}, 10) == pytest.approx(1 / math.log2(3))
    # graded: b (2) at rank 1, a (1) at rank 3; ideal b, a at 1, 2
    dcg = 2 / math.log2(2) + 1 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["b", "x", "a"], {"a": 1, "b": 2}, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["x", "y"], {"a": 1}, 10) == 0.0
    assert ndcg_at_k(["x", "a"], {"a": 1}, 1) == 0.0  # outside the cut-off


def test_recall_hit_and_mrr_hand_computed():
    from eval.metrics import hit_at_k, mrr_at_k, recall_at_k

    ranked, rel = ["x", "a", "y", "b"], {"a": 1, "b": 1, "c": 1}
    assert recall_at_k(ranked, rel, 1) == 0.0
    assert recall_at_k(ranked, rel, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, rel, 10) == pytest.approx(2 / 3)
    assert hit_at_k(ranked, rel, 1) == 0.0 and hit_at_k(ranked, rel, 2) == 1.0
    assert mrr_at_k(ranked, rel, 10) == 0.5
    assert mrr_at_k(ranked, rel, 1) == 0.0
    assert recall_at_k(ranked, {"a": 0}, 5) == 0.0  # grade 0 is not relevant


# ----------------------------------------------------------------------------------------------- reference metrics


def test_lcs_and_rouge_l_hand_computed():
    from eval.metrics import lcs_length, rouge_l

    assert lcs_length("abcde", "ace") == 3
    assert lcs_length("", "abc") == 0
    # answer 我们要发展经济 (7 chars), reference 发展地方经济 (6 chars): LCS 发展经济 = 4
    p, r = 4 / 7, 4 / 6
    assert rouge_l("我们要发展经济。", "发展地方经济") == pytest.approx(2 * p * r / (p + r))
    assert rouge_l("完全无关", "发展经济") == 0.0


def test_char_f1_counts_characters_after_normalisation():
    from eval.metrics import char_f1

    # answer 李岳星同志 (5 chars) vs reference 李岳星 (3): overlap 3 -> P 3/5, R 1
    assert char_f1("李岳星同志。", "李岳星") == pytest.approx(2 * 0.6 * 1 / 1.6)
    assert char_f1("兩定五考", "两定五考") == 1.0  # traditional vs simplified, punctuation ignored
    assert char_f1("", "两定五考") == 0.0
