"""`TransactionShard`: the pure transaction coordinator of one `__transaction_state` partition.

Every request returns a `CoordinatorResult` (the one result type of both coordinators): the records
to append, already applied to the state (the transition is planned with `TransactionMetadata.prepare`
and completed at once), the response the runtime sends once they are committed, and as *effects*
the `MarkerToWrite` of every PrepareCommit/PrepareAbort among them: the service writes those markers
only after the decision is committed, then `on_markers_written` returns the CompleteCommit/CompleteAbort
record. While markers are written the transaction's `pending_state` makes conflicting requests back
off (CONCURRENT_TRANSACTIONS); a request that arrives while an earlier one's record is still
uncommitted is planned on top of it and answered after it.

All transaction metadata lives in a `TimelineDict` of the partition's `SnapshotRegistry` (a
metadata object is copied before a request changes it), so DescribeTransactions, ListTransactions
and the produce path's verification read committed state, and an append that fails is undone
exactly (`revert_on_failure`): the state is as if the request never came. A transactional id seen for
the first time is kept even then (Kafka's cache entry), so a retry reuses its producer id.

Timers are the shard's own: the periodic abort of timed-out transactions
(`transaction.abort.timed.out.transaction.cleanup.interval.ms`) and expiry of idle transactional ids
(`transaction.remove.expired.transaction.cleanup.interval.ms`); the runtime fires them.

Loading: the runtime builds the shard for the partition's leader epoch (`begin_load`), replays the
partition's records (`replay`) and calls `on_loaded`, whose effects are the markers of transactions
left in Prepare* (written again; markers are idempotent). Replaying the records a shard emitted
rebuilds its state, except the in-memory `last_producer_epoch`, which Kafka's record format does not
hold either.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, TypeVar

from odradek.coordinator.partitioning import coordinator_partition as partition_for
from odradek.coordinator.result import CoordinatorResult
from odradek.coordinator.shard import KeyValue, LogEntry, LogRecord, TransactionMarker
from odradek.coordinator.timeline import SnapshotRegistry, TimelineDict
from odradek.coordinator.timer import TimerSet
from odradek.coordinator.transaction.add_partitions import add_partitions, verify_partitions
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.end_txn import end_transaction, fence_and_abort
from odradek.coordinator.transaction.init_producer_id import init_producer_id
from odradek.coordinator.transaction.metadata import (
    NO_PRODUCER_ID,
    TV_0,
    TransactionMetadata,
    TxnTransit,
    supports_epoch_bump,
)
from odradek.coordinator.transaction.producer_ids import ProducerIdGenerator
from odradek.coordinator.transaction.records import TxnLogRecord, decode_record, encode_record
from odradek.coordinator.transaction.results import EndTxnResult, InitProducerIdResult, MarkerToWrite
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME as CONSUMER_OFFSETS_TOPIC
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition

R = TypeVar("R")
ABORT_TIMED_OUT = "abort-timed-out"
EXPIRE_IDS = "expire-transactional-ids"


class TransactionShard:
    revert_on_failure: ClassVar[bool] = True

    def __init__(
        self,
        partition: int,
        config: TransactionConfig,
        ids: ProducerIdGenerator,
        registry: SnapshotRegistry | None = None,
    ) -> None:
        self.partition = partition
        self.config = config
        self.ids = ids
        self.registry = registry if registry is not None else SnapshotRegistry()
        self.coordinator_epoch = -1
        self.loading = False
        self.loaded = False
        self._txns: TimelineDict[str, TransactionMetadata] = TimelineDict(self.registry)
        self.timers: TimerSet[str] = TimerSet()

    @property
    def transactions(self) -> TimelineDict[str, TransactionMetadata]:
        return self._txns

    def _initialized(self, transactional_id: str) -> TransactionMetadata | None:
        """The id's metadata if InitProducerId ever succeeded for it (an id whose first record failed
        is kept with epoch -1, and is unknown to every other request)."""
        md = self._txns.get(transactional_id)
        return md if md is not None and md.producer_epoch >= 0 else None

    def _for_update(self, transactional_id: str) -> TransactionMetadata | None:
        """The id's live metadata, copied into the open snapshot first: the caller may change it."""
        self._txns.touch(transactional_id, copy.copy)
        return self._txns.get(transactional_id)

    def status(self) -> ErrorCode | None:
        """Why requests cannot be served now, or None."""
        if self.loading:
            return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
        if not self.loaded:
            return ErrorCode.NOT_COORDINATOR
        return None

    # --- loading -----------------------------------------------------------------------------
    def begin_load(self, coordinator_epoch: int) -> None:
        self._txns = TimelineDict(self.registry)
        self.coordinator_epoch = coordinator_epoch
        self.loading, self.loaded = True, False

    def replay(self, entry: LogEntry | TxnLogRecord) -> None:
        """Apply one record of the partition (markers and unreadable keys are skipped)."""
        if isinstance(entry, TransactionMarker):
            return
        record = decode_record(entry.key, entry.value) if isinstance(entry, LogRecord) else entry
        if record is None:
            return
        if record.value is None:
            self._txns.pop(record.transactional_id, None)
            return
        md = self._txns.get(record.transactional_id)
        if md is None:
            self._txns[record.transactional_id] = TransactionMetadata.from_transit(
                record.transactional_id, record.value
            )
        else:
            self._txns.touch(record.transactional_id, copy.copy)
            md.complete(record.value, check=False)

    def complete_load(self, now_ms: int) -> list[MarkerToWrite]:
        """Serve the partition; returns the markers of transactions left in Prepare*."""
        self.loading, self.loaded = False, True
        self.timers.schedule(
            ABORT_TIMED_OUT, now_ms + self.config.abort_timed_out_transaction_cleanup_interval_ms
        )
        self.timers.schedule(
            EXPIRE_IDS, now_ms + self.config.remove_expired_transactional_id_cleanup_interval_ms
        )
        markers = []
        for txn_id, md in self._txns.items():
            if md.state.is_prepare:
                self._txns.touch(txn_id, copy.copy)
                markers.append(self._prepare_complete(md, now_ms))
        return markers

    def on_loaded(self, now_ms: int) -> CoordinatorResult[None]:
        return CoordinatorResult(effects=list(self.complete_load(now_ms)))

    def unload(self) -> None:
        self._txns = TimelineDict(self.registry)
        self.loading = self.loaded = False

    def encode(self, record: TxnLogRecord) -> KeyValue:
        return encode_record(record)

    # --- requests ----------------------------------------------------------------------------
    def init_producer_id(
        self, transactional_id: str, txn_timeout_ms: int, producer_id: int, producer_epoch: int, now_ms: int
    ) -> CoordinatorResult[InitProducerIdResult]:
        def fail(error: ErrorCode) -> CoordinatorResult[InitProducerIdResult]:
            return CoordinatorResult(response=InitProducerIdResult(error))

        if not transactional_id:
            return fail(ErrorCode.INVALID_REQUEST)
        if not 0 < txn_timeout_ms <= self.config.transaction_max_timeout_ms:
            return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
        if (producer_id == NO_PRODUCER_ID) != (producer_epoch < 0):
            return fail(ErrorCode.INVALID_REQUEST)
        expected = None if producer_id == NO_PRODUCER_ID else (producer_id, producer_epoch)
        error = self.status()
        if error is not None:
            return fail(error)
        if self._txns.get(transactional_id) is None:
            new_id = self.ids.next_id()
            if new_id is None:
                return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
            # kept even if the first record fails: a retry then reuses the producer id (as Kafka does)
            self._txns.seed(
                transactional_id,
                TransactionMetadata(
                    transactional_id, new_id, txn_timeout_ms=txn_timeout_ms, txn_last_update_timestamp=now_ms
                ),
            )
        md = self._for_update(transactional_id)
        assert md is not None
        outcome = init_producer_id(
            md,
            txn_timeout_ms,
            expected,
            transaction_version=self.config.transaction_version,
            ids=self.ids,
            now_ms=now_ms,
        )
        if outcome.transit is None:
            return fail(outcome.error)
        transit = outcome.transit
        if outcome.error is not ErrorCode.NO_ERROR:  # a fence: the open transaction is being aborted
            return self._recorded(transactional_id, transit, InitProducerIdResult(outcome.error), now_ms)
        response = InitProducerIdResult(ErrorCode.NO_ERROR, transit.producer_id, transit.producer_epoch)
        return self._recorded(transactional_id, transit, response, now_ms)

    def add_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: frozenset[TopicPartition],
        now_ms: int,
        transaction_version: int = TV_0,
    ) -> CoordinatorResult[ErrorCode]:
        if not transactional_id:
            return CoordinatorResult(response=ErrorCode.INVALID_REQUEST)
        error = self.status()
        if error is not None:
            return CoordinatorResult(response=error)
        md = self._initialized(transactional_id)
        if md is not None:
            md = self._for_update(transactional_id)
        outcome = add_partitions(
            md,
            producer_id,
            producer_epoch,
            partitions,
            transaction_version=transaction_version,
            now_ms=now_ms,
        )
        if outcome.transit is None:
            return CoordinatorResult(response=outcome.error)
        return self._recorded(transactional_id, outcome.transit, ErrorCode.NO_ERROR, now_ms)

    def add_offsets(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        group_id: str,
        now_ms: int,
        transaction_version: int = TV_0,
    ) -> CoordinatorResult[ErrorCode]:
        offsets = TopicPartition(
            CONSUMER_OFFSETS_TOPIC, partition_for(group_id, self.config.offsets_topic_num_partitions)
        )
        return self.add_partitions(
            transactional_id, producer_id, producer_epoch, frozenset({offsets}), now_ms, transaction_version
        )

    def verify_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: frozenset[TopicPartition],
    ) -> dict[TopicPartition, ErrorCode]:
        error = ErrorCode.INVALID_REQUEST if not transactional_id else self.status()
        if error is not None:
            return dict.fromkeys(partitions, error)
        return verify_partitions(self._initialized(transactional_id), producer_id, producer_epoch, partitions)

    def end_txn(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        committed: bool,
        now_ms: int,
        transaction_version: int = TV_0,
    ) -> CoordinatorResult[EndTxnResult]:
        error = ErrorCode.INVALID_REQUEST if not transactional_id else self.status()
        if error is not None:
            return CoordinatorResult(response=EndTxnResult(error))
        if self._initialized(transactional_id) is None:
            return CoordinatorResult(response=EndTxnResult(ErrorCode.INVALID_PRODUCER_ID_MAPPING))
        md = self._for_update(transactional_id)
        assert md is not None
        outcome = end_transaction(
            md,
            producer_id,
            producer_epoch,
            committed,
            from_client=True,
            transaction_version=transaction_version,
            ids=self.ids,
            now_ms=now_ms,
        )
        response = EndTxnResult(outcome.error, outcome.producer_id, outcome.producer_epoch)
        if outcome.transit is None:
            return CoordinatorResult(response=response)
        return self._recorded(transactional_id, outcome.transit, response, now_ms)

    # --- timers ------------------------------------------------------------------------------
    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()

    def deadline_bound(self) -> int | None:
        return self.timers.deadline_bound()

    def expire_timers(self, now_ms: int) -> CoordinatorResult[None]:
        result: CoordinatorResult[None] = CoordinatorResult()
        for timer in self.timers.expire(now_ms):
            if timer.key == ABORT_TIMED_OUT:
                self._merge(result, self.abort_timed_out(now_ms))
                interval = self.config.abort_timed_out_transaction_cleanup_interval_ms
            else:
                self._merge(result, self.expire_transactional_ids(now_ms))
                interval = self.config.remove_expired_transactional_id_cleanup_interval_ms
            self.timers.schedule(timer.key, now_ms + interval)
        return result

    def abort_timed_out(self, now_ms: int) -> CoordinatorResult[None]:
        """Fence and abort every transaction open longer than its timeout."""
        result: CoordinatorResult[None] = CoordinatorResult()
        if self.status() is not None:
            return result
        for txn_id, md in list(self._txns.items()):
            if (
                md.pending
                or md.state is not S.ONGOING
                or md.txn_start_timestamp + md.txn_timeout_ms >= now_ms
            ):
                continue
            self._txns.touch(txn_id, copy.copy)
            outcome = fence_and_abort(
                md, transaction_version=self.config.transaction_version, ids=self.ids, now_ms=now_ms
            )
            if outcome.transit is not None:
                self._merge(result, self._recorded(txn_id, outcome.transit, None, now_ms))
        return result

    def expire_transactional_ids(self, now_ms: int) -> CoordinatorResult[None]:
        """Tombstones for ids idle longer than `transactional.id.expiration.ms` with nothing open."""
        records: list[TxnLogRecord] = []
        if self.status() is not None:
            return CoordinatorResult()
        horizon = now_ms - self.config.transactional_id_expiration_ms
        for txn_id, md in list(self._txns.items()):
            if not md.pending and md.state.expiration_allowed and md.txn_last_update_timestamp <= horizon:
                records.append(TxnLogRecord(txn_id, None))
                del self._txns[txn_id]
        return CoordinatorResult(records)

    # --- completion --------------------------------------------------------------------------
    def _recorded(
        self, transactional_id: str, transit: TxnTransit, response: R, now_ms: int
    ) -> CoordinatorResult[R]:
        """Apply the planned transit now and return it as the record; a Prepare* one also as the
        markers to write once it is committed."""
        md = self._txns.get(transactional_id)
        assert md is not None
        md.complete(transit)
        effects: list[object] = []
        if md.state.is_complete:
            md.pending_complete = None
        if md.state.is_prepare:
            effects.append(self._prepare_complete(md, now_ms))
        return CoordinatorResult([TxnLogRecord(transactional_id, transit)], response, effects=effects)

    @staticmethod
    def _merge(into: CoordinatorResult[None], other: CoordinatorResult[Any]) -> None:
        into.records += other.records
        into.effects += other.effects

    def on_markers_written(self, transactional_id: str, now_ms: int) -> CoordinatorResult[bool]:
        """All markers of the transaction are written: the Complete* record, applied (the response
        says whether there was one)."""
        md = self._txns.get(transactional_id)
        if md is None or md.pending_complete is None:
            return CoordinatorResult(response=False)
        self._txns.touch(transactional_id, copy.copy)
        return self._recorded(transactional_id, md.pending_complete, True, now_ms)

    def on_markers_abandoned(self, transactional_id: str) -> CoordinatorResult[bool]:
        """A newer producer or coordinator epoch superseded the markers (Kafka gives up the same way);
        the transaction stays in Prepare* until the partition is loaded again."""
        md = self._txns.get(transactional_id)
        if md is not None:
            self._txns.touch(transactional_id, copy.copy)
            md.pending_state = None
            md.pending_complete = None
        return CoordinatorResult(response=True)

    def _prepare_complete(self, md: TransactionMetadata, now_ms: int) -> MarkerToWrite:
        committed = md.state is S.PREPARE_COMMIT
        rotate = supports_epoch_bump(md.client_transaction_version) and md.next_producer_id != NO_PRODUCER_ID
        md.pending_complete = md.prepare(
            S.COMPLETE_COMMIT if committed else S.COMPLETE_ABORT,
            producer_id=md.next_producer_id if rotate else md.producer_id,
            producer_epoch=0 if rotate else md.producer_epoch,
            next_producer_id=NO_PRODUCER_ID,
            partitions=frozenset(),
            txn_last_update_timestamp=now_ms,
        )
        return MarkerToWrite(
            md.transactional_id,
            md.producer_id,
            md.producer_epoch,
            committed,
            md.partitions,
            self.coordinator_epoch,
            md.client_transaction_version,
        )

    def pending_completion(self, transactional_id: str) -> TxnTransit | None:
        md = self._txns.get(transactional_id)
        return None if md is None else md.pending_complete
