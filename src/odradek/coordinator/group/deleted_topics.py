"""Offsets of deleted topics: what the shard writes when topics disappear from the cluster.

Kafka's group coordinator, told that partitions were deleted (OffsetMetadataManager.onPartitionsDeleted),
writes an OffsetCommit tombstone for every group's committed offset of those partitions and for every
offset pending in an open transaction (TxnOffsetCommit); replaying a tombstone removes both, so a
restart does not bring them back and the transaction's COMMIT marker finds nothing to make visible.
Groups themselves are left alone: a group left with no offsets and no members is deleted by the next
retention pass (`retention.py`), as in Kafka.

The broker calls this for whole topics (every partition of a deleted topic), so offsets committed
for partition indexes the topic never had go too; Kafka, which lists the deleted partitions, keeps
those until they expire.

At most `MAX_TOMBSTONES_PER_WRITE` tombstones are written per call so that one coordinator batch stays
far below `max.message.bytes`; the caller repeats while a call returns that many.
"""

from __future__ import annotations

from collections.abc import Collection

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.state import Op

MAX_TOMBSTONES_PER_WRITE = 1000


def on_topics_deleted(op: Op, topics: Collection[str], limit: int = MAX_TOMBSTONES_PER_WRITE) -> int:
    """Write tombstones (applied at once) for up to `limit` offsets of `topics`; returns how many."""
    doomed = sorted(op.state.offsets.partitions_of(frozenset(topics)))[:limit]
    for group, tp in doomed:
        op.emit(rec.offset_commit_tombstone(group, tp.topic, tp.partition))
    return len(doomed)
