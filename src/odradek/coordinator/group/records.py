"""The record formats of ``__consumer_offsets``, exactly as Kafka writes them, and their codec.

Every record is a key and a value, each starting with a big-endian int16 *version*; the rest is the
struct of `odradek.protocol.messages.<name>` at that version (generated from ``tools/specs``). The
key's version is the record type:

===== =========================================== ============================================= =========
type  key (fields)                                 value                                         written
===== =========================================== ============================================= =========
0, 1  OffsetCommitKey (group, topic, partition)    OffsetCommitValue v0-v4: offset, leaderEpoch   key v1,
                                                   (v3+), metadata, commitTimestamp,              value v3
                                                   expireTimestamp (v1 only)                      (v1 with
                                                                                                  expiry)
2     GroupMetadataKey (group)                     GroupMetadataValue v0-v4: protocolType,        v3
                                                   generation, protocol, leader,
                                                   currentStateTimestamp (v2+), members[
                                                   memberId, groupInstanceId (v3+), clientId,
                                                   clientHost, rebalanceTimeout (v1+),
                                                   sessionTimeout, subscription, assignment]
3     ConsumerGroupMetadataKey (GroupId)           ConsumerGroupMetadataValue: Epoch              v0
4     ConsumerGroupPartitionMetadataKey (GroupId)  ...PartitionMetadataValue: Topics[TopicId,     v0
                                                   TopicName, NumPartitions, PartitionMetadata]
5     ConsumerGroupMemberMetadataKey (GroupId,     ...MemberMetadataValue: InstanceId, RackId,    v0
      MemberId)                                    ClientId, ClientHost, SubscribedTopicNames,
                                                   SubscribedTopicRegex, RebalanceTimeoutMs,
                                                   ServerAssignor (+ tagged ClassicMemberMetadata)
6     ConsumerGroupTargetAssignmentMetadataKey     ...TargetAssignmentMetadataValue:              v0
      (GroupId)                                    AssignmentEpoch
7     ConsumerGroupTargetAssignmentMemberKey       ...TargetAssignmentMemberValue:                v0
      (GroupId, MemberId)                          TopicPartitions[TopicId, Partitions]
8     ConsumerGroupCurrentMemberAssignmentKey      ...CurrentMemberAssignmentValue: MemberEpoch,  v0
      (GroupId, MemberId)                          PreviousMemberEpoch, State, AssignedPartitions,
                                                   PartitionsPendingRevocation
16    ConsumerGroupRegularExpressionKey (GroupId,  ...RegularExpressionValue: Topics (the names   v0
      RegularExpression)                           it matched), Version (of the metadata it
                                                   was resolved against), Timestamp (when)
===== =========================================== ============================================= =========

Keys are never flexible; OffsetCommitValue and GroupMetadataValue are flexible from v4 (odradek writes
the non-flexible versions, as Kafka does for compatibility), the KIP-848 values always are. A null value
is a tombstone: it deletes what its key names (and lets compaction drop the key). Record types this
module does not know (share and streams groups) decode to None and are skipped on load.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType

from odradek.coordinator.result import CoordinatorRecord
from odradek.protocol import codec
from odradek.protocol.messages import consumer_group_current_member_assignment_key as _cur_key
from odradek.protocol.messages import consumer_group_current_member_assignment_value as _cur_value
from odradek.protocol.messages import consumer_group_member_metadata_key as _member_key
from odradek.protocol.messages import consumer_group_member_metadata_value as _member_value
from odradek.protocol.messages import consumer_group_metadata_key as _epoch_key
from odradek.protocol.messages import consumer_group_metadata_value as _epoch_value
from odradek.protocol.messages import consumer_group_partition_metadata_key as _meta_key
from odradek.protocol.messages import consumer_group_partition_metadata_value as _meta_value
from odradek.protocol.messages import consumer_group_regular_expression_key as _regex_key
from odradek.protocol.messages import consumer_group_regular_expression_value as _regex_value
from odradek.protocol.messages import consumer_group_target_assignment_member_key as _target_key
from odradek.protocol.messages import consumer_group_target_assignment_member_value as _target_value
from odradek.protocol.messages import consumer_group_target_assignment_metadata_key as _tepoch_key
from odradek.protocol.messages import consumer_group_target_assignment_metadata_value as _tepoch_value
from odradek.protocol.messages import group_metadata_key as _group_key
from odradek.protocol.messages import group_metadata_value as _group_value
from odradek.protocol.messages import offset_commit_key as _offset_key
from odradek.protocol.messages import offset_commit_value as _offset_value
from odradek.protocol.primitives import INT16, INT32, INT64, ProtocolError, read_int16, write_string

OffsetCommitKey = _offset_key.OffsetCommitKey
OffsetCommitValue = _offset_value.OffsetCommitValue
GroupMetadataKey = _group_key.GroupMetadataKey
GroupMetadataValue = _group_value.GroupMetadataValue
MemberMetadata = _group_value.MemberMetadata
ConsumerGroupMetadataKey = _epoch_key.ConsumerGroupMetadataKey
ConsumerGroupMetadataValue = _epoch_value.ConsumerGroupMetadataValue
ConsumerGroupPartitionMetadataKey = _meta_key.ConsumerGroupPartitionMetadataKey
ConsumerGroupPartitionMetadataValue = _meta_value.ConsumerGroupPartitionMetadataValue
TopicMetadataRecord = _meta_value.TopicMetadata
ConsumerGroupMemberMetadataKey = _member_key.ConsumerGroupMemberMetadataKey
ConsumerGroupMemberMetadataValue = _member_value.ConsumerGroupMemberMetadataValue
ConsumerGroupTargetAssignmentMetadataKey = _tepoch_key.ConsumerGroupTargetAssignmentMetadataKey
ConsumerGroupTargetAssignmentMetadataValue = _tepoch_value.ConsumerGroupTargetAssignmentMetadataValue
ConsumerGroupTargetAssignmentMemberKey = _target_key.ConsumerGroupTargetAssignmentMemberKey
ConsumerGroupTargetAssignmentMemberValue = _target_value.ConsumerGroupTargetAssignmentMemberValue
ConsumerGroupCurrentMemberAssignmentKey = _cur_key.ConsumerGroupCurrentMemberAssignmentKey
ConsumerGroupCurrentMemberAssignmentValue = _cur_value.ConsumerGroupCurrentMemberAssignmentValue
ConsumerGroupRegularExpressionKey = _regex_key.ConsumerGroupRegularExpressionKey
ConsumerGroupRegularExpressionValue = _regex_value.ConsumerGroupRegularExpressionValue


@dataclass(frozen=True, slots=True)
class _RecordType:
    key_version: int
    key: ModuleType
    value: ModuleType
    value_version: int


_TYPES = (
    _RecordType(1, _offset_key, _offset_value, 3),
    _RecordType(2, _group_key, _group_value, 3),
    _RecordType(3, _epoch_key, _epoch_value, 0),
    _RecordType(4, _meta_key, _meta_value, 0),
    _RecordType(5, _member_key, _member_value, 0),
    _RecordType(6, _tepoch_key, _tepoch_value, 0),
    _RecordType(7, _target_key, _target_value, 0),
    _RecordType(8, _cur_key, _cur_value, 0),
    _RecordType(16, _regex_key, _regex_value, 0),
)
_BY_KEY_CLASS = {t.key.SCHEMA.root.cls: t for t in _TYPES}
_BY_KEY_VERSION = {t.key_version: t for t in _TYPES} | {0: _TYPES[0]}

OFFSET_COMMIT_VALUE_WITH_EXPIRY = 1
"""The only OffsetCommitValue version holding ``expireTimestamp`` (OffsetCommit v2-v4 retention)."""


def _with_version(version: int, body: bytes) -> bytes:
    return INT16.pack(version) + body


_OFFSET_KEY_VERSION = b"\x00\x01"
_OFFSET_VALUE_HEAD = struct.Struct(">hqi")
"""OffsetCommitValue v3 up to its metadata: version, offset, leader_epoch."""
_OFFSET_VALUE_NO_METADATA = struct.Struct(">hqihq")
"""OffsetCommitValue v3 with empty metadata: version, offset, leader_epoch, metadata length 0,
commit_timestamp."""


def encode(record: CoordinatorRecord) -> tuple[bytes, bytes | None]:
    """The key and value bytes of a record, as written to ``__consumer_offsets``."""
    key, value = record.key, record.value
    if type(key) is OffsetCommitKey and (
        value is None
        or (type(value) is OffsetCommitValue and value.expire_timestamp == -1 and value.metadata is not None)
    ):
        return _encode_offset_commit(key, value)
    t = _BY_KEY_CLASS[type(record.key)]
    key = _with_version(t.key_version, codec.encode_bytes(t.key.SCHEMA, t.key_version, record.key))
    if record.value is None:
        return key, None
    version = t.value_version
    if isinstance(record.value, OffsetCommitValue) and record.value.expire_timestamp != -1:
        version = OFFSET_COMMIT_VALUE_WITH_EXPIRY
    return key, _with_version(version, codec.encode_bytes(t.value.SCHEMA, version, record.value))


def _encode_offset_commit(
    key: OffsetCommitKey, value: OffsetCommitValue | None
) -> tuple[bytes, bytes | None]:
    """`encode` of the commonest record (one per committed partition), written straight: key v1, value v3.

    The same bytes as the generic codec (a test compares them); null strings are left to it. A
    group commits the same partitions again and again, so their key bytes are kept (a bounded cache).
    """
    cache_key = (key.group, key.topic, key.partition)
    raw = _OFFSET_KEYS.get(cache_key)
    if raw is None:
        built = bytearray(_OFFSET_KEY_VERSION)
        write_string(built, key.group)
        write_string(built, key.topic)
        built += INT32.pack(key.partition)
        if len(_OFFSET_KEYS) >= _MAX_OFFSET_KEYS:
            _OFFSET_KEYS.clear()
        raw = _OFFSET_KEYS[cache_key] = bytes(built)
    if value is None:
        return raw, None
    if not value.metadata:  # the usual commit: no metadata, a fixed layout
        return raw, _OFFSET_VALUE_NO_METADATA.pack(
            3, value.offset, value.leader_epoch, 0, value.commit_timestamp
        )
    out = bytearray(_OFFSET_VALUE_HEAD.pack(3, value.offset, value.leader_epoch))
    write_string(out, value.metadata)
    out += INT64.pack(value.commit_timestamp)
    return raw, bytes(out)


_OFFSET_KEYS: dict[tuple[str, str, int], bytes] = {}
_MAX_OFFSET_KEYS = 16_384


def decode(key: bytes, value: bytes | None) -> CoordinatorRecord | None:
    """Parse a ``__consumer_offsets`` record; None for record types this coordinator does not handle."""
    key_version, pos = read_int16(key, 0)
    t = _BY_KEY_VERSION.get(key_version)
    if t is None:
        return None
    key_obj = _decode_exactly(t.key, key_version, key, pos)
    if value is None:
        return CoordinatorRecord(key_obj, None)
    value_version, pos = read_int16(value, 0)
    return CoordinatorRecord(key_obj, _decode_exactly(t.value, value_version, value, pos))


def _decode_exactly(module: ModuleType, version: int, buf: bytes, pos: int) -> object:
    schema = module.SCHEMA
    low, high = schema.valid
    if not low <= version <= high:
        raise ProtocolError(f"{schema.name} version {version} is not in {low}-{high}")
    obj, end = codec.decode(schema, version, buf, pos)
    if end != len(buf):
        raise ProtocolError(f"{schema.name} has {len(buf) - end} trailing bytes")
    return obj


# Constructors, one per record kind. Partition sets are written sorted, topics in id order, so that
# the same state always produces the same bytes.


def offset_commit(
    group: str,
    topic: str,
    partition: int,
    offset: int,
    leader_epoch: int,
    metadata: str,
    commit_timestamp: int,
    expire_timestamp: int = -1,
) -> CoordinatorRecord:
    return CoordinatorRecord(
        OffsetCommitKey(group=group, topic=topic, partition=partition),
        OffsetCommitValue(
            offset=offset,
            leader_epoch=leader_epoch,
            metadata=metadata,
            commit_timestamp=commit_timestamp,
            expire_timestamp=expire_timestamp,
        ),
    )


def offset_commit_tombstone(group: str, topic: str, partition: int) -> CoordinatorRecord:
    return CoordinatorRecord(OffsetCommitKey(group=group, topic=topic, partition=partition), None)


def group_metadata(group: str, value: GroupMetadataValue) -> CoordinatorRecord:
    return CoordinatorRecord(GroupMetadataKey(group=group), value)


def group_metadata_tombstone(group: str) -> CoordinatorRecord:
    return CoordinatorRecord(GroupMetadataKey(group=group), None)


def consumer_group_epoch(group: str, epoch: int | None) -> CoordinatorRecord:
    value = None if epoch is None else ConsumerGroupMetadataValue(epoch=epoch)
    return CoordinatorRecord(ConsumerGroupMetadataKey(group_id=group), value)


def consumer_group_partition_metadata(
    group: str, topics: Iterable[tuple[uuid.UUID, str, int]] | None
) -> CoordinatorRecord:
    value = None
    if topics is not None:
        value = ConsumerGroupPartitionMetadataValue(
            topics=[
                TopicMetadataRecord(topic_id=tid, topic_name=name, num_partitions=n, partition_metadata=[])
                for tid, name, n in sorted(topics, key=lambda t: t[1])
            ]
        )
    return CoordinatorRecord(ConsumerGroupPartitionMetadataKey(group_id=group), value)


def consumer_group_member(
    group: str, member_id: str, value: ConsumerGroupMemberMetadataValue | None
) -> CoordinatorRecord:
    return CoordinatorRecord(ConsumerGroupMemberMetadataKey(group_id=group, member_id=member_id), value)


def consumer_group_target_epoch(group: str, epoch: int | None) -> CoordinatorRecord:
    value = None if epoch is None else ConsumerGroupTargetAssignmentMetadataValue(assignment_epoch=epoch)
    return CoordinatorRecord(ConsumerGroupTargetAssignmentMetadataKey(group_id=group), value)


def consumer_group_target_member(
    group: str, member_id: str, assignment: Mapping[uuid.UUID, Iterable[int]] | None
) -> CoordinatorRecord:
    value = None
    if assignment is not None:
        value = ConsumerGroupTargetAssignmentMemberValue(
            topic_partitions=[
                _target_value.TopicPartition(topic_id=tid, partitions=sorted(parts))
                for tid, parts in sorted(assignment.items())
            ]
        )
    return CoordinatorRecord(
        ConsumerGroupTargetAssignmentMemberKey(group_id=group, member_id=member_id), value
    )


def current_assignment_partitions(
    assignment: Mapping[uuid.UUID, Iterable[int]],
) -> list[_cur_value.TopicPartitions]:
    return [
        _cur_value.TopicPartitions(topic_id=tid, partitions=sorted(parts))
        for tid, parts in sorted(assignment.items())
    ]


def consumer_group_current_member(
    group: str, member_id: str, value: ConsumerGroupCurrentMemberAssignmentValue | None
) -> CoordinatorRecord:
    return CoordinatorRecord(
        ConsumerGroupCurrentMemberAssignmentKey(group_id=group, member_id=member_id), value
    )


def consumer_group_regex(
    group: str, regex: str, resolved: tuple[Iterable[str], int, int] | None
) -> CoordinatorRecord:
    """A resolved regular expression: (matched topic names, metadata version, resolution time); None
    deletes it."""
    value = None
    if resolved is not None:
        topics, version, timestamp = resolved
        value = ConsumerGroupRegularExpressionValue(
            topics=sorted(topics), version=version, timestamp=timestamp
        )
    key = ConsumerGroupRegularExpressionKey(group_id=group, regular_expression=regex)
    return CoordinatorRecord(key, value)
