"""Prometheus metrics of the service: requests by route and status, latency, errors, index size."""
from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    """One registry per app (so several apps in one process, as in tests, do not collide)."""

    def __init__(self, index_size: Callable[[], tuple[int, int]]):
        self.registry = CollectorRegistry()
        self.requests = Counter("policyqa_requests", "HTTP requests by route template, method and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("policyqa_request_duration_seconds", "Time to the end of the response body.",
                                 ["route"], buckets=_BUCKETS, registry=self.registry)
        self.errors = Counter("policyqa_errors", "Responses with status >= 500 and errors inside answer streams.",
                              ["route", "kind"], registry=self.registry)
        documents = Gauge("policyqa_index_documents", "Documents in the loaded index.", registry=self.registry)
        chunks = Gauge("policyqa_index_chunks", "Chunks in the loaded index.", registry=self.registry)
        documents.set_function(lambda: index_size()[0])
        chunks.set_function(lambda: index_size()[1])

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """ASGI middleware timing every HTTP request to the end of its body (streams included)."""

    def __init__(self, app, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        """Pass the request on and record route, status and duration when the response ends."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def recording_send(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            code = status["code"]
            self.metrics.requests.labels(route, scope.get("method", ""), str(code)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
            if code >= 500:
                self.metrics.errors.labels(route, "http").inc()
