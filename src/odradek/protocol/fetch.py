"""Hand-written writer of Fetch responses (v4-v18): the hot path of every read.

Produces exactly the bytes the generic codec would for `messages.fetch.FetchResponse`, as a list
of chunks: each partition's records (chunks read from the log) are appended as they are, never
joined or copied. Partitions carrying non-default tagged fields (diverging epoch, current leader,
snapshot id — rare, error paths) and responses with node endpoints go through the generic codec.
"""

from __future__ import annotations

import struct

from odradek.protocol import codec
from odradek.protocol import primitives as p
from odradek.protocol.file_region import FileRegion
from odradek.protocol.messages import fetch as msg
from odradek.protocol.schema import Chunk, RecordsData, nested_struct

FETCH_ZSTD_SINCE = 10  # KIP-110: Fetch v10 is the first whose client promises to read zstd batches
_ZSTD = 4
_BATCH_LENGTH = struct.Struct(">i")
_TOP_V7 = struct.Struct(">ihi")  # throttle_time_ms, error_code, session_id
_PART_HEAD = struct.Struct(">ihqqq")  # partition_index, error_code, hw, lso, log_start_offset
_PART_HEAD_V4 = struct.Struct(">ihqq")  # no log_start_offset before v5
_ABORTED = struct.Struct(">qq")
_I32 = p.INT32

_PARTITION = nested_struct(msg.RESPONSE.root, "responses", "partitions")
_DEFAULT_EPOCH = msg.EpochEndOffset()
_DEFAULT_LEADER = msg.LeaderIdAndEpoch()
_DEFAULT_SNAPSHOT = msg.SnapshotId()


def _records_len(records: RecordsData) -> int:
    if isinstance(records, list):
        return sum(len(c) for c in records)
    return len(records)


def _has_tags(part: msg.PartitionData) -> bool:
    return (
        part.diverging_epoch != _DEFAULT_EPOCH
        or part.current_leader != _DEFAULT_LEADER
        or part.snapshot_id != _DEFAULT_SNAPSHOT
    )


def write_fetch_response(response: msg.FetchResponse, version: int) -> list[Chunk]:
    if response.node_endpoints and version >= 16:
        return codec.encode(msg.RESPONSE, version, response)
    flexible = version >= 12
    w = codec.Writer()
    buf = w.buf
    if version >= 7:
        buf += _TOP_V7.pack(response.throttle_time_ms, response.error_code, response.session_id)
    else:
        buf += _I32.pack(response.throttle_time_ms)
    p.write_array_length(buf, len(response.responses), flexible)
    partition_writer = codec.compiled(_PARTITION, version, flexible)[1]
    for topic in response.responses:
        if version >= 13:
            w.buf += topic.topic_id.bytes
        elif flexible:
            p.write_compact_string(w.buf, topic.topic)
        else:
            p.write_string(w.buf, topic.topic)
        p.write_array_length(w.buf, len(topic.partitions), flexible)
        for part in topic.partitions:
            if flexible and _has_tags(part):
                partition_writer(w, part)
                continue
            _write_partition(w, part, version, flexible)
        if flexible:
            w.buf.append(0)
    if flexible:
        w.buf.append(0)
    return w.finish()


def _write_partition(w: codec.Writer, part: msg.PartitionData, version: int, flexible: bool) -> None:
    buf = w.buf
    if version >= 5:
        buf += _PART_HEAD.pack(
            part.partition_index,
            part.error_code,
            part.high_watermark,
            part.last_stable_offset,
            part.log_start_offset,
        )
    else:
        buf += _PART_HEAD_V4.pack(
            part.partition_index, part.error_code, part.high_watermark, part.last_stable_offset
        )
    aborted = part.aborted_transactions
    if aborted is None:
        p.write_array_length(buf, -1, flexible)
    else:
        p.write_array_length(buf, len(aborted), flexible)
        for txn in aborted:
            buf += _ABORTED.pack(txn.producer_id, txn.first_offset)
            if flexible:
                buf.append(0)
    if version >= 11:
        buf += _I32.pack(part.preferred_read_replica)
    records = part.records
    if records is None:
        if flexible:
            buf.append(0)
        else:
            buf += b"\xff\xff\xff\xff"
    else:
        size = _records_len(records)
        if flexible:
            p.write_uvarint(buf, size + 1)
        else:
            buf += _I32.pack(size)
        if isinstance(records, list):
            for chunk in records:
                if chunk:
                    w.add_chunk(chunk)
        elif size:
            w.add_chunk(records)
    if flexible:
        w.buf.append(0)


def before_first_zstd_batch(chunks: list[Chunk]) -> tuple[list[Chunk], int] | None:
    """For a Fetch below v10: the whole batches in front of the first zstd-compressed one, with
    their size, or None when no batch is zstd. One header read per batch, records untouched."""
    for i, chunk_ in enumerate(chunks):
        chunk = chunk_.read() if isinstance(chunk_, FileRegion) else chunk_  # (never: old clients)
        pos, end = 0, len(chunk)
        while pos + 23 <= end:
            if chunk[pos + 22] & 0x07 == _ZSTD:  # the low byte of the attributes (offset 21, int16)
                kept: list[Chunk] = list(chunks[:i])
                if pos:
                    kept.append(memoryview(chunk)[:pos])
                return kept, sum(len(c) for c in kept)
            pos += _BATCH_LENGTH.unpack_from(chunk, pos + 8)[0] + 12
    return None
