"""The Connect REST application: Connect's routes on the shared HTTP layer (`odradek.http`).

`create_connect_app(herder)` starts the herder in the app's lifespan and stops it at shutdown.
`GET /` answers the worker's version, commit and Kafka cluster id; `GET /health` (KIP-1017) 200
`{"status": "healthy", ...}` once the worker finished starting, 503 `{"status": "starting"}` before.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odradek import __version__
from odradek.connect.rest.connectors import ConnectorRoutes
from odradek.connect.rest.loggers import LoggerRoutes
from odradek.connect.rest.plugins import PluginRoutes
from odradek.connect.runtime.herder import Herder
from odradek.http import HttpLimits, create_app


def create_connect_app(herder: Herder, manage_herder: bool = True) -> Starlette:
    loggers = LoggerRoutes(herder)
    herder.on_tick.append(loggers.apply_cluster_levels)

    async def root(_request: Request) -> Response:
        cluster_id = await run_in_threadpool(herder.s.kafka_cluster_id)
        return JSONResponse({"version": __version__, "commit": "odradek", "kafka_cluster_id": cluster_id})

    async def health(_request: Request) -> Response:
        if herder.started.is_set():
            return JSONResponse(
                {
                    "status": "healthy",
                    "message": "Worker has completed startup and is ready to handle requests.",
                }
            )
        return JSONResponse({"status": "starting", "message": "Worker is still starting up."}, 503)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if manage_herder:
            await run_in_threadpool(herder.start)
        try:
            yield
        finally:
            if manage_herder:
                await run_in_threadpool(herder.stop)

    routes = [
        Route("/", root, methods=["GET"]),
        *ConnectorRoutes(herder).routes(),
        *PluginRoutes(herder).routes(),
        *loggers.routes(),
    ]
    app = create_app("connect", routes, limits=HttpLimits(request_timeout_s=90), lifespan=lifespan)
    app.router.routes.insert(0, Route("/health", health, methods=["GET"]))
    return app
