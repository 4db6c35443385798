"""`DelayedFetch`: a fetch with less than `min_bytes` available waits for its partitions to move.

It remembers, per partition it read, the end of what it could see (the high watermark, or the last
stable offset for read_committed). `try_complete` is true once any of them moved, or a partition
stopped (or started) being led here or was deleted (a consumer may read from a follower, KIP-392):
the fetch then reads again and either answers or waits anew with the time it has left. The high
watermark moving is the event (a partition listener calls the purgatory), so a consumer sees new
data exactly when it becomes committed, on one broker or many.
A follower's fetch waits on the log end offset instead (it copies everything the leader appends,
committed or not); the leader's appends wake it (`on_replica_state_changed`).
"""

from __future__ import annotations

from odradek.broker.purgatory import DelayedOperation
from odradek.model.topic_partition import TopicPartition
from odradek.replication.partition import Partition


def visible_end(partition: Partition, read_committed: bool, follower: bool = False) -> int:
    if follower:  # a follower copies the whole log
        return partition.log.log_end_offset
    return partition.last_stable_offset if read_committed else partition.high_watermark


class DelayedFetch(DelayedOperation[TopicPartition]):
    __slots__ = ("_follower", "_read_committed", "_seen")

    def __init__(
        self, seen: list[tuple[Partition, int, bool]], read_committed: bool, follower: bool = False
    ) -> None:
        super().__init__()
        self._seen = seen
        self._read_committed = read_committed
        self._follower = follower

    def watched_keys(self) -> list[TopicPartition]:
        return [p.tp for p, _, _ in self._seen]

    def try_complete(self) -> bool:
        for partition, end, led in self._seen:
            if partition.is_leader != led or partition.deleted:
                return True
            if visible_end(partition, self._read_committed, self._follower) != end:
                return True
        return False
