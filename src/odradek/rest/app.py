"""The REST proxy's Starlette app: v2 and v3 routes on the shared HTTP layer (ARCHITECTURE D10)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from odradek.http import HttpError, HttpLimits, create_app
from odradek.rest import errors
from odradek.rest.config import RestConfig
from odradek.rest.service import RestProxy

NAME = "rest-proxy"


def routes(config: RestConfig) -> list[BaseRoute]:
    from odradek.rest import openapi, v3
    from odradek.rest.v2 import consumers as v2_consumers
    from odradek.rest.v2 import metadata as v2_metadata
    from odradek.rest.v2 import produce as v2_produce

    return [
        *openapi.ROUTES,
        *v2_metadata.ROUTES,
        *v2_produce.ROUTES,
        *v2_consumers.ROUTES,
        *v3.routes(config),
    ]


def build_app(config: RestConfig) -> Starlette:
    from odradek.rest.auth import BasicAuthentication, BasicAuthMiddleware, check_config

    proxy = RestProxy(config)
    auth = BasicAuthentication(config) if check_config(config) else None
    limits = HttpLimits(
        max_body_bytes=config.integer("max.request.bytes"),
        request_timeout_s=config.seconds("request.timeout.ms"),
        timeout_error=HttpError(errors.KAFKA_ERROR, "Request timed out"),
    )
    app = create_app(
        NAME,
        routes(config),
        limits=limits,
        lifespan=proxy.lifespan if auth is None else auth.lifespan,
        health_checks={"kafka_clients": (lambda: proxy.started) if auth is None else (lambda: auth.running)},
    )
    app.state.proxy = proxy
    if auth is not None:
        # each request then runs on its user's own Kafka clients (request.state.proxy)
        app.add_middleware(BasicAuthMiddleware, auth=auth)
    return app
