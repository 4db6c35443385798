"""Sans-I/O splitting of a byte stream into request frames (``int32 size`` + ``size`` bytes).

Made for `asyncio.BufferedProtocol`: the transport asks `get_buffer()` for memory to receive
into and reports how much it wrote with `buffer_updated(n)`. Small frames are received into a
scratch buffer and copied out. The scratch buffer is shared by every connection of the server
(`shared_scratch`): one event loop calls `get_buffer` and `buffer_updated` of one connection back to
back, and whatever a connection has not consumed when `buffer_updated` returns (the start of a
frame) is copied into the connection's own small `_partial` buffer, so an idle connection holds no
receive buffer at all (10,000 connections would otherwise hold 640 MB of scratch). Once the size of
a large frame is known, a `bytearray` of that size (at most `INITIAL_BIG_SIZE` at first) is handed
to the transport piece by piece, so a 1 MiB Produce request is received without further copies. A
larger frame's buffer doubles as its bytes arrive: announcing a 100 MiB frame with four bytes costs
the broker `INITIAL_BIG_SIZE`, not 100 MiB. Frames are returned as writable `bytearray`s so the
Produce path can restamp batches in place.

A size below zero or above ``max_request_size`` (Kafka's ``socket.request.max.bytes``) raises
`FrameError`; the caller closes the connection, as Kafka does.
"""

from __future__ import annotations

import struct

_SIZE = struct.Struct(">i")
SCRATCH_SIZE = 64 * 1024
INITIAL_BIG_SIZE = 2 * 1024 * 1024  # above the usual client limits (1 MB), so those frames never grow


class FrameError(Exception):
    """The peer sent a frame size we refuse; the connection must be closed."""


def shared_scratch() -> memoryview:
    """A receive buffer for all the connections of one event loop."""
    return memoryview(bytearray(SCRATCH_SIZE))


class FrameReader:
    __slots__ = (
        "_big",
        "_big_filled",
        "_big_initial",
        "_big_size",
        "_last_big",
        "_max",
        "_partial",
        "_reuse",
        "_scratch",
    )

    def __init__(
        self,
        max_request_size: int,
        scratch: memoryview | None = None,
        big_initial: int = INITIAL_BIG_SIZE,
        reuse: bool = False,
    ) -> None:
        """`big_initial`: how much of a large frame's announced size is allocated at once (a
        trusted peer's answers, another broker's, may get their whole size: no growing copies).
        `reuse`: the caller keeps a large frame only until the next one arrives, except through
        views of it, so the next large frame may be received into the same buffer when no view of
        it is alive any more (no new allocation to zero, no page faults)."""
        self._max = max_request_size
        self._big_initial = big_initial
        self._reuse = reuse
        self._last_big: bytearray | None = None
        self._scratch = scratch if scratch is not None else shared_scratch()
        self._partial = bytearray()  # the start of a frame not yet complete, carried between reads
        self._big: bytearray | None = None  # a large frame being filled in place
        self._big_filled = 0
        self._big_size = 0  # the frame's announced size; len(_big) may still be smaller

    def set_max_request_size(self, max_request_size: int) -> None:
        """A new limit for frames not yet announced (raised once a SASL login completes)."""
        self._max = max_request_size

    def get_buffer(self) -> memoryview:
        big = self._big
        if big is not None:
            if self._big_filled == len(big):
                big = self._grow(big)
            return memoryview(big)[self._big_filled :]
        return self._scratch

    def _grow(self, big: bytearray) -> bytearray:
        extra = bytes(min(len(big), self._big_size - len(big)))
        try:
            big.extend(extra)
        except BufferError:  # a view of it is still alive somewhere: copy instead of resizing
            big = big + extra
            self._big = big
        return big

    def buffer_updated(self, nbytes: int) -> list[bytearray]:
        """Account for `nbytes` just received; return the frames now complete."""
        big = self._big
        if big is not None:
            self._big_filled += nbytes
            if self._big_filled < self._big_size:
                return []
            self._big = None
            if self._reuse:
                self._last_big = big
            return [big]
        if not self._partial and nbytes >= 4:
            # the usual case: exactly one whole request in this read
            (size,) = _SIZE.unpack_from(self._scratch, 0)
            if size + 4 == nbytes and size <= self._max:
                return [bytearray(self._scratch[4:nbytes])]
        received = self._scratch[:nbytes]
        if self._partial:
            self._partial += received
            return self._parse(self._partial, own=True)
        return self._parse(received, own=False)

    def _reused(self, size: int) -> bytearray | None:
        """The last large frame's buffer resized to `size`, if no view of it is alive (a resize
        raises BufferError then: a bytearray with exports cannot change size)."""
        last, self._last_big = self._last_big, None
        if last is None:
            return None
        try:
            del last[min(size, len(last) - 1) :]  # shrinks by a byte at least, so it always checks
        except BufferError:
            return None
        if len(last) < size:
            last.extend(bytes(size - len(last)))
        return last

    def _parse(self, data: bytearray | memoryview, *, own: bool) -> list[bytearray]:
        """Cut the frames out of `data` (`_partial` itself when `own`, else the shared scratch);
        keep what remains in `_partial`, or in `_big` when it starts a large frame."""
        frames: list[bytearray] = []
        pos = 0
        end = len(data)
        maximum, unpack, append = self._max, _SIZE.unpack_from, frames.append
        while end - pos >= 4:
            (size,) = unpack(data, pos)
            if size < 0 or size > maximum:
                raise FrameError(f"invalid request size {size} (socket.request.max.bytes={maximum})")
            start = pos + 4
            pos = start + size
            if pos <= end:
                # a slice of `_partial` is a bytearray of its own; one of the scratch, a view
                append(data[start:pos] if own else bytearray(data[start:pos]))  # type: ignore[arg-type]
                continue
            pos = start - 4
            if size + 4 > SCRATCH_SIZE:
                # Large frame: move what we have into its own buffer and fill the rest in place.
                big = self._reused(min(size, self._big_initial)) or bytearray(min(size, self._big_initial))
                have = end - pos - 4
                big[:have] = data[pos + 4 : end]
                self._big = big
                self._big_filled = have
                self._big_size = size
                pos = end
            break
        if own:
            del self._partial[:pos]
        elif pos < end:
            self._partial = bytearray(data[pos:end])
        return frames
