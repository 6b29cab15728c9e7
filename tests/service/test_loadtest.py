"""The load-test script measures a live server and counts errors (tiny run, one user)."""
from __future__ import annotations

import asyncio

from service.loadtest import run_level
from tests.service.test_openai_client import live_server  # noqa: F401 - fixture
from tests.service.api_support import USER


def test_one_user_level_reports_latencies_and_no_errors(live_server):
    result = asyncio.run(run_level(live_server, 1, 3, ["招商引资有哪些要求？"], False, {"X-API-Key": USER}, 60))
    summary = result.summary()
    assert summary["ok"] == 3 and summary["errors"] == 0 and summary["p50_ms"] > 0
    streamed = asyncio.run(run_level(live_server, 2, 2, ["招商引资有哪些要求？"], True, {"X-API-Key": USER}, 60))
    assert streamed.summary()["ok"] == 2


def test_errors_are_counted(live_server):
    result = asyncio.run(run_level(live_server, 1, 2, ["招商引资有哪些要求？"], False, {}, 60))  # no key: 401
    assert result.summary()["errors"] == 2 and result.errors == {"HTTP 401": 2}
