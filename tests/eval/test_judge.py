"""The optional LLM judge, against a scripted OpenAI-compatible server on 127.0.0.1 (no network)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eval.judge import JudgeUnavailableError, make_judge, parse_verdict
from eval.run import Question, run_eval

from .conftest import make_answer

pytest.importorskip("openai")


class _Scripted(BaseHTTPRequestHandler):
    """Answers POST /v1/chat/completions with the next scripted reply and records each request body."""

    replies: list = []
    requests: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        status, content = type(self).replies.pop(0)
        payload = {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": content}}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(payload if status == 200 else {"error": {"message": content}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture()
def judge_server():
    _Scripted.replies, _Scripted.requests = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Scripted
    server.shutdown()
    server.server_close()


def test_judge_rates_faithfulness_and_correctness_with_reasons(judge_server):
    url, script = judge_server
    script.replies = [
        (200, '```json\n{"faithfulness": 1, "faithfulness_reason": "都来自段落[1]", "correctness": 0.5, '
              '"correctness_reason": "少了一个要点"}\n```'),
        (200, "I cannot grade this."),
        (400, "model not loaded"),  # 4xx: not retried
    ]
    questions = [
        Question("j1", "领导小组常务副组长是谁？", True, evidence=["李岳星"], reference="李岳星同志"),
        Question("j2", "第二个问题", True),
        Question("j3", "第三个问题", True),
        Question("j4", "拒答的问题", False),
    ]
    answers = {
        "领导小组常务副组长是谁？": make_answer("领导小组常务副组长是谁？", "李岳星任常务副组长[1]。",
                                    ["李岳星同志任常务副组长。"], [0]),
        "第二个问题": make_answer("第二个问题", "答[1]", ["段落二"], [0]),
        "第三个问题": make_answer("第三个问题", "答[1]", ["段落三"], [0]),
        "拒答的问题": make_answer("拒答的问题", "没有找到", ["无关"], [], answerable=False),
    }
    judge = make_judge(url, "judge-model", api_key="k", timeout=5)
    summary, results = run_eval(questions, lambda q: answers[q], judge=judge)

    first = results[0].judge
    assert first["faithfulness"] == 1.0 and first["correctness"] == 0.5
    assert first["faithfulness_reason"] == "都来自段落[1]" and first["error"] is None
    sent = script.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["model"] == "judge-model"
    prompt = sent["body"]["messages"][-1]["content"]
    assert "李岳星同志任常务副组长。" in prompt and "参考答案：李岳星同志" in prompt  # cited passage and reference
    assert results[1].judge["faithfulness"] is None and "not a JSON object" in results[1].judge["error"]
    assert results[2].judge["error"].startswith("judge request failed")  # batch went on
    assert results[3].judge["skipped"] and len(script.requests) == 3  # refusals are not sent
    assert summary["judge_faithfulness"] == 1.0 and summary["judge_correctness"] == 0.5


def test_parse_verdict_clamps_and_drops_correctness_without_reference():
    v = parse_verdict('{"faithfulness": 3, "faithfulness_reason": " ok \\n fine ", "correctness": 1}', False)
    assert v["faithfulness"] == 1.0 and v["faithfulness_reason"] == "ok fine" and v["correctness"] is None


def test_judge_needs_an_endpoint_and_model():
    with pytest.raises(JudgeUnavailableError, match="--judge-url"):
        make_judge(None, "m")


def test_eval_cli_runs_the_judge_only_when_asked(cli_env, judge_server, tmp_path):
    from typer.testing import CliRunner

    from service.cli import app

    url, script = judge_server
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "x1", "question": "“四讲四比”是哪四讲四比？",
                                     "reference": "讲政治比忠诚"}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    plain = CliRunner().invoke(app, ["eval", str(questions), "--out", str(out)])
    assert plain.exit_code == 0 and not script.requests and "judge" not in json.loads(out.read_text("utf-8"))["config"]
    missing = CliRunner().invoke(app, ["eval", str(questions), "--judge"])
    assert missing.exit_code == 2 and "--judge-url" in " ".join(missing.output.split())

    script.replies = [(200, '{"faithfulness": 0.5, "faithfulness_reason": "一半有据", "correctness": 1, '
                            '"correctness_reason": "与参考一致"}')]
    judged = CliRunner().invoke(app, ["eval", str(questions), "--out", str(out), "--judge", "--judge-url", url,
                                      "--judge-model", "m"])
    assert judged.exit_code == 0, judged.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["config"]["judge"] == {"model": "m", "judged": 1, "skipped": 0, "failed": 0}
    assert report["summary"]["judge_faithfulness"] == 0.5 and report["summary"]["judge_correctness"] == 1.0
    assert "一半有据" in out.with_suffix(".html").read_text(encoding="utf-8")
