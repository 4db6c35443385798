"""Producer-state snapshots (`<offset>.snapshot`) and rebuilding producer state after a restart.

A snapshot holds the `ProducerStateManager` entries as they were once every batch below `offset`
had been applied; it is named by that offset (20 digits, like segments): `00000000000000001234.snapshot`
beside the segments of the partition. It is written at segment roll (offset = the new segment's
base offset) and at clean shutdown (offset = the log end offset), and read back on recovery.

File format: Kafka's `ProducerSnapshot` version 1, byte for byte (big-endian)::

    0   version                int16   1
    2   crc                    uint32  CRC-32C of every byte from offset 6 to the end
    6   entry count            int32
    10  entries, 46 bytes each:
          producerId             int64
          epoch                  int16
          lastSequence           int32   last sequence of the producer's last data batch (-1: none)
          lastOffset             int64   last offset of that batch (-1: none)
          offsetDelta            int32   lastOffset - firstOffset of that batch
          timestamp              int64   the producer's last write time (data batch or marker)
          coordinatorEpoch       int32   of the last marker written for it (-1: none)
          currentTxnFirstOffset  int64   first offset of its ongoing transaction (-1: none)

Only the newest batch of each producer is kept (Kafka's choice), so after a restart a retry can be
recognised as a duplicate only if it retries that batch or one written after the snapshot; older
retries get OUT_OF_ORDER_SEQUENCE_NUMBER, which the Java and librdkafka producers handle. Entries
are written in producer-id order so that equal states give equal files.

Recovery (`rebuild`): load the newest readable snapshot at or below the recovery target (a corrupt
one is deleted and the next older tried, as Kafka does), then replay every batch from the snapshot
offset. Batches come in as `(header, marker)` pairs so that this module never reads segments
itself; `read_marker` decodes a control batch's marker for the caller.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from odradek.protocol.checksum import crc32c as _crc32c
from odradek.protocol.records import BatchHeader, iter_records
from odradek.storage.atomic_file import read_file, write_atomically
from odradek.storage.layout import SNAPSHOT_SUFFIX
from odradek.storage.producer_state import (
    BatchMetadata,
    CompletedTxn,
    EndTxnMarker,
    ProducerStateEntry,
    ProducerStateManager,
)

SNAPSHOT_VERSION = 1
_HEAD = struct.Struct(">hIi")
_ENTRY = struct.Struct(">qhiqiqiq")
_ENTRIES_OFFSET = 6
_MARKER_KEY = struct.Struct(">hh")
_MARKER_VALUE = struct.Struct(">hi")


class CorruptSnapshotError(ValueError):
    """A snapshot file that is truncated, of an unknown version, or fails its CRC."""


def encode_snapshot(entries: Iterable[ProducerStateEntry]) -> bytes:
    ordered = sorted(entries, key=lambda e: e.producer_id)
    body = bytearray(_HEAD.size + _ENTRY.size * len(ordered))
    pos = _HEAD.size
    for e in ordered:
        last = e.batches[-1] if e.batches else None
        _ENTRY.pack_into(
            body,
            pos,
            e.producer_id,
            e.producer_epoch,
            last.last_seq if last else -1,
            last.last_offset if last else -1,
            last.offset_delta if last else 0,
            e.last_timestamp,
            e.coordinator_epoch,
            e.current_txn_first_offset,
        )
        pos += _ENTRY.size
    struct.pack_into(">i", body, _ENTRIES_OFFSET, len(ordered))
    crc = _crc32c(memoryview(body)[_ENTRIES_OFFSET:])
    struct.pack_into(">hI", body, 0, SNAPSHOT_VERSION, crc)
    return bytes(body)


def decode_snapshot(buf: bytes) -> list[ProducerStateEntry]:
    if len(buf) < _HEAD.size:
        raise CorruptSnapshotError("snapshot shorter than its header")
    version, crc, count = _HEAD.unpack_from(buf, 0)
    if version != SNAPSHOT_VERSION:
        raise CorruptSnapshotError(f"unknown snapshot version {version}")
    if count < 0 or len(buf) != _HEAD.size + count * _ENTRY.size:
        raise CorruptSnapshotError(f"snapshot of {len(buf)} bytes cannot hold {count} entries")
    if _crc32c(memoryview(buf)[_ENTRIES_OFFSET:]) != crc:
        raise CorruptSnapshotError("snapshot CRC mismatch")
    entries = []
    for pid, epoch, last_seq, last_offset, delta, ts, coordinator_epoch, txn_first in _ENTRY.iter_unpack(
        buf[_HEAD.size :]
    ):
        batches: deque[BatchMetadata] = deque()
        if last_offset >= 0:
            batches.append(BatchMetadata(last_seq, last_offset, delta, ts))
        entries.append(ProducerStateEntry(pid, epoch, coordinator_epoch, ts, txn_first, batches))
    return entries


# --- files ------------------------------------------------------------------------------------


def snapshot_path(directory: Path, offset: int) -> Path:
    return directory / f"{offset:020d}{SNAPSHOT_SUFFIX}"


def list_snapshots(directory: Path) -> list[int]:
    """Offsets of the snapshot files in a partition directory, ascending."""
    offsets = []
    for name in os.listdir(directory):
        stem = name[: -len(SNAPSHOT_SUFFIX)]
        if name.endswith(SNAPSHOT_SUFFIX) and len(stem) == 20 and stem.isdigit():
            offsets.append(int(stem))
    return sorted(offsets)


def write_snapshot(
    directory: Path, offset: int, entries: Iterable[ProducerStateEntry], sync: bool = True
) -> Path:
    """Write atomically so a crash never leaves half a snapshot under the final name."""
    path = snapshot_path(directory, offset)
    write_atomically(path, encode_snapshot(entries), sync)
    return path


def read_snapshot(path: Path) -> list[ProducerStateEntry]:
    return decode_snapshot(read_file(path))


def delete_snapshots(directory: Path, *, below: int | None = None, above: int | None = None) -> list[int]:
    """Delete snapshots with offset < `below` and/or > `above` (retention, truncation)."""
    doomed = [
        o
        for o in list_snapshots(directory)
        if (below is not None and o < below) or (above is not None and o > above)
    ]
    for offset in doomed:
        snapshot_path(directory, offset).unlink(missing_ok=True)
    return doomed


def load_latest_snapshot(
    directory: Path, at_most: int, offsets: list[int] | None = None
) -> tuple[int, list[ProducerStateEntry]] | None:
    """The newest readable snapshot with offset <= `at_most`; unreadable ones are deleted.
    `offsets` are the snapshots in the directory when the caller just listed it."""
    for offset in reversed(list_snapshots(directory) if offsets is None else offsets):
        if offset > at_most:
            continue
        try:
            return offset, read_snapshot(snapshot_path(directory, offset))
        except (CorruptSnapshotError, OSError):
            snapshot_path(directory, offset).unlink(missing_ok=True)
    return None


# --- recovery ---------------------------------------------------------------------------------


def read_marker(batch: bytes | memoryview, header: BatchHeader) -> EndTxnMarker | None:
    """The COMMIT/ABORT marker of a control batch (`batch` holds the whole batch); None if the
    batch is empty (compacted) or its first record is not a transaction marker."""
    for record in iter_records(batch, 0, header):
        key, value = record.key, record.value
        if key is None or value is None or len(key) < _MARKER_KEY.size or len(value) < _MARKER_VALUE.size:
            return None
        _, control_type = _MARKER_KEY.unpack_from(key)
        _, coordinator_epoch = _MARKER_VALUE.unpack_from(value)
        return EndTxnMarker(control_type, coordinator_epoch)
    return None


def rebuild(
    state: ProducerStateManager,
    snapshot: tuple[int, list[ProducerStateEntry]] | None,
    batches: Iterable[tuple[BatchHeader, EndTxnMarker | None]],
    *,
    log_start_offset: int,
    now_ms: int,
) -> list[CompletedTxn]:
    """Reset `state` to `snapshot` (or empty at `log_start_offset`) and replay `batches`.

    `batches` yields restamped headers in log order; those ending below the snapshot offset are
    skipped, so the caller may start at the segment holding it. Returns the transactions whose
    markers were replayed, in order: the aborted ones are the `.txnindex` entries of the replayed
    range.
    """
    if snapshot is None:
        state.truncate_fully_and_start_at(log_start_offset)
    else:
        state.load(snapshot[1], snapshot[0], now_ms)
    start = state.map_end_offset
    completed = []
    for header, marker in batches:
        if header.last_offset < start:
            continue
        done = state.on_append(header, header.base_offset, marker)
        if done is not None:
            completed.append(done)
    return completed
