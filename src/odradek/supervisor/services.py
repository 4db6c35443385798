"""The services `odradek dev` runs beside the broker: one `ServiceSpec` line each.

To add a service, give it an ``odradek`` command that serves with `odradek.http.serve` and takes
``--bootstrap`` and ``--listen``, then add its spec here (ports are the ones Kafka users know).
"""

from __future__ import annotations

from collections.abc import Sequence

from odradek.supervisor.spec import DevContext, ServiceSpec


def _connect_args(_ctx: DevContext) -> Sequence[str]:
    # one distributed worker: its state lives in the broker's connect-* topics, so connectors and
    # offsets survive a restart of `odradek dev`; offsets are flushed every 10 s.
    return ["--group-id", "odradek-dev-connect", "--override", "offset.flush.interval.ms=10000"]


DEV_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("registry", 8081, "schema registry", ("registry",)),
    ServiceSpec("rest", 8082, "REST proxy", ("rest-proxy",)),
    ServiceSpec("connect", 8083, "Kafka Connect", ("connect", "distributed"), extra_args=_connect_args),
)
