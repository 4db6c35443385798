"""What the log cleaner keeps of one record batch: Kafka's retention rules for a compacted log, pure.

A record is kept when any of these holds (Kafka's `Cleaner.shouldRetainRecord`)::

    its offset is above the offset map's latest offset     (beyond what this run mapped)
    it has a key, its offset is >= the map's offset for the key (-1 when the key is not in the
      dirty range), and it has a value or is a tombstone that may not be removed yet

Records without a key are dropped (a compacted topic never accepts them; they can only come from a
topic whose cleanup policy changed).

Tombstones (null value) follow Kafka 3.x (KIP-534): a batch that keeps a tombstone and has no delete
horizon yet is rewritten with one, `now + delete.retention.ms`, stored as its `baseTimestamp` with
attribute bit 6 set (every kept record's timestamp delta is shifted so its timestamp does not
change). Tombstones of a batch whose horizon has passed are removed by a later run. So a tombstone
stays readable for at least `delete.retention.ms` after the first clean that saw it, as Kafka
promises, and the horizon travels with the data (replicas and restarts agree on it), unlike the
pre-v2 rule based on segment modification times.

Batch outcomes:

    ORIGINAL   every record kept and no horizon to set: the batch is copied as it is
    REWRITTEN  some records dropped (or a horizon set): the kept records' bytes, unchanged, in a new
               batch with the same base offset, lastOffsetDelta, epoch, producer id/epoch/sequence,
               attributes and codec (compressed again); maxTimestamp recomputed from the kept records
               (CreateTime) or kept (LogAppendTime)
    EMPTY      nothing kept, but the batch must stay as a header without records (Kafka's
               RETAIN_EMPTY): it holds a producer's last sequence, or the segment's last offset
    DROPPED    nothing kept

Control batches (transaction markers) are kept as they are; `discard_records` (the transaction
seam, see `cleaner.py`) drops the records of a batch whose transaction was aborted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from odradek.protocol.primitives import Buffer
from odradek.protocol.raw_records import assemble_batch, batch_records, empty_batch, rebase_timestamp
from odradek.protocol.records import DELETE_HORIZON_BIT, BatchHeader


class KeyOffsets(Protocol):
    latest_offset: int

    def get(self, key: bytes) -> int: ...


class Verdict(Enum):
    ORIGINAL = "original"
    REWRITTEN = "rewritten"
    EMPTY = "empty"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class FilteredBatch:
    verdict: Verdict
    data: Buffer  # the batch to write (empty for DROPPED)
    max_timestamp: int
    records_kept: int


def delete_horizon(header: BatchHeader) -> int | None:
    return header.base_timestamp if header.attributes & DELETE_HORIZON_BIT else None


def _nothing_kept(batch: Buffer, header: BatchHeader, retain_empty: bool) -> FilteredBatch:
    if not retain_empty:
        return FilteredBatch(Verdict.DROPPED, b"", header.max_timestamp, 0)
    if header.record_count == 0:  # already the empty batch a previous run left
        return FilteredBatch(Verdict.ORIGINAL, batch, header.max_timestamp, 0)
    return FilteredBatch(Verdict.EMPTY, empty_batch(header), header.max_timestamp, 0)


def filter_batch(
    batch: Buffer,
    header: BatchHeader,
    offsets: KeyOffsets,
    *,
    now_ms: int,
    delete_retention_ms: int,
    retain_empty: bool,
    discard_records: bool = False,
) -> FilteredBatch:
    """Apply the cleaner's rules to one whole batch (`batch` starts at the batch's first byte)."""
    if discard_records:
        return _nothing_kept(batch, header, retain_empty)
    if header.is_control:
        return FilteredBatch(Verdict.ORIGINAL, batch, header.max_timestamp, header.record_count)
    payload, records = batch_records(batch, header)
    latest = offsets.latest_offset
    horizon = delete_horizon(header)
    keep_tombstones = horizon is None or now_ms < horizon
    kept = []
    for record in records:
        offset = header.base_offset + record.offset_delta
        beyond_map = offset > latest
        if beyond_map or (
            record.key is not None
            and offset >= offsets.get(record.key)
            and (record.has_value or keep_tombstones)
        ):
            kept.append(record)
    if not kept:
        return _nothing_kept(batch, header, retain_empty)
    set_horizon = horizon is None and any(not r.has_value for r in kept)
    if len(kept) == len(records) and not set_horizon:
        return FilteredBatch(Verdict.ORIGINAL, batch, header.max_timestamp, len(kept))
    body = bytearray()
    base_timestamp = header.base_timestamp
    if set_horizon:
        base_timestamp = now_ms + delete_retention_ms
        shift = header.base_timestamp - base_timestamp
        for record in kept:
            rebase_timestamp(body, payload, record, shift)
    else:
        for record in kept:
            body += payload[record.start : record.end]
    attributes = header.attributes | (DELETE_HORIZON_BIT if set_horizon else 0)
    if header.log_append_time:
        max_timestamp = header.max_timestamp
    else:
        max_timestamp = header.base_timestamp + max(r.timestamp_delta for r in kept)
    data = assemble_batch(
        header,
        body,
        len(kept),
        attributes=attributes,
        base_timestamp=base_timestamp,
        max_timestamp=max_timestamp,
    )
    return FilteredBatch(Verdict.REWRITTEN, data, max_timestamp, len(kept))
