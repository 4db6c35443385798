"""The Starlette application every odradek HTTP service is built from (ARCHITECTURE D10).

`create_app` takes the service's own routes and adds what all services share: ``GET /metrics``
(Prometheus), ``GET /health``, Confluent-style error bodies for every failure (`errors`), and the
body-size and request-time limits (`limits`; a `LimitedRoute` carries its own). Middleware order,
outermost first: metrics (so refused and timed-out requests are counted too), limits, then
Starlette's exception handling and the router.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import Lifespan

from odradek.http.errors import ExceptionHandler, exception_handlers
from odradek.http.health import Health, HealthCheck
from odradek.http.limits import HttpLimits, LimitedRoute, LimitsMiddleware
from odradek.http.metrics import HttpMetrics, MetricsMiddleware

JSON = "application/json"


def create_app(
    name: str,
    routes: Sequence[BaseRoute],
    *,
    limits: HttpLimits | None = None,
    health_checks: Mapping[str, HealthCheck] | None = None,
    lifespan: Lifespan[Starlette] | None = None,
    media_type: str = JSON,
    metrics: HttpMetrics | None = None,
    error_handlers: Mapping[type[Exception], ExceptionHandler] | None = None,
) -> Starlette:
    """A Starlette app serving ``routes`` plus ``/metrics`` and ``/health``, with limits and errors.

    ``name`` labels the metrics; ``media_type`` is the content type of error bodies (the schema
    registry uses ``application/vnd.schemaregistry.v1+json``); ``lifespan`` starts and stops the
    service's own background work (its Kafka clients); ``error_handlers`` answer the service's own
    exception types (build them with `odradek.http.errors.error_response`).
    """
    metrics = metrics if metrics is not None else HttpMetrics(name)
    health = Health(health_checks)
    shared: list[BaseRoute] = [
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        Route("/health", health.endpoint, methods=["GET"]),
    ]
    app = Starlette(
        routes=[*shared, *routes],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(
                LimitsMiddleware,
                limits=limits or HttpLimits(),
                media_type=media_type,
                routes=[route for route in routes if isinstance(route, LimitedRoute)],
            ),
        ],
        exception_handlers={**exception_handlers(media_type), **(error_handlers or {})},
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.health = health
    return app
