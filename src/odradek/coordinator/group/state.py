"""The state of one ``__consumer_offsets`` partition's groups, and the operation context handlers use.

`ShardState` holds every group (classic or consumer) whose id hashes to the partition, their committed
offsets, and the shard's timers. `ShardState.apply` is the replay of one record; it is used on load
and, live, for every record of consumer groups and offsets (their handlers change state only through
records). Classic groups are the exception, as in Kafka: most of their state is the transient
rebalance, so handlers change them directly and write a GroupMetadata record at the points that are
persisted.

Committed views (`coordinator/timeline.py`): the groups map, the offsets and every consumer group
live in timeline collections of the shard's `SnapshotRegistry` (a consumer group is copied before a
record changes it), so readers (OffsetFetch, DescribeGroups, ListGroups, ConsumerGroupDescribe) see
them as of the high watermark. A classic group object is read live once it exists, as in Kafka.

`Op` bundles what a handler needs: the state, ``now``, and the `ResultBuilder` collecting its
records and completions.

Timer keys are tuples whose first element names the timer kind (``TimerKind``); the shard dispatches
expired timers on it.
"""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from odradek.coordinator.group import consumer_group as cg
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.offsets import NO_PRODUCER_ID, OffsetAndMetadata, OffsetStore
from odradek.coordinator.group.topics import TopicsView
from odradek.coordinator.result import CoordinatorRecord, ResultBuilder, WaiterId
from odradek.coordinator.timeline import SnapshotRegistry, TimelineDict
from odradek.coordinator.timer import TimerSet
from odradek.model.topic_partition import TopicPartition

Group = ClassicGroup | ConsumerGroup
TimerKey = tuple[str, ...]


class TimerKind:
    CLASSIC_JOIN = "classic-join"
    """(kind, group): the rebalance timeout, or the initial rebalance delay, of a classic group."""
    CLASSIC_HEARTBEAT = "classic-heartbeat"
    """(kind, group, member): a classic member's session (or a new/pending member's join) timeout."""
    CLASSIC_SYNC = "classic-sync"
    """(kind, group): members of a new generation must send SyncGroup within the rebalance timeout."""
    CONSUMER_SESSION = "consumer-session"
    """(kind, group, member): a KIP-848 member's session timeout."""
    CONSUMER_REBALANCE = "consumer-rebalance"
    """(kind, group, member), data = member epoch: time to revoke partitions before being fenced."""
    GROUP_EXPIRATION = "group-expiration"
    """(kind,): the periodic offsets retention and empty-group cleanup."""
    REGEX_REFRESH = "regex-refresh"
    """(kind,): the periodic resolution of the consumer groups' regex subscriptions."""


@dataclass(slots=True)
class ShardState:
    config: GroupCoordinatorConfig
    topics: TopicsView
    rng: random.Random
    registry: SnapshotRegistry = field(default_factory=SnapshotRegistry)
    groups: TimelineDict[str, Group] = field(init=False)
    offsets: OffsetStore = field(init=False)
    timers: TimerSet[TimerKey] = field(default_factory=TimerSet)
    regex_permissions: dict[tuple[str, str], Callable[[str], bool] | None] = field(default_factory=dict)
    """(group, regex) -> the DESCRIBE check of the member whose heartbeat last resolved it (None: no
    authorizer); in memory only (`topic_regex.update_resolved_regexes`)."""

    def __post_init__(self) -> None:
        self.groups = TimelineDict(self.registry)
        self.offsets = OffsetStore(self.registry)

    def classic(self, group_id: str) -> ClassicGroup | None:
        group = self.groups.get(group_id)
        return group if isinstance(group, ClassicGroup) else None

    def consumer(self, group_id: str) -> ConsumerGroup | None:
        group = self.groups.get(group_id)
        return group if isinstance(group, ConsumerGroup) else None

    def random_uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def new_classic_member_id(self, prefix: str) -> str:
        """``<client id or group instance id>-<uuid>``, as Kafka names classic members."""
        return f"{prefix}-{self.random_uuid()}"

    def new_consumer_member_id(self) -> str:
        """A KIP-848 member id: a random UUID in Kafka's ``Uuid.toString`` form (URL-safe base64)."""
        return base64.urlsafe_b64encode(self.random_uuid().bytes).rstrip(b"=").decode()

    # -- replay ----------------------------------------------------------------------------------

    def apply(self, record: CoordinatorRecord, producer_id: int = NO_PRODUCER_ID) -> None:
        """Replay one record into the state."""
        key, value = record.key, record.value
        if isinstance(key, rec.OffsetCommitKey):
            self.apply_offset_commit(key, value, producer_id)
        elif isinstance(key, rec.GroupMetadataKey):
            if value is None:
                if isinstance(self.groups.get(key.group), ClassicGroup):
                    del self.groups[key.group]
            else:
                assert isinstance(value, rec.GroupMetadataValue)
                self.groups[key.group] = ClassicGroup.from_record(key.group, value)
        elif isinstance(key, cg.CONSUMER_KEYS):
            self._apply_consumer(key.group_id, record)
        else:
            raise TypeError(f"not a group coordinator record: {type(key).__name__}")

    def apply_offset_commit(
        self, key: rec.OffsetCommitKey, value: object, producer_id: int = NO_PRODUCER_ID
    ) -> None:
        """`apply` of an OffsetCommit record (a tombstone when `value` is None), without the dispatch
        on its kind (an OffsetCommit's path: a non-transactional record)."""
        tp = TopicPartition(key.topic, key.partition)
        if value is None:
            self.offsets.replay(key.group, tp, None)
            return
        assert isinstance(value, rec.OffsetCommitValue)
        if key.group not in self.groups:
            # Offsets committed outside group management (generation -1) belong to a "simple" group:
            # an Empty classic group without protocol type, existing through its offsets alone.
            self.groups[key.group] = ClassicGroup(key.group)
        oam = OffsetAndMetadata(
            value.offset, value.leader_epoch, value.metadata, value.commit_timestamp, value.expire_timestamp
        )
        self.offsets.replay(key.group, tp, oam, producer_id)

    def _apply_consumer(self, group_id: str, record: CoordinatorRecord) -> None:
        group = self.groups.get(group_id)
        if isinstance(record.key, rec.ConsumerGroupMetadataKey) and record.value is None:
            if isinstance(group, ConsumerGroup):
                del self.groups[group_id]
            return
        if not isinstance(group, ConsumerGroup):
            if record.value is None:
                return
            if group is not None:
                raise AssertionError(f"consumer group record for classic group {group_id}")
            group = self.groups[group_id] = ConsumerGroup(group_id)
        else:
            self.groups.touch(group_id, _snapshot)
        cg.replay(group, record)


def _snapshot(group: Group) -> Group:
    assert isinstance(group, ConsumerGroup)
    return group.snapshot()


@dataclass(slots=True)
class Op:
    """One operation in progress on a shard."""

    state: ShardState
    now: int
    out: ResultBuilder = field(default_factory=ResultBuilder)

    @property
    def config(self) -> GroupCoordinatorConfig:
        return self.state.config

    def emit(self, record: CoordinatorRecord) -> None:
        """Write a record and apply it to the state (consumer groups, offsets, deletions)."""
        self.out.add(record)
        self.state.apply(record)

    def emit_transactional(self, record: CoordinatorRecord, producer_id: int, producer_epoch: int) -> None:
        """Write a record in the producer's transaction: applied as pending until its marker."""
        self.out.add(record)
        self.out.producer_id, self.out.producer_epoch = producer_id, producer_epoch
        self.state.apply(record, producer_id)

    def write(self, record: CoordinatorRecord) -> None:
        """Write a record whose change the handler already made (classic group metadata)."""
        self.out.add(record)

    def complete(self, waiter: WaiterId | None, response: object) -> None:
        if waiter is not None:
            self.out.complete(waiter, response)

    def schedule(self, key: TimerKey, delay_ms: int, data: object = None) -> None:
        self.state.timers.schedule(key, self.now + delay_ms, data)

    def cancel(self, key: TimerKey) -> None:
        self.state.timers.cancel(key)
