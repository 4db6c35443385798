"""`TransactionShard`: the pure transaction coordinator of one `__transaction_state` partition.

Every request returns a `TxnResult(response, records)`. The shell appends `records` to the
partition, then calls `on_committed(records)` and sends `response`; if the append fails it calls
`on_failed(records)` and answers with `append_error_to_coordinator_error(error)`. Until then the
transactional id's `pending_state` makes conflicting requests back off (CONCURRENT_TRANSACTIONS).

When a PrepareCommit/PrepareAbort record commits, `on_committed` returns the `MarkerToWrite` for it;
the shell writes the markers to every partition of the transaction and then calls
`on_markers_written`, which returns the CompleteCommit/CompleteAbort record. Timeouts
(`abort_timed_out`) and expiry (`expire_transactional_ids`) produce records the same way.

Loading: `begin_load(coordinator_epoch)`, `replay(record)` for each record of the partition in
order, then `complete_load(now)`, which returns the markers of transactions left in Prepare* (they
are written again; markers are idempotent). While loading, requests get COORDINATOR_LOAD_IN_PROGRESS;
before loading, NOT_COORDINATOR. Replaying the records a shard emitted rebuilds its state, except
the in-memory `last_producer_epoch`, which Kafka's record format does not hold either.
"""

from __future__ import annotations

from odradek.coordinator.partitioning import coordinator_partition as partition_for
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
from odradek.coordinator.transaction.records import TxnLogRecord
from odradek.coordinator.transaction.results import (
    EndTxnResult,
    InitProducerIdResult,
    MarkerToWrite,
    TxnResult,
)
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME as CONSUMER_OFFSETS_TOPIC
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition


class TransactionShard:
    def __init__(self, partition: int, config: TransactionConfig, ids: ProducerIdGenerator) -> None:
        self.partition = partition
        self.config = config
        self.ids = ids
        self.coordinator_epoch = -1
        self.loading = False
        self.loaded = False
        self._txns: dict[str, TransactionMetadata] = {}

    @property
    def transactions(self) -> dict[str, TransactionMetadata]:
        return self._txns

    def _initialized(self, transactional_id: str) -> TransactionMetadata | None:
        """The id's metadata if InitProducerId ever succeeded for it (an id whose first record failed
        is kept with epoch -1, and is unknown to every other request)."""
        md = self._txns.get(transactional_id)
        return md if md is not None and md.producer_epoch >= 0 else None

    def status(self) -> ErrorCode | None:
        """Why requests cannot be served now, or None."""
        if self.loading:
            return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
        if not self.loaded:
            return ErrorCode.NOT_COORDINATOR
        return None

    # --- loading -----------------------------------------------------------------------------
    def begin_load(self, coordinator_epoch: int) -> None:
        self._txns = {}
        self.coordinator_epoch = coordinator_epoch
        self.loading, self.loaded = True, False

    def replay(self, record: TxnLogRecord) -> None:
        if record.value is None:
            self._txns.pop(record.transactional_id, None)
            return
        md = self._txns.get(record.transactional_id)
        if md is None:
            self._txns[record.transactional_id] = TransactionMetadata.from_transit(
                record.transactional_id, record.value
            )
        else:
            md.complete(record.value, check=False)

    def complete_load(self, now_ms: int) -> list[MarkerToWrite]:
        self.loading, self.loaded = False, True
        return [self._prepare_complete(md, now_ms) for md in self._txns.values() if md.state.is_prepare]

    def unload(self) -> None:
        self._txns = {}
        self.loading = self.loaded = False

    # --- requests ----------------------------------------------------------------------------
    def init_producer_id(
        self, transactional_id: str, txn_timeout_ms: int, producer_id: int, producer_epoch: int, now_ms: int
    ) -> TxnResult[InitProducerIdResult]:
        def fail(error: ErrorCode) -> TxnResult[InitProducerIdResult]:
            return TxnResult(InitProducerIdResult(error))

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
        md = self._txns.get(transactional_id)
        if md is None:
            new_id = self.ids.next_id()
            if new_id is None:
                return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
            # kept even if the first record fails: a retry then reuses the producer id (as Kafka does)
            md = TransactionMetadata(
                transactional_id, new_id, txn_timeout_ms=txn_timeout_ms, txn_last_update_timestamp=now_ms
            )
            self._txns[transactional_id] = md
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
        record = [TxnLogRecord(transactional_id, outcome.transit)]
        if outcome.error is not ErrorCode.NO_ERROR:  # a fence: the open transaction is being aborted
            return TxnResult(InitProducerIdResult(outcome.error), record)
        transit = outcome.transit
        return TxnResult(
            InitProducerIdResult(ErrorCode.NO_ERROR, transit.producer_id, transit.producer_epoch), record
        )

    def add_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: frozenset[TopicPartition],
        now_ms: int,
        transaction_version: int = TV_0,
    ) -> TxnResult[ErrorCode]:
        if not transactional_id:
            return TxnResult(ErrorCode.INVALID_REQUEST)
        error = self.status()
        if error is not None:
            return TxnResult(error)
        md = self._initialized(transactional_id)
        outcome = add_partitions(
            md,
            producer_id,
            producer_epoch,
            partitions,
            transaction_version=transaction_version,
            now_ms=now_ms,
        )
        if outcome.transit is None:
            return TxnResult(outcome.error)
        return TxnResult(ErrorCode.NO_ERROR, [TxnLogRecord(transactional_id, outcome.transit)])

    def add_offsets(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        group_id: str,
        now_ms: int,
        transaction_version: int = TV_0,
    ) -> TxnResult[ErrorCode]:
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
    ) -> TxnResult[EndTxnResult]:
        error = ErrorCode.INVALID_REQUEST if not transactional_id else self.status()
        if error is not None:
            return TxnResult(EndTxnResult(error))
        md = self._initialized(transactional_id)
        if md is None:
            return TxnResult(EndTxnResult(ErrorCode.INVALID_PRODUCER_ID_MAPPING))
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
            return TxnResult(response)
        return TxnResult(response, [TxnLogRecord(transactional_id, outcome.transit)])

    # --- timers ------------------------------------------------------------------------------
    def abort_timed_out(self, now_ms: int) -> list[TxnResult[None]]:
        """Fence and abort every transaction open longer than its timeout (one result each)."""
        results: list[TxnResult[None]] = []
        if self.status() is not None:
            return results
        for txn_id, md in self._txns.items():
            if (
                md.pending
                or md.state is not S.ONGOING
                or md.txn_start_timestamp + md.txn_timeout_ms >= now_ms
            ):
                continue
            outcome = fence_and_abort(
                md, transaction_version=self.config.transaction_version, ids=self.ids, now_ms=now_ms
            )
            if outcome.transit is not None:
                results.append(TxnResult(None, [TxnLogRecord(txn_id, outcome.transit)]))
        return results

    def expire_transactional_ids(self, now_ms: int) -> TxnResult[None]:
        """Tombstones for ids idle longer than `transactional.id.expiration.ms` with nothing open."""
        records: list[TxnLogRecord] = []
        if self.status() is not None:
            return TxnResult(None)
        horizon = now_ms - self.config.transactional_id_expiration_ms
        for txn_id, md in self._txns.items():
            if not md.pending and md.state.expiration_allowed and md.txn_last_update_timestamp <= horizon:
                md.prepare(S.DEAD, partitions=frozenset())
                records.append(TxnLogRecord(txn_id, None))
        return TxnResult(None, records)

    # --- completion --------------------------------------------------------------------------
    def on_committed(self, records: list[TxnLogRecord], now_ms: int) -> list[MarkerToWrite]:
        """The records are durable: apply them; returns the markers to write for Prepare* ones."""
        markers = []
        for record in records:
            md = self._txns.get(record.transactional_id)
            if md is None:
                continue
            if record.value is None:
                if md.pending_state is S.DEAD:
                    del self._txns[record.transactional_id]
                continue
            md.complete(record.value)
            if md.state.is_complete:
                md.pending_complete = None
            if md.state.is_prepare:
                markers.append(self._prepare_complete(md, now_ms))
        return markers

    def on_failed(self, records: list[TxnLogRecord]) -> None:
        """The append failed for good: forget the planned changes."""
        for record in records:
            md = self._txns.get(record.transactional_id)
            if md is not None:
                md.pending_state = None
                md.pending_complete = None

    def on_markers_written(self, transactional_id: str) -> TxnResult[None]:
        """All markers of the transaction are written: the Complete* record to append."""
        md = self._txns.get(transactional_id)
        if md is None or md.pending_complete is None:
            return TxnResult(None)
        return TxnResult(None, [TxnLogRecord(transactional_id, md.pending_complete)])

    def on_markers_abandoned(self, transactional_id: str) -> None:
        """A newer producer or coordinator epoch superseded the markers (Kafka gives up the same way);
        the transaction stays in Prepare* until the partition is loaded again."""
        md = self._txns.get(transactional_id)
        if md is not None:
            md.pending_state = None
            md.pending_complete = None

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
