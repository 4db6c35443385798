"""The registry's HTTP application and its process entry point (`odradek registry`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from odradek.http import (
    HttpError,
    HttpLimits,
    ServerSettings,
    bind,
    create_app,
    error_response,
    parse_listen,
    serve,
)
from odradek.registry.api import compatibility, misc, schemas, settings, subjects
from odradek.registry.api.contexts import ContextPaths
from odradek.registry.api.forwarding import Forwarder
from odradek.registry.api.io import MEDIA_TYPE
from odradek.registry.config import RegistryConfig
from odradek.registry.errors import RegistryError
from odradek.registry.service import RegistryService

log = logging.getLogger("odradek.registry")


def build(config: RegistryConfig, url: str) -> Starlette:
    service = RegistryService(config, url)
    forwarder = Forwarder(config.timeout_s * 2)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await forwarder.close()
            await service.stop()

    async def registry_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RegistryError)
        return error_response(exc.error_code, exc.message, MEDIA_TYPE)

    app = create_app(
        "registry",
        [*misc.ROUTES, *subjects.ROUTES, *schemas.ROUTES, *settings.ROUTES, *compatibility.ROUTES],
        limits=HttpLimits(
            max_body_bytes=max(config.max_schema_bytes * 2, 1 << 20),
            request_timeout_s=config.request_timeout_s,
            timeout_error=HttpError(50002, "Operation timed out", status=500),
        ),
        health_checks={"caught_up": service.caught_up, "started": lambda: service.started},
        lifespan=lifespan,
        media_type=MEDIA_TYPE,
        error_handlers={RegistryError: registry_error},
    )
    app.add_middleware(ContextPaths)  # outermost: /contexts/{ctx}/... is resolved before routing
    app.state.registry = service
    app.state.forwarder = forwarder
    return app


def run(properties: Mapping[str, str]) -> int:
    config = RegistryConfig.from_properties(properties)
    address = parse_listen(config.listeners, default_port=8081)
    sock = bind(address)  # bound first: the URL other instances forward to needs the real port
    port = sock.getsockname()[1]
    url = f"http://{config.host_name}:{port}" if config.host_name else address.url(port)
    return serve(build(config, url), "registry", address, ServerSettings(), sock=sock)
