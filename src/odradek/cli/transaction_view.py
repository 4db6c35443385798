"""What `odradek transactions` and `odradek producers` print: pure views, JSON documents, text tables.

JSON shapes (keys are only ever added)::

    transactions list       {"transactions": [{"transactional_id", "producer_id", "state", "coordinator"}]}
    transactions describe   {"transactions": [{"transactional_id", "error", "coordinator", "state",
                              "producer_id", "producer_epoch", "timeout_ms", "start_time_ms",
                              "partitions": [{"topic", "partition"}]}]}
    producers describe      {"topic", "partitions": [{"partition", "error", "leader",
                              "producers": [{"producer_id", "producer_epoch", "last_sequence",
                              "last_timestamp", "coordinator_epoch", "current_txn_start_offset"}]}]}

`error` is Kafka's error name (`TRANSACTIONAL_ID_NOT_FOUND`) or null; -1 means "none" as in Kafka
(no transaction start time, no open transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odradek.cli.output import render_table


@dataclass(frozen=True, slots=True)
class TransactionListing:
    transactional_id: str
    producer_id: int
    state: str
    coordinator: int


@dataclass(frozen=True, slots=True)
class TransactionDescription:
    transactional_id: str
    error: str | None
    coordinator: int
    state: str = ""
    producer_id: int = -1
    producer_epoch: int = -1
    timeout_ms: int = -1
    start_time_ms: int = -1
    partitions: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ProducerView:
    producer_id: int
    producer_epoch: int
    last_sequence: int
    last_timestamp: int
    coordinator_epoch: int
    current_txn_start_offset: int


@dataclass(frozen=True, slots=True)
class PartitionProducers:
    partition: int
    error: str | None
    leader: int
    producers: tuple[ProducerView, ...] = field(default_factory=tuple)


def list_doc(listings: list[TransactionListing]) -> dict[str, Any]:
    return {
        "transactions": [
            {
                "transactional_id": t.transactional_id,
                "producer_id": t.producer_id,
                "state": t.state,
                "coordinator": t.coordinator,
            }
            for t in listings
        ]
    }


def render_list_text(listings: list[TransactionListing]) -> str:
    return render_table(
        ["TransactionalId", "Coordinator", "ProducerId", "TransactionState"],
        [(t.transactional_id, t.coordinator, t.producer_id, t.state) for t in listings],
    )


def describe_doc(descriptions: list[TransactionDescription]) -> dict[str, Any]:
    return {
        "transactions": [
            {
                "transactional_id": d.transactional_id,
                "error": d.error,
                "coordinator": d.coordinator,
                "state": d.state,
                "producer_id": d.producer_id,
                "producer_epoch": d.producer_epoch,
                "timeout_ms": d.timeout_ms,
                "start_time_ms": d.start_time_ms,
                "partitions": [{"topic": t, "partition": p} for t, p in d.partitions],
            }
            for d in descriptions
        ]
    }


def render_describe_text(descriptions: list[TransactionDescription], now_ms: int) -> str:
    def duration(d: TransactionDescription) -> object:
        return None if d.start_time_ms < 0 else now_ms - d.start_time_ms

    rows = [
        (
            d.coordinator,
            d.transactional_id,
            d.error or d.state,
            d.producer_id,
            d.producer_epoch,
            d.timeout_ms,
            None if d.start_time_ms < 0 else d.start_time_ms,
            duration(d),
            ",".join(f"{t}-{p}" for t, p in d.partitions) or None,
        )
        for d in descriptions
    ]
    headers = [
        "CoordinatorId",
        "TransactionalId",
        "TransactionState",
        "ProducerId",
        "ProducerEpoch",
        "TransactionTimeoutMs",
        "CurrentTransactionStartTimeMs",
        "TransactionDurationMs",
        "TopicPartitions",
    ]
    return render_table(headers, rows)


def producers_doc(topic: str, partitions: list[PartitionProducers]) -> dict[str, Any]:
    return {
        "topic": topic,
        "partitions": [
            {
                "partition": p.partition,
                "error": p.error,
                "leader": p.leader,
                "producers": [
                    {
                        "producer_id": s.producer_id,
                        "producer_epoch": s.producer_epoch,
                        "last_sequence": s.last_sequence,
                        "last_timestamp": s.last_timestamp,
                        "coordinator_epoch": s.coordinator_epoch,
                        "current_txn_start_offset": s.current_txn_start_offset,
                    }
                    for s in p.producers
                ],
            }
            for p in partitions
        ],
    }


def render_producers_text(topic: str, partitions: list[PartitionProducers]) -> str:
    headers = [
        "Partition",
        "ProducerId",
        "ProducerEpoch",
        "LatestCoordinatorEpoch",
        "LastSequence",
        "LastTimestamp",
        "CurrentTransactionStartOffset",
    ]
    rows: list[tuple[object, ...]] = []
    for p in partitions:
        if p.error is not None:
            rows.append((f"{topic}-{p.partition}", p.error, None, None, None, None, None))
        for s in p.producers:
            rows.append(
                (
                    f"{topic}-{p.partition}",
                    s.producer_id,
                    s.producer_epoch,
                    None if s.coordinator_epoch < 0 else s.coordinator_epoch,
                    s.last_sequence,
                    s.last_timestamp,
                    None if s.current_txn_start_offset < 0 else s.current_txn_start_offset,
                )
            )
    return render_table(headers, rows)
