"""The services `odradek dev` runs beside the broker: one `ServiceSpec` line each.

To add a service, give it an ``odradek`` command that serves with `odradek.http.serve` and takes
``--bootstrap`` and ``--listen``, then add its spec here (ports are the ones Kafka users know).
"""

from __future__ import annotations

from odradek.supervisor.spec import ServiceSpec

DEV_SERVICES: tuple[ServiceSpec, ...] = (ServiceSpec("registry", 8081, "schema registry", ("registry",)),)
