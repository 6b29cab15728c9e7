"""The quality gate: floors file format, pass/fail, and `policyqa eval --floors` exiting non-zero."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.floors import FloorsFileError, check_floors, load_floors
from service.cli import app

REPO = Path(__file__).resolve().parents[2]


def _floors(tmp_path, data) -> Path:
    path = tmp_path / "floors.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_checks_min_and_max_bounds(tmp_path):
    floors = load_floors(_floors(tmp_path, {"_about": "comment", "hit@5": {"min": 0.8},
                                            "false_refusal_rate": {"max": 0.1}}))
    ok = check_floors({"hit@5": 0.85, "false_refusal_rate": 0.05}, floors)
    assert all(c.passed for c in ok) and len(ok) == 2
    bad = check_floors({"hit@5": 0.75, "false_refusal_rate": 0.2}, floors)
    assert [c.passed for c in bad] == [False, False]
    assert "hit@5 = 0.750, must be >= 0.8 (FAILED)" in bad[0].message
    assert "false_refusal_rate = 0.200, must be <= 0.1" in bad[1].message


def test_a_figure_the_run_did_not_measure_fails(tmp_path):
    floors = load_floors(_floors(tmp_path, {"reference_char_f1": {"min": 0.3}}))
    (check,) = check_floors({"hit@5": 1.0}, floors)
    assert not check.passed and "not measured" in check.message
    (none,) = check_floors({"reference_char_f1": None}, floors)
    assert not none.passed


@pytest.mark.parametrize("data", [{"hit@5": 0.8}, {"hit@5": {"least": 0.8}}, {"hit@5": {"min": "high"}}, {}, []])
def test_bad_floors_files_are_named(tmp_path, data):
    with pytest.raises(FloorsFileError, match="floors.json"):
        load_floors(_floors(tmp_path, data))


def test_checked_in_floors_file_is_valid_and_one_figure_a_line():
    path = REPO / "eval" / "floors.json"
    floors = load_floors(path)
    assert {"hit@5", "refusal_accuracy", "false_refusal_rate", "key_point_coverage", "citation_support"} <= set(floors)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if '"min"' in line or '"max"' in line]
    assert len(lines) == sum(len(b) for b in floors.values())  # raising a floor edits exactly one line


def _questions(tmp_path) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "x1", "question": "“四讲四比”是哪四讲四比？", "answerable": True,
                                "evidence": [{"source": "000_83ce6312508b97ba.txt", "text": "讲政治比忠诚"}],
                                "key_points": ["讲政治比忠诚"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_eval_with_floors_passes_and_fails(cli_env, tmp_path):
    questions = _questions(tmp_path)
    out = tmp_path / "r.json"
    passing = _floors(tmp_path, {"hit@5": {"min": 0.5}, "false_refusal_rate": {"max": 0.5}})
    ok = CliRunner().invoke(app, ["eval", str(questions), "--out", str(out), "--floors", str(passing)])
    assert ok.exit_code == 0, ok.output
    assert "quality gate passed" in ok.output

    failing = tmp_path / "strict.json"
    failing.write_text(json.dumps({"hit@5": {"min": 0.5}, "latency_p95_ms": {"max": 0.0}}), encoding="utf-8")
    bad = CliRunner().invoke(app, ["eval", str(questions), "--out", str(out), "--floors", str(failing)])
    assert bad.exit_code == 1
    text = " ".join(bad.output.split())
    assert "quality gate failed" in text and "latency_p95_ms" in text and "must be <= 0.0" in text
    assert out.with_suffix(".html").exists()  # the reports are written before the gate says no
