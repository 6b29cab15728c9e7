"""Feedback on answers: stored in SQLite (surviving a restart), tied to known answers, exported by admins."""
from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.service.api_support import ADMIN, api_settings  # noqa: F401 - fixture


def test_feedback_is_stored_durably_and_exported(api_settings):
    settings = api_settings.model_copy(update={"admin_keys": [ADMIN]})
    with TestClient(create_app(settings)) as client:
        answer = client.post("/api/chat", json={"question": "招商引资有哪些要求？"}).json()
        r = client.post("/api/feedback", json={"answer_id": answer["answer_id"], "rating": "up",
                                               "comment": "  很有用  "})
        assert r.status_code == 201 and isinstance(r.json()["id"], int)
    with TestClient(create_app(settings)) as client:  # a restarted service keeps answers and feedback
        r = client.post("/api/feedback", json={"answer_id": answer["answer_id"], "rating": "down"})
        assert r.status_code == 201
        lines = client.get("/api/feedback/export", headers={"X-API-Key": ADMIN})
        assert lines.status_code == 200 and lines.headers["content-type"].startswith("application/x-ndjson")
        rows = [json.loads(line) for line in lines.text.splitlines()]
        assert [(r["rating"], r["comment"]) for r in rows] == [("up", "很有用"), ("down", None)]
        assert rows[0]["question"] == "招商引资有哪些要求？" and rows[0]["answer"] == answer["answer"]
        assert rows[0]["conversation_id"] == answer["conversation_id"] and rows[0]["sources"]
        table = client.get("/api/feedback/export", params={"format": "csv"}, headers={"X-API-Key": ADMIN})
        assert table.headers["content-type"].startswith("text/csv")
        parsed = list(csv.DictReader(io.StringIO(table.text)))
        assert [p["rating"] for p in parsed] == ["up", "down"] and parsed[0]["answer_id"] == answer["answer_id"]


def test_feedback_errors(api_settings):
    with TestClient(create_app(api_settings)) as client:
        r = client.post("/api/feedback", json={"answer_id": "a_unknown", "rating": "up"})
        assert r.status_code == 404 and "a_unknown" in r.json()["detail"]
        assert client.post("/api/feedback", json={"answer_id": "a_x", "rating": "meh"}).status_code == 422
        assert client.get("/api/feedback/export").status_code == 403
