"""A small scripted OpenAI-compatible chat server for tests and measurements (127.0.0.1 only).

Each request takes the next scripted `Reply` (then the default one): fixed text, "echo" (an extractive answer built
from the <passage> blocks of the prompt, with [n] markers, so the whole LLM path can be measured), a slow reply, an
HTTP 500, a body that is not JSON, or a JSON body without choices. Streaming requests get server-sent events.

Standalone: python -m tests.service.answer.llm_server --port 8011 --mode echo
"""
from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Kind = Literal["text", "echo", "slow", "fail", "badjson", "nochoices"]
REFUSAL = "资料库中的讲话和文件没有回答这个问题。"
_PASSAGE = re.compile(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', re.S)
_QUESTION = re.compile(r"^问题：(.*)$", re.M)
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


@dataclass(frozen=True)
class Reply:
    """One scripted reply."""

    kind: Kind = "echo"
    text: str = ""
    delay: float = 0.0  # seconds to wait before answering (kind "slow", or any kind)


def echo_rewrite(prompt: str) -> str:
    """Rewrite a follow-up like a literal-minded LLM: the first earlier question's subject joined to the new one."""
    earlier = re.findall(r"^第\d+轮问题：(.*)$", prompt, re.M)
    new = (re.search(r"^新问题：(.*)$", prompt, re.M) or [None, ""])[1]
    return f"{earlier[0].rstrip('？?')}，{new}" if earlier else new


def echo_answer(prompt: str, sentences: int = 3) -> str:
    """Answer like a careful LLM would: the passage sentences sharing most bigrams with the question, cited."""
    question = (_QUESTION.search(prompt) or [None, ""])[1]
    grams = {question[i:i + 2] for i in range(len(question) - 1)}
    scored = []
    for n, text in _PASSAGE.findall(prompt):
        for sentence in _SENTENCE.findall(text):
            sentence = sentence.strip().lstrip("#*- ").strip()
            overlap = sum(g in sentence for g in grams)
            if len(sentence) >= 6 and overlap >= 2:
                scored.append((overlap, -int(n), sentence, n))
    best = sorted(scored, reverse=True)[:sentences]
    if not best:
        return REFUSAL
    return "".join(f"{s if s[-1] in '。！？；' else s + '。'}[{n}]" for _, _, s, n in best)


class ScriptedLLM:
    """The server's script and the requests it received (tests assert on both)."""

    def __init__(self, default: Reply = Reply("echo")) -> None:
        self.default = default
        self.script: deque[Reply] = deque()
        self.requests: list[dict] = []
        self.authorizations: list[str | None] = []
        self._lock = threading.Lock()

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self.script.extend(replies)

    def next_reply(self, body: dict, authorization: str | None = None) -> Reply:
        """Record a request and take the reply for it."""
        with self._lock:
            self.requests.append(body)
            self.authorizations.append(authorization)
            return self.script.popleft() if self.script else self.default


def _handler(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                return self._send(404, b'{"error": {"message": "not found"}}')
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            reply = llm.next_reply(body, self.headers.get("Authorization"))
            if reply.delay or reply.kind == "slow":
                time.sleep(reply.delay or 5.0)
            if reply.kind == "fail":
                return self._send(500, b'{"error": {"message": "scripted failure"}}')
            if reply.kind == "badjson":
                if body.get("stream"):
                    return self._send(200, b"data: {not json\n\n", "text/event-stream")
                return self._send(200, b"{not json", "application/json")
            if reply.kind == "nochoices":
                payload = {"id": "x", "object": "chat.completion", "model": body.get("model", "")}
                if body.get("stream"):
                    return self._send(200, f"data: {json.dumps(payload)}\n\ndata: [DONE]\n\n".encode(), "text/event-stream")
                return self._send(200, json.dumps(payload).encode())
            prompt = body["messages"][-1]["content"] if body.get("messages") else ""
            text = reply.text
            if reply.kind in ("echo", "slow") and not reply.text:
                text = echo_rewrite(prompt) if "新问题：" in prompt else echo_answer(prompt)
            if body.get("stream"):
                return self._stream(body, text)
            payload = {"id": "cmpl-1", "object": "chat.completion", "created": int(time.time()),
                       "model": body.get("model", ""),
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": text}}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            self._send(200, json.dumps(payload, ensure_ascii=False).encode())

        def _stream(self, body: dict, text: str) -> None:
            events = []
            for i in range(0, len(text), 3):  # small pieces, cutting through sentences and markers
                events.append({"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0,
                               "model": body.get("model", ""),
                               "choices": [{"index": 0, "delta": {"content": text[i:i + 3]}, "finish_reason": None}]})
            events.append({"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0,
                           "model": body.get("model", ""), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            data = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events) + "data: [DONE]\n\n"
            self._send(200, data.encode(), "text/event-stream")

        def _send(self, status: int, data: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

    return Handler


def start_server(llm: ScriptedLLM, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve `llm` on 127.0.0.1 in a daemon thread; returns the server and its /v1 base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(llm))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def main() -> None:
    """Run the scripted server in the foreground (for `policyqa eval` against a stand-in LLM)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--mode", choices=["echo", "fail", "slow", "badjson", "nochoices"], default="echo")
    args = parser.parse_args()
    server, url = start_server(ScriptedLLM(Reply(args.mode)), args.port)
    print(f"scripted LLM ({args.mode}) at {url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
