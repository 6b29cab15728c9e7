"""The official `openai` client against a live PolicyQA server on loopback, streaming and not."""
from __future__ import annotations

import socket
import threading
import time

import httpx
import openai
import pytest
import uvicorn

from service.api.app import create_app
from tests.service.api_support import USER

QUESTION = "招商引资有哪些要求？"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(fake_index, tmp_path_factory):
    """A uvicorn server (what `policyqa serve` runs) in a thread, on a random loopback port, needing a key."""
    folder = tmp_path_factory.mktemp("live")
    settings = fake_index.model_copy(update={"api_keys": [USER], "upload_dir": folder / "up",
                                             "feedback_db": folder / "fb.sqlite3"})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def llm(live_server):
    """The official client pointed at the live server."""
    return openai.OpenAI(base_url=f"{live_server}/v1", api_key=USER, max_retries=0, timeout=60)


def test_models_lists_policyqa(llm):
    assert [m.id for m in llm.models.list()] == ["policyqa"]


def test_completion_with_numbered_references_and_sources(llm):
    completion = llm.chat.completions.create(model="policyqa", messages=[{"role": "user", "content": QUESTION}])
    text = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop" and "[1]" in text and "参考来源：\n[1] " in text
    sources = completion.model_extra["sources"]
    assert sources and sources[0]["n"] == 1 and sources[0]["doc_id"] and sources[0]["source"].endswith(".txt")
    assert f"[1] {sources[0]['title']}" in text and completion.usage.total_tokens > 0


def test_streamed_completion_matches_and_ends_with_sources(llm):
    stream = llm.chat.completions.create(model="policyqa", messages=[{"role": "user", "content": QUESTION}],
                                         stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["sources"]
    whole = llm.chat.completions.create(model="policyqa", messages=[{"role": "user", "content": QUESTION}])
    assert text == whole.choices[0].message.content


def test_earlier_messages_become_history(llm, monkeypatch):
    import service.api.answering as answering

    histories, real = [], answering.answer_question

    def spy(pipeline, question, **kwargs):  # the server runs in this process, so the spy sees its calls
        histories.append((question, [(t.question, t.answer) for t in kwargs["history"]]))
        return real(pipeline, question, **kwargs)

    monkeypatch.setattr(answering, "answer_question", spy)
    first = llm.chat.completions.create(model="policyqa", messages=[{"role": "user", "content": QUESTION}])
    follow = llm.chat.completions.create(model="policyqa", messages=[
        {"role": "system", "content": "你是政策助手"},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "招商引资工作怎么考核？"}]},
    ])
    assert follow.choices[0].message.content and follow.id != first.id
    first_answer = first.choices[0].message.content.split("\n\n参考来源：")[0]
    assert histories == [(QUESTION, []), ("招商引资工作怎么考核？", [(QUESTION, first_answer)])]


def test_errors_reach_the_client_as_api_errors(live_server, llm):
    bad_key = openai.OpenAI(base_url=f"{live_server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.models.list()
    with pytest.raises(openai.UnprocessableEntityError):
        llm.chat.completions.create(model="policyqa", messages=[{"role": "assistant", "content": "hi"}])


def test_chat_streams_over_a_real_socket(live_server):
    with httpx.stream("POST", f"{live_server}/api/chat", json={"question": QUESTION},
                      headers={"Accept": "text/event-stream", "X-API-Key": USER}, timeout=60) as r:
        events = [line.split(":", 1)[1].strip() for line in r.iter_lines() if line.startswith("event:")]
    assert events[0] == "sources" and events[-1] == "done" and "delta" in events
