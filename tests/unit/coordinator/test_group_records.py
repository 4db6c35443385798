"""The ``__consumer_offsets`` formats, checked against bytes derived by hand from Kafka's specs."""

from __future__ import annotations

import uuid

import pytest

from odradek.coordinator.group import records as rec
from odradek.coordinator.result import CoordinatorRecord
from odradek.protocol.primitives import ProtocolError

T1 = uuid.UUID(int=1)


def hx(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_offset_commit_key_v1_and_value_v3() -> None:
    record = rec.offset_commit("g", "t", 0, offset=5, leader_epoch=2, metadata="m", commit_timestamp=1000)
    key, value = rec.encode(record)
    # version 1 | group "g" | topic "t" | partition 0
    assert key == hx("0001 0001 67 0001 74 00000000")
    # version 3 | offset 5 | leader epoch 2 | metadata "m" | commit timestamp 1000
    assert value == hx("0003 0000000000000005 00000002 0001 6d 00000000000003e8")
    assert rec.decode(key, value) == record


def test_offset_commit_with_expiry_is_written_as_value_v1() -> None:
    record = rec.offset_commit("g", "t", 0, 5, -1, "", commit_timestamp=1000, expire_timestamp=2000)
    _, value = rec.encode(record)
    # version 1 has no leader epoch: offset | metadata "" | commit | expire
    assert value == hx("0001 0000000000000005 0000 00000000000003e8 00000000000007d0")


def test_offset_commit_key_v0_and_tombstone_decode() -> None:
    key = hx("0000 0001 67 0001 74 00000003")
    record = rec.decode(key, None)
    assert record == CoordinatorRecord(rec.OffsetCommitKey(group="g", topic="t", partition=3), None)


def test_offset_commit_value_v0_decodes_with_defaults() -> None:
    key = hx("0001 0001 67 0001 74 00000000")
    value = hx("0000 0000000000000009 0002 6869 000000000000000a")
    record = rec.decode(key, value)
    assert record is not None
    assert record.value == rec.OffsetCommitValue(
        offset=9, leader_epoch=-1, metadata="hi", commit_timestamp=10, expire_timestamp=-1
    )


def test_group_metadata_key_v2_and_value_v3() -> None:
    value = rec.GroupMetadataValue(
        protocol_type="consumer",
        generation=1,
        protocol="range",
        leader="m",
        current_state_timestamp=7,
        members=[
            rec.MemberMetadata(
                member_id="m",
                group_instance_id=None,
                client_id="c",
                client_host="h",
                rebalance_timeout=3,
                session_timeout=2,
                subscription=b"s",
                assignment=b"a",
            )
        ],
    )
    key, raw = rec.encode(rec.group_metadata("g", value))
    assert key == hx("0002 0001 67")
    assert raw == hx(
        "0003"
        "0008 636f6e73756d6572"  # protocol type "consumer"
        "00000001"  # generation
        "0005 72616e6765"  # protocol "range"
        "0001 6d"  # leader "m"
        "0000000000000007"  # current state timestamp
        "00000001"  # one member
        "0001 6d ffff 0001 63 0001 68"  # member id, null instance id, client id, client host
        "00000003 00000002"  # rebalance timeout, session timeout
        "00000001 73 00000001 61"  # subscription, assignment
    )
    assert rec.decode(key, raw) == rec.group_metadata("g", value)


def test_consumer_group_epoch_record_type_3() -> None:
    key, value = rec.encode(rec.consumer_group_epoch("g", 5))
    assert key == hx("0003 0001 67")
    assert value == hx("0000 00000005 00")  # flexible v0: epoch, then no tagged fields


def test_current_member_assignment_record_type_8() -> None:
    value = rec.ConsumerGroupCurrentMemberAssignmentValue(
        member_epoch=3,
        previous_member_epoch=2,
        state=1,
        assigned_partitions=rec.current_assignment_partitions({T1: frozenset({2, 0})}),
        partitions_pending_revocation=[],
    )
    key, raw = rec.encode(rec.consumer_group_current_member("g", "m", value))
    assert key == hx("0008 0001 67 0001 6d")
    assert raw == hx(
        "0000 00000003 00000002 01"
        "02"  # compact array of one topic
        "00000000000000000000000000000001"  # topic id
        "03 00000000 00000002 00"  # partitions [0, 2] (sorted), struct tags
        "01"  # empty pending revocation
        "00"  # tags
    )


def test_member_metadata_record_type_5() -> None:
    value = rec.ConsumerGroupMemberMetadataValue(
        instance_id=None,
        rack_id="r",
        client_id="c",
        client_host="h",
        subscribed_topic_names=["t"],
        subscribed_topic_regex=None,
        rebalance_timeout_ms=3,
        server_assignor="uniform",
        classic_member_metadata=None,
    )
    key, raw = rec.encode(rec.consumer_group_member("g", "m", value))
    assert key == hx("0005 0001 67 0001 6d")
    assert raw == hx("0000 00 0272 0263 0268 02 0274 00 00000003 08 756e69666f726d 00")


def test_target_assignment_records_types_6_and_7_and_partition_metadata_type_4() -> None:
    key, raw = rec.encode(rec.consumer_group_target_epoch("g", 4))
    assert (key, raw) == (hx("0006 0001 67"), hx("0000 00000004 00"))
    key, raw = rec.encode(rec.consumer_group_target_member("g", "m", {T1: [1]}))
    assert key == hx("0007 0001 67 0001 6d")
    assert raw == hx("0000 02 00000000000000000000000000000001 02 00000001 00 00")
    key, raw = rec.encode(rec.consumer_group_partition_metadata("g", [(T1, "t", 3)]))
    assert key == hx("0004 0001 67")
    assert raw == hx("0000 02 00000000000000000000000000000001 0274 00000003 01 00 00")


def test_unknown_record_types_are_skipped_and_bad_versions_refused() -> None:
    assert rec.decode(hx("000a 0001 67"), None) is None  # a share group record (type 10)
    with pytest.raises(ProtocolError):
        rec.decode(hx("0003 0001 67"), hx("0001 00000005 00"))  # ConsumerGroupMetadataValue has only v0
    with pytest.raises(ProtocolError):
        rec.decode(hx("0003 0001 67"), hx("0000 00000005 00 ff"))  # trailing bytes


def test_consumer_group_regular_expression_key_and_value() -> None:
    record = rec.consumer_group_regex("g", "a.*", (["a2", "a1"], -1, 1000))
    key, value = rec.encode(record)
    # record type 16 | group "g" | regular expression "a.*"
    assert key == hx("0010 0001 67 0003 612e2a")
    # version 0 (flexible) | topics ["a1", "a2"] (sorted) | version -1 | timestamp 1000 | no tags
    assert value == hx("0000 03 03 6131 03 6132 ffffffffffffffff 00000000000003e8 00")
    assert rec.decode(key, value) == record
    assert rec.decode(key, None) == rec.consumer_group_regex("g", "a.*", None)
