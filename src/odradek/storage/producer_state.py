"""Idempotent and transactional producers on one partition: Kafka's `ProducerStateManager`, pure.

Per producer id the partition remembers its epoch, the metadata of its last 5 batches, the first
offset of its ongoing transaction (if any), the coordinator epoch of the last marker, and the
timestamp of its last write. The append path asks `check_and_prepare` about a Produce request's
batches *before* writing them, then reports each written batch with `on_append`. Recovery replays
the same `on_append` calls from batch headers (`producer_snapshot.rebuild`).

Rules for a data batch with a producer id (Kafka 3.x/4.x, `ProducerAppendInfo`)::

    duplicate    same epoch and the exact (first seq, last seq) of one of the last 5 batches
                 -> DUPLICATE: the broker answers with that batch's original offsets, writes nothing
    epoch        epoch < current epoch                         -> INVALID_PRODUCER_EPOCH
    new epoch    epoch > current epoch (or a first write)      -> first seq must be 0, unless the
                 producer is unknown here (no entry, or it lost its state to retention/expiry):
                 then any sequence is accepted. Since KIP-360 (Kafka 2.5) the broker never answers
                 UNKNOWN_PRODUCER_ID on Produce; an unknown producer simply starts over.
    same epoch   first seq must be last seq + 1, where Int.MAX + 1 wraps to 0
                 -> otherwise OUT_OF_ORDER_SEQUENCE_NUMBER (also for a retry older than the 5 kept)
    transaction  a non-transactional batch while the producer has an ongoing transaction
                 -> INVALID_TXN_STATE; a transactional batch with none starts one

Sequences are only checked for `AppendOrigin.CLIENT`; the group coordinator's transactional offset
commits (`COORDINATOR`) carry no sequences and only get the epoch check; `REPLICATION` (followers,
recovery) is trusted.

A COMMIT/ABORT marker (control batch, `EndTxnMarker`) from the coordinator must carry an epoch >=
the producer's (else INVALID_PRODUCER_EPOCH) and a coordinator epoch >= the last one seen (else
TRANSACTION_COORDINATOR_FENCED). It ends the ongoing transaction: `on_append` returns a
`CompletedTxn` whose `last_stable_offset` is what Kafka writes into the `.txnindex` entry of an
aborted transaction (the first offset of the earliest other ongoing transaction, else the marker
offset + 1). A marker at a higher epoch also moves the producer to that epoch, so the producer's
next batch must start again at sequence 0 (this is how epoch bumps reset sequences).

Last stable offset (LSO): the first offset of the earliest transaction that is ongoing, or completed
with its marker at or above the high watermark; the high watermark when there is none, and never
above it. READ_COMMITTED fetches stop there.

Expiry: a producer without an ongoing transaction whose last write is `producer.id.expiration.ms`
(default 1 day) old is forgotten by `remove_expired_producers`. As in Kafka the "last write" time is
the batch's max timestamp (the client's clock for CreateTime topics).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from odradek.model.errors import ErrorCode
from odradek.protocol.records import CONTROL_ABORT, CONTROL_COMMIT, BatchHeader

NUM_BATCHES_TO_RETAIN = 5
MAX_SEQUENCE = 0x7FFFFFFF
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000


def decrement_sequence(sequence: int, decrement: int) -> int:
    """The sequence `decrement` before `sequence`, wrapping below 0 to Int.MAX like Kafka."""
    return (sequence - decrement) & MAX_SEQUENCE


class AppendOrigin(Enum):
    CLIENT = "client"  # Produce requests: full validation
    COORDINATOR = "coordinator"  # markers and transactional offset commits: epoch checks only
    REPLICATION = "replication"  # followers and recovery: trusted


class VerdictKind(Enum):
    ACCEPT = "accept"
    DUPLICATE = "duplicate"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class BatchMetadata:
    """What is kept of one written batch (Kafka keeps the same four numbers)."""

    last_seq: int
    last_offset: int
    offset_delta: int
    timestamp: int

    @property
    def first_seq(self) -> int:
        return decrement_sequence(self.last_seq, self.offset_delta)

    @property
    def first_offset(self) -> int:
        return self.last_offset - self.offset_delta


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a producer's batch: append it, answer it as a duplicate, or reject it."""

    kind: VerdictKind
    error: ErrorCode = ErrorCode.NO_ERROR
    duplicate: BatchMetadata | None = None
    """For DUPLICATE: the original batch, whose offsets and timestamp answer the retry."""
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.kind is VerdictKind.ACCEPT


ACCEPT = Verdict(VerdictKind.ACCEPT)


def _reject(error: ErrorCode, reason: str) -> Verdict:
    return Verdict(VerdictKind.REJECT, error, reason=reason)


@dataclass(frozen=True, slots=True)
class EndTxnMarker:
    """A control record's content: COMMIT (1) or ABORT (0), and the coordinator's epoch."""

    control_type: int
    coordinator_epoch: int

    @property
    def is_commit(self) -> bool:
        return self.control_type == CONTROL_COMMIT


@dataclass(frozen=True, slots=True)
class CompletedTxn:
    """A transaction completed by a marker (for the aborted transactions index)."""

    producer_id: int
    first_offset: int
    last_offset: int  # the marker's offset
    is_aborted: bool
    last_stable_offset: int
    """For the `.txnindex` entry: the LSO right after this transaction completed."""


@dataclass(slots=True)
class ProducerStateEntry:
    """One producer's state in a partition: epoch, last batches, ongoing transaction."""

    producer_id: int
    producer_epoch: int = NO_PRODUCER_EPOCH
    coordinator_epoch: int = -1
    last_timestamp: int = -1
    current_txn_first_offset: int = -1  # -1: no ongoing transaction
    batches: deque[BatchMetadata] = field(default_factory=deque)

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE

    @property
    def last_data_offset(self) -> int:
        return self.batches[-1].last_offset if self.batches else -1

    @property
    def has_ongoing_txn(self) -> bool:
        return self.current_txn_first_offset >= 0

    def find_duplicate(self, header: BatchHeader) -> BatchMetadata | None:
        if header.producer_epoch != self.producer_epoch:
            return None
        first, last = header.base_sequence, header.last_sequence
        for batch in self.batches:
            if batch.first_seq == first and batch.last_seq == last:
                return batch
        return None

    def _set_epoch(self, epoch: int) -> None:
        if epoch != self.producer_epoch:
            self.batches.clear()  # sequences restart at 0 with a new epoch
            self.producer_epoch = epoch

    def add_batch(self, epoch: int, batch: BatchMetadata) -> None:
        self._set_epoch(epoch)
        if len(self.batches) == NUM_BATCHES_TO_RETAIN:
            self.batches.popleft()
        self.batches.append(batch)
        self.last_timestamp = batch.timestamp


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == MAX_SEQUENCE)


class _View(NamedTuple):
    """What validation needs of a producer: its state, or what a request's earlier batches made of it."""

    epoch: int
    last_seq: int
    in_txn: bool

    @classmethod
    def of(cls, entry: ProducerStateEntry | None) -> _View:
        if entry is None:
            return _UNKNOWN
        return cls(entry.producer_epoch, entry.last_seq, entry.has_ongoing_txn)

    def after(self, header: BatchHeader) -> _View:
        return _View(header.producer_epoch, header.last_sequence, self.in_txn or header.is_transactional)


_UNKNOWN = _View(NO_PRODUCER_EPOCH, NO_SEQUENCE, False)


def _check_data_batch(view: _View, header: BatchHeader, origin: AppendOrigin) -> Verdict:
    if origin is AppendOrigin.REPLICATION:
        return ACCEPT
    pid, epoch, first_seq = header.producer_id, header.producer_epoch, header.base_sequence
    if epoch < view.epoch:
        return _reject(
            ErrorCode.INVALID_PRODUCER_EPOCH, f"epoch {epoch} of producer {pid} is older than {view.epoch}"
        )
    if origin is AppendOrigin.CLIENT and view.epoch != NO_PRODUCER_EPOCH:
        if epoch != view.epoch and first_seq != 0:
            return _reject(
                ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                f"new epoch {epoch} of producer {pid} must start at sequence 0, not {first_seq}",
            )
        if epoch == view.epoch and not _in_sequence(view.last_seq, first_seq):
            return _reject(
                ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                f"producer {pid} sent sequence {first_seq} after {view.last_seq} in epoch {epoch}",
            )
    if view.in_txn and not header.is_transactional:
        return _reject(
            ErrorCode.INVALID_TXN_STATE, f"non-transactional batch from producer {pid} during its transaction"
        )
    return ACCEPT


class ProducerStateManager:
    """The producers of one partition; every method is pure and synchronous."""

    def __init__(self, producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS) -> None:
        self.producer_id_expiration_ms = producer_id_expiration_ms
        self._producers: dict[int, ProducerStateEntry] = {}
        # first offset -> producer id; offsets only grow, so insertion order is offset order
        self._ongoing: dict[int, int] = {}
        # completed transactions whose marker may still be at/above the high watermark: first -> last
        self._unreplicated: dict[int, int] = {}
        self.map_end_offset = 0
        """Offset after the last batch this state has seen (a snapshot taken now is named by it)."""

    # --- queries ---------------------------------------------------------------------------
    @property
    def producers(self) -> Mapping[int, ProducerStateEntry]:
        return self._producers

    def last_entry(self, producer_id: int) -> ProducerStateEntry | None:
        return self._producers.get(producer_id)

    def has_ongoing_transaction(self, producer_id: int) -> bool:
        entry = self._producers.get(producer_id)
        return entry is not None and entry.has_ongoing_txn

    def has_ongoing_transaction_at(self, producer_id: int, producer_epoch: int) -> bool:
        """Has the producer's transaction at `producer_epoch` started here (Kafka's
        hasOngoingTransaction(producerId, producerEpoch))? One at another epoch does not count: with
        transaction version 2 the next transaction (the epoch bumped) may write before the last
        one's marker is here."""
        entry = self._producers.get(producer_id)
        return entry is not None and entry.has_ongoing_txn and entry.producer_epoch == producer_epoch

    def needs_verification(self, header: BatchHeader) -> bool:
        """KIP-890 part 1: the first transactional write of a transaction should be verified with
        the transaction coordinator (AddPartitionsToTxn verify-only) before it is appended; a batch
        of another epoch than the open transaction's is a first write too (the coordinator answers
        CONCURRENT_TRANSACTIONS until the open one's markers are written)."""
        return (
            header.is_transactional
            and not header.is_control
            and not self.has_ongoing_transaction_at(header.producer_id, header.producer_epoch)
        )

    def ongoing_transactions(self) -> list[tuple[int, int]]:
        """(first offset, producer id) of every ongoing transaction, oldest first."""
        return list(self._ongoing.items())

    def first_undecided_offset(self) -> int | None:
        return next(iter(self._ongoing), None)

    def first_unstable_offset(self, high_watermark: int | None = None) -> int | None:
        """The earliest ongoing transaction, or completed one whose marker is not below `high_watermark`."""
        candidates = [
            first
            for first, last in self._unreplicated.items()
            if high_watermark is None or last >= high_watermark
        ]
        undecided = self.first_undecided_offset()
        if undecided is not None:
            candidates.append(undecided)
        return min(candidates) if candidates else None

    def last_stable_offset(self, high_watermark: int) -> int:
        if not self._ongoing and not self._unreplicated:  # no transaction: asked per partition per fetch
            return high_watermark
        unstable = self.first_unstable_offset(high_watermark)
        return unstable if unstable is not None and unstable < high_watermark else high_watermark

    # --- validation ------------------------------------------------------------------------
    def check_and_prepare(
        self, headers: Sequence[BatchHeader], origin: AppendOrigin = AppendOrigin.CLIENT
    ) -> Verdict:
        """Judge a request's data batches before they are written; the state is not changed.

        Each batch is checked against the state as the earlier batches of the same request would
        leave it. A duplicate of any batch answers the whole request, as in Kafka.
        """
        staged: dict[int, _View] = {}
        for header in headers:
            pid = header.producer_id
            if pid < 0:
                continue
            committed = self._producers.get(pid)
            if origin is AppendOrigin.CLIENT and committed is not None:
                duplicate = committed.find_duplicate(header)
                if duplicate is not None:
                    return Verdict(VerdictKind.DUPLICATE, duplicate=duplicate)
            view = staged.get(pid) or _View.of(committed)
            verdict = _check_data_batch(view, header, origin)
            if not verdict.accepted:
                return verdict
            staged[pid] = view.after(header)
        return ACCEPT

    def check_marker(self, producer_id: int, producer_epoch: int, marker: EndTxnMarker) -> Verdict:
        """Judge a COMMIT/ABORT marker the transaction coordinator is about to write."""
        entry = self._producers.get(producer_id)
        if entry is None:
            return ACCEPT
        if producer_epoch < entry.producer_epoch:
            return _reject(
                ErrorCode.INVALID_PRODUCER_EPOCH,
                f"marker epoch {producer_epoch} of producer {producer_id} < {entry.producer_epoch}",
            )
        if marker.coordinator_epoch < entry.coordinator_epoch:
            return _reject(
                ErrorCode.TRANSACTION_COORDINATOR_FENCED,
                f"coordinator epoch {marker.coordinator_epoch} is older than {entry.coordinator_epoch}",
            )
        return ACCEPT

    # --- updates ---------------------------------------------------------------------------
    def on_append(
        self,
        header: BatchHeader,
        first_offset: int,
        marker: EndTxnMarker | None = None,
        log_append_time: int = -1,
    ) -> CompletedTxn | None:
        """Record a written batch at `first_offset`; for a marker, returns the transaction it ends.

        `marker` is the content of a control batch (None for an empty, compacted control batch,
        which changes nothing); `log_append_time` replaces the batch's max timestamp on
        LogAppendTime topics.
        """
        last_offset = first_offset + header.last_offset_delta
        self.map_end_offset = max(self.map_end_offset, last_offset + 1)
        pid = header.producer_id
        if pid < 0:
            return None
        timestamp = log_append_time if log_append_time >= 0 else header.max_timestamp
        if header.is_control:
            if marker is None or marker.control_type not in (CONTROL_ABORT, CONTROL_COMMIT):
                return None
            return self._end_transaction(pid, header.producer_epoch, marker, first_offset, timestamp)
        entry = self._producers.get(pid)
        if entry is None:
            entry = self._producers[pid] = ProducerStateEntry(pid)
        batch = BatchMetadata(header.last_sequence, last_offset, last_offset - first_offset, timestamp)
        entry.add_batch(header.producer_epoch, batch)
        if header.is_transactional and not entry.has_ongoing_txn:
            entry.current_txn_first_offset = first_offset
            self._ongoing[first_offset] = pid
        return None

    def on_append_all(
        self, headers: Iterable[BatchHeader], first_offset: int, log_append_time: int = -1
    ) -> None:
        """`on_append` for a Produce request's data batches written contiguously from `first_offset`."""
        offset = first_offset
        for header in headers:
            self.on_append(header, offset, log_append_time=log_append_time)
            offset += header.last_offset_delta + 1

    def _end_transaction(
        self, pid: int, epoch: int, marker: EndTxnMarker, offset: int, timestamp: int
    ) -> CompletedTxn | None:
        entry = self._producers.get(pid)
        if entry is None:
            entry = self._producers[pid] = ProducerStateEntry(pid)
        completed = None
        if entry.has_ongoing_txn:
            first = entry.current_txn_first_offset
            lso = next((f for f, p in self._ongoing.items() if p != pid), offset + 1)
            completed = CompletedTxn(pid, first, offset, not marker.is_commit, lso)
            self._ongoing.pop(first, None)
            self._unreplicated[first] = offset
        entry._set_epoch(epoch)
        entry.coordinator_epoch = marker.coordinator_epoch
        entry.current_txn_first_offset = -1
        entry.last_timestamp = timestamp
        return completed

    def on_high_watermark_updated(self, high_watermark: int) -> None:
        if self._unreplicated:
            self._unreplicated = {f: last for f, last in self._unreplicated.items() if last >= high_watermark}

    def on_log_start_offset_incremented(self, log_start_offset: int) -> None:
        self.on_high_watermark_updated(log_start_offset)
        self.map_end_offset = max(self.map_end_offset, log_start_offset)

    def remove_expired_producers(self, now_ms: int) -> list[int]:
        """Forget idle producers without an ongoing transaction; returns their ids."""
        expired = [pid for pid, entry in self._producers.items() if self.is_expired(entry, now_ms)]
        for pid in expired:
            del self._producers[pid]
        return expired

    def is_expired(self, entry: ProducerStateEntry, now_ms: int) -> bool:
        return not entry.has_ongoing_txn and now_ms - entry.last_timestamp >= self.producer_id_expiration_ms

    def truncate_fully_and_start_at(self, offset: int) -> None:
        self._producers.clear()
        self._ongoing.clear()
        self._unreplicated.clear()
        self.map_end_offset = offset

    def load(self, entries: Iterable[ProducerStateEntry], snapshot_offset: int, now_ms: int) -> None:
        """Replace the state with a snapshot's entries (expired ones dropped, as Kafka does)."""
        self.truncate_fully_and_start_at(snapshot_offset)
        loaded = sorted(entries, key=lambda e: e.current_txn_first_offset)
        for entry in loaded:
            if self.is_expired(entry, now_ms):
                continue
            self._producers[entry.producer_id] = entry
            if entry.has_ongoing_txn:
                self._ongoing[entry.current_txn_first_offset] = entry.producer_id

    def __iter__(self) -> Iterator[ProducerStateEntry]:
        return iter(self._producers.values())
