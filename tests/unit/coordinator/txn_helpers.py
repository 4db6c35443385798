"""Drives a TransactionShard the way the runtime does, synchronously: every append is committed at once,
its records recorded, and the markers of committed Prepare* records written (unless held back)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from odradek.coordinator.result import CoordinatorResult
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.metadata import TransactionMetadata
from odradek.coordinator.transaction.producer_ids import ProducerIdBlock, ProducerIdGenerator
from odradek.coordinator.transaction.records import TxnLogRecord, decode_record, encode_record
from odradek.coordinator.transaction.results import MarkerToWrite
from odradek.coordinator.transaction.shard import TransactionShard
from odradek.model.topic_partition import TopicPartition

R = TypeVar("R")
T0 = 1_700_000_000_000


def tp(topic: str, partition: int = 0) -> TopicPartition:
    return TopicPartition(topic, partition)


@dataclass
class Harness:
    config: TransactionConfig = field(default_factory=TransactionConfig)
    now: int = T0
    auto_markers: bool = True
    log: list[TxnLogRecord] = field(default_factory=list)
    markers: list[MarkerToWrite] = field(default_factory=list)
    outstanding: list[MarkerToWrite] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = ProducerIdGenerator()
        self.ids.add_block(ProducerIdBlock(1000))
        self.shard = TransactionShard(0, self.config, self.ids)
        self.shard.begin_load(coordinator_epoch=5)
        self.shard.complete_load(self.now)

    def md(self, transactional_id: str) -> TransactionMetadata:
        return self.shard.transactions[transactional_id]

    def run(self, result: CoordinatorResult[R]) -> R:
        """Append the records (through their bytes, as on disk), commit, then write any markers."""
        registry = self.shard.registry
        if result.records:
            self.log += [decode_record(*encode_record(r)) for r in result.records]  # type: ignore[misc]
            registry.seal(len(self.log))
            registry.commit(len(self.log))
            self.markers += result.effects
            self.outstanding += result.effects
            if self.auto_markers:
                self.write_markers()
        else:
            registry.settle()
        return result.response  # type: ignore[return-value]

    def fail(self, result: CoordinatorResult[R]) -> None:
        """The append of `result`'s records failed: the runtime undoes its changes."""
        assert result.records
        self.shard.registry.revert()

    def write_markers(self) -> None:
        while self.outstanding:
            marker = self.outstanding.pop(0)
            self.run(self.shard.on_markers_written(marker.transactional_id, self.now))

    # requests, with the shard's signatures and the harness clock
    def init(self, txn_id: str, timeout_ms: int = 60_000, pid: int = -1, epoch: int = -1):  # type: ignore[no-untyped-def]
        return self.run(self.shard.init_producer_id(txn_id, timeout_ms, pid, epoch, self.now))

    def add(self, txn_id: str, pid: int, epoch: int, *parts: TopicPartition, tv: int = 0):  # type: ignore[no-untyped-def]
        return self.run(self.shard.add_partitions(txn_id, pid, epoch, frozenset(parts), self.now, tv))

    def end(self, txn_id: str, pid: int, epoch: int, commit: bool, tv: int = 0):  # type: ignore[no-untyped-def]
        return self.run(self.shard.end_txn(txn_id, pid, epoch, commit, self.now, tv))

    def replayed(self) -> TransactionShard:
        fresh = TransactionShard(0, self.config, ProducerIdGenerator())
        fresh.begin_load(5)
        for record in self.log:
            fresh.replay(record)
        return fresh


def durable_view(md: TransactionMetadata) -> tuple[object, ...]:
    """Everything a record holds (all but the in-memory last epoch and pending markers)."""
    return (
        md.transactional_id,
        md.producer_id,
        md.prev_producer_id,
        md.next_producer_id,
        md.producer_epoch,
        md.txn_timeout_ms,
        md.state,
        md.partitions,
        md.txn_start_timestamp,
        md.txn_last_update_timestamp,
        md.client_transaction_version,
    )
