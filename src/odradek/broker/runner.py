"""Run a broker until SIGINT/SIGTERM, then shut it down cleanly (flush, checkpoint, marker)."""

from __future__ import annotations

import asyncio
import logging
import signal

from odradek.broker.app import Broker
from odradek.broker.config import BrokerConfig

log = logging.getLogger("odradek.broker")


async def serve(properties: dict[str, str]) -> None:
    broker = Broker(BrokerConfig.from_properties(properties))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await broker.start()
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await broker.stop()


def run_broker(properties: dict[str, str]) -> int:
    asyncio.run(serve(properties))
    return 0
