"""Markdown and HTML reports: every section present, text escaped, nothing loaded from outside the file."""
from __future__ import annotations

import json
import re

import pytest

from eval.report import curve_geometry, md_cell, recall_curve, write_reports
from eval.run import Question, failure_causes, run_eval, score_question, write_report

from .conftest import make_answer

EVIL = "<script>alert('x')</script> | **粗体**"


def _results():
    questions = [
        Question("q1", "招商引资有哪些要求？", True, evidence=["项目为王"], key_points=["项目为王", "环境"],
                 reference="坚持项目为王，优化环境。", tags=["招商"]),
        Question("q2", f"恶意 {EVIL}", True, evidence=["亩均税收"], key_points=["亩均"], tags=["招商", "评价"]),
        Question("q3", "证据取到但没引用？", True, evidence=["两定五考"], key_points=["两定五考"]),
        Question("q4", "不该回答的问题", False),
        Question("q5", "被错误拒答的问题", True, evidence=["月调度"], key_points=["月调度"]),
    ]
    texts = {q.id: q.question for q in questions}
    answers = {
        "q1": make_answer(texts["q1"], "要坚持项目为王，优化营商环境[1]。", ["坚持项目为王，优化营商环境。", "无关"], [0]),
        "q2": make_answer(texts["q2"], f"答案里也有 {EVIL}[1]", ["无关段落", "另一个"], [0]),
        "q3": make_answer(texts["q3"], "实行两定五考[1]", ["别的", "实行“两定五考”办法"], [0]),
        "q4": make_answer(texts["q4"], "某个答案[1]", ["一段"], [0]),
        "q5": make_answer(texts["q5"], "没有找到", ["无关"], [], answerable=False),
    }
    by_question = {q.question: answers[q.id] for q in questions}
    return questions, run_eval(questions, lambda text: by_question[text])


def test_failure_causes_cover_each_kind():
    _, (_, results) = _results()
    causes = {r.id: r.failures for r in results}
    assert causes["q1"] == []
    assert causes["q2"] == ["evidence_not_retrieved", "key_points_missing"]
    assert causes["q3"] == ["retrieved_not_cited"]
    assert causes["q4"] == ["answered_unanswerable"]
    assert causes["q5"] == ["evidence_not_retrieved", "wrong_refusal"]
    assert all(failure_causes(r) == r.failures for r in results)


def test_reference_and_tag_figures(tmp_path):
    _, (summary, results) = _results()
    q1 = next(r for r in results if r.id == "q1")
    assert 0 < q1.reference_char_f1 <= 1 and 0 < q1.reference_rouge_l <= 1
    assert summary["reference_char_f1"] == pytest.approx(q1.reference_char_f1)  # only q1 has a reference
    payload = write_report(tmp_path / "r.json", summary, results, {"questions": "q.jsonl"})
    assert set(payload["by_tag"]) == {"招商", "评价"}
    assert payload["by_tag"]["招商"]["questions"] == 2 and payload["by_tag"]["评价"]["questions"] == 1
    assert payload["by_tag"]["评价"]["hit@5"] == 0.0 and payload["by_tag"]["招商"]["hit@5"] == 0.5


def test_recall_curve_counts_ranks_up_to_the_retrieval_depth():
    rows = [{"scores": {"answerable": True, "has_evidence": True, "evidence_rank": rank}, "retrieved": [{}] * 3}
            for rank in (1, 3, None, 2)]
    rows.append({"scores": {"answerable": False, "has_evidence": False, "evidence_rank": None}, "retrieved": []})
    assert recall_curve(rows) == [(1, 0.25), (2, 0.5), (3, 0.75)]
    assert recall_curve(rows, depth=2) == [(1, 0.25), (2, 0.5)]
    chart = curve_geometry(recall_curve(rows))
    ys = [m["y"] for m in chart["marks"]]
    assert ys == sorted(ys, reverse=True)  # higher recall is drawn higher up
    assert chart["marks"][0]["x"] == chart["left"] and chart["marks"][-1]["x"] == chart["right"]


def test_html_report_is_self_contained_escaped_and_complete(tmp_path):
    _, (summary, results) = _results()
    path = tmp_path / "dev.json"
    payload = write_report(path, summary, results, {"questions": "dev.jsonl", "leg": "hybrid", "top_k": 5})
    md_path, html_path = write_reports(path, payload)
    html = html_path.read_text(encoding="utf-8")

    # nothing fetched from elsewhere: no external scripts, styles, images, fonts or imports
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "<script" not in html  # the page needs no script at all; the only "<script" would be the evil text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    # sections
    assert "<svg" in html and "<polyline" in html
    for label in ("evidence not retrieved", "retrieved but not cited", "key points missing", "wrong refusal",
                  "answered when it should refuse"):
        assert label in html
    assert "share of answerable questions wrongly refused" not in html  # meanings are the FIGURES ones
    assert "share of answerable questions that were wrongly refused" in html
    assert "s0.txt" in html and "一、总体要求" in html  # citation source and section
    assert "char F1 / ROUGE-L" in html and "评价" in html  # reference column and the tag table
    assert "grounded" not in html  # no LLM fields in extractive answers


def test_markdown_report_escapes_table_cells(tmp_path):
    _, (summary, results) = _results()
    path = tmp_path / "dev.json"
    md = write_reports(path, write_report(path, summary, results, {"questions": "dev.jsonl"}))[0].read_text("utf-8")
    assert "<script>" not in md and "\\<script\\>" in md
    assert "\\| \\*\\*粗体\\*\\*" in md  # a "|" would otherwise split the table row
    header = next(line for line in md.splitlines() if line.startswith("| id | question"))
    rows = [line for line in md.splitlines() if re.match(r"\| q\d ", line)]
    assert len(rows) == 5
    unescaped_pipes = lambda line: len(re.findall(r"(?<!\\)\|", line))  # noqa: E731
    assert all(unescaped_pipes(row) == unescaped_pipes(header) for row in rows)
    assert "## Failures by cause" in md and "| recall@k |" in md


def test_md_cell_flattens_newlines():
    assert md_cell("一\n二|三") == "一 二\\|三"
    assert md_cell(None) == ""


def test_llm_fields_are_shown_when_answers_carry_them(tmp_path):
    questions, (summary, results) = _results()
    for r in results:  # what issue 4's generators add to the answer object
        r.response.update(grounded_ratio=0.75, fallback=r.id == "q2", fallback_reason="timeout",
                          generator="openai")
    from eval.run import summarize

    summary = summarize(results)
    assert summary["grounded_ratio"] == 0.75 and summary["fallback_rate"] == pytest.approx(1 / 5)
    path = tmp_path / "llm.json"
    _, html_path = write_reports(path, write_report(path, summary, results, {}))
    html = html_path.read_text(encoding="utf-8")
    assert "grounded / fallback" in html and "fallback: timeout" in html


def test_reports_can_be_rendered_again_from_the_json_alone(tmp_path):
    _, (summary, results) = _results()
    path = tmp_path / "again.json"
    write_report(path, summary, results, {"questions": "x"})
    md_path, html_path = write_reports(path)
    assert json.loads(path.read_text("utf-8"))["summary"]["questions"] == 5
    assert md_path.exists() and html_path.exists()


def test_score_question_keeps_optional_fields_off_when_absent():
    q = Question("x", "问题", True, evidence=["甲"], key_points=["甲"])
    r = score_question(q, make_answer("问题", "甲[1]", ["甲乙"], [0]))
    assert r.reference_char_f1 is None and r.tags == [] and r.failures == []
