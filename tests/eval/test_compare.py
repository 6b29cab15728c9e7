"""`policyqa eval --compare OLD NEW`: figure deltas with verdicts, questions that got better or worse."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from eval.compare import ReportFileError, compare_reports, load_report
from eval.run import Question, run_eval, write_report
from service.cli import app

from .conftest import make_answer

QUESTIONS = [
    Question("a", "甲问题", True, evidence=["证据甲"], key_points=["要点一", "要点二"]),
    Question("b", "乙问题", True, evidence=["证据乙"], key_points=["要点乙"]),
    Question("c", "丙问题", False),
]


def _run(tmp_path, name, answers) -> tuple[dict, str]:
    summary, results = run_eval(QUESTIONS, lambda text: answers[text])
    path = tmp_path / f"{name}.json"
    return write_report(path, summary, results, {"questions": "q.jsonl", "leg": name}), str(path)


@pytest.fixture()
def two_runs(tmp_path):
    old = {
        "甲问题": make_answer("甲问题", "要点一[1]", ["无关", "证据甲在此"], [1]),  # rank 2, 1 of 2 points
        "乙问题": make_answer("乙问题", "要点乙[1]", ["证据乙"], [0]),
        "丙问题": make_answer("丙问题", "无从回答", ["一段"], [], answerable=False),
    }
    new = {
        "甲问题": make_answer("甲问题", "要点一，要点二[1]", ["证据甲在此"], [0]),  # rank 1, 2 of 2 points
        "乙问题": make_answer("乙问题", "没有找到", ["无关"], [], answerable=False),  # lost evidence, refused
        "丙问题": make_answer("丙问题", "无从回答", ["一段"], [], answerable=False),
    }
    return _run(tmp_path, "old", old), _run(tmp_path, "new", new)


def test_compare_gives_deltas_and_question_directions(two_runs):
    (old, old_path), (new, new_path) = two_runs
    c = compare_reports(old, new, old_path, new_path)
    figures = {f["name"]: f for f in c["figures"]}
    assert figures["hit@1"]["old"] == 0.5 and figures["hit@1"]["new"] == 0.5 and figures["hit@1"]["verdict"] == "same"
    assert figures["false_refusal_rate"]["delta"] == pytest.approx(0.5)
    assert figures["false_refusal_rate"]["verdict"] == "worse"  # lower is better
    assert figures["mrr"]["delta"] == pytest.approx(0.5 - 0.75)
    assert figures["mrr"]["verdict"] == "worse"
    assert [q["id"] for q in c["questions"]["better"]] == ["a"]
    assert [q["id"] for q in c["questions"]["worse"]] == ["b"]
    assert c["questions"]["unchanged"] == ["c"]
    better = c["questions"]["better"][0]["changes"]
    assert "evidence rank 2 → 1" in better and "key points 1/2 → 2/2" in better
    assert "answered → refused" in c["questions"]["worse"][0]["changes"]


def test_compare_cli_prints_and_writes(two_runs, tmp_path):
    (_, old_path), (_, new_path) = two_runs
    out = tmp_path / "cmp.json"
    result = CliRunner().invoke(app, ["eval", "--compare", old_path, new_path, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "false_refusal_rate" in result.output and "worse: 1" in result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert [q["id"] for q in written["questions"]["worse"]] == ["b"]
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| false\\_refusal\\_rate | 0.000 | 0.500 | +0.500 | worse |" in md
    assert "## Questions that got worse (1)" in md


def test_compare_rejects_a_file_that_is_not_a_report(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"figures": {}}', encoding="utf-8")
    with pytest.raises(ReportFileError, match="not an eval report"):
        load_report(bad)
    result = CliRunner().invoke(app, ["eval", "--compare", str(bad), str(bad)])
    assert result.exit_code == 2 and "not an eval report" in " ".join(result.output.split())
