"""`__transaction_state` records: Kafka's key/value formats, so either broker can read the other's log.

Each record's key and value are version-prefixed (big-endian int16) message bodies whose schemas are
generated from `tools/specs/TransactionLog{Key,Value}.json`::

    key    int16 version = 0, then TransactionLogKey v0:  transactionalId  string (int16 length + UTF-8)
    value  int16 version (0 or 1), then TransactionLogValue at that version:
             producerId int64, producerEpoch int16, transactionTimeoutMs int32,
             transactionStatus int8 (`TransactionState.id`),
             transactionPartitions [topic string, [partition int32]] (null when Empty),
             transactionLastUpdateTimestampMs int64, transactionStartTimestampMs int64
           v1 is flexible (compact strings/arrays, varint lengths) and adds tagged fields, written
           only when not default: 0 previousProducerId int64 (-1), 1 nextProducerId int64 (-1),
           2 clientTransactionVersion int16 (0)
    value  null: a tombstone, the transactional id expired

Kafka writes value v0 while the `transaction.version` feature is 0 and v1 from 1; odradek writes v1
(`VALUE_VERSION`) and reads both. A key of an unknown version is skipped on load, as Kafka does.
Partitions are written sorted by topic and partition so equal states encode to equal bytes.
The last producer epoch is not part of the format: after a load it is -1 (as in Kafka).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import groupby

from odradek.coordinator.transaction.metadata import NO_PRODUCER_EPOCH, TxnTransit
from odradek.coordinator.transaction.states import TransactionState
from odradek.model.topic_partition import TopicPartition
from odradek.protocol import codec
from odradek.protocol.messages import transaction_log_key, transaction_log_value
from odradek.protocol.messages.transaction_log_key import TransactionLogKey
from odradek.protocol.messages.transaction_log_value import PartitionsSchema, TransactionLogValue

KEY_VERSION = 0
VALUE_VERSION = 1
_VERSION = struct.Struct(">h")


class CorruptRecordError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TxnLogRecord:
    """One record of a transactional id: its new state, or None (tombstone)."""

    transactional_id: str
    value: TxnTransit | None


def encode_key(transactional_id: str) -> bytes:
    body = codec.encode_bytes(transaction_log_key.SCHEMA, KEY_VERSION, TransactionLogKey(transactional_id))
    return _VERSION.pack(KEY_VERSION) + body


def encode_value(transit: TxnTransit, version: int = VALUE_VERSION) -> bytes:
    if transit.state is TransactionState.EMPTY and transit.partitions:
        raise ValueError(f"an Empty transaction has no partitions: {transit}")
    partitions = None
    if transit.state is not TransactionState.EMPTY:
        ordered = sorted(transit.partitions)
        partitions = [
            PartitionsSchema(topic, [tp.partition for tp in group])
            for topic, group in groupby(ordered, lambda t: t.topic)
        ]
    value = TransactionLogValue(
        producer_id=transit.producer_id,
        previous_producer_id=transit.prev_producer_id,
        next_producer_id=transit.next_producer_id,
        producer_epoch=transit.producer_epoch,
        transaction_timeout_ms=transit.txn_timeout_ms,
        transaction_status=transit.state.id,
        transaction_partitions=partitions,
        transaction_last_update_timestamp_ms=transit.txn_last_update_timestamp,
        transaction_start_timestamp_ms=transit.txn_start_timestamp,
        client_transaction_version=transit.client_transaction_version,
    )
    return _VERSION.pack(version) + codec.encode_bytes(transaction_log_value.SCHEMA, version, value)


def encode_record(record: TxnLogRecord) -> tuple[bytes, bytes | None]:
    value = None if record.value is None else encode_value(record.value)
    return encode_key(record.transactional_id), value


def decode_key(key: bytes) -> str | None:
    """The transactional id, or None for a key version this broker does not know."""
    if len(key) < _VERSION.size:
        raise CorruptRecordError("transaction log key shorter than its version")
    (version,) = _VERSION.unpack_from(key)
    if version != KEY_VERSION:
        return None
    decoded, end = codec.decode(transaction_log_key.SCHEMA, version, memoryview(key), _VERSION.size)
    if end != len(key):
        raise CorruptRecordError("trailing bytes after the transaction log key")
    return str(decoded.transactional_id)


def decode_value(value: bytes) -> TxnTransit:
    (version,) = _VERSION.unpack_from(value)
    if not 0 <= version <= 1:
        raise CorruptRecordError(f"unknown transaction log value version {version}")
    v, _ = codec.decode(transaction_log_value.SCHEMA, version, memoryview(value), _VERSION.size)
    state = TransactionState.from_id(v.transaction_status)
    partitions: frozenset[TopicPartition] = frozenset()
    if state is not TransactionState.EMPTY and v.transaction_partitions:
        partitions = frozenset(
            TopicPartition(p.topic, i) for p in v.transaction_partitions for i in p.partition_ids
        )
    return TxnTransit(
        producer_id=v.producer_id,
        prev_producer_id=v.previous_producer_id,
        next_producer_id=v.next_producer_id,
        producer_epoch=v.producer_epoch,
        last_producer_epoch=NO_PRODUCER_EPOCH,
        txn_timeout_ms=v.transaction_timeout_ms,
        state=state,
        partitions=partitions,
        txn_start_timestamp=v.transaction_start_timestamp_ms,
        txn_last_update_timestamp=v.transaction_last_update_timestamp_ms,
        client_transaction_version=v.client_transaction_version,
    )


def decode_record(key: bytes, value: bytes | None) -> TxnLogRecord | None:
    transactional_id = decode_key(key)
    if transactional_id is None:
        return None
    return TxnLogRecord(transactional_id, None if value is None else decode_value(value))
