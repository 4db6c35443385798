"""``GET /health``: is this service able to do its work?

A service names its checks (``{"kafka": fn, "caught_up": fn}``), each a cheap synchronous function
returning True when healthy. All true: 200 ``{"status": "UP", "checks": {...}}``; any false: 503 with
``"status": "DOWN"``, so load balancers and the supervisor's operators see which part is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

HealthCheck = Callable[[], bool]
UP = 200
DOWN = 503


class Health:
    def __init__(self, checks: Mapping[str, HealthCheck] | None = None) -> None:
        self.checks = dict(checks or {})

    def report(self) -> tuple[bool, dict[str, bool]]:
        results = {name: bool(check()) for name, check in self.checks.items()}
        return all(results.values()), results

    async def endpoint(self, _request: Request) -> Response:
        healthy, results = self.report()
        body = {"status": "UP" if healthy else "DOWN", "checks": results}
        return JSONResponse(body, UP if healthy else DOWN)
