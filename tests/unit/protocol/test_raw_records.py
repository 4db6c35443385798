"""Raw record ranges: the walk agrees with the decoder, rewrites keep every byte they should."""

from __future__ import annotations

import itertools

import pytest

from odradek.protocol import compression
from odradek.protocol.raw_records import (
    assemble_batch,
    batch_records,
    empty_batch,
    iter_raw_records,
    rebase_timestamp,
    records_without_key,
)
from odradek.protocol.records import (
    CONTROL_BIT,
    DELETE_HORIZON_BIT,
    TRANSACTIONAL_BIT,
    BatchSpec,
    CorruptBatchError,
    build_batch,
    iter_records,
    read_header,
    validate_batches,
)

NOW = 1_700_000_000_000
RECORDS = [
    (b"a", b"1", [("h", b"x")], NOW + 5),
    (None, b"2", [], NOW),
    (b"c", None, [("k", None)], NOW + 9),
    (b"", b"", [], NOW + 1),
]


@pytest.mark.parametrize("codec", sorted(compression.NAMES))
def test_walk_matches_the_decoder(codec: int) -> None:
    raw = build_batch(RECORDS, BatchSpec(base_offset=100, compression=codec), offset_deltas=[0, 3, 4, 7])
    header = read_header(raw)
    payload, records = batch_records(raw, header)
    decoded = list(iter_records(raw, 0, header))
    assert [header.base_offset + r.offset_delta for r in records] == [100, 103, 104, 107]
    assert [r.key for r in records] == [r.key for r in decoded] == [b"a", None, b"c", b""]
    assert [r.has_value for r in records] == [True, True, False, True]
    assert [header.base_timestamp + r.timestamp_delta for r in records] == [d.timestamp for d in decoded]
    assert records[0].start == 0 and records[-1].end == len(payload)
    assert all(a.end == b.start for a, b in itertools.pairwise(records))


def test_reassembled_subset_keeps_record_bytes_and_header_fields() -> None:
    spec = BatchSpec(
        base_offset=50,
        partition_leader_epoch=7,
        compression=compression.LZ4,
        producer_id=42,
        producer_epoch=3,
        base_sequence=11,
        is_transactional=True,
    )
    raw = build_batch(RECORDS, spec)
    header = read_header(raw)
    payload, records = batch_records(raw, header)
    kept = [records[0], records[2]]
    body = b"".join(bytes(payload[r.start : r.end]) for r in kept)
    out = assemble_batch(
        header,
        body,
        2,
        attributes=header.attributes,
        base_timestamp=header.base_timestamp,
        max_timestamp=NOW + 9,
    )
    (new,) = validate_batches(out)  # CRC and structure
    assert (new.base_offset, new.last_offset_delta, new.partition_leader_epoch) == (50, 3, 7)
    assert (new.producer_id, new.producer_epoch, new.base_sequence) == (42, 3, 11)
    assert (new.attributes, new.record_count, new.max_timestamp) == (header.attributes, 2, NOW + 9)
    assert compression.decompress(compression.LZ4, out[61:]) == body
    got = [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in iter_records(out, 0, new)]
    assert got == [(50, NOW + 5, b"a", b"1", [("h", b"x")]), (52, NOW + 9, b"c", None, [("k", None)])]


def test_rebased_timestamps_are_unchanged() -> None:
    raw = build_batch(RECORDS)
    header = read_header(raw)
    payload, records = batch_records(raw, header)
    horizon = NOW + 86_400_000
    body = bytearray()
    for r in records:
        rebase_timestamp(body, payload, r, header.base_timestamp - horizon)
    out = assemble_batch(
        header,
        body,
        len(records),
        attributes=header.attributes | DELETE_HORIZON_BIT,
        base_timestamp=horizon,
        max_timestamp=header.max_timestamp,
    )
    new = read_header(out)
    assert new.base_timestamp == horizon
    assert [r.timestamp for r in iter_records(out, 0, new)] == [ts for *_, ts in RECORDS]
    assert [(r.key, r.value, r.headers) for r in iter_records(out, 0, new)] == [
        (k, v, h) for k, v, h, _ in RECORDS
    ]


def test_empty_batch_is_kafkas_header_only_batch() -> None:
    spec = BatchSpec(
        base_offset=9, compression=compression.GZIP, producer_id=5, producer_epoch=1, base_sequence=4
    )
    header = read_header(build_batch(RECORDS, spec))
    out = empty_batch(header._replace(attributes=header.attributes | TRANSACTIONAL_BIT | CONTROL_BIT))
    (new,) = validate_batches(out)
    assert len(out) == 61
    assert (new.base_offset, new.last_offset_delta, new.record_count) == (9, 3, 0)
    assert (new.base_timestamp, new.max_timestamp) == (-1, header.max_timestamp)
    assert new.attributes == TRANSACTIONAL_BIT | CONTROL_BIT  # no codec, no delete horizon
    assert (new.producer_id, new.producer_epoch, new.base_sequence) == (5, 1, 4)


@pytest.mark.parametrize("codec", [compression.NONE, compression.ZSTD])
def test_records_without_key(codec: int) -> None:
    raw = build_batch([*RECORDS, (None, None, [], NOW)], BatchSpec(compression=codec))
    assert records_without_key(raw, read_header(raw)) == [1, 4]
    keyed = build_batch([(b"k", b"v", [], NOW)], BatchSpec(compression=codec))
    assert records_without_key(keyed, read_header(keyed)) == []


def test_truncated_records_are_corrupt() -> None:
    raw = build_batch(RECORDS)
    header = read_header(raw)
    payload, _ = batch_records(raw, header)
    with pytest.raises(CorruptBatchError):
        list(iter_raw_records(bytes(payload)[:-3], header.record_count))
    with pytest.raises(CorruptBatchError):
        list(iter_raw_records(bytes(payload) + b"\x00", header.record_count))
    with pytest.raises(CorruptBatchError):
        list(iter_raw_records(payload, header.record_count + 1))


def test_undecompressible_records_are_corrupt() -> None:
    raw = bytearray(build_batch(RECORDS, BatchSpec(compression=compression.GZIP)))
    raw[70:80] = b"\xff" * 10
    header = read_header(raw)
    with pytest.raises(CorruptBatchError):
        records_without_key(raw, header)
