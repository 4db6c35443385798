"""One socket write per event-loop turn: an HTTP response's head and body leave together.

uvicorn's HTTP/1.1 protocols write a response's status line and headers, then its body, as separate
`transport.write` calls: two `send` system calls and, on a connection where the client waits for
the answer, two TCP segments the client wakes up for. For a small answer (a key lookup's one row)
those writes are most of the server's CPU per request. `coalescing(protocol_class)` returns a
subclass of the protocol whose transport is wrapped in `TurnWriter`: writes made during one turn of
the event loop are joined and written once, at the end of that turn (a callback scheduled with
`call_soon` on the first write), or at once when they reach `FLUSH_BYTES` (a large body is not held
back, and the real transport's write buffer, which flow control watches, sees it). Closing flushes
first; everything else is the real transport's.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

FLUSH_BYTES = 64 * 1024
"""Held bytes written at once, without waiting for the end of the turn."""


class TurnWriter:
    """A transport proxy joining the writes of one event-loop turn into one `write`."""

    __slots__ = ("_held", "_held_bytes", "_loop", "_scheduled", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= FLUSH_BYTES:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._end_of_turn)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _end_of_turn(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        if not self.transport.is_closing():
            self.transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._held_bytes + self.transport.get_write_buffer_size()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._held_bytes = 0
        self.transport.abort()

    def __getattr__(self, name: str) -> Any:  # everything else: the real transport's
        return getattr(self.transport, name)


def coalescing(protocol_class: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """`protocol_class` writing through a `TurnWriter` (its other behaviour unchanged)."""

    class Coalescing(protocol_class):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            writer = TurnWriter(cast(asyncio.Transport, transport), asyncio.get_running_loop())
            super().connection_made(writer)

    Coalescing.__name__ = Coalescing.__qualname__ = f"Coalescing{protocol_class.__name__}"
    return Coalescing
