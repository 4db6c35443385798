"""Shared HTTP plumbing for odradek's services (ARCHITECTURE D10); see README.md."""

from odradek.http.app import create_app
from odradek.http.errors import HttpError, error_response
from odradek.http.health import Health
from odradek.http.limits import HttpLimits, LimitedRoute
from odradek.http.listen import ListenAddress, parse_listen
from odradek.http.metrics import HttpMetrics
from odradek.http.runner import ServerSettings, bind, serve
from odradek.http.streaming import NDJSON, SSE, StreamResponse, sse_event

__all__ = [
    "NDJSON",
    "SSE",
    "Health",
    "HttpError",
    "HttpLimits",
    "HttpMetrics",
    "LimitedRoute",
    "ListenAddress",
    "ServerSettings",
    "StreamResponse",
    "bind",
    "create_app",
    "error_response",
    "parse_listen",
    "serve",
    "sse_event",
]
