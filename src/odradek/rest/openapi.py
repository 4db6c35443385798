"""The OpenAPI 3.1 document of the proxy, served at ``/openapi.json``."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
