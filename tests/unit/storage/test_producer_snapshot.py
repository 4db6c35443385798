"""Producer-state snapshots: Kafka's byte layout, files, corrupt files, markers, rebuild."""

from __future__ import annotations

import struct
from collections import deque
from pathlib import Path

import crc32c
import pytest
from producer_helpers import TS, Log, batch, marker_batch

from odradek.protocol.records import (
    CONTROL_ABORT,
    CONTROL_COMMIT,
    build_batch,
    build_control_batch,
    read_header,
)
from odradek.storage.producer_snapshot import (
    CorruptSnapshotError,
    decode_snapshot,
    delete_snapshots,
    encode_snapshot,
    list_snapshots,
    load_latest_snapshot,
    read_marker,
    read_snapshot,
    rebuild,
    snapshot_path,
    write_snapshot,
)
from odradek.storage.producer_state import (
    BatchMetadata,
    CompletedTxn,
    EndTxnMarker,
    ProducerStateEntry,
    ProducerStateManager,
)


def entry(pid: int, epoch: int = 0, **kw: object) -> ProducerStateEntry:
    return ProducerStateEntry(pid, epoch, **kw)  # type: ignore[arg-type]


def test_byte_layout_matches_kafka_producer_snapshot_v1():
    e = entry(
        0x0102030405060708,
        epoch=9,
        coordinator_epoch=3,
        last_timestamp=0x1122,
        current_txn_first_offset=40,
        batches=deque([BatchMetadata(last_seq=11, last_offset=44, offset_delta=2, timestamp=0x1122)]),
    )
    data = encode_snapshot([e])
    body = (
        b"\x00\x00\x00\x01"  # one entry
        + bytes.fromhex("0102030405060708")  # producerId
        + b"\x00\x09"  # epoch
        + b"\x00\x00\x00\x0b"  # lastSequence 11
        + b"\x00" * 7
        + b"\x2c"  # lastOffset 44
        + b"\x00\x00\x00\x02"  # offsetDelta
        + b"\x00" * 6
        + b"\x11\x22"  # timestamp
        + b"\x00\x00\x00\x03"  # coordinatorEpoch
        + b"\x00" * 7
        + b"\x28"  # currentTxnFirstOffset 40
    )
    assert data == b"\x00\x01" + struct.pack(">I", crc32c.crc32c(body)) + body
    assert len(data) == 6 + 4 + 46


def test_round_trip_keeps_the_last_batch_and_orders_by_producer_id():
    a = entry(
        7,
        epoch=2,
        last_timestamp=TS + 9,
        batches=deque([BatchMetadata(0, 0, 0, TS), BatchMetadata(3, 5, 2, TS + 1)]),
    )
    b = entry(3, epoch=1, coordinator_epoch=4, last_timestamp=TS + 2)  # marker only: no batch
    decoded = decode_snapshot(encode_snapshot([a, b]))
    assert [e.producer_id for e in decoded] == [3, 7]
    assert decoded[0] == ProducerStateEntry(3, 1, 4, TS + 2, -1, deque())
    # the kept batch carries the producer's last timestamp, as in Kafka
    assert decoded[1] == ProducerStateEntry(7, 2, -1, TS + 9, -1, deque([BatchMetadata(3, 5, 2, TS + 9)]))
    assert encode_snapshot(decoded) == encode_snapshot([a, b])
    assert decode_snapshot(encode_snapshot([])) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[:5], "shorter"),
        (lambda d: b"\x00\x02" + d[2:], "version"),
        (lambda d: d[:-1], "cannot hold"),
        (lambda d: d[:-1] + bytes([d[-1] ^ 1]), "CRC"),
    ],
)
def test_corrupt_snapshots_are_rejected(mutate, message):  # type: ignore[no-untyped-def]
    data = encode_snapshot([entry(1, batches=deque([BatchMetadata(0, 0, 0, TS)]))])
    with pytest.raises(CorruptSnapshotError, match=message):
        decode_snapshot(mutate(data))


def test_files_write_list_load_latest_and_delete(tmp_path: Path):
    write_snapshot(tmp_path, 10, [entry(1)])
    write_snapshot(tmp_path, 25, [entry(2)], sync=False)
    write_snapshot(tmp_path, 40, [entry(3)])
    (tmp_path / "00000000000000000000.log").write_bytes(b"")
    assert snapshot_path(tmp_path, 25).name == "00000000000000000025.snapshot"
    assert list_snapshots(tmp_path) == [10, 25, 40]
    assert [e.producer_id for e in read_snapshot(snapshot_path(tmp_path, 25))] == [2]
    snapshot_path(tmp_path, 25).write_bytes(b"\x00\x01garbage")
    loaded = load_latest_snapshot(tmp_path, at_most=39)
    assert loaded is not None and loaded[0] == 10 and loaded[1][0].producer_id == 1
    assert list_snapshots(tmp_path) == [10, 40]  # the corrupt one was deleted
    assert delete_snapshots(tmp_path, below=11, above=39) == [10, 40]
    assert list_snapshots(tmp_path) == [] and load_latest_snapshot(tmp_path, 100) is None
    assert not list(tmp_path.glob("*.tmp"))


def test_read_marker_from_control_batches():
    for control_type in (CONTROL_ABORT, CONTROL_COMMIT):
        data = build_control_batch(control_type, 5, 2, coordinator_epoch=9, timestamp_ms=TS)
        assert read_marker(data, read_header(data)) == EndTxnMarker(control_type, 9)
    not_a_marker = build_batch([(b"\x00", b"\x00", [], TS)])
    assert read_marker(not_a_marker, read_header(not_a_marker)) is None


def test_rebuild_from_a_snapshot_replays_what_follows(tmp_path: Path):
    log = Log()
    batches = []

    def produce(header):  # type: ignore[no-untyped-def]
        _, first = log.produce(header)
        batches.append((header._replace(base_offset=first), None))

    def end(pid: int, epoch: int, commit: bool) -> CompletedTxn | None:
        offset = log.leo
        done = log.marker(pid, epoch, commit)
        m = EndTxnMarker(CONTROL_COMMIT if commit else CONTROL_ABORT, 0)
        batches.append((marker_batch(pid, epoch)._replace(base_offset=offset), m))
        return done

    produce(batch(1, 0, 0, 2, txn=True))  # 0-1
    produce(batch(2, 0, 0))  # 2
    write_snapshot(tmp_path, log.state.map_end_offset, log.state.producers.values())
    produce(batch(3, 0, 0, txn=True))  # 3
    aborted = end(1, 0, commit=False)  # 4
    produce(batch(2, 0, 1, 3))  # 5-7

    recovered = ProducerStateManager()
    snapshot = load_latest_snapshot(tmp_path, at_most=log.leo)
    assert snapshot is not None and snapshot[0] == 3
    completed = rebuild(recovered, snapshot, batches, log_start_offset=0, now_ms=TS)
    assert completed == [aborted] == [CompletedTxn(1, 0, 4, True, 3)]
    assert encode_snapshot(recovered.producers.values()) == encode_snapshot(log.state.producers.values())
    assert recovered.ongoing_transactions() == log.state.ongoing_transactions() == [(3, 3)]
    assert recovered.map_end_offset == log.state.map_end_offset == 8

    from_scratch = ProducerStateManager()
    assert rebuild(from_scratch, None, batches, log_start_offset=0, now_ms=TS) == [aborted]
    assert list(from_scratch.producers[2].batches) == list(log.state.producers[2].batches)
