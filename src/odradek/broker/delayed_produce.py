"""`DelayedProduce`: an acks=all produce waits until the high watermark passes its batches (Kafka's).

After the append, each partition written with acks=all needs `required_offset` (its batch's last
offset + 1) to be committed. `try_complete` asks each partition (`Partition.check_enough_replicas`):
done once the high watermark reached it, with NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank
below `min.insync.replicas` meanwhile, NOT_LEADER_OR_FOLLOWER when the partition lost its leadership,
UNKNOWN_TOPIC_OR_PARTITION when it was deleted. When the request's `timeout_ms` expires first, the
partitions still waiting answer REQUEST_TIMED_OUT (the batch is written; it may still commit).

On a single node the high watermark moves inside the append, so the first `try_complete` succeeds
and the produce is answered without waiting: the same mechanism, completed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.broker.purgatory import DelayedOperation
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import produce as msg
from odradek.replication.partition import Partition


@dataclass(slots=True)
class ProduceWait:
    partition: Partition
    required_offset: int
    """The batch's last offset + 1: committed once the high watermark reaches it."""
    result: msg.PartitionProduceResponse
    pending: bool = True


class DelayedProduce(DelayedOperation[TopicPartition]):
    __slots__ = ("waits",)

    def __init__(self, waits: list[ProduceWait]) -> None:
        super().__init__()
        self.waits = waits

    def watched_keys(self) -> list[TopicPartition]:
        return [w.partition.tp for w in self.waits]

    def try_complete(self) -> bool:
        complete = True
        for wait in self.waits:
            if not wait.pending:
                continue
            done, error = wait.partition.check_enough_replicas(wait.required_offset)
            if not done:
                complete = False
                continue
            wait.pending = False
            if error is not ErrorCode.NO_ERROR:
                wait.result.error_code = error
        return complete

    def on_expiration(self) -> None:
        for wait in self.waits:
            if wait.pending:
                wait.pending = False
                wait.result.error_code = ErrorCode.REQUEST_TIMED_OUT
