"""The states of a transactional id and the transitions between them (Kafka's `TransactionState`).

The id (int8) is what `__transaction_state` records store; the name is what DescribeTransactions
and ListTransactions show. `PREVIOUS` is the whole transition table: a state may be entered only
from the states listed for it.

    state               id  meaning
    Empty                0  no transaction open: the producer id/epoch are initialised, nothing is added
    Ongoing              1  partitions (or a group's offsets) were added: a transaction is open
    PrepareCommit        2  EndTxn(commit) is durable; COMMIT markers are being written to the partitions
    PrepareAbort         3  EndTxn(abort), a timeout or a fence is durable; ABORT markers are being written
    CompleteCommit       4  every COMMIT marker is written; the next transaction may begin
    CompleteAbort        5  every ABORT marker is written; the next transaction may begin
    Dead                 6  the transactional id expired; a tombstone follows (never persisted as a state)
    PrepareEpochFence    7  in memory only: a new producer took the id while a transaction was open; the
                            epoch is bumped and the open transaction is aborted (-> PrepareAbort)

Transitions (the request or event that causes each)::

    Empty, CompleteCommit, CompleteAbort -> Empty          InitProducerId (epoch bump or new producer id)
    Empty, Ongoing, Complete*            -> Ongoing        AddPartitionsToTxn, AddOffsetsToTxn
    Ongoing                              -> PrepareCommit  EndTxn(commit)
    Ongoing                              -> PrepareAbort   EndTxn(abort), transaction timeout
    PrepareEpochFence                    -> PrepareAbort   InitProducerId or a timeout fenced the transaction
    Empty, Complete*                     -> PrepareAbort   EndTxn(abort) of a transaction version 2 client
                                                           that is unsure whether its transaction exists
    PrepareCommit                        -> CompleteCommit all COMMIT markers written
    PrepareAbort                         -> CompleteAbort  all ABORT markers written
    Ongoing                              -> PrepareEpochFence  InitProducerId during a transaction, timeout
    Empty, Complete*                     -> Dead           transactional.id.expiration.ms without activity
"""

from __future__ import annotations

from enum import Enum


class TransactionState(Enum):
    EMPTY = (0, "Empty")
    ONGOING = (1, "Ongoing")
    PREPARE_COMMIT = (2, "PrepareCommit")
    PREPARE_ABORT = (3, "PrepareAbort")
    COMPLETE_COMMIT = (4, "CompleteCommit")
    COMPLETE_ABORT = (5, "CompleteAbort")
    DEAD = (6, "Dead")
    PREPARE_EPOCH_FENCE = (7, "PrepareEpochFence")

    def __init__(self, state_id: int, state_name: str) -> None:
        self.id = state_id
        self.state_name = state_name

    @classmethod
    def from_id(cls, state_id: int) -> TransactionState:
        try:
            return _BY_ID[state_id]
        except KeyError:
            raise ValueError(f"unknown transaction state id {state_id}") from None

    @classmethod
    def from_name(cls, name: str) -> TransactionState | None:
        return _BY_NAME.get(name)

    @property
    def previous(self) -> frozenset[TransactionState]:
        return PREVIOUS[self]

    @property
    def expiration_allowed(self) -> bool:
        """Whether an idle transactional id in this state may expire (no transaction is open)."""
        return self in _EXPIRABLE

    @property
    def is_prepare(self) -> bool:
        return self in (TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT)

    @property
    def is_complete(self) -> bool:
        return self in (TransactionState.COMPLETE_COMMIT, TransactionState.COMPLETE_ABORT)


S = TransactionState
_BY_ID = {s.id: s for s in S}
_BY_NAME = {s.state_name: s for s in S}
_EXPIRABLE = frozenset({S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT})

PREVIOUS: dict[TransactionState, frozenset[TransactionState]] = {
    S.EMPTY: frozenset({S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}),
    S.ONGOING: frozenset({S.ONGOING, S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}),
    S.PREPARE_COMMIT: frozenset({S.ONGOING}),
    S.PREPARE_ABORT: frozenset(
        {S.ONGOING, S.PREPARE_EPOCH_FENCE, S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}
    ),
    S.COMPLETE_COMMIT: frozenset({S.PREPARE_COMMIT}),
    S.COMPLETE_ABORT: frozenset({S.PREPARE_ABORT}),
    S.DEAD: frozenset({S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}),
    S.PREPARE_EPOCH_FENCE: frozenset({S.ONGOING}),
}
"""Target state -> the states it may be entered from (Kafka's `validPreviousStates`)."""


def can_transition(source: TransactionState, target: TransactionState) -> bool:
    return source in PREVIOUS[target]
