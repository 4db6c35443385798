"""Who owns each partition before a sticky rebalance.

A member's claim on a partition (its ``owned_partitions``) counts only if the partition still exists
and the member still subscribes to its topic. When several members claim one partition, the claim of
the highest generation wins: the others are members that missed a rebalance and still report an old
assignment. Two claims of the same highest generation contradict each other (Kafka logs this as an
error); neither counts and the partition is treated as unowned.
"""

from __future__ import annotations

from odradek.coordinator.group.assignors.group_view import GroupView
from odradek.model.topic_partition import TopicPartition


def resolve_owners(view: GroupView, *, use_generations: bool = True) -> dict[TopicPartition, str]:
    """Partition -> its current owner, for the partitions with exactly one winning claim.

    Without ``use_generations`` (KIP-848 groups, where the broker itself keeps each member's current
    assignment) all claims rank equal, so any partition claimed twice is unowned.
    """
    best: dict[TopicPartition, tuple[int, list[str]]] = {}
    for member in view.members:
        topics = view.topics[member.member_id]
        for tp in set(member.owned_partitions):
            if tp.topic not in topics or not 0 <= tp.partition < view.partition_counts[tp.topic]:
                continue
            generation = member.generation if use_generations else 0
            current = best.get(tp)
            if current is None or generation > current[0]:
                best[tp] = (generation, [member.member_id])
            elif generation == current[0]:
                current[1].append(member.member_id)
    return {tp: claimants[0] for tp, (_, claimants) in best.items() if len(claimants) == 1}
