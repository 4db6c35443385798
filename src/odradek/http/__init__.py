"""Shared HTTP plumbing for odradek's services (ARCHITECTURE D10); see README.md."""

from odradek.http.app import create_app
from odradek.http.errors import HttpError
from odradek.http.health import Health
from odradek.http.limits import HttpLimits
from odradek.http.listen import ListenAddress, parse_listen
from odradek.http.metrics import HttpMetrics
from odradek.http.runner import ServerSettings, serve

__all__ = [
    "Health",
    "HttpError",
    "HttpLimits",
    "HttpMetrics",
    "ListenAddress",
    "ServerSettings",
    "create_app",
    "parse_listen",
    "serve",
]
