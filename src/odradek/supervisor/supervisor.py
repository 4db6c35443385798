"""`odradek dev` as a supervisor of processes (ARCHITECTURE D10).

The broker runs in its own process, so its single event loop serves only produce and fetch and it
never imports service code; each HTTP service (schema registry, REST proxy, Connect, SQL, console)
runs in a child process of its own, so the machine's cores are used and a crashing service never
takes the broker down. The order of things:

1. start the broker; wait for its announcement, then for it to answer Metadata;
2. start every service with the broker's bootstrap address; print one line per process with its
   address as each becomes ready;
3. keep them running: a child that dies is restarted after an exponential back-off (`backoff`),
   on the same port it had (so port 0 in tests stays stable across restarts);
4. on SIGINT/SIGTERM stop the services (SIGTERM, SIGKILL after ``service_stop_s``), then the broker
   (``broker_stop_s``): everything is gone within 5 s with the defaults.

If the broker never becomes ready at the first start (port taken, bad config), nothing else starts
and `run` returns 1.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from odradek.supervisor.backoff import BackoffPolicy
from odradek.supervisor.keeper import Announcement, KeptChild
from odradek.supervisor.probe import wait_for_metadata
from odradek.supervisor.spec import DevContext, ServiceSpec, odradek_command

log = logging.getLogger("odradek.supervisor")


@dataclass(slots=True)
class SupervisorSettings:
    broker_properties: dict[str, str]
    data_dir: Path
    host: str = "127.0.0.1"
    log_level: str = "INFO"
    ports: dict[str, int] = field(default_factory=dict)
    client_settings: dict[str, str] = field(default_factory=dict)
    """librdkafka settings of the broker's listener (TLS, SASL) for the services and the probe."""
    policy: BackoffPolicy = field(default_factory=BackoffPolicy)
    broker_ready_s: float = 120.0
    service_ready_s: float = 60.0
    service_stop_s: float = 2.0
    broker_stop_s: float = 2.5


class Supervisor:
    def __init__(
        self, settings: SupervisorSettings, services: Sequence[ServiceSpec], out: TextIO | None = None
    ):
        self.settings = settings
        self.services = list(services)
        self.out = out if out is not None else sys.stdout
        self.bootstrap: str | None = None
        self.urls: dict[str, str] = {}
        self.broker = KeptChild(
            "broker",
            self._broker_argv,
            on_ready=self._broker_ready,
            on_exit=self._exited,
            policy=settings.policy,
            ready_timeout_s=settings.broker_ready_s,
        )
        self.kept: dict[str, KeptChild] = {}
        self._broker_up = asyncio.Event()
        self._broker_failed = asyncio.Event()

    # --- command lines --------------------------------------------------------------------

    def _broker_argv(self) -> list[str]:
        argv = [*odradek_command(self.settings.log_level), "broker"]
        for name, value in self.settings.broker_properties.items():
            argv += ["--override", f"{name}={value}"]
        return argv

    def _service_argv(self, spec: ServiceSpec) -> list[str]:
        assert self.bootstrap is not None
        ports = {s.name: self.settings.ports.get(s.name, s.port) for s in self.services}
        ctx = DevContext(
            self.bootstrap,
            self.settings.host,
            self.settings.data_dir,
            self.settings.log_level,
            ports,
            self.settings.client_settings,
        )
        return spec.argv(ctx, self.settings.ports.get(spec.name, spec.port))

    # --- events ---------------------------------------------------------------------------

    def _broker_ready(self, _child: KeptChild, announcement: Announcement) -> None:
        bootstrap = str(announcement.get("bootstrap", ""))
        self.bootstrap = bootstrap
        self._pin_broker_ports(announcement)
        metrics = announcement.get("metrics")
        extra = f"  metrics {metrics}" if metrics else ""
        self._line("broker", bootstrap, f"Kafka protocol{extra}")
        self._broker_up.set()

    def _pin_broker_ports(self, announcement: Announcement) -> None:
        """A restarted broker must come back where the services look for it."""
        props = self.settings.broker_properties
        listeners = props.get("listeners", "")
        port = str(announcement.get("bootstrap", "")).rpartition(":")[2]
        if listeners.count("://") == 1 and listeners.endswith(":0") and port.isdigit():
            props["listeners"] = listeners[:-1] + port
        metrics = re.search(r":(\d+)/metrics$", str(announcement.get("metrics", "")))
        if props.get("odradek.metrics.port") == "0" and metrics:
            props["odradek.metrics.port"] = metrics.group(1)

    def _service_ready(self, spec: ServiceSpec, child: KeptChild, announcement: Announcement) -> None:
        url = str(announcement.get("url", ""))
        self.urls[spec.name] = url
        port = url.rpartition(":")[2]
        if port.isdigit():
            self.settings.ports[spec.name] = int(port)
        self._line(spec.name, url, spec.description + (" (restarted)" if child.starts > 1 else ""))

    def _exited(self, child: KeptChild, code: int, delay: float) -> None:
        if child is self.broker and not self._broker_up.is_set():
            log.error("the broker exited with code %d before it was ready", code)
            self._broker_failed.set()
            return
        log.warning("%s exited with code %d; restarting it in %.1f s", child.name, code, delay)

    def _line(self, name: str, address: str, what: str) -> None:
        print(f"  {name:<10} {address:<28} {what}", file=self.out, flush=True)

    # --- the whole run ----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> int:
        code = 0
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.broker.run())
            if not await self._await_broker(stop):
                code = 0 if stop.is_set() and not self._broker_failed.is_set() else 1
                await self.broker.stop(self.settings.broker_stop_s)
                return code
            for spec in self.services:
                kept = KeptChild(
                    spec.name,
                    lambda spec=spec: self._service_argv(spec),  # type: ignore[misc]
                    on_ready=lambda child, ann, spec=spec: self._service_ready(spec, child, ann),  # type: ignore[misc]
                    on_exit=self._exited,
                    policy=self.settings.policy,
                    ready_timeout_s=self.settings.service_ready_s,
                )
                self.kept[spec.name] = kept
                tasks.create_task(kept.run())
            await stop.wait()
            await self.shutdown()
        return code

    async def _await_broker(self, stop: asyncio.Event) -> bool:
        waits = {
            asyncio.ensure_future(self._broker_up.wait()),
            asyncio.ensure_future(self._broker_failed.wait()),
            asyncio.ensure_future(stop.wait()),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
        if not self._broker_up.is_set():
            return False
        assert self.bootstrap is not None
        if not await wait_for_metadata(
            self.bootstrap, self.settings.broker_ready_s, client_settings=self.settings.client_settings
        ):
            log.error("the broker at %s does not answer Metadata", self.bootstrap)
            self._broker_failed.set()
            return False
        return True

    async def shutdown(self) -> None:
        """Services first (all at once), the broker last."""
        if self.kept:
            await asyncio.gather(*(kept.stop(self.settings.service_stop_s) for kept in self.kept.values()))
        await self.broker.stop(self.settings.broker_stop_s)
