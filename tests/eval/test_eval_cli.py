"""`policyqa eval` end to end on the fake-encoder index: reports, switches, optional question fields."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from service.cli import app

from .conftest import SPEECHES

runner = CliRunner()
QUESTIONS = [
    {"id": "x1", "question": "“四讲四比”是哪四讲四比？", "answerable": True,
     "evidence": [{"source": "000_83ce6312508b97ba.txt", "text": "讲政治比忠诚"}], "key_points": ["讲政治比忠诚"],
     "reference": "讲政治比忠诚、讲担当比作为。", "tags": ["活动"]},
    {"id": "x2", "question": "2035年火星基地的预算是多少？", "answerable": False, "tags": "无答案"},
]


def _file(tmp_path, rows) -> str:
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _flat(output: str) -> str:
    return " ".join(output.split())


def test_eval_writes_json_markdown_and_html(cli_env, tmp_path):
    out = tmp_path / "dev.json"
    result = runner.invoke(app, ["eval", _file(tmp_path, QUESTIONS), "--out", str(out), "--leg", "bm25",
                                 "--top-k", "6"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["config"]["leg"] == "bm25" and report["config"]["top_k"] == 6
    assert report["config"]["chunk_size"] == 300
    assert {"reference_char_f1", "reference_rouge_l"} <= report["summary"].keys()
    assert set(report["by_tag"]) == {"活动", "无答案"}
    assert report["results"][0]["scores"]["tags"] == ["活动"]
    assert out.with_suffix(".md").exists() and out.with_suffix(".html").exists()
    assert "dev.html" in _flat(result.output)


def test_chunk_size_measures_a_temporary_rechunked_index(cli_env, tmp_path):
    before = sorted(p.name for p in (cli_env / "versions").iterdir())
    out = tmp_path / "small.json"
    result = runner.invoke(app, ["eval", _file(tmp_path, QUESTIONS[:1]), "--out", str(out), "--chunk-size", "120"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["config"]["chunk_size"] == 120 and "re-chunked" in report["config"]["index"]
    assert all(len(r["text"]) <= 120 for r in report["results"][0]["retrieved"])
    assert sorted(p.name for p in (cli_env / "versions").iterdir()) == before  # the real index is untouched

    from_corpus = runner.invoke(app, ["eval", _file(tmp_path, QUESTIONS[:1]), "--out", str(out),
                                      "--chunk-size", "200", "--corpus", str(SPEECHES)])
    assert from_corpus.exit_code == 0, from_corpus.output
    assert json.loads(out.read_text(encoding="utf-8"))["config"]["chunk_size"] == 200


def test_switches_are_checked(cli_env, tmp_path):
    questions = _file(tmp_path, QUESTIONS[:1])
    bad_generator = runner.invoke(app, ["eval", questions, "--generator", "gpt-9"])
    assert bad_generator.exit_code == 2 and "extractive" in _flat(bad_generator.output)
    bad_leg = runner.invoke(app, ["eval", questions, "--leg", "sparse"])
    assert bad_leg.exit_code == 2 and "sparse" in bad_leg.output
    corpus_alone = runner.invoke(app, ["eval", questions, "--corpus", str(SPEECHES)])
    assert corpus_alone.exit_code == 2 and "--chunk-size" in _flat(corpus_alone.output)
    nothing = runner.invoke(app, ["eval"])
    assert nothing.exit_code == 2 and "question file" in _flat(nothing.output)
    ok = runner.invoke(app, ["eval", questions, "--generator", "extractive", "--out", str(tmp_path / "g.json")])
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))["config"]["generator"] == "extractive"


def test_bad_optional_fields_name_line_and_field(cli_env, tmp_path):
    rows = [QUESTIONS[0], {**QUESTIONS[1], "tags": [1, 2]}]
    result = runner.invoke(app, ["eval", _file(tmp_path, rows)])
    assert result.exit_code == 2 and "q.jsonl:2: field 'tags' must be a list of strings" in _flat(result.output)
    rows = [{**QUESTIONS[0], "reference": ["not", "a", "string"]}]
    result = runner.invoke(app, ["eval", _file(tmp_path, rows)])
    assert result.exit_code == 2 and "q.jsonl:1: field 'reference' must be a string" in _flat(result.output)
