"""A real `Broker` listening on loopback, run on its own event loop in a background thread.

Real clients (librdkafka, kafka-python, raw sockets) talk to it over TCP exactly as to a
`BrokerProcess`, but the test process holds the `Broker` object: it can swap a part in before or
while it serves (a handler that fails, a partition manager or coordinator port under test) and look
at its state. `call(fn)` runs `fn(broker)` on the broker's loop and returns its result.

    with ThreadedBroker(tmp_path) as running:
        running.call(lambda broker: broker.dispatcher.specs.update(...))
        admin = AdminClient({"bootstrap.servers": running.bootstrap})
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from odradek.broker.app import Broker
from odradek.broker.config import BrokerConfig
from odradek.metadata.store import MetadataStore
from odradek.replication.isr import IsrWriter

T = TypeVar("T")
START_TIMEOUT_S = 20.0


class ThreadedBroker:
    def __init__(
        self,
        data_dir: Path,
        overrides: Mapping[str, str] | None = None,
        *,
        metadata_store: MetadataStore | None = None,
        isr_writer: IsrWriter | None = None,
    ) -> None:
        properties = {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": str(data_dir), **(overrides or {})}
        self.broker = Broker(
            BrokerConfig.from_properties(properties), metadata_store=metadata_store, isr_writer=isr_writer
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="threaded-broker", daemon=True)

    @property
    def bootstrap(self) -> str:
        host, port = self.broker.advertised_endpoint()
        return f"{host}:{port}"

    def start(self) -> ThreadedBroker:
        self._thread.start()
        self._run(self.broker.start())
        return self

    def stop(self) -> None:
        try:
            self._run(self.broker.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(START_TIMEOUT_S)
            self.loop.close()

    def call(self, fn: Callable[[Broker], T]) -> T:
        async def run() -> T:
            return fn(self.broker)

        return self._run(run())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(START_TIMEOUT_S)

    def __enter__(self) -> ThreadedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
