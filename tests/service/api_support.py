"""Fixtures and helpers shared by the API tests (imported by test modules, so pytest sees the fixtures)."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.settings import Settings

ADMIN = "admin-key-for-tests"
USER = "user-key-for-tests"


@pytest.fixture()
def api_settings(fake_index, tmp_path) -> Settings:
    """The fake index with this test's own upload folder and feedback database."""
    return fake_index.model_copy(update={"upload_dir": tmp_path / "uploads", "feedback_db": tmp_path / "fb.sqlite3"})


@pytest.fixture()
def client(api_settings):
    """A test client of an open app (no keys) over the fake index."""
    with TestClient(create_app(api_settings)) as c:
        yield c


@pytest.fixture()
def writable_settings(api_settings, tmp_path) -> Settings:
    """Like `api_settings` over a private copy of the index (uploads and deletes may change it), with keys."""
    index_dir = tmp_path / "index"
    shutil.copytree(api_settings.index_dir, index_dir)
    return api_settings.model_copy(update={"index_dir": index_dir, "admin_keys": [ADMIN], "api_keys": [USER]})


def admin_headers() -> dict[str, str]:
    """Headers of an admin request."""
    return {"Authorization": f"Bearer {ADMIN}"}


def parse_sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream (event defaults to "message")."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((event, "\n".join(data)))
    return events


def sse_json(text: str) -> list[tuple[str, dict]]:
    """Server-sent events with their data parsed as JSON."""
    return [(event, json.loads(data)) for event, data in parse_sse(text)]


def wait_for_job(client: TestClient, job_id: str, timeout: float = 60.0, headers: dict | None = None) -> dict:
    """Poll a document job until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers or admin_headers()).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def sample_upload(tmp_path: Path) -> Path:
    """A small speech to upload."""
    path = tmp_path / "新上传的讲话.txt"
    path.write_text("在全市营商环境大会上的讲话\n2023年5月8日\n\n一、持续优化营商环境\n"
                    "要推行“一网通办”，企业开办时间压缩到一个工作日以内。要建立政企沟通月度例会制度。\n",
                    encoding="utf-8")
    return path
