"""`TransactionCoordinatorService`: the transaction coordinator on the shared `CoordinatorRuntime`.

One `TransactionShard` per loaded `__transaction_state` partition, driven by the same runtime as the
group coordinator (`odradek.coordinator.runtime`): requests apply their records at once, are answered
once the records are committed, read-only requests (DescribeTransactions, ListTransactions, the
produce path's verification) see committed state, and timers (timed-out transactions, idle ids) are
the shards' own, fired by the runtime. Besides the `CoordinatorLog` port it needs two callables (the
broker implements them; tests use fakes):

    write_markers(marker)     write the COMMIT/ABORT control batch on each partition of
                              `marker.partitions` and wait until it is committed; return an error
                              code per partition (NO_ERROR; UNKNOWN_TOPIC_OR_PARTITION for one that no
                              longer exists; INVALID_PRODUCER_EPOCH or TRANSACTION_COORDINATOR_FENCED
                              when a newer producer/coordinator epoch superseded it; anything else is
                              retried after `retry_backoff_ms`)
    allocate_block()          a durable, never reused `ProducerIdBlock` (producer_ids.py)

Effects: once a PrepareCommit/PrepareAbort record is committed, the runtime hands its `MarkerToWrite`
here, and a background task (in the runtime's TaskGroup) writes the markers until every partition has
them, then writes the CompleteCommit/CompleteAbort record (retried until it is written, as long as
this broker still coordinates the partition at the same epoch). Producer id blocks are fetched ahead
in the background too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from odradek.coordinator.log import CoordinatorLog
from odradek.coordinator.partitioning import coordinator_partition as partition_for
from odradek.coordinator.result import CoordinatorResult
from odradek.coordinator.runtime import CoordinatorNotAvailable, CoordinatorRuntime, Entries
from odradek.coordinator.timeline import SnapshotRegistry
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.listing import describe_transaction, list_transactions
from odradek.coordinator.transaction.metadata import TV_0
from odradek.coordinator.transaction.producer_ids import ProducerIdBlock, ProducerIdGenerator
from odradek.coordinator.transaction.results import (
    EndTxnResult,
    InitProducerIdResult,
    MarkerToWrite,
    append_error_to_coordinator_error,
)
from odradek.coordinator.transaction.shard import TransactionShard
from odradek.model.clock import Clock
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import describe_transactions as describe_msg
from odradek.protocol.messages import list_transactions as list_msg

log = logging.getLogger(__name__)
R = TypeVar("R")
WriteMarkers = Callable[[MarkerToWrite], Awaitable[Mapping[TopicPartition, ErrorCode]]]
AllocateBlock = Callable[[], Awaitable[ProducerIdBlock]]
Sleep = Callable[[float], Awaitable[None]]
_DONE = frozenset({ErrorCode.NO_ERROR, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION})
_SUPERSEDED = frozenset({ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.TRANSACTION_COORDINATOR_FENCED})


class TransactionCoordinatorService:
    def __init__(
        self,
        config: TransactionConfig,
        clock: Clock,
        log: CoordinatorLog,
        write_markers: WriteMarkers,
        allocate_block: AllocateBlock,
        *,
        retry_backoff_ms: int = 100,
        sleep: Sleep | None = None,
    ) -> None:
        self.config, self._clock = config, clock
        self._write_markers, self._allocate_block = write_markers, allocate_block
        self.ids = ProducerIdGenerator()
        self.runtime: CoordinatorRuntime[TransactionShard] = CoordinatorRuntime(
            clock,
            log,
            self._new_shard,
            on_committed=self._on_committed,
            map_error=append_error_to_coordinator_error,
            name="transaction-coordinator",
        )
        self._backoff_s = retry_backoff_ms / 1000
        self._sleep: Sleep = sleep or self.runtime.sleep
        self._last_expiry_ms = clock.monotonic_ms()

    def _new_shard(self, partition: int, epoch: int, registry: SnapshotRegistry) -> TransactionShard:
        shard = TransactionShard(partition, self.config, self.ids, registry)
        shard.begin_load(epoch)
        return shard

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self, *, wait_for_ids: bool = False) -> None:
        """Start the runtime and fetch the first producer id block: in the background, or with
        `wait_for_ids` before returning (a coordinator started by its first InitProducerId answers
        it with an id rather than COORDINATOR_LOAD_IN_PROGRESS)."""
        await self.runtime.start()
        if wait_for_ids and self.ids.wants_block():
            try:
                self.ids.add_block(await self._allocate_block())
            except Exception:
                log.exception("allocating a producer id block failed; retrying in the background")
                self.ids.block_failed()
            except BaseException:  # cancelled: the next InitProducerId asks again
                self.ids.block_failed()
                raise
        self._maybe_fetch_block()

    async def stop(self) -> None:
        await self.runtime.stop()

    async def load(
        self,
        partition: int,
        coordinator_epoch: int,
        entries: Entries,
        end_offset: int = 0,
        *,
        in_thread: bool = False,
    ) -> None:
        """Become the coordinator of `partition`: replay its records, then finish what was pending."""
        await self.runtime.load(partition, coordinator_epoch, entries, end_offset, in_thread=in_thread)

    def unload(self, partition: int) -> None:
        self.runtime.unload(partition)

    # --- requests ----------------------------------------------------------------------------
    def partition_for(self, transactional_id: str) -> int:
        return partition_for(transactional_id, self.config.num_partitions)

    def shard_for(self, transactional_id: str) -> TransactionShard:
        """The loaded shard of the id's partition (live state: tests, diagnostics)."""
        return self.runtime.shard(self.partition_for(transactional_id))

    async def init_producer_id(
        self,
        transactional_id: str | None,
        txn_timeout_ms: int,
        producer_id: int = -1,
        producer_epoch: int = -1,
    ) -> InitProducerIdResult:
        if transactional_id is None:  # an idempotent producer: just a producer id
            pid = self.ids.next_id()
            self._maybe_fetch_block()
            if pid is None:
                return InitProducerIdResult(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
            return InitProducerIdResult(ErrorCode.NO_ERROR, pid, 0)
        result = await self._write(
            transactional_id,
            lambda s, now: s.init_producer_id(
                transactional_id, txn_timeout_ms, producer_id, producer_epoch, now
            ),
            InitProducerIdResult,
        )
        self._maybe_fetch_block()
        return result

    async def add_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: Iterable[TopicPartition],
        transaction_version: int = TV_0,
    ) -> ErrorCode:
        parts = frozenset(partitions)
        return await self._write(
            transactional_id,
            lambda s, now: s.add_partitions(
                transactional_id, producer_id, producer_epoch, parts, now, transaction_version
            ),
            _error,
        )

    async def add_offsets(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        group_id: str,
        transaction_version: int = TV_0,
    ) -> ErrorCode:
        return await self._write(
            transactional_id,
            lambda s, now: s.add_offsets(
                transactional_id, producer_id, producer_epoch, group_id, now, transaction_version
            ),
            _error,
        )

    def verify_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: Iterable[TopicPartition],
    ) -> dict[TopicPartition, ErrorCode]:
        """Are the partitions in the (committed) transaction? Per partition."""
        parts = frozenset(partitions)
        try:
            return self.runtime.read(
                self.partition_for(transactional_id),
                lambda s: s.verify_partitions(transactional_id, producer_id, producer_epoch, parts),
            )
        except CoordinatorNotAvailable as e:
            return dict.fromkeys(parts, e.code)

    async def end_txn(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        committed: bool,
        transaction_version: int = TV_0,
    ) -> EndTxnResult:
        return await self._write(
            transactional_id,
            lambda s, now: s.end_txn(
                transactional_id, producer_id, producer_epoch, committed, now, transaction_version
            ),
            EndTxnResult,
        )

    def describe_transactions(self, transactional_ids: Iterable[str]) -> list[describe_msg.TransactionState]:
        out = []
        for txn_id in transactional_ids:
            try:
                described = self._describe(txn_id)
            except CoordinatorNotAvailable as e:
                described = describe_msg.TransactionState(transactional_id=txn_id, error_code=e.code)
            out.append(described)
        return out

    def _describe(self, transactional_id: str) -> describe_msg.TransactionState:
        return self.runtime.read(
            self.partition_for(transactional_id), lambda s: describe_transaction(s, transactional_id)
        )

    def list_transactions(
        self,
        state_filters: Iterable[str] = (),
        producer_id_filters: Iterable[int] = (),
        duration_filter_ms: int = -1,
        transactional_id_pattern: str | None = None,
    ) -> list_msg.ListTransactionsResponse:
        states, producer_ids = list(state_filters), list(producer_id_filters)
        now = self._clock.now_ms()

        def listed(shards: list[TransactionShard]) -> list_msg.ListTransactionsResponse:
            return list_transactions(
                shards, now, states, producer_ids, duration_filter_ms, transactional_id_pattern
            )

        response = listed([])  # the filters' own errors
        if response.error_code:
            return response
        partitions = self.runtime.partitions()
        if any(not self.runtime.is_active(p) for p in partitions):
            response.error_code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
            return response
        for partition in partitions:
            try:
                response.transaction_states += self.runtime.read(
                    partition, lambda s: listed([s]).transaction_states
                )
            except CoordinatorNotAvailable:
                continue
        return response

    async def _write(
        self,
        transactional_id: str,
        op: Callable[[TransactionShard, int], CoordinatorResult[R]],
        on_error: Callable[[ErrorCode], R],
    ) -> R:
        try:
            return await self.runtime.write(self.partition_for(transactional_id), op)
        except CoordinatorNotAvailable as e:
            return on_error(e.code)

    # --- markers: the effects of committed Prepare* records ----------------------------------
    def _on_committed(self, partition: int, effects: list[Any]) -> None:
        for marker in effects:
            assert isinstance(marker, MarkerToWrite)
            self.runtime.spawn(self._complete_transaction(partition, marker))

    def _current(self, partition: int, marker: MarkerToWrite) -> bool:
        return self.runtime.is_active(partition) and self.runtime.epoch(partition) == marker.coordinator_epoch

    async def _complete_transaction(self, partition: int, marker: MarkerToWrite) -> None:
        """Write the markers until every partition has them, then the Complete* record."""
        txn_id, remaining = marker.transactional_id, set(marker.partitions)
        while remaining and self._current(partition, marker):
            try:
                errors = await self._write_markers(replace(marker, partitions=frozenset(remaining)))
            except Exception:
                log.exception("writing the markers of %s failed; retrying", txn_id)
                errors = {}
            if any(errors.get(tp) in _SUPERSEDED for tp in remaining):
                log.warning("markers of %s superseded by a newer epoch", txn_id)
                await self._internal_write(partition, lambda s, now: s.on_markers_abandoned(txn_id))
                return
            remaining -= {tp for tp in remaining if errors.get(tp) in _DONE}
            if remaining:
                await self._sleep(self._backoff_s)
        while self._current(partition, marker):
            if await self._internal_write(partition, lambda s, now: s.on_markers_written(txn_id, now)):
                return
            await self._sleep(self._backoff_s)

    async def _internal_write(
        self, partition: int, op: Callable[[TransactionShard, int], CoordinatorResult[bool]]
    ) -> bool:
        """A write of the coordinator's own; False when it failed (logged) and should be retried."""
        try:
            await self.runtime.write(partition, op)
        except CoordinatorNotAvailable as e:
            log.warning("a __transaction_state write of partition %d failed: %s", partition, e.code.name)
            return False
        return True

    # --- producer ids and timers -------------------------------------------------------------
    def _maybe_fetch_block(self) -> None:
        if self.runtime.started and self.ids.wants_block():
            self.runtime.spawn(self._fetch_block())

    async def _fetch_block(self) -> None:
        while True:
            try:
                self.ids.add_block(await self._allocate_block())
                return
            except Exception:
                log.exception("allocating a producer id block failed; retrying")
                await self._sleep(self._backoff_s)

    async def run_timers(self) -> None:
        """Abort timed-out transactions, and now and then expire idle transactional ids, on every
        loaded partition now (the shards' timers do the same on their own schedule)."""
        expire = (
            self._clock.monotonic_ms() - self._last_expiry_ms
            >= self.config.remove_expired_transactional_id_cleanup_interval_ms
        )
        if expire:
            self._last_expiry_ms = self._clock.monotonic_ms()
        for partition in self.runtime.partitions():
            await self._internal_write(partition, _abort_timed_out)
            if expire:
                await self._internal_write(partition, _expire_ids)


def _error(code: ErrorCode) -> ErrorCode:
    return code


def _answered(result: CoordinatorResult[None]) -> CoordinatorResult[bool]:
    return CoordinatorResult(result.records, True, result.completions, effects=result.effects)


def _abort_timed_out(shard: TransactionShard, now_ms: int) -> CoordinatorResult[bool]:
    return _answered(shard.abort_timed_out(now_ms))


def _expire_ids(shard: TransactionShard, now_ms: int) -> CoordinatorResult[bool]:
    return _answered(shard.expire_transactional_ids(now_ms))
