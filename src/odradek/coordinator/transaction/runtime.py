"""`TransactionCoordinatorService`: the asyncio shell around the transaction shards.

It owns one `TransactionShard` per `__transaction_state` partition and moves data between them and
three injected callables (the broker implements them; tests use fakes):

    append(partition, [(key, value)])   write records to `__transaction_state` and return once they
                                        are committed; raise `AppendError(code)` if they were not
    write_markers(marker)               write the COMMIT/ABORT control batch on each partition of
                                        `marker.partitions`; return an error code per partition
                                        (NO_ERROR; UNKNOWN_TOPIC_OR_PARTITION for one that no longer
                                        exists; INVALID_PRODUCER_EPOCH or TRANSACTION_COORDINATOR_FENCED
                                        when a newer producer/coordinator epoch superseded it;
                                        anything else is retried after `retry_backoff_ms`)
    allocate_block()                    a durable, never reused `ProducerIdBlock` (producer_ids.py)

Each shard is serialized by a lock held from planning a change to applying its committed records,
so records reach the log in the order they were planned. Background work (marker writes and the
Complete* records after them, producer id blocks, the timeout/expiry timer) runs in a TaskGroup
owned by the service between `start()` and `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from odradek.coordinator.partitioning import coordinator_partition as partition_for
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.listing import describe_transaction, list_transactions
from odradek.coordinator.transaction.metadata import TV_0
from odradek.coordinator.transaction.producer_ids import ProducerIdBlock, ProducerIdGenerator
from odradek.coordinator.transaction.records import TxnLogRecord, encode_record
from odradek.coordinator.transaction.results import (
    EndTxnResult,
    InitProducerIdResult,
    MarkerToWrite,
    TxnResult,
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

Append = Callable[[int, list[tuple[bytes, bytes | None]]], Awaitable[None]]
WriteMarkers = Callable[[MarkerToWrite], Awaitable[Mapping[TopicPartition, ErrorCode]]]
AllocateBlock = Callable[[], Awaitable[ProducerIdBlock]]
Sleep = Callable[[float], Awaitable[None]]
_DONE = frozenset({ErrorCode.NO_ERROR, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION})
_SUPERSEDED = frozenset({ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.TRANSACTION_COORDINATOR_FENCED})


class AppendError(Exception):
    def __init__(self, error: ErrorCode) -> None:
        super().__init__(error.name)
        self.error = error


class TransactionCoordinatorService:
    def __init__(
        self,
        config: TransactionConfig,
        clock: Clock,
        append: Append,
        write_markers: WriteMarkers,
        allocate_block: AllocateBlock,
        *,
        retry_backoff_ms: int = 100,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config, self._clock = config, clock
        self._append, self._write_markers, self._allocate_block = append, write_markers, allocate_block
        self._backoff_s, self._sleep = retry_backoff_ms / 1000, sleep
        self.ids = ProducerIdGenerator()
        self.shards = {p: TransactionShard(p, config, self.ids) for p in range(config.num_partitions)}
        self._locks = {p: asyncio.Lock() for p in self.shards}
        self._group: asyncio.TaskGroup | None = None
        self._runner: asyncio.Task[None] | None = None
        self._last_expiry_ms = clock.monotonic_ms()

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        ready = asyncio.Event()
        self._runner = asyncio.create_task(self._run(ready))
        await ready.wait()

    async def _run(self, ready: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self._timer())
            self._maybe_fetch_block()
            ready.set()
            await asyncio.Event().wait()  # until stop() cancels us, and with us every child

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = self._group = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._group is None:
            coro.close()
            raise RuntimeError("the transaction coordinator is not started")
        self._group.create_task(coro)

    # --- loading -----------------------------------------------------------------------------
    async def load(
        self,
        partition: int,
        coordinator_epoch: int,
        records: Iterable[TxnLogRecord] | AsyncIterable[TxnLogRecord],
    ) -> None:
        """Become the coordinator of `partition`: replay its records, then finish what was pending."""
        shard = self.shards[partition]
        async with self._locks[partition]:
            shard.begin_load(coordinator_epoch)
        if isinstance(records, AsyncIterable):
            async for record in records:
                shard.replay(record)
        else:
            for record in records:
                shard.replay(record)
        async with self._locks[partition]:
            self._schedule(partition, shard.complete_load(self._clock.now_ms()))

    async def unload(self, partition: int) -> None:
        async with self._locks[partition]:
            self.shards[partition].unload()

    # --- requests ----------------------------------------------------------------------------
    def shard_for(self, transactional_id: str) -> TransactionShard:
        return self.shards[partition_for(transactional_id, self.config.num_partitions)]

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
        shard = self.shard_for(transactional_id)
        result = await self._execute(
            shard,
            lambda now: shard.init_producer_id(
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
        shard, parts = self.shard_for(transactional_id), frozenset(partitions)
        return await self._execute(
            shard,
            lambda now: shard.add_partitions(
                transactional_id, producer_id, producer_epoch, parts, now, transaction_version
            ),
            lambda error: error,
        )

    async def add_offsets(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        group_id: str,
        transaction_version: int = TV_0,
    ) -> ErrorCode:
        shard = self.shard_for(transactional_id)
        return await self._execute(
            shard,
            lambda now: shard.add_offsets(
                transactional_id, producer_id, producer_epoch, group_id, now, transaction_version
            ),
            lambda error: error,
        )

    def verify_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: Iterable[TopicPartition],
    ) -> dict[TopicPartition, ErrorCode]:
        shard = self.shard_for(transactional_id)
        return shard.verify_partitions(transactional_id, producer_id, producer_epoch, frozenset(partitions))

    async def end_txn(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        committed: bool,
        transaction_version: int = TV_0,
    ) -> EndTxnResult:
        shard = self.shard_for(transactional_id)
        return await self._execute(
            shard,
            lambda now: shard.end_txn(
                transactional_id, producer_id, producer_epoch, committed, now, transaction_version
            ),
            EndTxnResult,
        )

    def describe_transactions(self, transactional_ids: Iterable[str]) -> list[describe_msg.TransactionState]:
        return [describe_transaction(self.shard_for(t), t) for t in transactional_ids]

    def list_transactions(
        self,
        state_filters: Iterable[str] = (),
        producer_id_filters: Iterable[int] = (),
        duration_filter_ms: int = -1,
        transactional_id_pattern: str | None = None,
    ) -> list_msg.ListTransactionsResponse:
        return list_transactions(
            self.shards.values(),
            self._clock.now_ms(),
            state_filters,
            producer_id_filters,
            duration_filter_ms,
            transactional_id_pattern,
        )

    # --- the append cycle --------------------------------------------------------------------
    async def _execute(
        self, shard: TransactionShard, plan: Callable[[int], TxnResult[R]], on_error: Callable[[ErrorCode], R]
    ) -> R:
        async with self._locks[shard.partition]:
            return await self._commit(shard, plan(self._clock.now_ms()), on_error)

    async def _commit(
        self, shard: TransactionShard, result: TxnResult[R], on_error: Callable[[ErrorCode], R]
    ) -> R:
        """Append the result's records and apply them (the caller holds the shard's lock)."""
        if not result.records:
            return result.response
        try:
            await self._append(shard.partition, [encode_record(r) for r in result.records])
        except AppendError as exc:
            shard.on_failed(result.records)
            return on_error(append_error_to_coordinator_error(exc.error))
        self._schedule(shard.partition, shard.on_committed(result.records, self._clock.now_ms()))
        return result.response

    def _schedule(self, partition: int, markers: list[MarkerToWrite]) -> None:
        for marker in markers:
            self._spawn(self._complete_transaction(partition, marker))

    def _current(self, partition: int, marker: MarkerToWrite) -> bool:
        shard = self.shards[partition]
        return shard.loaded and shard.coordinator_epoch == marker.coordinator_epoch

    async def _complete_transaction(self, partition: int, marker: MarkerToWrite) -> None:
        """Write the markers until every partition has them, then append the Complete* record."""
        shard, remaining = self.shards[partition], set(marker.partitions)
        while remaining and self._current(partition, marker):
            try:
                errors = await self._write_markers(replace(marker, partitions=frozenset(remaining)))
            except Exception:
                log.exception("writing the markers of %s failed; retrying", marker.transactional_id)
                errors = {}
            if any(errors.get(tp) in _SUPERSEDED for tp in remaining):
                log.warning("markers of %s superseded by a newer epoch", marker.transactional_id)
                shard.on_markers_abandoned(marker.transactional_id)
                return
            remaining -= {tp for tp in remaining if errors.get(tp) in _DONE}
            if remaining:
                await self._sleep(self._backoff_s)
        while self._current(partition, marker):
            async with self._locks[partition]:
                result = shard.on_markers_written(marker.transactional_id)
                if not result.records:
                    return
                try:
                    await self._append(partition, [encode_record(r) for r in result.records])
                except AppendError as exc:
                    log.warning(
                        "completing %s failed (%s); retrying", marker.transactional_id, exc.error.name
                    )
                else:
                    shard.on_committed(result.records, self._clock.now_ms())
                    return
            await self._sleep(self._backoff_s)

    # --- producer ids and timers -------------------------------------------------------------
    def _maybe_fetch_block(self) -> None:
        if self._group is not None and self.ids.wants_block():
            self._spawn(self._fetch_block())

    async def _fetch_block(self) -> None:
        while True:
            try:
                self.ids.add_block(await self._allocate_block())
                return
            except Exception:
                log.exception("allocating a producer id block failed; retrying")
                await self._sleep(self._backoff_s)

    async def run_timers(self) -> None:
        """Abort timed-out transactions, and now and then expire idle transactional ids."""
        expire = (
            self._clock.monotonic_ms() - self._last_expiry_ms
            >= self.config.remove_expired_transactional_id_cleanup_interval_ms
        )
        if expire:
            self._last_expiry_ms = self._clock.monotonic_ms()
        for partition, shard in self.shards.items():
            async with self._locks[partition]:
                for result in shard.abort_timed_out(self._clock.now_ms()):
                    await self._commit(shard, result, _ignore)
                if expire:
                    await self._commit(shard, shard.expire_transactional_ids(self._clock.now_ms()), _ignore)

    async def _timer(self) -> None:
        interval = self.config.abort_timed_out_transaction_cleanup_interval_ms / 1000
        while True:
            await self._sleep(interval)
            try:
                await self.run_timers()
            except Exception:
                log.exception("transaction coordinator timer failed")


def _ignore(error: ErrorCode) -> None:
    log.warning("a coordinator-initiated __transaction_state append failed: %s", error.name)
