"""The values every assignor takes and returns.

An assignor is a pure function ``(members, partition_counts, partition_racks) -> Assignment``:

- ``members``: one `MemberSubscription` per group member, in any order. For the classic protocol it is
  decoded from the member's JoinGroup metadata (ConsumerProtocolSubscription: topics, owned
  partitions, generation, rack; the group instance id comes from JoinGroup). For KIP-848 groups the
  broker builds it from the member's subscribed topic names and its current target assignment
  (``owned_partitions``); ``generation`` is left at -1 there.
- ``partition_counts``: topic name -> number of partitions, for the topics that exist. Topics a member
  subscribes to that are missing here (or have no partitions) are skipped, as Kafka does.
- ``partition_racks``: optional, (topic, partition) -> racks of that partition's replicas. Only the
  rack-aware range assignor reads it (KIP-881); a partition missing here has no known racks.

The result maps every member id to its partitions, sorted by (topic, partition); members that get
nothing map to an empty list. The same input, in any order, gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from odradek.model.topic_partition import TopicPartition

#: A member's generation when unknown: consumers that send no generation, and every KIP-848 member.
DEFAULT_GENERATION = -1

PartitionCounts = Mapping[str, int]
PartitionRacks = Mapping[TopicPartition, frozenset[str]]
Assignment = dict[str, list[TopicPartition]]


@dataclass(frozen=True, slots=True)
class MemberSubscription:
    member_id: str
    topics: tuple[str, ...]
    owned_partitions: tuple[TopicPartition, ...] = ()
    generation: int = DEFAULT_GENERATION
    rack: str | None = None
    instance_id: str | None = None


class AssignFn(Protocol):
    def __call__(
        self,
        members: Iterable[MemberSubscription],
        partition_counts: PartitionCounts,
        partition_racks: PartitionRacks | None = None,
    ) -> Assignment: ...
