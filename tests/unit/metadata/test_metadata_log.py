from __future__ import annotations

import uuid

import crc32c
import pytest

from odradek.metadata.metadata_log import MetadataLogCorruptError, decode_log, encode_batch
from odradek.metadata.records import (
    ClusterIdRecord,
    PartitionRecord,
    RecordDecodeError,
    TopicRecord,
)
from odradek.model.ids import BrokerId

T = uuid.UUID(int=7)
BATCH_1 = [ClusterIdRecord("c")]
BATCH_2 = [TopicRecord("t", T), PartitionRecord(T, 0, (BrokerId(1),), (BrokerId(1),), BrokerId(1))]


def test_line_format() -> None:
    line = encode_batch(BATCH_1)
    payload = b'{"v":1,"records":[{"type":"ClusterIdRecord","cluster_id":"c"}]}'
    assert line == b"%08x %s\n" % (crc32c.crc32c(payload), payload)


def test_round_trip() -> None:
    data = encode_batch(BATCH_1) + encode_batch(BATCH_2)
    decoded = decode_log(data)
    assert decoded.batches == [BATCH_1, BATCH_2]
    assert decoded.valid_length == len(data)


def test_non_ascii_stays_on_one_line() -> None:
    line = encode_batch([ClusterIdRecord("é\nx")])
    assert line.count(b"\n") == 1 and line.isascii()
    assert decode_log(line).batches == [[ClusterIdRecord("é\nx")]]


@pytest.mark.parametrize(
    "tail",
    [
        b"",
        b"0000",  # cut inside the crc
        encode_batch(BATCH_2)[:-1],  # everything but the newline
        encode_batch(BATCH_2)[:30],
        b"\x00" * 64,  # file extended, data never written
        b"deadbeef {}\n",  # wrong crc, complete line
        b"\x00" * 10 + b"\n" + b"\x00" * 5,
    ],
)
def test_torn_tail_is_dropped(tail: bytes) -> None:
    good = encode_batch(BATCH_1) + encode_batch(BATCH_2)
    decoded = decode_log(good + tail)
    assert decoded.batches == [BATCH_1, BATCH_2]
    assert decoded.valid_length == len(good)


def test_damage_before_a_valid_batch_is_corruption() -> None:
    first = bytearray(encode_batch(BATCH_1))
    first[12] ^= 0x01
    with pytest.raises(MetadataLogCorruptError):
        decode_log(bytes(first) + encode_batch(BATCH_2))


def test_unknown_format_version_is_refused() -> None:
    payload = b'{"v":2,"records":[]}'
    with pytest.raises(RecordDecodeError):
        decode_log(b"%08x %s\n" % (crc32c.crc32c(payload), payload))
