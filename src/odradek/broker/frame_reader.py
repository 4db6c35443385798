"""Sans-I/O splitting of a byte stream into request frames (``int32 size`` + ``size`` bytes).

Made for `asyncio.BufferedProtocol`: the transport asks `get_buffer()` for memory to receive
into and reports how much it wrote with `buffer_updated(n)`. Small frames are received into a
shared scratch buffer and copied out; once the size of a large frame is known, a `bytearray` of
exactly that size is allocated and handed to the transport piece by piece, so a 1 MiB Produce
request is received without further copies. Frames are returned as writable `bytearray`s so the
Produce path can restamp batches in place.

A size below zero or above ``max_request_size`` (Kafka's ``socket.request.max.bytes``) raises
`FrameError`; the caller closes the connection, as Kafka does.
"""

from __future__ import annotations

import struct

_SIZE = struct.Struct(">i")
SCRATCH_SIZE = 64 * 1024


class FrameError(Exception):
    """The peer sent a frame size we refuse; the connection must be closed."""


class FrameReader:
    __slots__ = ("_big", "_big_filled", "_max", "_scratch", "_scratch_len", "_view")

    def __init__(self, max_request_size: int) -> None:
        self._max = max_request_size
        self._scratch = bytearray(SCRATCH_SIZE)
        self._view = memoryview(self._scratch)
        self._scratch_len = 0  # bytes of unparsed data at the start of scratch
        self._big: bytearray | None = None  # a large frame being filled in place
        self._big_filled = 0

    def get_buffer(self) -> memoryview:
        big = self._big
        if big is not None:
            return memoryview(big)[self._big_filled :]
        return self._view[self._scratch_len :]

    def buffer_updated(self, nbytes: int) -> list[bytearray]:
        """Account for `nbytes` just received; return the frames now complete."""
        big = self._big
        if big is not None:
            self._big_filled += nbytes
            if self._big_filled < len(big):
                return []
            self._big = None
            return [big]
        self._scratch_len += nbytes
        return self._parse_scratch()

    def _parse_scratch(self) -> list[bytearray]:
        frames: list[bytearray] = []
        scratch = self._scratch
        pos = 0
        end = self._scratch_len
        while end - pos >= 4:
            (size,) = _SIZE.unpack_from(scratch, pos)
            if size < 0 or size > self._max:
                raise FrameError(f"invalid request size {size} (socket.request.max.bytes={self._max})")
            if end - pos - 4 >= size:
                frames.append(scratch[pos + 4 : pos + 4 + size])
                pos += 4 + size
                continue
            if size + 4 > SCRATCH_SIZE:
                # Large frame: move what we have into its own buffer and fill the rest in place.
                big = bytearray(size)
                have = end - pos - 4
                big[:have] = scratch[pos + 4 : end]
                self._big = big
                self._big_filled = have
                pos = end
            break
        if pos:
            remaining = end - pos
            scratch[:remaining] = scratch[pos:end]
            self._scratch_len = remaining
        return frames
