"""`odradek dev`: the supervisor of the broker and service processes (ARCHITECTURE D10); see README.md."""

from odradek.supervisor.backoff import BackoffPolicy, RestartBackoff
from odradek.supervisor.services import DEV_SERVICES
from odradek.supervisor.spec import DevContext, ServiceSpec
from odradek.supervisor.supervisor import Supervisor, SupervisorSettings

__all__ = [
    "DEV_SERVICES",
    "BackoffPolicy",
    "DevContext",
    "RestartBackoff",
    "ServiceSpec",
    "Supervisor",
    "SupervisorSettings",
]
