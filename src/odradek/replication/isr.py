"""Changing the ISR: what a leader proposes and the port that writes it (Kafka's AlterPartition).

A leader never changes its ISR by itself: it proposes an `IsrChange` (shrink: followers that fell
behind for `replica.lag.time.max.ms`; expand: a follower that caught up) to an `IsrWriter`, which the
control side implements. The writer stores the new ISR by compare-and-set (it refuses a change whose
`leader_epoch` or `partition_epoch` is no longer the partition's: a newer leader or a newer ISR won),
and the result comes back to every broker the same way any partition state does: in the metadata
image, through `Partition.become`. Until then the change is *pending* on the leader: one at a time
per partition, and the high watermark counts the larger of the two ISRs (the current one and the
proposed one), so a follower being added is already waited for, and one being removed still is
until the removal is stored (Kafka's "maximal ISR").

`submit` must not block: a ZooKeeper writer hands the write to its own thread and reports a refusal
with `Partition.isr_change_failed` (or simply lets the next image arrive); a lost answer is retried
by the leader after `replica.lag.time.max.ms`.

After an unclean election the partition is RECOVERING (KIP-704, `model/leader_recovery.py`): the new
leader's first change is its ISR as it is (itself) with RECOVERED, and it proposes no follower for
the ISR before that is stored; the writer refuses a change that grows the ISR while saying
RECOVERING, or that says RECOVERING of a RECOVERED partition (the controller's INVALID_REQUEST).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from odradek.model.ids import BrokerId, Epoch
from odradek.model.leader_recovery import LeaderRecoveryState
from odradek.model.topic_partition import TopicPartition


@dataclass(frozen=True, slots=True)
class IsrChange:
    """The leader's proposal: `isr` replaces the ISR of the state at (`leader_epoch`, `partition_epoch`)."""

    tp: TopicPartition
    topic_id: uuid.UUID
    leader: BrokerId
    leader_epoch: Epoch
    partition_epoch: int
    isr: tuple[BrokerId, ...]
    leader_recovery_state: LeaderRecoveryState = LeaderRecoveryState.RECOVERED
    """KIP-704: what the leader says of its recovery (always RECOVERED from odradek's leaders, as
    from Kafka's: a leader proposes nothing while it recovers)."""


class IsrWriter(Protocol):
    def submit(self, change: IsrChange) -> None: ...


class NoIsrWriter:
    """For brokers whose partitions never change their ISR (a single node): proposals are dropped."""

    def submit(self, change: IsrChange) -> None:
        pass


NO_ISR_WRITER = NoIsrWriter()
