"""Walking the record batches of a `.log` file by their headers, with os.pread.

A `.log` file is nothing but v2 record batches back to back (layout in `odradek.protocol.records`);
batch `n+1` starts at `position(n) + batchLength(n) + 12`. These walkers read blocks and unpack one
61-byte header per batch; records are never decoded. `scan_headers` trusts the bytes (lookups in
data already recovered); `valid_batches` checks length, magic and CRC-32C (recovery); `iter_batches`
also hands out each batch's bytes, checked the same way (the log cleaner).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from odradek.protocol.records import (
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_V2,
    BatchHeader,
    CorruptBatchError,
    crc_of,
)

MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD
SCAN_BLOCK = 16 * 1024
RECOVERY_CHUNK = 1 << 20


def read_exactly(fd: int, size: int, position: int) -> bytes:
    """pread `size` bytes (pread on a regular file returns short only at end of file)."""
    data = os.pread(fd, size, position)
    if len(data) == size:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = os.pread(fd, size - got, position + got)
        if not more:
            raise EOFError(f"short read at {position + got}")
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def header_at(fd: int, position: int) -> BatchHeader:
    return BatchHeader._make(HEADER.unpack(read_exactly(fd, HEADER_SIZE, position)))


def scan_headers(fd: int, start: int, end: int, block: int = SCAN_BLOCK) -> Iterator[tuple[int, BatchHeader]]:
    """`(position, header)` of each batch in [start, end); stops at a header or batch that does not fit."""
    pos = start
    while end - pos >= HEADER_SIZE:
        data = os.pread(fd, min(block, end - pos), pos)
        n = len(data)
        off = 0
        while n - off >= HEADER_SIZE:
            header = BatchHeader._make(HEADER.unpack_from(data, off))
            size = header.batch_length + LOG_OVERHEAD
            if header.batch_length < MIN_BATCH_LENGTH or pos + off + size > end:
                return
            yield pos + off, header
            off += size
        if off == 0:
            return  # short read: the file ends before `end`
        pos += off  # may jump past the block when a batch is larger than it


def _is_valid(data: bytes, off: int, size: int, header: BatchHeader) -> bool:
    return (
        header.magic == MAGIC_V2
        and header.record_count >= 0
        and header.last_offset_delta >= 0
        and crc_of(data, off, size) == header.crc
    )


def valid_batches(
    fd: int, start: int, end: int, chunk: int = RECOVERY_CHUNK
) -> Iterator[tuple[int, BatchHeader]]:
    """Whole, valid batches from `start`; stops at the first torn or corrupt one.

    The caller truncates the file at the end of the last batch yielded.
    """
    pos = start
    while end - pos >= HEADER_SIZE:
        data = os.pread(fd, min(chunk, end - pos), pos)
        off = 0
        while len(data) - off >= HEADER_SIZE:
            header = BatchHeader._make(HEADER.unpack_from(data, off))
            size = header.batch_length + LOG_OVERHEAD
            if header.batch_length < MIN_BATCH_LENGTH or pos + off + size > end:
                return
            if off + size > len(data):
                if off:
                    break  # re-read from this batch
                data = os.pread(fd, size, pos)  # one batch larger than the chunk
                if len(data) < size:
                    return
            if not _is_valid(data, off, size, header):
                return
            yield pos + off, header
            off += size
        if off == 0:
            return
        pos += off


def iter_batches(
    fd: int, start: int, end: int, chunk: int = RECOVERY_CHUNK
) -> Iterator[tuple[int, BatchHeader, memoryview]]:
    """`(position, header, bytes)` of every batch in [start, end), read `chunk` bytes at a time.

    Unlike `valid_batches`, a torn or corrupt batch raises CorruptBatchError: the caller (the log
    cleaner) reads closed, recovered segments and must never take a bad batch for the end of one.
    """
    pos = start
    while pos < end:
        if end - pos < HEADER_SIZE:
            raise CorruptBatchError(f"{end - pos} stray bytes at {pos}")
        data = os.pread(fd, min(chunk, end - pos), pos)
        if len(data) < HEADER_SIZE:
            raise CorruptBatchError(f"short read at {pos}")
        first = BatchHeader._make(HEADER.unpack_from(data, 0))
        if first.batch_length + LOG_OVERHEAD > len(data) and first.batch_length >= MIN_BATCH_LENGTH:
            data = read_exactly(fd, min(first.batch_length + LOG_OVERHEAD, end - pos), pos)
        view = memoryview(data)
        off = 0
        while len(data) - off >= HEADER_SIZE:
            header = BatchHeader._make(HEADER.unpack_from(data, off))
            size = header.batch_length + LOG_OVERHEAD
            if header.batch_length < MIN_BATCH_LENGTH or pos + off + size > end:
                raise CorruptBatchError(f"batch at {pos + off} does not fit in the segment")
            if off + size > len(data):
                break
            if not _is_valid(data, off, size, header):
                raise CorruptBatchError(f"corrupt batch at {pos + off}")
            yield pos + off, header, view[off : off + size]
            off += size
        pos += off
