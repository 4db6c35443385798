from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.broker.frame_reader import (
    INITIAL_BIG_SIZE,
    SCRATCH_SIZE,
    FrameError,
    FrameReader,
    shared_scratch,
)


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def feed(reader: FrameReader, data: bytes, chunk: int) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        buf = reader.get_buffer()
        n = min(chunk, len(buf), len(data) - pos)
        assert n > 0
        buf[:n] = data[pos : pos + n]
        pos += n
        out += [bytes(f) for f in reader.buffer_updated(n)]
    return out


@settings(max_examples=150, deadline=None)
@given(bodies=st.lists(st.binary(max_size=300), max_size=8), chunk=st.integers(1, 2000))
def test_small_frames_survive_any_split(bodies: list[bytes], chunk: int) -> None:
    reader = FrameReader(max_request_size=10 * SCRATCH_SIZE)
    assert feed(reader, b"".join(frame(b) for b in bodies), chunk) == bodies


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 2 * SCRATCH_SIZE), min_size=1, max_size=4),
    chunk=st.integers(4096, 100_000),
)
def test_large_frames_survive_any_split(sizes: list[int], chunk: int) -> None:
    bodies = [bytes([i % 251]) * n for i, n in enumerate(sizes)]
    reader = FrameReader(max_request_size=10 * SCRATCH_SIZE)
    assert feed(reader, b"".join(frame(b) for b in bodies), chunk) == bodies


def test_large_frame_is_received_in_place() -> None:
    reader = FrameReader(max_request_size=1 << 20)
    body = bytes(range(256)) * 1024
    data = frame(body)
    buf = reader.get_buffer()
    buf[:1000] = data[:1000]
    assert reader.buffer_updated(1000) == []
    # the rest goes straight into the frame's own buffer, whatever size the transport offers
    target = reader.get_buffer()
    assert len(target) == len(body) - 996
    target[:] = data[1000:]
    frames = reader.buffer_updated(len(target))
    assert len(frames) == 1 and isinstance(frames[0], bytearray) and frames[0] == body


@pytest.mark.parametrize("size", [-1, -(2**31), 101])
def test_bad_sizes_are_refused(size: int) -> None:
    reader = FrameReader(max_request_size=100)
    with pytest.raises(FrameError):
        feed(reader, struct.pack(">i", size) + b"x" * 10, 1000)


@pytest.mark.parametrize("size", [101, 4000])
def test_a_whole_frame_in_one_read_above_the_limit_is_refused(size: int) -> None:
    """(One whole frame per read is the reader's shortcut; the limit holds there too.)"""
    reader = FrameReader(max_request_size=100)
    with pytest.raises(FrameError):
        feed(reader, frame(b"z" * size), 1 << 20)


def test_a_whole_frame_per_read_after_a_partial_one() -> None:
    reader = FrameReader(max_request_size=1000)
    first, second, third = frame(b"a" * 10), frame(b"b" * 20), frame(b"")
    assert feed(reader, first, 1 << 20) == [b"a" * 10]
    assert feed(reader, second[:3], 1 << 20) == []  # not even the size yet
    assert feed(reader, second[3:], 1 << 20) == [b"b" * 20]
    assert feed(reader, third, 1 << 20) == [b""]
    assert feed(reader, third + third[:2], 1 << 20) == [b""]
    assert feed(reader, third[2:] + first, 1 << 20) == [b"", b"a" * 10]


def test_size_at_limit_is_accepted() -> None:
    reader = FrameReader(max_request_size=100)
    assert feed(reader, frame(b"y" * 100), 7) == [b"y" * 100]


def test_announcing_a_huge_frame_allocates_little() -> None:
    reader = FrameReader(max_request_size=100 << 20)
    assert feed(reader, struct.pack(">i", 100 << 20) + b"z" * 10, 1000) == []
    assert len(reader.get_buffer()) == INITIAL_BIG_SIZE - 10


def test_frame_larger_than_initial_buffer_grows_to_its_size() -> None:
    size = 3 * INITIAL_BIG_SIZE + 12345
    body = bytes(range(256)) * (size // 256) + b"t" * (size % 256)
    reader = FrameReader(max_request_size=size)
    frames = feed(reader, frame(body) + frame(b"next"), 1 << 20)
    assert frames == [body, b"next"]


def test_growing_while_a_view_is_exported_copies() -> None:
    reader = FrameReader(max_request_size=4 * INITIAL_BIG_SIZE)
    body = b"q" * (2 * INITIAL_BIG_SIZE)
    data = frame(body)
    first = reader.get_buffer()
    first[:100] = data[:100]
    assert reader.buffer_updated(100) == []
    held = reader.get_buffer()  # e.g. a transport that keeps its view
    held[:] = data[100 : 100 + len(held)]
    assert reader.buffer_updated(len(held)) == []
    rest = reader.get_buffer()
    rest[:] = data[100 + len(held) :]
    assert reader.buffer_updated(len(rest)) == [body]
    held.release()


@settings(max_examples=100, deadline=None)
@given(
    bodies=st.lists(st.binary(max_size=3000), min_size=1, max_size=6),
    chunks=st.lists(st.integers(1, 5000), min_size=1, max_size=8),
)
def test_connections_sharing_one_scratch_buffer_keep_their_own_partial_frames(
    bodies: list[bytes], chunks: list[int]
) -> None:
    scratch = shared_scratch()
    readers = [FrameReader(100_000, scratch) for _ in range(3)]
    streams = [b"".join(frame(bytes([r]) + b) for b in bodies) for r in range(3)]
    positions = [0, 0, 0]
    got: list[list[bytes]] = [[], [], []]
    step = 0
    while any(p < len(s) for p, s in zip(positions, streams, strict=True)):
        for r, reader in enumerate(readers):  # one read per connection, in turn, as the loop does
            data, pos = streams[r], positions[r]
            if pos >= len(data):
                continue
            buf = reader.get_buffer()
            n = min(chunks[step % len(chunks)], len(buf), len(data) - pos)
            buf[:n] = data[pos : pos + n]
            positions[r] += n
            got[r] += [bytes(f) for f in reader.buffer_updated(n)]
            step += 1
    assert got == [[bytes([r]) + b for b in bodies] for r in range(3)]


def test_an_idle_reader_holds_no_receive_buffer() -> None:
    scratch = shared_scratch()
    reader = FrameReader(1000, scratch)
    assert reader.get_buffer().obj is scratch.obj
    buf = reader.get_buffer()
    data = frame(b"abc") + frame(b"defg")[:5]
    buf[: len(data)] = data
    assert reader.buffer_updated(len(data)) == [b"abc"]
    assert reader._partial == frame(b"defg")[:5]  # only the unfinished frame is kept
    buf = reader.get_buffer()
    buf[:3] = b"efg"
    assert reader.buffer_updated(3) == [b"defg"] and reader._partial == b""
