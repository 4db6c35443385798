"""The transaction coordinator's answers and the work its records start: responses (`InitProducerIdResult`,
`EndTxnResult`), `MarkerToWrite` (the effect of a committed PrepareCommit/PrepareAbort record), and the
error mappings Kafka applies for clients. Operations return the shared `CoordinatorResult`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class InitProducerIdResult:
    error: ErrorCode
    producer_id: int = -1
    producer_epoch: int = -1


@dataclass(frozen=True, slots=True)
class EndTxnResult:
    error: ErrorCode
    producer_id: int = -1
    producer_epoch: int = -1
    """Transaction version 2 (EndTxn v5+): the producer id and epoch to use for the next transaction."""


@dataclass(frozen=True, slots=True)
class MarkerToWrite:
    """COMMIT/ABORT markers for one transaction: a control batch with this producer id and epoch on
    each partition (data partitions and `__consumer_offsets` alike), carrying `coordinator_epoch`."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    committed: bool
    partitions: frozenset[TopicPartition]
    coordinator_epoch: int
    transaction_version: int


def append_error_to_coordinator_error(error: ErrorCode) -> ErrorCode:
    """How a failed `__transaction_state` append is reported to the client (Kafka's mapping)."""
    return _APPEND_ERRORS.get(error, error)


_APPEND_ERRORS = {
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_ENOUGH_REPLICAS: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.REQUEST_TIMED_OUT: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_LEADER_OR_FOLLOWER: ErrorCode.NOT_COORDINATOR,
    ErrorCode.KAFKA_STORAGE_ERROR: ErrorCode.NOT_COORDINATOR,
    ErrorCode.MESSAGE_TOO_LARGE: ErrorCode.UNKNOWN_SERVER_ERROR,
    ErrorCode.RECORD_LIST_TOO_LARGE: ErrorCode.UNKNOWN_SERVER_ERROR,
}


def error_for_client(api_key: int, version: int, error: ErrorCode) -> ErrorCode:
    """Replace errors an older request version cannot understand, as Kafka does.

    PRODUCER_FENCED came with InitProducerId v4 and AddPartitionsToTxn/AddOffsetsToTxn/EndTxn v2;
    before that it is INVALID_PRODUCER_EPOCH, and on the Produce path (transaction verification) it
    always is. TRANSACTION_ABORTABLE came with Produce v11 and TxnOffsetCommit v4; before that a
    failed verification is INVALID_TXN_STATE.
    """
    if error is ErrorCode.PRODUCER_FENCED and version < _FENCED_SINCE.get(api_key, 0):
        return ErrorCode.INVALID_PRODUCER_EPOCH
    if error is ErrorCode.TRANSACTION_ABORTABLE and version < _ABORTABLE_SINCE.get(api_key, 0):
        return ErrorCode.INVALID_TXN_STATE
    return error


_PRODUCE, _INIT_PRODUCER_ID, _ADD_PARTITIONS, _ADD_OFFSETS, _END_TXN, _TXN_OFFSET_COMMIT = (
    0,
    22,
    24,
    25,
    26,
    28,
)
_FENCED_SINCE = {_PRODUCE: 0x7FFF, _INIT_PRODUCER_ID: 4, _ADD_PARTITIONS: 2, _ADD_OFFSETS: 2, _END_TXN: 2}
_ABORTABLE_SINCE = {_PRODUCE: 11, _TXN_OFFSET_COMMIT: 4}
