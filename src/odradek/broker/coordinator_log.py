"""`PartitionCoordinatorLog`: the coordinator runtime's `CoordinatorLog` port over this broker's partitions.

One instance per coordinator topic (`__consumer_offsets`, `__transaction_state`). Appends go through
`Partition.append_as_leader` (records as one uncompressed batch, a transactional one for a producer's
TxnOffsetCommit; origin COORDINATOR, so a transactional batch's epoch is checked without sequences)
and `append_marker_as_leader`; the high watermark is the partition's own, and watching it registers a
`PartitionListener` on the partition. A refused append (`StorageError`: not the leader, a record
above `max.message.bytes`, a fenced marker) is a `CoordinatorLogError` carrying Kafka's error code.
When the topic sets `flush.messages`, `Appended.durable` waits for the fsync.

`writable` says whether this broker leads the partition. It does not check `min.insync.replicas`
(a single node has one replica and `__transaction_state` is created with Kafka's default of 2);
the cluster decides that rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from odradek.coordinator.log import Appended, CoordinatorLogError
from odradek.coordinator.shard import KeyValue
from odradek.model.clock import Clock
from odradek.model.errors import ErrorCode
from odradek.protocol.records import CONTROL_ABORT, CONTROL_COMMIT, build_plain_batch
from odradek.replication.manager import PartitionManager
from odradek.replication.partition import Partition
from odradek.storage.errors import StorageError
from odradek.storage.flusher import LogFlusher
from odradek.storage.producer_state import AppendOrigin, EndTxnMarker


class _HighWatermarkListener:
    __slots__ = ("_listener",)

    def __init__(self, listener: Callable[[int], None]) -> None:
        self._listener = listener

    def on_high_watermark_updated(self, partition: Partition) -> None:
        self._listener(partition.high_watermark)

    def on_deleted(self, partition: Partition) -> None:
        pass  # the broker unloads the coordinator partition when metadata says so

    def on_replica_state_changed(self, partition: Partition) -> None:
        pass  # commits are what the runtime waits for


class PartitionCoordinatorLog:
    def __init__(self, partitions: PartitionManager, topic: str, clock: Clock, flusher: LogFlusher) -> None:
        self._partitions = partitions
        self.topic = topic
        self._clock = clock
        self._flusher = flusher
        self._led: dict[int, Partition] = {}
        """Partitions found led here (checked again on every use: `is_leader` is an attribute)."""

    def _leader(self, index: int) -> Partition:
        found = self._led.get(index)
        if found is not None and found.is_leader:
            return found
        led = self._partitions.leader(self.topic, index)
        if isinstance(led, ErrorCode):
            self._led.pop(index, None)
            raise CoordinatorLogError(led, f"{self.topic}-{index} is not led here")
        self._led[index] = led
        return led

    def writable(self, partition: int) -> ErrorCode:
        found = self._led.get(partition)
        if found is not None and found.is_leader:
            return ErrorCode.NO_ERROR
        try:
            self._leader(partition)
        except CoordinatorLogError as exc:
            return exc.code
        return ErrorCode.NO_ERROR

    def append(
        self, partition: int, records: list[KeyValue], producer: tuple[int, int] | None = None
    ) -> Appended:
        leader = self._led.get(partition)  # `_leader`, inlined for the partition led here
        if leader is None or not leader.is_leader:
            leader = self._leader(partition)
        now = self._clock.now_ms()
        if producer is None:
            batch, header = build_plain_batch(records, now)
        else:
            batch, header = build_plain_batch(records, now, producer[0], producer[1], is_transactional=True)
        try:
            info = leader.append_as_leader(batch, [header], now, AppendOrigin.COORDINATOR)
        except StorageError as exc:
            raise CoordinatorLogError(exc.error_code, str(exc)) from exc
        log = leader.log
        if log.config.flush_on_messages:
            return Appended(info.last_offset + 1, self._durable(leader, info.last_offset), log.high_watermark)
        return Appended(info.last_offset + 1, None, log.high_watermark)

    def append_marker(
        self, partition: int, producer_id: int, producer_epoch: int, committed: bool, coordinator_epoch: int
    ) -> Appended:
        leader = self._leader(partition)
        marker = EndTxnMarker(CONTROL_COMMIT if committed else CONTROL_ABORT, coordinator_epoch)
        try:
            info = leader.append_marker_as_leader(producer_id, producer_epoch, marker, self._clock.now_ms())
        except StorageError as exc:
            raise CoordinatorLogError(exc.error_code, str(exc)) from exc
        return Appended(info.last_offset + 1, self._durable(leader, info.last_offset), leader.high_watermark)

    def high_watermark(self, partition: int) -> int:
        found = self._partitions.get(self.topic, partition)
        return 0 if found is None else found.high_watermark

    def watch(self, partition: int, listener: Callable[[int], None]) -> Callable[[], None]:
        found = self._partitions.get(self.topic, partition)
        if found is None:
            return _nothing
        adapter = _HighWatermarkListener(listener)
        found.add_listener(adapter)
        return lambda: found.remove_listener(adapter)

    def _durable(self, partition: Partition, last_offset: int) -> asyncio.Future[None] | None:
        if not partition.log.config.flush_on_messages:
            return None
        return asyncio.ensure_future(self._flusher.after_append(partition.tp, last_offset))


def _nothing() -> None:
    pass
