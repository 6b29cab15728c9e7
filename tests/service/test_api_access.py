"""Access control: API keys (bearer or header), the admin role, open chat, rate limits, CORS and embedding."""
from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from service.api.app import RedactKeys, create_app
from tests.service.api_support import ADMIN, USER, api_settings  # noqa: F401 - fixture

CHAT = {"question": "招商引资有哪些要求？"}


@pytest.fixture()
def locked(api_settings):
    """An app that needs keys."""
    settings = api_settings.model_copy(update={"api_keys": [USER], "admin_keys": [ADMIN]})
    with TestClient(create_app(settings)) as c:
        yield c


def test_keys_are_required_when_configured(locked):
    r = locked.post("/api/chat", json=CHAT)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer" and "API key" in r.json()["detail"]
    r = locked.post("/api/chat", json=CHAT, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and "wrong" not in r.text
    assert locked.post("/api/chat", json=CHAT, headers={"Authorization": f"Bearer {USER}"}).status_code == 200
    assert locked.post("/api/chat", json=CHAT, headers={"X-API-Key": USER}).status_code == 200
    assert locked.post("/api/chat", json=CHAT, headers={"X-API-Key": ADMIN}).status_code == 200  # admins chat too
    for path in ("/api/search?q=x", "/api/documents", "/v1/models"):
        assert locked.get(path).status_code == 401, path
        assert locked.get(path, headers={"X-API-Key": USER}).status_code == 200, path
    # the page, its configuration and the probes stay open
    for path in ("/", "/api/config", "/healthz", "/readyz", "/metrics"):
        assert locked.get(path).status_code == 200, path


def test_admin_routes_need_an_admin_key(locked):
    assert locked.delete("/api/documents/x").status_code == 401
    r = locked.delete("/api/documents/x", headers={"X-API-Key": USER})
    assert r.status_code == 403 and r.json()["error"] == "Forbidden"
    assert locked.get("/api/feedback/export", headers={"X-API-Key": USER}).status_code == 403
    assert locked.post("/api/documents", files={"file": ("a.txt", b"x")}, headers={"X-API-Key": USER}
                       ).status_code == 403
    assert locked.get("/api/jobs/j_x", headers={"X-API-Key": USER}).status_code == 403
    assert locked.delete("/api/documents/x", headers={"X-API-Key": ADMIN}).status_code == 404


def test_without_admin_keys_document_management_is_off(api_settings):
    with TestClient(create_app(api_settings)) as client:
        r = client.delete("/api/documents/x", headers={"X-API-Key": "anything"})
        assert r.status_code == 403 and "POLICYQA_ADMIN_KEYS" in r.json()["detail"]


def test_open_chat_needs_no_key_but_admin_routes_still_do(api_settings):
    settings = api_settings.model_copy(update={"api_keys": [USER], "admin_keys": [ADMIN], "open_chat": True})
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/chat", json=CHAT).status_code == 200
        assert client.get("/api/config").json()["auth_required"] is False
        assert client.get("/api/feedback/export").status_code == 401


def test_rate_limit_answers_429_with_retry_after(api_settings):
    settings = api_settings.model_copy(update={"rate_limit_per_minute": 6, "rate_limit_burst": 2,
                                               "api_keys": [USER, "other"]})
    with TestClient(create_app(settings)) as client:
        key = {"X-API-Key": USER}
        assert [client.get("/api/search?q=x", headers=key).status_code for _ in range(3)] == [200, 200, 429]
        r = client.get("/api/search?q=x", headers=key)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and r.json()["error"]
        assert client.get("/api/search?q=x", headers={"X-API-Key": "other"}).status_code == 200  # own bucket
        # invalid keys share the address's bucket, so guessing keys is limited too
        codes = [client.get("/api/search?q=x", headers={"X-API-Key": f"guess{i}"}).status_code for i in range(3)]
        assert codes == [401, 401, 429]


def test_cors_allows_only_configured_origins(api_settings):
    settings = api_settings.model_copy(update={"cors_origins": ["https://portal.example"]})
    with TestClient(create_app(settings)) as client:
        ok = client.options("/api/chat", headers={"Origin": "https://portal.example",
                                                  "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "x-api-key,content-type"})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://portal.example"
        bad = client.options("/api/chat", headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})
        assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
        r = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        csp = client.get("/embed").headers["content-security-policy"]
        assert csp == "frame-ancestors 'self' https://portal.example"


def test_without_cors_origins_no_cross_origin_headers(client_open):
    r = client_open.get("/healthz", headers={"Origin": "https://portal.example"})
    assert "access-control-allow-origin" not in r.headers
    assert client_open.get("/embed").headers["content-security-policy"] == "frame-ancestors 'self'"


@pytest.fixture()
def client_open(api_settings):
    """An app without keys or CORS origins."""
    with TestClient(create_app(api_settings)) as c:
        yield c


def test_keys_in_urls_are_redacted_in_access_logs():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/embed?title=x&key=s3cret&color=red", "1.1", 200), None)
    assert RedactKeys().filter(record)
    assert "s3cret" not in record.getMessage() and "key=***" in record.getMessage()


def test_settings_read_comma_separated_keys(monkeypatch):
    from service.settings import Settings

    monkeypatch.setenv("POLICYQA_API_KEYS", "k1, k2")
    monkeypatch.setenv("POLICYQA_CORS_ORIGINS", "https://a.example")
    settings = Settings()
    assert settings.api_keys == ["k1", "k2"] and settings.cors_origins == ["https://a.example"]
