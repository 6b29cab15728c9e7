"""Fixtures for LLM answer tests: a scripted OpenAI-compatible server on 127.0.0.1 and settings pointing at it."""
from __future__ import annotations

import pytest

from service.settings import Settings

from .llm_server import ScriptedLLM, start_server


@pytest.fixture()
def scripted_llm():
    """A fresh scripted server (echo by default) and its base URL; stopped after the test."""
    llm = ScriptedLLM()
    server, url = start_server(llm)
    yield llm, url
    server.shutdown()
    server.server_close()


@pytest.fixture()
def llm_settings(fake_index: Settings, scripted_llm) -> Settings:
    """The fake-encoder index answered by the openai generator against the scripted server (no retries, 2 s)."""
    _, url = scripted_llm
    return fake_index.model_copy(update={"generator": "openai", "llm_base_url": url, "llm_model": "scripted",
                                         "llm_max_retries": 0, "llm_timeout": 2.0})
