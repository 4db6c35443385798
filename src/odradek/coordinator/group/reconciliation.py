"""How a KIP-848 member moves towards its target assignment, one heartbeat at a time.

Given the member, the target (epoch and partitions), who currently holds each partition and what the
member reports owning, `reconcile` returns the member's next state (Kafka's CurrentAssignmentBuilder):

============================ =========================================================================
member state                 on a heartbeat
============================ =========================================================================
STABLE                       at the target epoch: nothing to do; else compute the next assignment
UNREVOKED_PARTITIONS         while it still reports owning a partition pending revocation: wait;
                             once it reported them gone: move to epoch + 1 and compute the next one
UNRELEASED_PARTITIONS        compute the next assignment (picks up partitions freed meanwhile)
UNKNOWN (future version)     fence, unless it owns nothing; then compute from scratch
============================ =========================================================================

Computing the next assignment, per topic: *kept* = assigned & target, *revoking* = assigned - kept,
*adding* = target - kept minus the partitions another member still holds (they are "unreleased").
If anything must be revoked and the member may still own it, the member stays at its epoch in
UNREVOKED_PARTITIONS with only *kept* assigned; otherwise it moves to the target epoch with kept |
adding, in UNRELEASED_PARTITIONS if some target partitions were held back, else STABLE. A partition is
thus never given to a member before its previous owner has revoked it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

from odradek.coordinator.group.consumer_group import Assignment, ConsumerMember, MemberState
from odradek.coordinator.group.errors import GroupError
from odradek.model.errors import ErrorCode

PartitionEpoch = Callable[[uuid.UUID, int], int]


def reconcile(
    member: ConsumerMember,
    target_epoch: int,
    target: Assignment,
    partition_epoch: PartitionEpoch,
    owned: Assignment | None,
) -> ConsumerMember:
    """``owned`` is what the heartbeat reported (None when it did not say, which counts as owning all)."""
    return _BY_STATE[member.state](_Reconciler(member, target_epoch, target, partition_epoch, owned))


class _Reconciler:
    def __init__(
        self,
        member: ConsumerMember,
        target_epoch: int,
        target: Assignment,
        partition_epoch: PartitionEpoch,
        owned: Assignment | None,
    ) -> None:
        self.member = member
        self.target_epoch = target_epoch
        self.target = target
        self.partition_epoch = partition_epoch
        self.owned = owned

    def owns_any(self, partitions: Assignment) -> bool:
        if self.owned is None:
            return True
        return any(partitions.get(tid, frozenset()) & parts for tid, parts in self.owned.items())

    def next_assignment(self, member_epoch: int) -> ConsumerMember:
        assigned = self.member.assigned
        kept: dict[uuid.UUID, frozenset[int]] = {}
        revoking: dict[uuid.UUID, frozenset[int]] = {}
        adding: dict[uuid.UUID, frozenset[int]] = {}
        unreleased = False
        for tid in set(self.target) | set(assigned):
            target = self.target.get(tid, frozenset())
            current = assigned.get(tid, frozenset())
            keep = current & target
            free = {p for p in target - keep if self.partition_epoch(tid, p) == -1}
            unreleased = unreleased or len(free) < len(target - keep)
            for out, parts in ((kept, keep), (revoking, current - keep), (adding, frozenset(free))):
                if parts:
                    out[tid] = parts
        if revoking and self.owns_any(revoking):
            return self._moved(MemberState.UNREVOKED_PARTITIONS, member_epoch, kept, revoking)
        if adding:
            for tid, parts in adding.items():
                kept[tid] = kept.get(tid, frozenset()) | parts
        state = MemberState.UNRELEASED_PARTITIONS if unreleased else MemberState.STABLE
        return self._moved(state, self.target_epoch, kept, {})

    def _moved(
        self, state: MemberState, epoch: int, assigned: Assignment, pending: Assignment
    ) -> ConsumerMember:
        return replace(
            self.member,
            state=state,
            previous_member_epoch=self.member.member_epoch,
            member_epoch=epoch,
            assigned=assigned,
            pending_revocation=pending,
        )


def _stable(r: _Reconciler) -> ConsumerMember:
    if r.member.member_epoch == r.target_epoch:
        return r.member
    return r.next_assignment(r.member.member_epoch)


def _unrevoked(r: _Reconciler) -> ConsumerMember:
    if r.owns_any(r.member.pending_revocation):
        return r.member
    return r.next_assignment(r.member.member_epoch + 1)


def _unreleased(r: _Reconciler) -> ConsumerMember:
    return r.next_assignment(r.member.member_epoch)


def _unknown(r: _Reconciler) -> ConsumerMember:
    if r.owned is None or r.owned:
        raise GroupError(
            ErrorCode.FENCED_MEMBER_EPOCH,
            "The consumer group member is in an unknown state; it must abandon its partitions and rejoin.",
        )
    return r.next_assignment(r.target_epoch)


_BY_STATE: dict[MemberState, Callable[[_Reconciler], ConsumerMember]] = {
    MemberState.STABLE: _stable,
    MemberState.UNREVOKED_PARTITIONS: _unrevoked,
    MemberState.UNRELEASED_PARTITIONS: _unreleased,
    MemberState.UNKNOWN: _unknown,
}
