"""HTTP API on the fake-encoder index: contract, errors, readiness."""
from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.settings import Settings


def test_chat_returns_the_answer_object(fake_index):
    with TestClient(create_app(fake_index)) as client:
        r = client.post("/api/chat", json={"question": "招商引资有哪些要求？"})
        assert r.status_code == 200
        data = r.json()
        assert data["answerable"] and data["citations"] and len(data["retrieved"]) >= 5
        assert client.get("/readyz").json()["documents"] == 5


def test_search_returns_passages(fake_index):
    with TestClient(create_app(fake_index)) as client:
        r = client.get("/api/search", params={"q": "四讲四比", "top_k": 3})
        assert r.status_code == 200 and 1 <= len(r.json()) <= 3
        assert r.json()[0]["source"] == "000_83ce6312508b97ba.txt"


def test_bad_input_is_a_4xx_with_a_message(fake_index):
    with TestClient(create_app(fake_index)) as client:
        assert client.post("/api/chat", json={}).status_code == 422
        r = client.post("/api/chat", json={"question": "   "})
        assert r.status_code == 400 and r.json()["detail"] == "question is empty"


def test_missing_index_is_503_not_200(tmp_path):
    with TestClient(create_app(Settings(index_dir=tmp_path / "none", encoder="fake"))) as client:
        assert client.get("/healthz").status_code == 200
        r = client.post("/api/chat", json={"question": "招商引资有哪些要求？"})
        assert r.status_code == 503 and "policyqa ingest" in r.json()["detail"]
        assert client.get("/readyz").status_code == 503


def test_page_is_served(fake_index):
    with TestClient(create_app(fake_index)) as client:
        r = client.get("/")
        assert r.status_code == 200 and "政策问答" in r.text
