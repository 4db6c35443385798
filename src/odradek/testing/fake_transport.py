"""An in-memory `asyncio.Transport` for driving a protocol (e.g. `KafkaConnection`) without sockets.

It records what the protocol writes, whether it paused reading, and whether it closed; `close()`
reports `connection_lost` on the next loop iteration, as real transports do. `feed()` delivers bytes
through the `BufferedProtocol` interface (`get_buffer`/`buffer_updated`) in chunks of a chosen
size, the way a socket would.
"""

from __future__ import annotations

import asyncio
from typing import Any


class FakeTransport(asyncio.Transport):
    def __init__(
        self,
        protocol: asyncio.BaseProtocol,
        loop: asyncio.AbstractEventLoop,
        peer: tuple[str, int] = ("127.0.0.1", 50000),
    ) -> None:
        super().__init__()
        self.protocol = protocol
        self.loop = loop
        self.peer = peer
        self.written = bytearray()
        self.closed = False
        self.reading = True
        self._readable = asyncio.Event()
        self._readable.set()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed:
            return
        self.written += data

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._readable.set()
            self.loop.call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False
        self._readable.clear()

    def resume_reading(self) -> None:
        self.reading = True
        self._readable.set()

    async def wait_readable(self) -> None:
        """Until reading is resumed or the transport closes."""
        await self._readable.wait()

    def is_reading(self) -> bool:
        return self.reading

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def can_write_eof(self) -> bool:
        return False


async def feed(
    protocol: asyncio.BufferedProtocol,
    transport: FakeTransport,
    data: bytes,
    chunk: int,
    paused_timeout: float = 1.0,
) -> int:
    """Deliver `data` in pieces of at most `chunk` bytes, yielding to the loop between pieces and
    waiting while reading is paused (at most `paused_timeout` seconds each time). Stops early when
    the transport closes or stays paused; returns the number of bytes delivered."""
    pos = 0
    while pos < len(data) and not transport.closed:
        if not transport.reading:
            try:
                async with asyncio.timeout(paused_timeout):
                    await transport.wait_readable()
            except TimeoutError:
                break
            continue
        buf = memoryview(protocol.get_buffer(-1))
        n = min(chunk, len(buf), len(data) - pos)
        buf[:n] = data[pos : pos + n]
        del buf
        pos += n
        protocol.buffer_updated(n)
        await asyncio.sleep(0)
    return pos
