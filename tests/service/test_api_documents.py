"""Documents: list, read, upload (background job, size limit, bad files), delete; ingestion times."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.service.api_support import (  # noqa: F401 - fixtures
    admin_headers,
    api_settings,
    client,
    sample_upload,
    wait_for_job,
    writable_settings,
)


@pytest.fixture()
def admin(writable_settings):
    """A client of an app over a private index copy, with admin keys configured."""
    with TestClient(create_app(writable_settings)) as c:
        yield c


def test_list_and_read_documents(client):
    docs = client.get("/api/documents").json()
    assert len(docs) == 5
    for d in docs:
        assert set(d) == {"id", "source", "title", "date", "speaker", "kind", "chunks", "ingested_at"}
        assert d["chunks"] >= 1 and d["ingested_at"].endswith("+00:00")
    detail = client.get(f"/api/documents/{docs[0]['id']}").json()
    assert detail["id"] == docs[0]["id"] and len(detail["chunks"]) == docs[0]["chunks"]
    for chunk in detail["chunks"]:
        assert 0 <= chunk["start"] < chunk["end"] <= len(detail["text"])
    r = client.get("/api/documents/nope")
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_upload_is_indexed_in_the_background_and_answers(admin, tmp_path):
    path = sample_upload(tmp_path)
    r = admin.post("/api/documents", files={"file": (path.name, path.read_bytes(), "text/plain")},
                   headers=admin_headers())
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running", "done")
    job = wait_for_job(admin, r.json()["job_id"])
    assert job["status"] == "done", job
    assert job["report"]["indexed"] == [path.name] and job["kind"] == "upload"
    docs = {d["source"]: d for d in admin.get("/api/documents", headers=admin_headers()).json()}
    assert path.name in docs and len(docs) == 6
    hits = admin.get("/api/search", params={"q": "政企沟通月度例会", "top_k": 1}, headers=admin_headers()).json()
    assert hits[0]["source"] == path.name  # the reloaded pipeline serves the new version
    saved = admin.app.state.service.settings.upload_dir / path.name
    assert saved.is_file()

    r = admin.delete(f"/api/documents/{docs[path.name]['id']}", headers=admin_headers())
    assert r.status_code == 202
    job = wait_for_job(admin, r.json()["job_id"])
    assert job["status"] == "done" and job["report"]["removed"] == [path.name]
    assert path.name not in {d["source"] for d in admin.get("/api/documents", headers=admin_headers()).json()}
    assert not saved.exists()


def test_unchanged_upload_keeps_its_ingestion_time(admin, tmp_path):
    path = sample_upload(tmp_path)
    upload = lambda: admin.post("/api/documents", files={"file": (path.name, path.read_bytes())},  # noqa: E731
                                headers=admin_headers()).json()["job_id"]
    assert wait_for_job(admin, upload())["status"] == "done"
    first = {d["source"]: d["ingested_at"] for d in admin.get("/api/documents", headers=admin_headers()).json()}
    job = wait_for_job(admin, upload())
    assert job["status"] == "done" and job["report"]["unchanged"] == [path.name]
    again = {d["source"]: d["ingested_at"] for d in admin.get("/api/documents", headers=admin_headers()).json()}
    assert again == first


def test_bad_file_fails_its_job_and_leaves_the_index_intact(admin):
    before = admin.get("/readyz").json()
    r = admin.post("/api/documents", files={"file": ("broken.pdf", b"%PDF-1.4 this is not a pdf", "application/pdf")},
                   headers=admin_headers())
    job = wait_for_job(admin, r.json()["job_id"])
    assert job["status"] == "failed" and "broken.pdf" in job["detail"]
    assert job["report"]["failed"][0]["source"] == "broken.pdf" and job["report"]["failed"][0]["reason"]
    assert admin.get("/readyz").json() == before
    assert not (admin.app.state.service.settings.upload_dir / "broken.pdf").exists()


def test_upload_errors(admin, writable_settings):
    h = admin_headers()
    r = admin.post("/api/documents", files={"file": ("virus.exe", b"MZ")}, headers=h)
    assert r.status_code == 400 and ".exe" in r.json()["detail"]
    r = admin.post("/api/documents", files={"other": ("a.txt", b"x")}, headers=h)
    assert r.status_code == 400 and "`file`" in r.json()["detail"]
    assert admin.post("/api/documents", files={"file": ("empty.txt", b"")}, headers=h).status_code == 400
    assert admin.get("/api/jobs/j_unknown", headers=h).status_code == 404
    assert admin.delete("/api/documents/unknown", headers=h).status_code == 404


def test_upload_over_the_size_limit_is_413(writable_settings):
    settings = writable_settings.model_copy(update={"max_upload_bytes": 1000})
    with TestClient(create_app(settings)) as client:
        r = client.post("/api/documents", files={"file": ("big.txt", "字".encode() * 400)}, headers=admin_headers())
        assert r.status_code == 413 and "1000" in r.json()["detail"]
        huge = b"x" * (settings.max_upload_bytes + 70_000)  # refused on its declared length alone
        r = client.post("/api/documents", files={"file": ("huge.txt", huge)}, headers=admin_headers())
        assert r.status_code == 413
        assert not list((settings.upload_dir).rglob("*.txt"))


def test_upload_builds_the_first_index_when_there_is_none(api_settings, tmp_path):
    settings = api_settings.model_copy(update={"index_dir": tmp_path / "new-index", "admin_keys": ["a"]})
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 503
        path = sample_upload(tmp_path)
        r = client.post("/api/documents", files={"file": (path.name, path.read_bytes())}, headers={"X-API-Key": "a"})
        job = wait_for_job(client, r.json()["job_id"], headers={"X-API-Key": "a"})
        assert job["status"] == "done", job
        assert client.get("/readyz").json()["documents"] == 1
