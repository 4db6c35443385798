"""The services `odradek dev` runs beside the broker: one `ServiceSpec` line each.

To add a service, give it an ``odradek`` command that serves with `odradek.http.serve` and takes
``--bootstrap`` and ``--listen``, then add its spec here (ports are the ones Kafka users know).
"""

from __future__ import annotations

from collections.abc import Sequence

from odradek.supervisor.spec import DevContext, ServiceSpec


def _connect_args(ctx: DevContext) -> Sequence[str]:
    # one distributed worker: its state lives in the broker's connect-* topics, so connectors and
    # offsets survive a restart of `odradek dev`; offsets are flushed every 10 s. The Avro, JSON
    # Schema and Protobuf converters find this run's schema registry without being told.
    args = ["--group-id", "odradek-dev-connect", "--override", "offset.flush.interval.ms=10000"]
    registry = ctx.url_of("registry")
    if registry:
        for kind in ("key", "value"):
            args += ["--override", f"{kind}.converter.schema.registry.url={registry}"]
    return args


def _rest_args(ctx: DevContext) -> Sequence[str]:
    registry = ctx.url_of("registry")
    return ["--schema-registry", registry] if registry else []


def _sql_args(ctx: DevContext) -> Sequence[str]:
    registry = ctx.url_of("registry")
    return ["--state-dir", str(ctx.data_dir / "sql"), *(["--schema-registry", registry] if registry else [])]


DEV_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("registry", 8081, "schema registry", ("registry",), client_prefix="kafkastore."),
    ServiceSpec("rest", 8082, "REST proxy", ("rest-proxy",), extra_args=_rest_args, client_prefix="client."),
    ServiceSpec("connect", 8083, "Kafka Connect", ("connect", "distributed"), extra_args=_connect_args),
    ServiceSpec(
        "sql",
        8088,
        "SQL (ksqlDB API)",
        ("sql-server",),
        extra_args=_sql_args,
    ),
)
