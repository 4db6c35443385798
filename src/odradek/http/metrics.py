"""Prometheus metrics of an HTTP service, served at ``GET /metrics`` (ARCHITECTURE D9).

Each service has its own `CollectorRegistry` holding the process collector (CPU, RSS, open files)
and, per request, ``odradek_http_requests_total{service,method,route,status}`` and the latency
histogram ``odradek_http_request_seconds{service,method,route}``. ``route`` is the route's path
template (``/subjects/{subject}/versions``), never the concrete path, so label sets stay bounded;
requests that match no route count as ``route="unmatched"``. Services add their own collectors to
`HttpMetrics.registry`.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class HttpMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry if registry is not None else CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "odradek_http_requests",
            "HTTP requests answered",
            ("service", "method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "odradek_http_request_seconds",
            "HTTP request latency",
            ("service", "method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(self.service, method, route, str(status)).inc()
        self.latency.labels(self.service, method, route).observe(seconds)

    async def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - start)
