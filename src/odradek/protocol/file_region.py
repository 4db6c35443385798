"""A stretch of a log file in a response, sent as it is rather than read into memory first.

A follower's fetch is served from the leader's segment files: `LogSegment.region` gives the
`FileRegion` of the batches (a duplicate descriptor of its own, valid whatever the file cache
closes meanwhile), the Fetch writer puts it among the response's chunks like any buffer, and the
connection hands it to the kernel with `os.sendfile` (`send_region`): page-cache pages go to the
socket with no copy into the broker's memory and no Python work per byte. Where sendfile cannot
be used (TLS, a socket that is full, a test transport), `read()` gives its bytes.

A region shorter than announced (the file was truncated meanwhile: the leader became a follower
and cut its divergent tail) raises `EOFError`; the connection must then be closed, since its frame
size was already sent.
"""

from __future__ import annotations

import os


class FileRegion:
    __slots__ = ("fd", "position", "size")

    def __init__(self, fd: int, position: int, size: int) -> None:
        self.fd = fd
        """A descriptor the region owns (closed by `close`)."""
        self.position = position
        self.size = size

    def __len__(self) -> int:
        return self.size

    def read(self, skip: int = 0) -> bytes:
        """Its bytes from `skip` on."""
        want, position = self.size - skip, self.position + skip
        data = os.pread(self.fd, want, position)
        if len(data) == want:
            return data
        parts, got = [data], len(data)
        while got < want:
            more = os.pread(self.fd, want - got, position + got)
            if not more:
                raise EOFError(f"the file ends {want - got} bytes short of the region")
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:  # a response dropped unsent (its connection closed) still closes it
        self.close()


def send_buffer(socket_fd: int, data: bytes | bytearray | memoryview) -> int:
    """Write as much of `data` as the (non-blocking) socket takes now; returns the bytes written."""
    sent, size = 0, len(data)
    view = memoryview(data)
    while sent < size:
        try:
            sent += os.write(socket_fd, view[sent:])
        except BlockingIOError:
            break
    return sent


def send_region(socket_fd: int, region: FileRegion) -> int:
    """Send as much of `region` as the (non-blocking) socket takes now; returns the bytes sent."""
    sent = 0
    while sent < region.size:
        try:
            n = os.sendfile(socket_fd, region.fd, region.position + sent, region.size - sent)
        except BlockingIOError:
            break
        if n == 0:
            raise EOFError(f"the file ends {region.size - sent} bytes short of the region")
        sent += n
    return sent
