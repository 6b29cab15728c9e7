"""The openai generator behind the HTTP API and the CLI, against the scripted server."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.cli import app as cli
from service.settings import get_settings

from .answer.conftest import llm_settings, scripted_llm  # noqa: F401 (fixtures shared with answer tests)
from .answer.llm_server import Reply


def _resolves(data: dict) -> None:
    retrieved = {r["text"] for r in data["retrieved"]}
    assert data["citations"]
    for c in data["citations"]:
        assert f"[{c['n']}]" in data["answer"] and c["text"] in retrieved


def test_api_chat_with_the_openai_generator(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    with TestClient(create_app(llm_settings)) as client:
        data = client.post("/api/chat", json={"question": "招商引资有哪些要求？"}).json()
        assert data["generator"] == "openai" and data["answerable"] and not data["fallback"]
        assert data["grounded_ratio"] == 1.0 and data["rewritten_question"] is None
        _resolves(data)
        llm.queue(Reply("fail"))
        data = client.post("/api/chat", json={"question": "招商引资有哪些要求？"}).json()
        assert data["fallback"] and "HTTP 500" in data["fallback_reason"] and data["answer"]
        _resolves(data)


def test_api_reports_a_broken_prompt_folder_as_not_ready(llm_settings, tmp_path):
    with TestClient(create_app(llm_settings.model_copy(update={"prompts_dir": tmp_path}))) as client:
        r = client.post("/api/chat", json={"question": "招商引资有哪些要求？"})
        assert r.status_code == 503 and "system.md: prompt template not found" in r.json()["detail"]


@pytest.fixture()
def llm_env(monkeypatch, llm_settings):
    for key, value in {"INDEX_DIR": str(llm_settings.index_dir), "ENCODER": "fake", "DENSE_WEIGHT": "0",
                       "GENERATOR": "openai", "LLM_BASE_URL": llm_settings.llm_base_url, "LLM_MODEL": "scripted",
                       "LLM_MAX_RETRIES": "0", "LLM_API_KEY_ENV": "TEST_LLM_KEY"}.items():
        monkeypatch.setenv(f"POLICYQA_{key}", value)
    monkeypatch.setenv("TEST_LLM_KEY", "sk-from-env")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_ask_with_the_openai_generator_from_env(llm_env, scripted_llm):
    llm, _ = scripted_llm
    result = CliRunner().invoke(cli, ["ask", "招商引资有哪些要求？", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["generator"] == "openai" and data["grounded_ratio"] == 1.0
    _resolves(data)
    assert llm.authorizations == ["Bearer sk-from-env"]
    llm.queue(Reply("fail"))
    result = CliRunner().invoke(cli, ["ask", "招商引资有哪些要求？"])
    assert result.exit_code == 0 and "extractive fallback" in result.output and "HTTP 500" in result.output


def test_cli_names_a_missing_model_setting(llm_env, monkeypatch):
    monkeypatch.delenv("POLICYQA_LLM_MODEL")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["ask", "招商引资有哪些要求？"])
    assert result.exit_code == 2 and "POLICYQA_LLM_MODEL" in result.output


def test_openai_compatible_route_with_the_openai_generator(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    with TestClient(create_app(llm_settings)) as client:
        body = {"model": "policyqa", "messages": [{"role": "user", "content": "招商引资有哪些要求？"}]}
        data = client.post("/v1/chat/completions", json=body).json()
        text = data["choices"][0]["message"]["content"]
        assert data["sources"] and all(f"[{s['n']}]" in text for s in data["sources"])
        chat = client.post("/api/chat", json={"question": "招商引资有哪些要求？"}).json()
        assert {s["text"] for s in data["sources"]} <= {r["text"] for r in chat["retrieved"]}

        lines = client.post("/v1/chat/completions", json={**body, "stream": True}).text.splitlines()
        chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
        assert "data: [DONE]" in lines
        streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        final = next(c for c in chunks if c.get("sources"))
        assert all(f"[{s['n']}]" in streamed for s in final["sources"])
