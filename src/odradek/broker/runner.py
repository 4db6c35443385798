"""Run a broker until SIGINT/SIGTERM, then shut it down cleanly (flush, checkpoint, marker).

Under a supervisor (`odradek dev`) the broker announces where it serves once it has started
(`odradek.process.readiness`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from odradek.broker.app import Broker
from odradek.broker.config import BrokerConfig
from odradek.process import readiness
from odradek.process.event_loop import loop_factory

log = logging.getLogger("odradek.broker")


async def serve(properties: dict[str, str]) -> None:
    broker = Broker(BrokerConfig.from_properties(properties))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await broker.start()
    announce_ready(broker)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await broker.stop()


def announce_ready(broker: Broker) -> None:
    host, port = broker.advertised_endpoint()
    fields: dict[str, object] = {"name": "broker", "bootstrap": f"{host}:{port}"}
    if broker.metrics_endpoint is not None:
        fields["metrics"] = f"http://{host}:{broker.metrics_endpoint.port}/metrics"
    readiness.announce(fields)


def run_broker(properties: dict[str, str]) -> int:
    name, factory = loop_factory(os.environ)
    log.info("event loop: %s", name)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(properties))
    return 0
