"""File regions (`protocol/file_region.py`): read whole or from an offset, sent with sendfile as far
as a non-blocking socket takes them, and a file cut short under a region is an EOFError (the
connection then closes: the frame's size was already sent)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from odradek.protocol.file_region import FileRegion, send_region

DATA = bytes(range(256)) * 4096  # 1 MiB


def region(tmp_path: Path, position: int, size: int) -> FileRegion:
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(DATA)
    return FileRegion(os.open(path, os.O_RDONLY), position, size)


def test_read_whole_and_from_an_offset(tmp_path: Path) -> None:
    r = region(tmp_path, 1000, 5000)
    assert len(r) == 5000 and r.read() == DATA[1000:6000] and r.read(4000) == DATA[5000:6000]
    r.close()
    r.close()  # twice is harmless
    assert r.fd == -1


def test_sent_as_far_as_the_socket_takes_it_then_the_rest(tmp_path: Path) -> None:
    r = region(tmp_path, 7, len(DATA) - 7)
    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        sent = send_region(a.fileno(), r)
        assert 0 < sent < r.size  # a socket pair buffers far less than 1 MiB
        received = bytearray()
        while len(received) < sent:
            received += b.recv(1 << 20)
        assert bytes(received) == DATA[7 : 7 + sent]
    r.close()


def test_a_file_cut_short_is_an_eof(tmp_path: Path) -> None:
    r = region(tmp_path, 0, len(DATA))
    os.truncate(tmp_path / "00000000000000000000.log", 1000)
    with pytest.raises(EOFError):
        r.read()
    a, b = socket.socketpair()
    with a, b, pytest.raises(EOFError):
        send_region(a.fileno(), FileRegion(os.dup(r.fd), 1000, 10))
    r.close()
