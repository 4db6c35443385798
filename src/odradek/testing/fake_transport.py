"""An in-memory `asyncio.Transport` for driving a protocol (e.g. `KafkaConnection`) without sockets.

It records what the protocol writes, whether it paused reading, and whether it closed; `close()`
reports `connection_lost` on the next loop iteration, as real transports do. With `high_water`
set, it behaves like a peer that does not read: written bytes stay buffered, `pause_writing()` is
called once more than `high_water` bytes are buffered, and `drain()` empties the buffer (or part
of it, a slow reader) and calls `resume_writing()`. `feed()` delivers bytes through the
`BufferedProtocol` interface (`get_buffer`/`buffer_updated`) in chunks of a chosen size, the way a
socket would.
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
        high_water: int | None = None,
    ) -> None:
        super().__init__()
        self.protocol = protocol
        self.loop = loop
        self.peer = peer
        self.high_water = high_water
        self.buffered = 0
        self.writing_paused = False
        self.written = bytearray()
        self.writes = 0  # calls to write() or writelines() (a socket's send calls)
        self.closed = False
        self.reading = True
        self._readable = asyncio.Event()
        self._readable.set()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes += 1
        self._write(data)

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed:
            return
        self.written += data
        if self.high_water is None:
            return
        self.buffered += len(data)
        if self.buffered > self.high_water and not self.writing_paused:
            self.writing_paused = True
            self.protocol.pause_writing()

    def drain(self, nbytes: int | None = None) -> None:
        """The peer read everything written so far (or `nbytes` of it: a slow reader)."""
        self.buffered = 0 if nbytes is None else max(0, self.buffered - nbytes)
        if self.writing_paused and self.buffered <= (self.high_water or 0):
            self.writing_paused = False
            self.protocol.resume_writing()

    def writelines(self, list_of_data: Any) -> None:
        self.writes += 1
        for data in list_of_data:
            self._write(data)

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
        return self.buffered

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def can_write_eof(self) -> bool:
        return False


def deliver(protocol: asyncio.BufferedProtocol, data: bytes) -> None:
    """One socket read of all of `data`, handled synchronously (no loop turn)."""
    buf = memoryview(protocol.get_buffer(-1))
    buf[: len(data)] = data
    del buf
    protocol.buffer_updated(len(data))


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
