"""The transaction coordinator inside a broker: `__transaction_state`, markers and producer id blocks.

`BrokerTransactionCoordinator` owns the pure-core shell (`TransactionCoordinatorService`) and gives it
the three callables it needs, implemented over this broker's own partitions (single node):

    append           `__transaction_state` records as one uncompressed record batch, appended to the
                     partition as its leader, and the call waits for the fsync when the topic sets
                     `flush.messages`
    write_markers    one COMMIT/ABORT control batch per partition of the transaction
                     (`PartitionLog.append_marker`: producer-state epoch checks, `.txnindex` for aborts);
                     `__consumer_offsets` partitions get theirs the same way, and then the group
                     coordinator applies it to the transaction's pending offsets (TxnOffsetCommit)
    allocate_block   a producer id block from the metadata log (`ProducerIdsRecord`), so ids never
                     repeat across restarts

`__transaction_state` is created on first use (FindCoordinator TRANSACTION, InitProducerId with a
transactional id) with Kafka's internal-topic settings, and every partition is loaded (its records
replayed) at creation and at broker start; the coordinator epoch of a partition is its leader epoch.
Transactional ids hash over the topic's real partition count once it exists (as in Kafka), so a
later change of `transaction.state.log.num.partitions` does not move them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from odradek.broker.coordinator_loader import batches, create_coordinator_topic
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.metadata import TV_0
from odradek.coordinator.transaction.producer_ids import ProducerIdBlock
from odradek.coordinator.transaction.records import CorruptRecordError, TxnLogRecord, decode_record
from odradek.coordinator.transaction.results import MarkerToWrite
from odradek.coordinator.transaction.runtime import AppendError, TransactionCoordinatorService
from odradek.metadata.config_resolution import broker_config_value
from odradek.metadata.controller.brokers import allocate_producer_ids
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import (
    CONTROL_ABORT,
    CONTROL_COMMIT,
    BatchSpec,
    build_batch,
    iter_records,
    read_header,
)
from odradek.storage.errors import StorageError
from odradek.storage.partition_log import PartitionLog
from odradek.storage.producer_state import EndTxnMarker

if TYPE_CHECKING:
    from odradek.broker.app import Broker

log = logging.getLogger("odradek.broker.transactions")
#: What partition verification (KIP-890 part 1) answers while the transaction's state is in flux or the
#: coordinator moves: retriable; Produce answers it as NOT_ENOUGH_REPLICAS, TxnOffsetCommit as
#: COORDINATOR_NOT_AVAILABLE, so that clients of either API retry.
RETRIABLE_VERIFICATION_ERRORS = frozenset(
    {
        ErrorCode.CONCURRENT_TRANSACTIONS,
        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        ErrorCode.NOT_COORDINATOR,
    }
)


class BrokerTransactionCoordinator:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        config = broker.config
        self.config = TransactionConfig(
            transaction_max_timeout_ms=config.int_value("transaction.max.timeout.ms"),
            transactional_id_expiration_ms=config.int_value("transactional.id.expiration.ms"),
            num_partitions=config.int_value("transaction.state.log.num.partitions"),
            offsets_topic_num_partitions=config.int_value("offsets.topic.num.partitions"),
            transaction_version=TV_0,  # `transaction.version` is not finalized above 0 (docs/exactly-once.md)
            abort_timed_out_transaction_cleanup_interval_ms=config.int_value(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms"
            ),
            remove_expired_transactional_id_cleanup_interval_ms=config.int_value(
                "transaction.remove.expired.transaction.cleanup.interval.ms"
            ),
        )
        self.service = self._new_service()
        self._ready = False
        self._ready_lock = asyncio.Lock()

    def _new_service(self) -> TransactionCoordinatorService:
        return TransactionCoordinatorService(
            self.config, self.broker.clock, self._append, self._write_markers, self._allocate_block
        )

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        topic = self.broker.image.topic(TRANSACTION_STATE_TOPIC_NAME)
        if topic is not None and len(topic.partitions) != self.config.num_partitions:
            # ids hash over the topic's real partition count (as in Kafka), whatever the config says now
            self.config = replace(self.config, num_partitions=len(topic.partitions))
            self.service = self._new_service()
        await self.service.start()
        if topic is not None:
            await self.ensure_ready()

    async def stop(self) -> None:
        await self.service.stop()

    @property
    def ready(self) -> bool:
        return self._ready

    async def ensure_ready(self) -> ErrorCode:
        """Create `__transaction_state` if needed and load its partitions; NO_ERROR once serving."""
        if self._ready:
            return ErrorCode.NO_ERROR
        async with self._ready_lock:
            return await self._make_ready()

    async def _make_ready(self) -> ErrorCode:
        if not self._ready:
            broker = self.broker
            if broker.image.topic(TRANSACTION_STATE_TOPIC_NAME) is None:
                created = await create_coordinator_topic(broker, TRANSACTION_STATE_TOPIC_NAME)
                if created is None:
                    return ErrorCode.COORDINATOR_NOT_AVAILABLE
            for index in range(self.config.num_partitions):
                partition = broker.partitions.leader(TRANSACTION_STATE_TOPIC_NAME, index)
                if isinstance(partition, ErrorCode):
                    return ErrorCode.COORDINATOR_NOT_AVAILABLE
                await self.service.load(index, partition.leader_epoch, _records(partition.log))
            self._ready = True
        return ErrorCode.NO_ERROR

    # --- what the service calls --------------------------------------------------------------
    async def _append(self, index: int, records: list[tuple[bytes, bytes | None]]) -> None:
        broker = self.broker
        partition = broker.partitions.leader(TRANSACTION_STATE_TOPIC_NAME, index)
        if isinstance(partition, ErrorCode):
            raise AppendError(partition)
        now = broker.clock.now_ms()
        batch = bytearray(build_batch([(key, value, [], now) for key, value in records], BatchSpec()))
        try:
            info = partition.append_as_leader(batch, [read_header(batch)], now)
        except StorageError as exc:
            raise AppendError(exc.error_code) from exc
        await broker.wait_flushed(partition, info.last_offset)

    async def _write_markers(self, marker: MarkerToWrite) -> Mapping[TopicPartition, ErrorCode]:
        broker = self.broker
        content = EndTxnMarker(
            CONTROL_COMMIT if marker.committed else CONTROL_ABORT, marker.coordinator_epoch
        )
        errors: dict[TopicPartition, ErrorCode] = {}
        written = []
        now = broker.clock.now_ms()
        for tp in marker.partitions:
            partition = broker.partitions.leader(tp.topic, tp.partition)
            if isinstance(partition, ErrorCode):
                errors[tp] = partition
                continue
            try:
                info = partition.append_marker_as_leader(
                    marker.producer_id, marker.producer_epoch, content, now
                )
            except StorageError as exc:
                errors[tp] = exc.error_code
                continue
            errors[tp] = ErrorCode.NO_ERROR
            written.append((partition, info.last_offset))
        for partition, last_offset in written:
            try:
                await broker.wait_flushed(partition, last_offset)
            except StorageError as exc:
                errors[partition.tp] = exc.error_code
                continue
            if partition.tp.topic == GROUP_METADATA_TOPIC_NAME:
                # the group coordinator's pending transactional offsets become committed, or vanish
                await broker.groups.service.complete_transaction(
                    partition.tp.partition, marker.producer_id, marker.committed
                )
        return errors

    async def _allocate_block(self) -> ProducerIdBlock:
        node = BrokerId(self.broker.config.node_id)
        block = await self.broker.run_controller(lambda image: allocate_producer_ids(image, node))
        return ProducerIdBlock(block.first_producer_id, block.size)

    # --- produce-path verification (KIP-890 part 1) ------------------------------------------
    def verification_enabled(self) -> bool:
        broker = self.broker
        value = broker_config_value(
            broker.image, broker.config.static, "transaction.partition.verification.enable"
        )
        return bool(value)


def _records(log_: PartitionLog) -> Iterator[TxnLogRecord]:
    """Every `__transaction_state` record below the high watermark, in offset order."""
    for chunk, pos, header in batches(log_, log_.high_watermark):
        if header.is_control:
            continue
        for record in iter_records(chunk, pos, header):
            if record.offset < log_.log_start_offset or record.key is None:
                continue
            try:
                decoded = decode_record(record.key, record.value)
            except (CorruptRecordError, ValueError):
                log.warning("skipping an unreadable %s record at %d", log_.tp, record.offset)
                continue
            if decoded is not None:
                yield decoded
