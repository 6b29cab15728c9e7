"""The `policyqa` command line, end to end on the sample speeches (fake encoder, so it is fast)."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from service.cli import app

runner = CliRunner()


def _ingest(*args: str):
    return runner.invoke(app, ["ingest", *args])


def test_ingest_then_ask_json_follows_the_contract(cli_env, corpus_copy):
    result = _ingest(str(corpus_copy))
    assert result.exit_code == 0, result.output
    assert "5 indexed" in result.output

    result = runner.invoke(app, ["ask", "招商引资有哪些要求？", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "answerable", "citations", "retrieved", "timings_ms"}
    assert len(data["retrieved"]) >= 5
    assert data["answerable"] is True
    retrieved_texts = {r["text"] for r in data["retrieved"]}
    for c in data["citations"]:
        assert f"[{c['n']}]" in data["answer"]
        assert c["text"] in retrieved_texts  # every citation resolves to a retrieved passage
        assert c["end"] - c["start"] == len(c["text"])
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}


def test_reingest_unchanged_does_no_work_and_changed_file_is_replaced(cli_env, corpus_copy):
    assert _ingest(str(corpus_copy)).exit_code == 0
    again = _ingest(str(corpus_copy))
    assert again.exit_code == 0 and "0 indexed, 5 unchanged" in again.output

    target = corpus_copy / "001_271047c1099e0ed2.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n新增一段：开展亩均税收专项评价。\n", encoding="utf-8")
    changed = _ingest(str(corpus_copy))
    assert "1 indexed, 4 unchanged" in changed.output
    ask = runner.invoke(app, ["ask", "亩均税收专项评价", "--json"])
    assert "亩均税收" in json.loads(ask.stdout)["retrieved"][0]["text"]

    removed = _ingest("--remove", target.name)
    assert removed.exit_code == 0 and "1 removed" in removed.output
    ask = runner.invoke(app, ["ask", "亩均税收专项评价", "--json"])
    assert all(r["source"] != target.name for r in json.loads(ask.stdout)["retrieved"])


def test_bad_input_batch_keeps_good_files_and_names_each_failure(cli_env, corpus_copy, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<\nthis is not a pdf\n")
    (batch / "empty.txt").write_bytes(b"")
    (batch / "binary.txt").write_bytes(bytes(range(256)) * 64)
    good = (corpus_copy / "001_271047c1099e0ed2.txt").read_text(encoding="utf-8")
    (batch / "gbk.txt").write_bytes(good.encode("gbk"))
    with open(batch / "huge.txt", "wb") as fh:  # 50 MB, over the default size limit
        fh.truncate(50 * 1024 * 1024)

    first = _ingest(str(corpus_copy / "000_83ce6312508b97ba.txt"))
    assert first.exit_code == 0
    result = _ingest(str(batch))
    assert result.exit_code == 1
    for name in ("corrupt.pdf", "empty.txt", "binary.txt", "huge.txt"):
        assert name in result.output
    assert "1 indexed" in result.output and "4 failed" in result.output

    ask = runner.invoke(app, ["ask", "帮扶企业要提高温度", "--json", "--top-k", "10"])
    sources = {r["source"] for r in json.loads(ask.stdout)["retrieved"]}
    assert "gbk.txt" in sources  # the GBK copy was decoded and indexed
    ask = runner.invoke(app, ["ask", "四讲四比主题活动", "--json"])
    assert "000_83ce6312508b97ba.txt" in {r["source"] for r in json.loads(ask.stdout)["retrieved"]}


def test_ask_without_index_says_how_to_build_one(cli_env):
    result = runner.invoke(app, ["ask", "招商引资有哪些要求？"])
    assert result.exit_code == 2
    assert "policyqa ingest" in result.output


def test_eval_writes_a_report(cli_env, corpus_copy, tmp_path):
    assert _ingest(str(corpus_copy)).exit_code == 0
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "x1", "question": "“四讲四比”是哪四讲四比？", "answerable": True,
                    "evidence": [{"source": "000_83ce6312508b97ba.txt", "text": "讲政治比忠诚"}],
                    "key_points": ["讲政治比忠诚"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["eval", str(questions), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["questions"] == 1
    row = report["results"][0]
    assert row["id"] == "x1" and row["scores"]["evidence_rank"] is not None
    # each row is the answer object of the shared contract
    assert {"question", "answer", "answerable", "citations", "retrieved", "timings_ms"} <= row.keys()
    assert {"hit@1", "hit@5", "mrr", "key_point_coverage", "citation_support", "refusal_accuracy",
            "false_refusal_rate", "latency_p50_ms", "latency_p95_ms"} <= report["summary"].keys()
