"""The OpenAI-compatible backend against the scripted server: replies, streaming, retries and broken upstreams."""
from __future__ import annotations

import time

import pytest

from service.answer.llm import LLMError
from service.answer.openai_backend import OpenAIBackend

from .llm_server import Reply

MESSAGES = [{"role": "user", "content": "你好"}]


def _backend(url: str, **kw) -> OpenAIBackend:
    return OpenAIBackend(url, "scripted", **{"timeout": 2.0, "max_retries": 0, **kw})


def test_complete_and_stream_return_the_reply_and_send_the_settings(scripted_llm, monkeypatch):
    llm, url = scripted_llm
    llm.queue(Reply("text", "要做实招商引资工作计划。[1]"), Reply("text", "要做实招商引资工作计划。[1]"))
    backend = _backend(url, api_key="sk-test", max_tokens=99, temperature=0.0)
    assert backend.complete(MESSAGES) == "要做实招商引资工作计划。[1]"
    pieces = list(backend.stream(MESSAGES))
    assert len(pieces) > 3 and "".join(pieces) == "要做实招商引资工作计划。[1]"
    first, second = llm.requests
    assert first["model"] == "scripted" and first["max_tokens"] == 99 and first["temperature"] == 0.0
    assert first["messages"] == MESSAGES and not first.get("stream") and second["stream"] is True
    assert llm.authorizations == ["Bearer sk-test"] * 2


def test_a_500_is_retried_with_backoff_and_then_succeeds(scripted_llm):
    llm, url = scripted_llm
    llm.queue(Reply("fail"), Reply("text", "好。"))
    assert _backend(url, max_retries=1).complete(MESSAGES) == "好。"
    assert len(llm.requests) == 2


@pytest.mark.parametrize(("reply", "reason"), [
    (Reply("fail"), "answered HTTP 500"),
    (Reply("badjson"), "malformed"),
    (Reply("nochoices"), "no choices"),
    (Reply("text", ""), "empty reply"),
])
def test_broken_upstreams_raise_llm_error_naming_the_endpoint(scripted_llm, reply, reason):
    llm, url = scripted_llm
    llm.queue(reply, reply)
    backend = _backend(url)
    with pytest.raises(LLMError, match=reason) as err:
        backend.complete(MESSAGES)
    assert url in str(err.value)
    with pytest.raises(LLMError):
        list(backend.stream(MESSAGES))


def test_a_slow_upstream_times_out(scripted_llm):
    llm, url = scripted_llm
    llm.queue(Reply("slow", "迟到的回答。", delay=3.0))
    started = time.perf_counter()
    with pytest.raises(LLMError, match="did not answer within 0.5 s"):
        _backend(url, timeout=0.5).complete(MESSAGES)
    assert time.perf_counter() - started < 2.5


def test_an_unreachable_endpoint_is_an_llm_error():
    with pytest.raises(LLMError, match="cannot reach http://127.0.0.1:9/v1"):
        _backend("http://127.0.0.1:9/v1").complete(MESSAGES)
