"""One partition's next state: ISR, eligible leader replicas (KIP-966) and leader (pure).

Every change of a partition's ISR or leader goes through `partition_change`, as every change goes
through Kafka's PartitionChangeBuilder: a broker's death (the controller drops it from the ISR), a
leader's ISR shrink or expansion (AlterPartition), a broker back after an unclean shutdown, an
election on request. It returns the `PartitionChangeRecord` that takes the partition there (None
when nothing changes).

**Reassignment** (`reassignment.py`): with `adding_replicas` / `removing_replicas` set, the change
that brings every added replica into the ISR also completes it (Kafka's
completeReassignmentIfNeeded): the removed replicas leave the replicas and the ISR, the leader is
elected again if it was one of them, and the leader epoch is bumped to fence them.

**Eligible leader replicas** (ELR, KIP-966). With the strict min-ISR rule (the high watermark of a
replicated partition advances only while its ISR has `min.insync.replicas` members, ADR 0002), a
replica that leaves the ISR while the ISR is below `min.insync.replicas` still holds every committed
record: the high watermark cannot have moved since. Such replicas are kept in the ELR:

* the new ISR has at least `min.insync.replicas` members: the ELR (and the last known ELR) is empty;
* otherwise the ELR is the old ELR plus the old ISR, minus the new ISR and minus replicas whose
  broker came back from an unclean shutdown (a crash may have lost its unflushed tail);
* so ISR + ELR never falls below `min.insync.replicas` unless a broker shuts down uncleanly; the
  ISR itself may empty (the last leader dies: it moves to the ELR).

**Elections** (`ONLINE`, `UNCLEAN`, `PREFERRED`). A replica may lead when its broker is live and
it is in the new ISR, or, with the ISR empty, in the ELR. The current leader keeps leading when it
may (preferred: the first replica first). A replica elected from the ELR becomes the ISR alone and
leaves the ELR; the partition commits again once followers rejoin it up to `min.insync.replicas`.
With ISR and ELR both empty, `last_known_elr` holds the last leader (set when the ISR emptied,
cleared once the partition has a leader again). As Kafka 4 does, that broker is elected when it is
live and nobody else may lead, but as an **unclean** election: it becomes the ISR alone and the ELR
is cleared (it is in neither because its broker shut down uncleanly or the ELR was cleared, so it may
lack committed records). It is never elected while an ELR member might still come back. `UNCLEAN`
then takes any live replica (`unclean.leader.election.enable`, ElectLeaders UNCLEAN). Without a
live candidate the partition has no leader (NO_LEADER; clients get LEADER_NOT_AVAILABLE).

**Leader recovery state** (KIP-704). An unclean election (either kind above) also marks the
partition RECOVERING (unless it is already). Its leader recovers and then proposes its ISR with
RECOVERED (`target_leader_recovery_state`); until then its ISR stays the leader alone:
`alter_partition_error` is the controller's check of a leader's AlterPartition (INVALID_REQUEST for
an ISR of more than one replica with RECOVERING, and for RECOVERING on a RECOVERED partition). A
clean election keeps the state: a partition still RECOVERING stays so under its next leader.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from odradek.metadata.image import PartitionRegistration
from odradek.metadata.records import NO_LEADER, PartitionChangeRecord
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.leader_recovery import LeaderRecoveryState

ONLINE = 0
"""Elect from the ISR (or the ELR when the ISR is empty) to keep the partition online."""
UNCLEAN = 1
"""Like ONLINE, then any live replica (what it lacks is lost)."""
PREFERRED = 2
"""The first replica when it may lead, else as ONLINE."""


def partition_change(
    p: PartitionRegistration,
    topic_id: uuid.UUID,
    index: int,
    *,
    min_isr: int,
    acceptable: Callable[[int], bool],
    target_isr: tuple[BrokerId, ...] | None = None,
    election: int = ONLINE,
    unclean_shutdown: Iterable[int] = (),
    target_replicas: tuple[BrokerId, ...] | None = None,
    target_adding: tuple[BrokerId, ...] | None = None,
    target_removing: tuple[BrokerId, ...] | None = None,
    target_leader_recovery_state: LeaderRecoveryState | None = None,
    elr_enabled: bool = True,
) -> PartitionChangeRecord | None:
    """The record moving `p` to `target_isr` (default: its ISR) with a leader elected as
    `election`; `acceptable(r)`: broker r is live and may lead. None when nothing changes.
    `target_*`: a reassignment's replicas and the ones being added and removed, and the leader
    recovery state an AlterPartition asks for (default: as now; an unclean election: RECOVERING).
    `elr_enabled` False (`eligible.leader.replicas.version` 0): the rules before KIP-966, and any
    ELR and last known ELR the partition has are cleared."""
    isr = p.isr if target_isr is None else target_isr
    if not elr_enabled and not isr:
        # before KIP-966 the ISR never empties: its last members stay, to be elected when back; a
        # partition whose ISR emptied while the ELR was on gets its ELR (else its last leader) back
        isr = p.isr or p.elr or p.last_known_elr
    replicas = p.replicas if target_replicas is None else target_replicas
    adding = p.adding_replicas if target_adding is None else target_adding
    removing = p.removing_replicas if target_removing is None else target_removing
    if (adding or removing) and set(adding) <= set(isr):
        # Kafka's completeReassignmentIfNeeded: every added replica is in sync, so the removed
        # ones go (from the replicas and the ISR) unless that would leave no ISR
        remaining = tuple(r for r in isr if r not in removing)
        if remaining:
            isr = remaining
            replicas = tuple(r for r in replicas if r not in removing)
            adding = removing = ()
    unclean_brokers = frozenset(unclean_shutdown)
    elr = _target_elr(p, replicas, isr, min_isr, unclean_brokers) if elr_enabled else ()

    def may_lead(r: int) -> bool:
        return (r in isr or (not isr and r in elr)) and acceptable(r)

    last_known = p.last_known_elr if elr_enabled else ()
    leader, unclean = _elect(p, replicas, may_lead, acceptable, elr, isr, election, last_known)
    record_leader: BrokerId | None = None
    record_isr: tuple[BrokerId, ...] | None = None
    if leader == p.leader and not set(p.replicas) <= set(replicas):
        record_leader = p.leader  # a replica left the assignment: a new leader epoch fences it
    if leader != p.leader:
        record_leader = BrokerId(leader)
        if leader in elr:  # elected from the ELR: it alone is in sync now
            isr = (BrokerId(leader),)
            elr = tuple(r for r in elr if r != leader)
        if unclean:
            record_isr = isr = (BrokerId(leader),)
    recovery = (
        p.leader_recovery_state if target_leader_recovery_state is None else target_leader_recovery_state
    )
    if unclean:
        elr = ()
        recovery = LeaderRecoveryState.RECOVERING
    if record_isr is None and isr != p.isr:
        record_isr = isr
    if record_isr == () and p.has_leader:
        last_known = (p.leader,)  # the partition loses its last in-sync replica: remember who led
    elif leader != NO_LEADER:
        last_known = ()  # led again
    record = PartitionChangeRecord(
        topic_id,
        index,
        leader=record_leader,
        isr=record_isr,
        replicas=None if replicas == p.replicas else replicas,
        elr=None if elr == p.elr else elr,
        last_known_elr=None if last_known == p.last_known_elr else last_known,
        adding_replicas=None if adding == p.adding_replicas else adding,
        removing_replicas=None if removing == p.removing_replicas else removing,
        leader_recovery_state=None if recovery == p.leader_recovery_state else recovery,
    )
    if record == PartitionChangeRecord(topic_id, index):
        return None
    return record


def _target_elr(
    p: PartitionRegistration,
    replicas: tuple[BrokerId, ...],
    isr: tuple[BrokerId, ...],
    min_isr: int,
    unclean: frozenset[int],
) -> tuple[BrokerId, ...]:
    """The ELR after the ISR becomes `isr` (in replica order)."""
    if len(isr) >= min_isr:
        return ()
    return tuple(r for r in replicas if (r in p.elr or r in p.isr) and r not in isr and r not in unclean)


def _elect(
    p: PartitionRegistration,
    replicas: tuple[BrokerId, ...],
    may_lead: Callable[[int], bool],
    acceptable: Callable[[int], bool],
    elr: tuple[BrokerId, ...],
    isr: tuple[BrokerId, ...],
    election: int,
    last_known_elr: tuple[BrokerId, ...],
) -> tuple[int, bool]:
    """(leader, unclean): who leads after the change (NO_LEADER: nobody may)."""
    if election == PREFERRED and replicas and may_lead(replicas[0]):
        return replicas[0], False
    if p.has_leader and may_lead(p.leader):
        return p.leader, False
    for replica in replicas:
        if may_lead(replica):
            return replica, False
    if not isr and not elr and len(last_known_elr) == 1 and acceptable(last_known_elr[0]):
        return last_known_elr[0], True
    if election != UNCLEAN:
        return NO_LEADER, False
    for replica in replicas:
        if acceptable(replica):
            return replica, True
    return NO_LEADER, False


def alter_partition_error(
    p: PartitionRegistration, isr: tuple[BrokerId, ...], leader_recovery_state: LeaderRecoveryState
) -> tuple[ErrorCode, str] | None:
    """The controller's KIP-704 checks of a leader's AlterPartition asking for `isr` with
    `leader_recovery_state` (Kafka's): None when they pass, else (INVALID_REQUEST, why)."""
    if leader_recovery_state == LeaderRecoveryState.RECOVERING and len(isr) > 1:
        return (
            ErrorCode.INVALID_REQUEST,
            f"the ISR {list(isr)} has more than one replica while the leader is still recovering "
            "from an unclean leader election",
        )
    if (
        p.leader_recovery_state == LeaderRecoveryState.RECOVERED
        and leader_recovery_state == LeaderRecoveryState.RECOVERING
    ):
        return (
            ErrorCode.INVALID_REQUEST,
            "the leader recovery state cannot change from RECOVERED to RECOVERING",
        )
    return None
