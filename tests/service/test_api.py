"""HTTP API on the fake-encoder index: the answer contract, streaming, conversations, filters, errors."""
from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.settings import Settings
from tests.service.api_support import api_settings, client, sse_json  # noqa: F401 - fixtures

QUESTION = "招商引资有哪些要求？"
SIJIANG = "000_83ce6312508b97ba.txt"


def test_chat_returns_the_answer_object_with_ids(client):
    r = client.post("/api/chat", json={"question": QUESTION})
    assert r.status_code == 200
    data = r.json()
    assert data["answerable"] and data["citations"] and len(data["retrieved"]) >= 5
    assert data["answer_id"].startswith("a_") and data["conversation_id"].startswith("c_")
    citation = data["citations"][0]
    document = client.get(f"/api/documents/{citation['doc_id']}").json()
    assert document["text"][citation["start"]:citation["end"]] == citation["text"]
    for item in data["retrieved"]:
        assert {"doc_id", "start", "end", "source", "title", "section", "text", "score"} <= set(item)
    assert client.get("/readyz").json()["documents"] == 5


def test_chat_streams_sources_deltas_and_done(client):
    with client.stream("POST", "/api/chat", json={"question": QUESTION},
                       headers={"Accept": "text/event-stream"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse_json(r.read().decode())
    names = [e for e, _ in events]
    assert names[0] == "sources" and names[-1] == "done" and "delta" in names
    assert set(names) <= {"sources", "delta", "done"}
    sources, done = events[0][1], events[-1][1]
    assert "".join(d["text"] for e, d in events if e == "delta") == done["answer"]
    assert done["answerable"] and done["citations"] and done["answer_id"]
    assert sources["conversation_id"] == done["conversation_id"]
    # the answer may add the passages that continue a cited one, so the sources are among its retrieved items
    assert {(x["doc_id"], x["start"]) for x in sources["retrieved"]} <= {(x["doc_id"], x["start"]) for x in done["retrieved"]}


def test_stream_flag_in_the_body_also_streams(client):
    r = client.post("/api/chat", json={"question": QUESTION, "stream": True})
    assert [e for e, _ in sse_json(r.text)][-1] == "done"


def test_error_while_streaming_is_an_error_event(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("generator exploded")

    monkeypatch.setattr(client.app.state.service.holder.pipeline.generator, "stream", broken)
    r = client.post("/api/chat", json={"question": QUESTION, "stream": True})
    events = sse_json(r.text)
    assert [e for e, _ in events] == ["sources", "error"]
    assert "generator exploded" in events[-1][1]["detail"] and events[-1][1]["error"]
    assert 'policyqa_errors_total{kind="stream",route="/api/chat"} 1.0' in client.get("/metrics").text


def test_conversation_turns_are_passed_as_history(client, monkeypatch):
    import service.api.answering as answering

    seen = []
    real = answering.answer_question

    def spy(pipeline, question, **kwargs):
        seen.append([(t.question, t.answer) for t in kwargs["history"]])
        return real(pipeline, question, **kwargs)

    monkeypatch.setattr(answering, "answer_question", spy)
    first = client.post("/api/chat", json={"question": QUESTION}).json()
    second = client.post("/api/chat", json={"question": "那考核怎么做？",
                                            "conversation_id": first["conversation_id"]}).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert seen == [[], [(QUESTION, first["answer"])]]
    other = client.post("/api/chat", json={"question": "那考核怎么做？", "conversation_id": "c_unknown"}).json()
    assert other["conversation_id"] != "c_unknown" and seen[-1] == []


def test_streamed_turns_join_the_conversation(client):
    first = sse_json(client.post("/api/chat", json={"question": QUESTION, "stream": True}).text)[-1][1]
    store = client.app.state.service.conversations
    assert store.history(first["conversation_id"])[1][0].answer == first["answer"]


def test_filters_restrict_chat_and_search(client):
    r = client.post("/api/chat", json={"question": QUESTION, "filters": {"sources": [SIJIANG]}})
    assert r.status_code == 200 and {x["source"] for x in r.json()["retrieved"]} == {SIJIANG}
    hits = client.get("/api/search", params={"q": "招商引资", "source": SIJIANG}).json()
    assert hits and {h["source"] for h in hits} == {SIJIANG}
    docs = {d["source"]: d for d in client.get("/api/documents").json()}
    dated = [d for d in docs.values() if d["date"]]
    year = dated[0]["date"][:4]
    hits = client.get("/api/search", params={"q": "工作", "date_from": year, "date_to": year, "top_k": 20}).json()
    assert hits and all(docs[h["source"]]["date"].startswith(year) for h in hits)
    assert client.get("/api/search", params={"q": "工作", "date_from": "", "source": SIJIANG}).status_code == 200
    kind = dated[0]["kind"]
    hits = client.get("/api/search", params={"q": "工作", "kind": kind, "top_k": 20}).json()
    assert hits and all(docs[h["source"]]["kind"] == kind for h in hits)
    assert client.get("/api/search", params={"q": "工作", "speaker": "没有这个人"}).json() == []


def test_search_returns_passages(client):
    r = client.get("/api/search", params={"q": "四讲四比", "top_k": 3})
    assert r.status_code == 200 and 1 <= len(r.json()) <= 3
    assert r.json()[0]["source"] == SIJIANG
    assert "date" in r.json()[0]  # shown beside possibly related passages


def test_bad_input_is_a_4xx_with_a_message(client):
    r = client.post("/api/chat", json={})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] and "question" in body["detail"] and body["errors"][0]["loc"] == ["body", "question"]
    r = client.post("/api/chat", json={"question": "   "})
    assert r.status_code == 400 and r.json()["detail"] == "question is empty"
    r = client.post("/api/chat", json={"question": QUESTION, "filters": {"date_from": "2022", "date_to": "2021"}})
    assert r.status_code == 400 and "after" in r.json()["detail"]
    r = client.post("/api/chat", json={"question": QUESTION, "filters": {"date_from": "June"}})
    assert r.status_code == 422
    assert client.post("/api/chat", json={"question": "x" * 2001}).status_code == 422
    assert client.get("/api/search", params={"q": " "}).status_code == 400
    assert client.get("/api/search", params={"q": "a", "top_k": 0}).status_code == 422
    r = client.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]


def test_unknown_routes_and_methods_are_json(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.json()["error"] == "Not Found"
    r = client.get("/api/chat")
    assert r.status_code == 405 and r.json()["error"] == "Method Not Allowed"


def test_missing_index_is_503_not_200(tmp_path):
    settings = Settings(index_dir=tmp_path / "none", encoder="fake", feedback_db=tmp_path / "f.db",
                        upload_dir=tmp_path / "up")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        r = client.post("/api/chat", json={"question": QUESTION})
        assert r.status_code == 503 and "policyqa ingest" in r.json()["detail"]
        assert client.post("/api/chat", json={"question": QUESTION, "stream": True}).status_code == 503
        assert client.get("/api/search", params={"q": "x"}).status_code == 503
        assert client.get("/api/documents").status_code == 503
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]}
                           ).status_code == 503


def test_config_tells_the_page_whether_a_key_is_needed(api_settings):
    with TestClient(create_app(api_settings)) as client:
        assert client.get("/api/config").json() == {"title": api_settings.title, "auth_required": False}
    locked = api_settings.model_copy(update={"api_keys": ["secret"]})
    with TestClient(create_app(locked)) as client:
        body = client.get("/api/config").json()
        assert body["auth_required"] is True and "secret" not in str(body)


def test_metrics_count_requests_latency_and_index_size(client):
    client.post("/api/chat", json={"question": QUESTION})
    client.get("/api/search", params={"q": " "})
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'policyqa_requests_total{method="POST",route="/api/chat",status="200"} 1.0' in text
    assert 'policyqa_requests_total{method="GET",route="/api/search",status="400"} 1.0' in text
    assert 'policyqa_request_duration_seconds_count{route="/api/chat"} 1.0' in text
    assert "policyqa_index_documents 5.0" in text and "policyqa_index_chunks " in text


def test_openapi_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/chat", "/api/search", "/api/documents", "/v1/chat/completions", "/api/feedback"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_follow_up_is_rewritten_with_the_topic_of_the_conversation(client):
    first = client.post("/api/chat", json={"question": QUESTION}).json()
    follow = {"question": "那考核怎么做？", "conversation_id": first["conversation_id"]}
    second = client.post("/api/chat", json=follow).json()
    assert "招商引资" in second["rewritten_question"] and second["question"] == "那考核怎么做？"
    # the streamed path rewrites the same way (the page always streams)
    done = sse_json(client.post("/api/chat", json={**follow, "stream": True}).text)[-1][1]
    assert done["rewritten_question"] == second["rewritten_question"]
