"""Committed offsets of a shard's groups, and the transactional ones not yet visible.

`OffsetStore` is the materialized view of the shard's OffsetCommit records:

- ``committed[group][TopicPartition]``: the visible offsets;
- ``pending[producer_id][group][TopicPartition]``: offsets written by a transaction (TxnOffsetCommit,
  records in a transactional batch) that become visible only when the transaction's COMMIT marker is
  replayed, and are dropped on ABORT. While a group has any, OffsetFetch with ``require_stable``
  answers UNSTABLE_OFFSET_COMMIT for their partitions and retention does not expire them.

All three maps are timeline collections of the shard's registry, so readers see them as committed.

Every replayed commit gets a sequence number in log order (``record_seq``): when a transaction commits,
its offset replaces the visible one only if it was written later, so a plain commit written after the
transactional one wins, whatever order the marker arrives in (Kafka compares record offsets).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

from odradek.coordinator.timeline import SnapshotRegistry, TimelineDict
from odradek.model.topic_partition import TopicPartition

NO_PRODUCER_ID = -1


@dataclass(slots=True)
class OffsetAndMetadata:
    """A committed offset. Never changed once stored: the timeline keeps replaced values by
    reference to revert them (not frozen only because a frozen dataclass takes about four times
    as long to build, and a commit builds one per partition)."""

    committed_offset: int
    leader_epoch: int
    """-1 when the committer did not say."""
    metadata: str
    commit_timestamp_ms: int
    expire_timestamp_ms: int = -1
    """Set only by OffsetCommit v2-v4 with a retention time: the old per-offset expiry (-1: none)."""
    record_seq: int = field(default=0, compare=False)


GroupOffsets = Mapping[TopicPartition, OffsetAndMetadata]
PendingOffsets = dict[str, dict[TopicPartition, OffsetAndMetadata]]
"""A producer's open transaction: its offsets per group."""


def _copy_pending(pending: PendingOffsets) -> PendingOffsets:
    return {group: dict(offsets) for group, offsets in pending.items()}


class OffsetStore:
    def __init__(self, registry: SnapshotRegistry | None = None) -> None:
        self._registry = registry if registry is not None else SnapshotRegistry()
        self.committed: TimelineDict[str, TimelineDict[TopicPartition, OffsetAndMetadata]] = TimelineDict(
            self._registry
        )
        self.pending: TimelineDict[int, PendingOffsets] = TimelineDict(self._registry)
        self.open_transactions: TimelineDict[str, frozenset[int]] = TimelineDict(self._registry)
        self._seq = 0

    def get(self, group: str, tp: TopicPartition) -> OffsetAndMetadata | None:
        offsets = self.committed.get(group)
        return None if offsets is None else offsets.get(tp)

    def group_offsets(self, group: str) -> GroupOffsets:
        offsets = self.committed.get(group)
        return {} if offsets is None else dict(offsets.items())

    def groups(self) -> Iterator[str]:
        return iter(list(self.committed))

    def has_pending(self, group: str, tp: TopicPartition) -> bool:
        return any(tp in self.pending[pid].get(group, {}) for pid in self.open_transactions.get(group, ()))

    def pending_partitions(self, group: str) -> set[TopicPartition]:
        out: set[TopicPartition] = set()
        for pid in self.open_transactions.get(group, ()):
            out.update(self.pending[pid].get(group, {}))
        return out

    def partitions_of(self, topics: Collection[str]) -> set[tuple[str, TopicPartition]]:
        """Every (group, partition) of these topics with a committed or a pending offset."""
        found = {
            (group, tp) for group, offsets in self.committed.items() for tp in offsets if tp.topic in topics
        }
        for by_group in self.pending.values():
            found.update(
                (group, tp) for group, offsets in by_group.items() for tp in offsets if tp.topic in topics
            )
        return found

    def has_open_transactions(self, group: str) -> bool:
        return group in self.open_transactions

    def replay(
        self,
        group: str,
        tp: TopicPartition,
        value: OffsetAndMetadata | None,
        producer_id: int = NO_PRODUCER_ID,
    ) -> None:
        """Apply one OffsetCommit record (None = tombstone) in log order. The store keeps `value`
        itself, stamped with its sequence number: the caller hands over a value of its own."""
        if value is None:
            self._remove(group, tp)
            for pid in self.open_transactions.get(group, ()):
                self.pending.touch(pid, _copy_pending)
                self.pending[pid].get(group, {}).pop(tp, None)
            return
        self._seq += 1
        value.record_seq = self._seq
        if producer_id == NO_PRODUCER_ID:
            offsets = self.committed.get(group)
            if offsets is None:
                offsets = self.committed[group] = TimelineDict(self._registry)
            offsets[tp] = value
        else:
            self.pending.touch(producer_id, _copy_pending)
            self.pending.setdefault(producer_id, {}).setdefault(group, {})[tp] = value
            open_ = self.open_transactions.get(group, frozenset())
            if producer_id not in open_:
                self.open_transactions[group] = open_ | {producer_id}

    def replay_end_transaction(self, producer_id: int, committed: bool) -> None:
        """Apply a transaction's COMMIT (``committed``) or ABORT marker."""
        offsets = self.pending.pop(producer_id, None)
        if offsets is None:
            return
        for group, partitions in offsets.items():
            open_ = self.open_transactions.get(group)
            if open_ is not None:
                rest = open_ - {producer_id}
                if rest:
                    self.open_transactions[group] = rest
                else:
                    del self.open_transactions[group]
            if not committed or not partitions:
                continue
            visible = self.committed.get(group)
            if visible is None:
                visible = self.committed[group] = TimelineDict(self._registry)
            for tp, value in partitions.items():
                current = visible.get(tp)
                if current is None or value.record_seq > current.record_seq:
                    visible[tp] = value

    def _remove(self, group: str, tp: TopicPartition) -> None:
        offsets = self.committed.get(group)
        if offsets is None:
            return
        offsets.pop(tp, None)
        if not offsets:
            del self.committed[group]
