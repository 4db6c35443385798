"""Every ``__consumer_offsets`` record kind survives encode -> decode, tombstones included."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from odradek.coordinator.group import records as rec
from odradek.coordinator.result import CoordinatorRecord
from odradek.protocol import codec
from odradek.protocol.messages import offset_commit_key as offset_key_msg
from odradek.protocol.messages import offset_commit_value as offset_value_msg
from odradek.protocol.primitives import INT16

text = st.text(max_size=12)
ids = st.uuids(version=4) | st.just(uuid.UUID(int=1))
int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
partitions = st.lists(st.integers(0, 2**31 - 1), max_size=5, unique=True).map(sorted)
assignment = st.dictionaries(ids, st.frozensets(st.integers(0, 1000), min_size=1, max_size=5), max_size=3)

offset_commit = st.builds(rec.offset_commit, text, text, st.integers(0, 2**31 - 1), int64, int32, text, int64)
# The value version holding an expire timestamp (v1, OffsetCommit v2-v4 retention) has no leader epoch.
offset_commit_with_expiry = st.builds(
    rec.offset_commit,
    text,
    text,
    st.integers(0, 2**31 - 1),
    int64,
    st.just(-1),
    text,
    int64,
    st.integers(0, 2**62),
)
member = st.builds(
    rec.MemberMetadata,
    member_id=text,
    group_instance_id=st.none() | text,
    client_id=text,
    client_host=text,
    rebalance_timeout=int32,
    session_timeout=int32,
    subscription=st.binary(max_size=20),
    assignment=st.binary(max_size=20),
)
group_metadata = st.builds(
    rec.group_metadata,
    text,
    st.builds(
        rec.GroupMetadataValue,
        protocol_type=text,
        generation=int32,
        protocol=st.none() | text,
        leader=st.none() | text,
        current_state_timestamp=int64,
        members=st.lists(member, max_size=3),
    ),
)
member_value = st.builds(
    rec.ConsumerGroupMemberMetadataValue,
    instance_id=st.none() | text,
    rack_id=st.none() | text,
    client_id=text,
    client_host=text,
    subscribed_topic_names=st.lists(text, max_size=3),
    subscribed_topic_regex=st.none() | text,
    rebalance_timeout_ms=int32,
    server_assignor=st.none() | text,
    classic_member_metadata=st.none(),
)
current_value = st.builds(
    rec.ConsumerGroupCurrentMemberAssignmentValue,
    member_epoch=int32,
    previous_member_epoch=int32,
    state=st.sampled_from((0, 1, 2, 127)),
    assigned_partitions=assignment.map(rec.current_assignment_partitions),
    partitions_pending_revocation=assignment.map(rec.current_assignment_partitions),
)
records = st.one_of(
    offset_commit,
    offset_commit_with_expiry,
    st.builds(rec.offset_commit_tombstone, text, text, st.integers(0, 2**31 - 1)),
    group_metadata,
    st.builds(rec.group_metadata_tombstone, text),
    st.builds(rec.consumer_group_epoch, text, st.none() | int32),
    st.builds(
        rec.consumer_group_partition_metadata,
        text,
        st.none() | st.lists(st.tuples(ids, text, st.integers(0, 1000)), max_size=3),
    ),
    st.builds(rec.consumer_group_member, text, text, st.none() | member_value),
    st.builds(rec.consumer_group_target_epoch, text, st.none() | int32),
    st.builds(rec.consumer_group_target_member, text, text, st.none() | assignment),
    st.builds(rec.consumer_group_current_member, text, text, st.none() | current_value),
)


@given(records)
def test_records_round_trip(record: CoordinatorRecord) -> None:
    key, value = rec.encode(record)
    assert (value is None) == (record.value is None)
    assert rec.decode(key, value) == record


@given(offset_commit | offset_commit_with_expiry, st.booleans())
def test_offset_commits_encode_as_the_generic_codec_does(record: CoordinatorRecord, tombstone: bool) -> None:
    """`encode` writes OffsetCommit records without the generic codec; the bytes must be its bytes."""
    if tombstone:
        record = CoordinatorRecord(record.key, None)
    key = b"\x00\x01" + codec.encode_bytes(offset_key_msg.SCHEMA, 1, record.key)
    value = None
    if record.value is not None:
        version = 1 if record.value.expire_timestamp != -1 else 3
        value = INT16.pack(version) + codec.encode_bytes(offset_value_msg.SCHEMA, version, record.value)
    assert rec.encode(record) == (key, value)
