"""What the supervisor runs: the broker and a list of `ServiceSpec`s.

A service is a command of the ``odradek`` CLI that serves HTTP with `odradek.http.serve` (so it
announces readiness) and takes ``--bootstrap HOST:PORT --listen HOST:PORT``. Declaring one is a
`ServiceSpec` in `odradek.supervisor.services.DEV_SERVICES`:

    ServiceSpec("registry", 8081, "schema registry", ("registry",))

`argv` turns a spec into the child's command line for a `DevContext` (where the broker is, which
host to listen on, the data directory, the log level); ``extra_args`` adds service-specific flags
(a state directory under the data directory, say).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DevContext:
    bootstrap: str
    host: str
    data_dir: Path
    log_level: str = "INFO"
    #: the port of every service this run starts, by name (a service that talks to another,
    #: the REST proxy to the schema registry, finds it here; absent when run `--without` it)
    services: Mapping[str, int] = field(default_factory=dict)
    #: librdkafka settings every service's Kafka clients need (`odradek dev --secure`: TLS + SASL)
    client_settings: Mapping[str, str] = field(default_factory=dict)

    def url_of(self, service: str) -> str | None:
        """``http://host:port`` of another service of this run, or None if it is not run."""
        port = self.services.get(service)
        if not port:
            return None
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{port}"


ExtraArgs = Callable[[DevContext], Sequence[str]]


def _no_extra_args(_ctx: DevContext) -> Sequence[str]:
    return ()


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    port: int
    description: str
    command: tuple[str, ...]
    extra_args: ExtraArgs = field(default=_no_extra_args)
    #: a full command line instead of ``python -m odradek COMMAND …`` (tests run toy services)
    argv_override: Callable[[DevContext, int], list[str]] | None = None
    #: how the service's config names Kafka client settings: ``--override PREFIX+name=value``
    #: (the schema registry's ``kafkastore.``, the REST proxy's ``client.``, Connect's none)
    client_prefix: str = ""

    def argv(self, ctx: DevContext, port: int | None = None) -> list[str]:
        port = self.port if port is None else port
        if self.argv_override is not None:
            return self.argv_override(ctx, port)
        return [
            *odradek_command(ctx.log_level),
            *self.command,
            "--bootstrap",
            ctx.bootstrap,
            "--listen",
            f"{ctx.host}:{port}",
            *self.extra_args(ctx),
            *client_overrides(self.client_prefix, ctx.client_settings),
        ]


def client_overrides(prefix: str, settings: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for name, value in settings.items():
        out += ["--override", f"{prefix}{name}={value}"]
    return out


def odradek_command(log_level: str) -> list[str]:
    return [sys.executable, "-m", "odradek", "--log-level", log_level]
