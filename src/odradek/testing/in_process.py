"""A real `Broker` on a private event loop in the test's own thread, reached without sockets.

`InProcessBroker` starts the broker (real storage in `data_dir`, the real handler table) on a new
event loop; `connect()` gives a `KafkaConnection` over a `FakeTransport`, to which tests feed raw
bytes or whole requests and read the answers back, running the loop only while they wait. Nothing
runs between calls, so tests see the broker's state exactly as the last call left it. A `FakeClock`
may be given to drive time-based work (coordinator timers) by hand.

    with InProcessBroker(tmp_path) as broker:
        broker.create_topic("t", 3)
        conn = broker.connect()
        response = conn.call(ApiKey.METADATA, 12, MetadataRequest(topics=None))
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from odradek.broker.app import Broker
from odradek.broker.config import BrokerConfig
from odradek.broker.connection import KafkaConnection
from odradek.metadata.controller.topics import CreatableTopic
from odradek.model.clock import Clock
from odradek.protocol import primitives as p
from odradek.testing.fake_transport import FakeTransport, feed
from odradek.testing.raw_client import decode_response, encode_request

T = TypeVar("T")
DEFAULT_MAX_REQUEST = 100 * 1024 * 1024


class InProcessBroker:
    def __init__(
        self, data_dir: Path, overrides: Mapping[str, str] | None = None, clock: Clock | None = None
    ) -> None:
        properties = {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": str(data_dir), **(overrides or {})}
        self.loop = asyncio.new_event_loop()
        self.broker = Broker(BrokerConfig.from_properties(properties), clock)
        self.max_request = self.broker.config.int_value("socket.request.max.bytes")

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def start(self) -> InProcessBroker:
        self.run(self.broker.start())
        self.run(self.broker.coordinators_loaded())  # the loop only runs while a test waits
        return self

    def stop(self) -> None:
        try:
            self.run(self.broker.stop())
        finally:
            self.loop.close()

    def __enter__(self) -> InProcessBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def create_topic(self, name: str, partitions: int = 1, **configs: str) -> uuid.UUID:
        topic = CreatableTopic(name, num_partitions=partitions, configs=tuple(configs.items()))
        [result] = self.run(self.broker.create_topics([topic]))
        if result.error_code != 0:
            raise RuntimeError(f"cannot create {name}: {result.error_code!r} {result.error_message}")
        return result.topic_id

    def connect(self, high_water: int | None = None) -> InMemoryConnection:
        """A new client connection; with `high_water`, one whose peer does not read (see FakeTransport)."""
        return InMemoryConnection(self, high_water)


class InMemoryConnection:
    def __init__(self, owner: InProcessBroker, high_water: int | None = None) -> None:
        self.owner = owner
        self.protocol = KafkaConnection(owner.broker.dispatcher, owner.max_request, set(), None)
        self.transport = FakeTransport(self.protocol, owner.loop, high_water=high_water)
        self.protocol.connection_made(self.transport)
        self._read = 0
        self._correlation = 0

    @property
    def closed(self) -> bool:
        return self.transport.closed

    def send_bytes(self, data: bytes, chunk: int = 65536) -> None:
        self.owner.run(feed(self.protocol, self.transport, data, chunk))

    def settle(self, timeout: float = 5.0) -> None:
        """Run the loop until no request is in progress (or the connection closed): none waiting
        before its answer (`busy`), none appended and waiting to be answered (`answers`)."""

        async def wait() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            await asyncio.sleep(0)
            # each finished request may start the next queued one as a new task
            while not self.transport.closed:
                protocol = self.protocol
                waiting = [a.task for a in protocol.answers if a.task is not None]
                if protocol.busy is not None:
                    waiting.append(protocol.busy)
                remaining = deadline - loop.time()
                if not waiting or remaining <= 0:
                    break
                await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(0)

        self.owner.run(wait())

    def next_frame(self) -> bytes | None:
        """The next whole response frame written so far (without its size), or None."""
        written = self.transport.written
        if len(written) - self._read < 4:
            return None
        (size,) = p.INT32.unpack_from(written, self._read)
        if len(written) - self._read - 4 < size:
            return None
        frame = bytes(written[self._read + 4 : self._read + 4 + size])
        self._read += 4 + size
        return frame

    def send(self, api_key: int, version: int, request: Any) -> int:
        self._correlation += 1
        body = encode_request(api_key, version, request, self._correlation)
        self.send_bytes(p.INT32.pack(len(body)) + body)
        return self._correlation

    def call(self, api_key: int, version: int, request: Any) -> Any:
        cid = self.send(api_key, version, request)
        self.settle()
        frame = self.next_frame()
        if frame is None:
            raise ConnectionError("no response" + (" (connection closed)" if self.closed else ""))
        got, response = decode_response(api_key, version, frame)
        if got != cid:
            raise p.ProtocolError(f"correlation id {got}, expected {cid}")
        return response

    def close(self) -> None:
        self.transport.close()
        self.owner.run(asyncio.sleep(0))
