"""One partition's log: an ordered list of segments, the offsets that describe it, and its operations.

Invariants (Kafka's)::

    log_start_offset <= high_watermark <= log_end_offset
    segments[0].base_offset <= log_start_offset; segments are sorted by base offset, the last is active
    recovery_point <= log_end_offset: everything below it is fsynced

The broker calls everything here from its event loop, synchronously; appends and reads do
page-cache I/O only and per-batch work (a header unpack), never per-record work. The exception is
`flush`, which fsyncs and is meant to run in a worker thread while the loop keeps appending: it
takes `self._lock` only to copy (dup) the descriptors it needs and to publish the new recovery
point, and every operation that closes descriptors or changes the segment list (roll, deletion,
truncation, close) takes the same lock, so a flush never touches a closed or reused descriptor.

Producer state (idempotence and transactions, `producer_state.py`) lives with the log: `append`
checks the batches' producer ids, epochs and sequences against it and records them, with no await in
between (the whole call is synchronous); a retried batch is answered with its original offsets
(`AppendInfo.duplicate`). `append_marker` writes a COMMIT/ABORT control batch and adds aborted
transactions to the active segment's `.txnindex`. The state is snapshotted at every roll (named by
the new segment's base offset) and at clean shutdown (named by the log end offset); loading, and
truncation, read the newest snapshot at or below the log end offset and replay the batch headers
after it, refilling the `.txnindex` of the replayed range.

Compaction: the cleaner (`cleaner.py`) rewrites closed segments in a worker thread, through its own
descriptors, and `replace_segments` swaps the result in on the loop, under `self._lock`, the way
`_delete_oldest` swaps segments out: loop readers (synchronous) never see a half-swapped list, and a
flush holds duplicates of the descriptors it uses.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.file_region import FileRegion
from odradek.protocol.primitives import ProtocolError
from odradek.protocol.records import (
    LOG_OVERHEAD,
    BatchHeader,
    build_control_batch,
    iter_records,
    read_header,
)
from odradek.storage.checkpoints import read_partition_metadata, write_partition_metadata
from odradek.storage.errors import (
    LogClosedError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    ProducerStateError,
    RecordListTooLargeError,
    StorageError,
)
from odradek.storage.file_cache import FileCache
from odradek.storage.layout import LEADER_EPOCH_CHECKPOINT, LOG_SUFFIX, PARTITION_METADATA, TMP_SUFFIX
from odradek.storage.leader_epoch_cache import EpochEntry, LeaderEpochCache
from odradek.storage.log_config import LogConfig
from odradek.storage.log_state import LogState
from odradek.storage.producer_snapshot import (
    CorruptSnapshotError,
    delete_snapshots,
    list_snapshots,
    load_latest_snapshot,
    read_marker,
    read_snapshot,
    rebuild,
    snapshot_path,
    write_snapshot,
)
from odradek.storage.producer_state import (
    AppendOrigin,
    EndTxnMarker,
    ProducerStateEntry,
    ProducerStateManager,
    VerdictKind,
)
from odradek.storage.recovery import load_segments
from odradek.storage.retention import deletable_segments
from odradek.storage.segment import LogSegment
from odradek.storage.segment_swap import Rename, SwapConflictError, swap_in
from odradek.storage.txn_index import AbortedTxn, collect_aborted

Fsync = Callable[[int], None]
REGION_MIN_BYTES = 64 * 1024
"""`read(regions=True)` reads spans smaller than this instead of handing out file regions."""
TRANSIENT_ERRNOS = frozenset(
    (errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN, errno.EINTR)
)
"""Running out of something: the request fails, the log directory stays online (unlike Kafka, which
takes a directory offline on any IOException: with a full disk the data is intact, and freeing
space lets writes go on without a restart)."""


@dataclass(slots=True)
class AppendInfo:
    """What an append did (never changed after; not frozen: a frozen dataclass takes about four
    times as long to build, and one is built per append)."""

    first_offset: int
    last_offset: int
    log_append_time: int  # -1 for CreateTime topics
    log_start_offset: int
    max_timestamp: int
    duplicate: bool = False  # a retried batch: nothing was written, the offsets are the original ones


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a read returned: whole batches and the log's offsets at the time."""

    chunks: list[bytes | FileRegion]  # whole batches, in order; empty when nothing is readable
    size: int
    high_watermark: int
    log_start_offset: int
    log_end_offset: int


class PartitionLog:
    __slots__ = (
        "_bases",
        "_closed",
        "_config",
        "_dirty_dirs",
        "_epoch_cache",
        "_files",
        "_fsync",
        "_generation",
        "_high_watermark",
        "_leo",
        "_lock",
        "_log_start",
        "_offline",
        "_recovery_point",
        "_segments",
        "_snapshot_offset",
        "directory",
        "on_config_changed",
        "on_flush_needed",
        "on_io_error",
        "producer_state",
        "topic_id",
        "tp",
        "truncated_on_load",
    )

    def __init__(
        self,
        tp: TopicPartition,
        directory: Path,
        config: LogConfig,
        segments: list[LogSegment],
        *,
        log_start_offset: int,
        log_end_offset: int,
        recovery_point: int,
        high_watermark: int,
        epoch_cache: LeaderEpochCache,
        topic_id: uuid.UUID | None,
        files: FileCache,
        fsync: Fsync = os.fsync,
    ) -> None:
        self.tp = tp
        self.directory = directory
        self.topic_id = topic_id
        self._config = config
        self._segments = segments
        self._bases = [s.base_offset for s in segments]
        self._log_start = log_start_offset
        self._leo = log_end_offset
        self._recovery_point = recovery_point
        self._high_watermark = min(max(high_watermark, log_start_offset), log_end_offset)
        self._epoch_cache = epoch_cache
        self._fsync = fsync
        self._files = files
        self._snapshot_offset = -1  # the producer snapshot known to be on disk at this offset
        self._lock = threading.Lock()
        self._generation = 0  # bumped by truncation: a flush started before must not publish
        self._dirty_dirs: set[Path] = set()  # entries created, renamed or deleted since the last flush
        self._closed = False
        self._offline = False
        self.on_io_error: Callable[[PartitionLog, OSError], None] | None = None  # LogManager's
        self.on_flush_needed: Callable[[PartitionLog], None] | None = None  # rolled, or flush.ms set
        self.on_config_changed: Callable[[PartitionLog], None] | None = None  # LogManager's (cleaner)
        self.truncated_on_load = 0  # bytes recovery cut when this log was loaded
        self.producer_state = ProducerStateManager()
        self.producer_state.map_end_offset = log_end_offset

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        directory: Path,
        tp: TopicPartition,
        topic_id: uuid.UUID,
        config: LogConfig,
        *,
        now_ms: int,
        fsync: Fsync = os.fsync,
        files: FileCache | None = None,
    ) -> PartitionLog:
        """A new, empty partition directory: `partition.metadata` and an empty first segment (its
        indexes are written when it is sealed, the leader-epoch checkpoint with the first epoch)."""
        directory.mkdir(parents=True)
        files = files if files is not None else FileCache()
        try:
            write_partition_metadata(directory / PARTITION_METADATA, topic_id, sync=False)
            segment = LogSegment.create(directory, 0, config, now_ms, files)
        except BaseException:
            remove_new_partition_dir(directory)  # no half-made directory is left behind
            raise
        log = cls(
            tp,
            directory,
            config,
            [segment],
            log_start_offset=0,
            log_end_offset=0,
            recovery_point=0,
            high_watermark=0,
            epoch_cache=LeaderEpochCache(directory / LEADER_EPOCH_CHECKPOINT),
            topic_id=topic_id,
            files=files,
            fsync=fsync,
        )
        log._dirty_dirs = {directory, directory.parent}
        return log

    @classmethod
    def load(
        cls,
        directory: Path,
        tp: TopicPartition,
        config: LogConfig,
        *,
        recovery_point: int,
        log_start_offset: int,
        high_watermark: int,
        clean: bool,
        now_ms: int,
        fsync: Fsync = os.fsync,
        files: FileCache | None = None,
    ) -> PartitionLog:
        """Open an existing partition directory (recovering it unless `clean`, see recovery.py)."""
        files = files if files is not None else FileCache()
        loaded = load_segments(
            directory,
            config,
            files,
            recovery_point=recovery_point,
            log_start_offset=log_start_offset,
            clean=clean,
            now_ms=now_ms,
        )
        log = cls(
            tp,
            directory,
            config,
            loaded.segments,
            log_start_offset=loaded.log_start_offset,
            log_end_offset=loaded.log_end_offset,
            recovery_point=loaded.recovery_point,
            high_watermark=high_watermark,
            epoch_cache=loaded.epoch_cache,
            topic_id=read_partition_metadata(f"{os.fspath(directory)}/{PARTITION_METADATA}"),
            files=files,
            fsync=fsync,
        )
        log.truncated_on_load = loaded.truncated_bytes
        log._load_producer_state(clean=clean, now_ms=now_ms, snapshots=loaded.snapshots)
        return log

    @classmethod
    def from_state(
        cls,
        directory: Path,
        tp: TopicPartition,
        config: LogConfig,
        state: LogState,
        *,
        now_ms: int,
        fsync: Fsync = os.fsync,
        files: FileCache | None = None,
        recovery_point: int | None = None,
        producer_state: ProducerStateManager | None = None,
    ) -> PartitionLog:
        """A log as a clean shutdown described it (`log_state.py`): nothing is read or opened, except
        the producer snapshot at the log end offset when the log had producers. A loader process
        (`log_loader.py`) passes the recovery point and producer state it recovered."""
        files = files if files is not None else FileCache()
        segments = [
            LogSegment.open(directory, base, config, now_ms, files, size=size, txn_index_exists=bool(txn))
            for base, size, txn in state.segments
        ]
        leo = state.log_end_offset
        log = cls(
            tp,
            directory,
            config,
            segments,
            log_start_offset=state.log_start_offset,
            log_end_offset=leo,
            recovery_point=leo if recovery_point is None else recovery_point,
            high_watermark=state.high_watermark,
            epoch_cache=LeaderEpochCache(
                directory / LEADER_EPOCH_CHECKPOINT, [EpochEntry(e, o) for e, o in state.epochs]
            ),
            topic_id=state.topic_id,
            files=files,
            fsync=fsync,
        )
        if producer_state is not None:
            log.producer_state = producer_state
        elif state.producers:
            try:
                entries = read_snapshot(snapshot_path(directory, leo))
            except (CorruptSnapshotError, OSError):
                log._load_producer_state(clean=True, now_ms=now_ms, snapshots=None)
                return log
            log.producer_state.load(entries, leo, now_ms)
            log._snapshot_offset = leo
            log.producer_state.on_high_watermark_updated(log._high_watermark)
        return log

    def state(self) -> LogState:
        """What `from_state` needs to open this log again (after a clean close)."""
        return LogState(
            self.topic_id,
            self._log_start,
            self._leo,
            self._high_watermark,
            [(s.base_offset, s.size, int(s.has_txn_index)) for s in self._segments],
            self._epoch_cache.entries,
            self._snapshotted_producers(),
        )

    def _snapshotted_producers(self) -> int:
        """Producers in the snapshot at the log end offset; 0 when there are none (no snapshot
        needed), -1 when there are some but no snapshot holds them (the next load replays)."""
        count = len(self.producer_state.producers)
        return count if count == 0 or self._snapshot_offset == self._leo else -1

    def rebind(self, files: FileCache) -> None:
        """Close every descriptor and use `files` from now on (after loading in a worker thread)."""
        with self._lock:
            self._files = files
            for segment in self._segments:
                segment.rebind(files)

    def _load_producer_state(self, *, clean: bool, now_ms: int, snapshots: list[int] | None = None) -> None:
        """Snapshot + replay (hook 6 of the transactions README): newest snapshot <= LEO, then every
        batch header after it; the `.txnindex` of the replayed range is rewritten from the replay.
        `snapshots` are the snapshot offsets in the directory, when the caller just listed it."""
        directory, leo = self.directory, self._leo
        if snapshots is None:
            snapshots = list_snapshots(directory)
        for offset in [o for o in snapshots if o > leo]:
            snapshot_path(directory, offset).unlink(missing_ok=True)
            snapshots.remove(offset)
        snapshot: tuple[int, list[ProducerStateEntry]] | None
        if clean and not snapshots:
            # A clean log without snapshots (written before producer state existed): like Kafka,
            # replay only the active segment rather than read every segment's headers.
            snapshot = (self._segments[-1].base_offset, [])
        else:
            snapshot = load_latest_snapshot(directory, at_most=leo, offsets=snapshots)
        start = snapshot[0] if snapshot is not None else self._log_start
        first = max(0, bisect_right(self._bases, start) - 1)
        replayed = self._segments[first:] if start < leo else []
        completed = rebuild(
            self.producer_state,
            snapshot,
            self._replay(replayed, start),
            log_start_offset=self._log_start,
            now_ms=now_ms,
        )
        self.producer_state.map_end_offset = leo
        if snapshot is not None and snapshot[0] == leo and snapshot[0] in snapshots:
            self._snapshot_offset = leo
        self._remove_stray_snapshots(snapshots)
        for segment in replayed:
            if segment.has_txn_index:
                segment.txn_index.truncate_to(start)
        for txn in completed:
            if txn.is_aborted:
                self._segment_holding(txn.last_offset).txn_index.append(AbortedTxn.of(txn))
        self.producer_state.on_high_watermark_updated(self._high_watermark)

    def _remove_stray_snapshots(self, offsets: list[int] | None = None) -> None:
        """Keep the snapshots at segment bases and the newest one (Kafka's rule): a clean shutdown
        leaves one at the log end each time, which would otherwise pile up."""
        if offsets is None:
            offsets = list_snapshots(self.directory)
        bases = set(self._bases)
        for offset in offsets[:-1]:
            if offset not in bases:
                snapshot_path(self.directory, offset).unlink(missing_ok=True)

    @staticmethod
    def _replay(segments: list[LogSegment], start: int) -> Iterator[tuple[BatchHeader, EndTxnMarker | None]]:
        for i, segment in enumerate(segments):
            pos = segment.find(start) if i == 0 else 0
            if pos is None:
                continue
            for at, header in segment.headers(pos):
                marker = None
                if header.is_control:
                    marker = read_marker(segment.read(at, at + header.size), header)
                yield header, marker

    def _segment_holding(self, offset: int) -> LogSegment:
        return self._segments[max(0, bisect_right(self._bases, offset) - 1)]

    # --- state ------------------------------------------------------------------------------
    @property
    def config(self) -> LogConfig:
        return self._config

    def update_config(self, config: LogConfig) -> None:
        self._config = config
        if config.flushes_itself and self.on_flush_needed is not None:
            self.on_flush_needed(self)
        if self.on_config_changed is not None:
            self.on_config_changed(self)

    @property
    def log_start_offset(self) -> int:
        return self._log_start

    @property
    def log_end_offset(self) -> int:
        return self._leo

    @property
    def high_watermark(self) -> int:
        return self._high_watermark

    @high_watermark.setter
    def high_watermark(self, offset: int) -> None:
        self._high_watermark = min(max(offset, self._log_start), self._leo)
        self.producer_state.on_high_watermark_updated(self._high_watermark)

    def advance_high_watermark_to_end(self) -> None:
        """`high_watermark = log_end_offset` (a leader alone in its replica set, after an append)."""
        self._high_watermark = self._leo
        self.producer_state.on_high_watermark_updated(self._leo)

    @property
    def last_stable_offset(self) -> int:
        """READ_COMMITTED reads stop here: the first offset of the earliest open transaction, or
        of one whose marker is not yet below the high watermark; else the high watermark."""
        return self.producer_state.last_stable_offset(self._high_watermark)

    def aborted_transactions(self, fetch_offset: int, upper_bound: int) -> list[AbortedTxn]:
        """Aborted transactions overlapping `[fetch_offset, upper_bound)` (READ_COMMITTED fetch)."""
        first = max(0, bisect_right(self._bases, fetch_offset) - 1)
        return collect_aborted((s.txn_index for s in self._segments[first:]), fetch_offset, upper_bound)

    def remove_expired_producers(self, now_ms: int, expiration_ms: int) -> list[int]:
        """Forget producers idle for `producer.id.expiration.ms` (no ongoing transaction)."""
        self.producer_state.producer_id_expiration_ms = expiration_ms
        return self.producer_state.remove_expired_producers(now_ms)

    @property
    def recovery_point(self) -> int:
        return self._recovery_point

    @property
    def unflushed_messages(self) -> int:
        return self._leo - self._recovery_point

    @property
    def size_in_bytes(self) -> int:
        return sum(s.size for s in self._segments)

    @property
    def segments(self) -> tuple[LogSegment, ...]:
        return tuple(self._segments)

    @property
    def active_segment(self) -> LogSegment:
        return self._segments[-1]

    @property
    def leader_epoch_cache(self) -> LeaderEpochCache:
        return self._epoch_cache

    @property
    def latest_epoch(self) -> int:
        return self._epoch_cache.latest_epoch

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def generation(self) -> int:
        """Bumped by every truncation: work prepared against an older generation must not apply."""
        return self._generation

    def _check_open(self) -> None:
        if self._closed:
            if self._offline:
                raise StorageError(f"the log directory of {self.tp} is offline")
            raise LogClosedError(f"log of {self.tp} is closed")

    @property
    def offline(self) -> bool:
        return self._offline

    def _io_error(self, what: str, exc: OSError) -> StorageError:
        """The error to raise for an OSError of `what`; a disk failure (anything but running out of
        space, descriptors or memory) also goes to `on_io_error`, which takes the directory offline."""
        if exc.errno not in TRANSIENT_ERRNOS and self.on_io_error is not None:
            self.on_io_error(self, exc)
        return StorageError(f"{what} {self.tp} failed: {exc}")

    def take_offline(self) -> None:
        """Its log directory failed: every later operation raises StorageError (KAFKA_STORAGE_ERROR),
        and its files are closed."""
        with self._lock:
            self._offline = self._closed = True
            for segment in self._segments:
                segment.close()

    # --- append -----------------------------------------------------------------------------
    def append(
        self,
        buf: bytearray | memoryview,
        headers: list[BatchHeader],
        leader_epoch: int,
        now_ms: int,
        origin: AppendOrigin = AppendOrigin.CLIENT,
    ) -> AppendInfo:
        """Assign offsets to validated batches and write them (restamping `buf` in place).

        Batches with a producer id are first checked against the producer state (raising
        ProducerStateError); a retry of one of a producer's last 5 batches writes nothing and
        returns the original offsets with `duplicate` set.
        """
        if self._closed:
            self._check_open()
        if not headers:
            raise ValueError("nothing to append")
        config = self._config
        total = len(buf)
        single = headers[0] if len(headers) == 1 else None  # the usual case: no scans over headers
        if single is not None:
            described = largest = single.batch_length + LOG_OVERHEAD
        else:
            described = sum(h.batch_length for h in headers) + LOG_OVERHEAD * len(headers)
            largest = max(h.batch_length for h in headers) + LOG_OVERHEAD
        if described != total:
            raise ValueError("headers do not describe the buffer")
        if largest > config.max_message_bytes:
            raise MessageTooLargeError(
                f"batch of {largest} bytes exceeds max.message.bytes {config.max_message_bytes}"
            )
        if total > config.segment_bytes:
            raise RecordListTooLargeError(f"{total} bytes exceed segment.bytes {config.segment_bytes}")
        state = self.producer_state
        if single is not None:
            with_producer = single.producer_id >= 0
        else:
            with_producer = any(h.producer_id >= 0 for h in headers)
        if with_producer:
            verdict = state.check_and_prepare([h for h in headers if not h.is_control], origin)
            if verdict.kind is VerdictKind.DUPLICATE:
                dup = verdict.duplicate
                assert dup is not None
                append_time = dup.timestamp if config.log_append_time else -1
                return AppendInfo(
                    dup.first_offset, dup.last_offset, append_time, self._log_start, dup.timestamp, True
                )
            if not verdict.accepted:
                raise ProducerStateError(verdict.error, verdict.reason)
        if isinstance(buf, memoryview) and buf.readonly:
            buf = bytearray(buf)
        first = self._leo
        append_time = now_ms if config.log_append_time else -1
        if single is not None:
            last = first + single.last_offset_delta
            max_ts = append_time if append_time >= 0 else single.max_timestamp
        else:
            last = first + sum(h.last_offset_delta for h in headers) + len(headers) - 1
            max_ts = append_time if append_time >= 0 else max(h.max_timestamp for h in headers)
        segment = self._segments[-1]
        try:
            if segment.should_roll(config, total, max_ts, last, now_ms):
                segment = self.roll(now_ms)
            segment.append(
                buf,
                headers,
                first_offset=first,
                leader_epoch=leader_epoch,
                append_time=append_time,
                config=config,
            )
        except OSError as exc:
            raise self._io_error("append to", exc) from exc
        self._leo = last + 1
        try:
            if leader_epoch > self._epoch_cache.latest_epoch:
                self._epoch_cache.assign(leader_epoch, first)
            if with_producer:
                self._record_producers(buf, headers, first, append_time, segment)
        except OSError as exc:
            # The batch is written but its epoch or aborted transaction is not: the log and what
            # describes it disagree, so the partition stops here (recovery rebuilds both from it).
            if self.on_io_error is not None:
                self.on_io_error(self, exc)
            raise StorageError(f"append to {self.tp} failed after writing: {exc}") from exc
        return AppendInfo(first, last, append_time, self._log_start, max_ts)

    def append_as_follower(self, buf: bytearray | memoryview, headers: list[BatchHeader], now_ms: int) -> int:
        """Append the leader's batches as they are: their offsets, leader epochs and timestamps.

        A follower fetched them from its log end offset, so the first batch starts there (or later,
        when the leader's compaction removed whole batches); anything else raises
        OffsetOutOfRangeError and writes nothing. A fetch may carry more than a segment holds: the
        batches are written in runs that fit, rolling between them. The leader epoch cache learns
        each new epoch from the batches' `partitionLeaderEpoch`, and the producer state records
        them as trusted replication (no sequence checks), with aborted transactions in the
        `.txnindex`: a follower that becomes leader deduplicates retries and answers read_committed
        as its leader did. Work is per batch, never per record. Returns the new log end offset.
        """
        self._check_open()
        if not headers:
            raise ValueError("nothing to append")
        first = headers[0].base_offset
        if first < self._leo:
            raise OffsetOutOfRangeError(
                f"{self.tp}: replicated batch at {first} is below the log end {self._leo}"
            )
        limit = self._config.segment_bytes
        view = memoryview(buf)
        start = pos = 0
        run: list[BatchHeader] = []
        for header in headers:
            size = header.size
            if size > limit:
                raise RecordListTooLargeError(f"a {size}-byte batch exceeds segment.bytes {limit}")
            if run and pos + size - start > limit:
                self._append_replicated_run(view[start:pos], run, now_ms)
                start, run = pos, []
            run.append(header)
            pos += size
        self._append_replicated_run(view[start:pos], run, now_ms)
        return self._leo

    def _append_replicated_run(self, buf: memoryview, headers: list[BatchHeader], now_ms: int) -> None:
        last_header = headers[-1]
        last = last_header.base_offset + last_header.last_offset_delta
        max_ts = max(h.max_timestamp for h in headers)
        segment = self._segments[-1]
        try:
            if segment.should_roll(self._config, len(buf), max_ts, last, now_ms):
                segment = self.roll(now_ms)
            segment.append(
                buf,
                headers,
                first_offset=headers[0].base_offset,
                leader_epoch=None,
                append_time=-1,
                config=self._config,
            )
        except OSError as exc:
            raise StorageError(f"append to {self.tp} failed: {exc}") from exc
        self._leo = last + 1
        cache = self._epoch_cache
        state = self.producer_state
        pos = 0
        for header in headers:
            epoch = header.partition_leader_epoch
            if epoch > cache.latest_epoch:
                cache.assign(epoch, header.base_offset)
            if header.producer_id >= 0:
                marker = None
                if header.is_control:
                    marker = read_marker(buf[pos : pos + header.size], header)
                completed = state.on_append(header, header.base_offset, marker)
                if completed is not None and completed.is_aborted:
                    segment.txn_index.append(AbortedTxn.of(completed))
            pos += header.size

    def _record_producers(
        self,
        buf: bytearray | memoryview,
        headers: list[BatchHeader],
        first: int,
        append_time: int,
        segment: LogSegment,
    ) -> None:
        state = self.producer_state
        offset, pos = first, 0
        for header in headers:
            marker = None
            if header.is_control:
                marker = read_marker(memoryview(buf)[pos : pos + header.size], header)
            completed = state.on_append(header, offset, marker, append_time)
            if completed is not None and completed.is_aborted:
                segment.txn_index.append(AbortedTxn.of(completed))
            offset += header.last_offset_delta + 1
            pos += header.size

    def append_marker(
        self, producer_id: int, producer_epoch: int, marker: EndTxnMarker, leader_epoch: int, now_ms: int
    ) -> AppendInfo:
        """Write a transaction's COMMIT/ABORT control batch (the coordinator's marker).

        Raises ProducerStateError (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED) when a
        newer producer or coordinator epoch superseded it.
        """
        self._check_open()
        verdict = self.producer_state.check_marker(producer_id, producer_epoch, marker)
        if not verdict.accepted:
            raise ProducerStateError(verdict.error, verdict.reason)
        batch = bytearray(
            build_control_batch(
                marker.control_type, producer_id, producer_epoch, marker.coordinator_epoch, now_ms
            )
        )
        return self.append(batch, [read_header(batch)], leader_epoch, now_ms, AppendOrigin.COORDINATOR)

    def roll(self, now_ms: int) -> LogSegment:
        """Start a new active segment at the log end offset (no-op if the active one is empty)."""
        self._check_open()
        active = self._segments[-1]
        if active.size == 0 and active.base_offset == self._leo:
            return active
        segment = LogSegment.create(self.directory, self._leo, self._config, now_ms, self._files)
        active.seal()
        active.close_fd()  # closed segments hold no descriptor at rest (readers reopen them)
        with self._lock:
            self._segments.append(segment)
            self._bases.append(segment.base_offset)
            self._dirty_dirs.add(self.directory)
        self._snapshot(sync=False)
        if self.on_flush_needed is not None:
            self.on_flush_needed(self)  # Kafka fsyncs a segment once it is rolled
        return segment

    def _snapshot(self, sync: bool) -> None:
        """Producer state as of the log end offset (unsynced at roll: recovery skips a torn one)."""
        state = self.producer_state
        state.map_end_offset = self._leo
        write_snapshot(self.directory, self._leo, state.producers.values(), sync=sync)
        self._snapshot_offset = self._leo

    # --- read -------------------------------------------------------------------------------
    def reader(self) -> LogReader:
        """The log's segments as they are now, on descriptors of the reader's own (duplicates:
        valid whatever the file cache, a roll or a compaction does meanwhile), for a worker thread
        to read from the log start offset to the current end (coordinators loading). Close it."""
        self._check_open()
        fds: list[tuple[int, int]] = []
        try:
            for segment in self._segments:
                fds.append((os.dup(segment.fd), segment.size))
        except OSError as exc:
            for fd, _ in fds:
                os.close(fd)
            raise self._io_error("reading", exc) from exc
        return LogReader(fds, self._log_start, self._leo)

    def read(
        self,
        fetch_offset: int,
        max_bytes: int,
        max_offset: int,
        min_one_batch: bool = True,
        regions: bool = False,
    ) -> ReadResult:
        """Whole batches from the one holding `fetch_offset`, below `max_offset`, within `max_bytes`.

        If `min_one_batch`, the first batch is returned even when larger than `max_bytes` (Kafka's
        rule, so a consumer never gets stuck behind a big batch). Batches that contain `max_offset`
        (the high watermark or last stable offset) or come after it are never returned. With
        `regions`, the batches are `FileRegion`s of the segment files, not read (a follower's fetch:
        the connection sends them with sendfile); each holds a descriptor until closed. A span
        under `REGION_MIN_BYTES` is read all the same: a follower keeping up fetches one small batch
        per round, and a region costs more than its bytes there (a descriptor, and socket sends of
        its own around the sendfile, each a separate TCP segment the follower wakes up for).
        """
        self._check_open()
        if fetch_offset < self._log_start or fetch_offset > self._leo:
            raise OffsetOutOfRangeError(
                f"offset {fetch_offset} outside [{self._log_start}, {self._leo}] of {self.tp}"
            )
        if fetch_offset >= max_offset or fetch_offset == self._leo:
            # a reader caught up (every follower's fetch lists each followed partition, idle or not)
            return ReadResult([], 0, self._high_watermark, self._log_start, self._leo)
        try:
            return self._read(fetch_offset, max_bytes, max_offset, min_one_batch, regions)
        except OSError as exc:
            raise self._io_error("read from", exc) from exc

    def _read(
        self, fetch_offset: int, max_bytes: int, max_offset: int, min_one_batch: bool, regions: bool
    ) -> ReadResult:
        chunks: list[bytes | FileRegion] = []
        total = 0
        max_offset = min(max_offset, self._leo)
        segments, bases = self._segments, self._bases
        i = max(0, bisect_right(bases, fetch_offset) - 1)
        offset = fetch_offset
        while offset < max_offset and i < len(segments):
            segment = segments[i]
            start = segment.find(offset)
            next_base = bases[i + 1] if i + 1 < len(bases) else None
            if start is None:
                i += 1
                offset = max(offset, next_base or offset)
                continue
            whole_segment = (next_base is not None and next_base <= max_offset) or max_offset >= self._leo
            limit = segment.size if whole_segment else segment.find(max_offset)
            if limit is None:
                limit = segment.size
            if limit <= start:
                break
            budget = max_bytes - total
            if budget <= 0 and chunks:
                break
            end = limit if limit - start <= budget else segment.whole_batches_end(start, start + budget)
            if end == start and not chunks and min_one_batch:
                end = start + segment.header_at(start).batch_length + LOG_OVERHEAD
            if end > start:
                if regions and end - start >= REGION_MIN_BYTES:
                    chunks.append(segment.region(start, end))
                else:
                    chunks.append(segment.read(start, end))
                total += end - start
            if end < segment.size or next_base is None:
                break
            i += 1
            offset = next_base
        return ReadResult(chunks, total, self._high_watermark, self._log_start, self._leo)

    # --- timestamps and epochs ---------------------------------------------------------------
    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int, int] | None:
        """ListOffsets: (offset, timestamp, leader epoch) of the first record at or after `timestamp`."""
        self._check_open()
        for i, segment in enumerate(self._segments):
            end = self._bases[i + 1] if i + 1 < len(self._bases) else self._leo
            if end <= self._log_start or segment.largest_timestamp < timestamp:
                continue
            entry = segment.time_index.floor_entry(timestamp)
            start = segment.offset_index.floor_position(entry[1]) if entry else 0
            for pos, header in segment.headers(start):
                if (
                    header.max_timestamp < timestamp
                    or header.base_offset + header.last_offset_delta < self._log_start
                ):
                    continue
                data = segment.read(pos, pos + header.batch_length + LOG_OVERHEAD)
                try:
                    for record in iter_records(data, 0, header):
                        if record.timestamp >= timestamp and record.offset >= self._log_start:
                            return record.offset, record.timestamp, header.partition_leader_epoch
                except ProtocolError:
                    # Produce checks a batch's CRC, not its record bodies (no per-record work), so a
                    # client may have stored a batch whose records do not parse: answer at batch level.
                    first = max(header.base_offset, self._log_start)
                    return first, header.max_timestamp, header.partition_leader_epoch
        return None

    def max_timestamp_entry(self) -> tuple[int, int, int] | None:
        """ListOffsets MAX_TIMESTAMP (KIP-734): (offset, timestamp, leader epoch) of the first record
        holding the largest timestamp; None for an empty log."""
        self._check_open()
        best: tuple[int, int, LogSegment] | None = None
        for segment in self._segments:
            ts, offset = segment.max_timestamp_and_offset()
            if ts >= 0 and (best is None or ts > best[0]):
                best = (ts, offset, segment)
        if best is None:
            return None
        ts, offset, segment = best
        pos = segment.find(offset)
        if pos is None:
            return None
        header = segment.header_at(pos)
        data = segment.read(pos, pos + header.batch_length + LOG_OVERHEAD)
        try:
            for record in iter_records(data, 0, header):
                if record.timestamp == ts:
                    return record.offset, ts, header.partition_leader_epoch
        except ProtocolError:  # unparsable record bodies (see offset_for_timestamp): the index's offset
            return offset, ts, header.partition_leader_epoch
        return None

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """OffsetForLeaderEpoch: (largest epoch <= `epoch`, its end offset), or (-1, -1)."""
        return self._epoch_cache.end_offset_for(epoch, self._leo)

    def epoch_for_offset(self, offset: int) -> int | None:
        return self._epoch_cache.epoch_for_offset(offset)

    # --- deletion and truncation ------------------------------------------------------------
    def _delete_oldest(self, count: int, now_ms: int) -> list[Path]:
        """Rename the oldest `count` segments to `.deleted`; returns the paths to remove."""
        if count <= 0:
            return []
        if count >= len(self._segments):
            self.roll(now_ms)
        with self._lock:
            doomed = self._segments[:count]
            del self._segments[:count]
            del self._bases[:count]
            self._dirty_dirs.add(self.directory)
            paths = [path for segment in doomed for path in segment.rename_to_deleted()]
        if self._bases[0] > self._log_start:
            self._log_start = self._bases[0]
            self._high_watermark = max(self._high_watermark, self._log_start)
            self._epoch_cache.truncate_from_start(self._log_start)
        self._log_start_moved()
        return paths

    def _log_start_moved(self) -> None:
        self.producer_state.on_log_start_offset_incremented(self._log_start)
        delete_snapshots(self.directory, below=self._segments[0].base_offset)

    def delete_old_segments(self, now_ms: int) -> list[Path]:
        """Apply retention (retention.py); returns the `.deleted` files for the caller to remove."""
        self._check_open()
        decision = deletable_segments(
            self._segments,
            log_start_offset=self._log_start,
            log_end_offset=self._leo,
            high_watermark=self._high_watermark,
            config=self._config,
            now_ms=now_ms,
        )
        return self._delete_oldest(decision.count, now_ms)

    def delete_records_before(self, offset: int, now_ms: int) -> list[Path]:
        """DeleteRecords: make `offset` the log start offset (<= high watermark) and drop whole
        segments below it; returns the `.deleted` files for the caller to remove."""
        self._check_open()
        if offset > self._high_watermark or offset < 0:
            raise OffsetOutOfRangeError(
                f"cannot delete {self.tp} before {offset}: high watermark {self._high_watermark}"
            )
        if offset > self._log_start:
            self._log_start = offset
            self._epoch_cache.truncate_from_start(offset)
            self.producer_state.on_log_start_offset_incremented(offset)
        decision = deletable_segments(
            self._segments,
            log_start_offset=self._log_start,
            log_end_offset=self._leo,
            high_watermark=self._high_watermark,
            config=None,
            now_ms=now_ms,
        )
        return self._delete_oldest(decision.count, now_ms)

    def truncate_to(self, offset: int, now_ms: int) -> list[Path]:
        """Remove every batch at or after the one containing `offset` (replication, recovery).

        Returns the `.deleted` files of whole segments removed, for the caller to remove.
        """
        self._check_open()
        if offset >= self._leo:
            return []
        if offset < self._bases[0]:
            return self.truncate_fully_and_start_at(offset, now_ms)
        with self._lock:
            self._generation += 1
            keep = bisect_right(self._bases, offset)
            doomed = self._segments[keep:]
            if doomed:
                del self._segments[keep:]
                del self._bases[keep:]
                self._dirty_dirs.add(self.directory)
            paths = [path for segment in doomed for path in segment.rename_to_deleted()]
            active = self._segments[-1]
            active.truncate_to(offset)
            self._leo = active.read_next_offset()
            self._recovery_point = min(self._recovery_point, self._leo)
        self._epoch_cache.truncate_from_end(self._leo)
        self._log_start = min(self._log_start, self._leo)
        self._high_watermark = min(self._high_watermark, self._leo)
        self._load_producer_state(clean=False, now_ms=now_ms)
        return paths

    def truncate_fully_and_start_at(self, offset: int, now_ms: int) -> list[Path]:
        """Drop the whole log and restart it empty at `offset` (a follower far behind the leader)."""
        self._check_open()
        with self._lock:
            self._generation += 1
            doomed, self._segments = self._segments, []
            paths = [path for segment in doomed for path in segment.rename_to_deleted()]
            segment = LogSegment.create(self.directory, offset, self._config, now_ms, self._files)
            self._segments = [segment]
            self._bases = [offset]
            self._dirty_dirs.add(self.directory)
            self._leo = self._log_start = self._high_watermark = self._recovery_point = offset
        self._epoch_cache.clear()
        self.producer_state.truncate_fully_and_start_at(offset)
        delete_snapshots(self.directory, above=-1)  # every one: they describe the old log
        return paths

    # --- compaction -------------------------------------------------------------------------
    def replace_segments(
        self, old: Sequence[LogSegment], generation: int, now_ms: int, rename: Rename = os.replace
    ) -> list[Path]:
        """Swap the cleaner's `<base>.*.cleaned` files in for `old`, a run of closed segments whose
        first one has that base offset (protocol in `segment_swap.py`).

        Returns the `.deleted` files, to remove once the directory is fsynced. Raises
        SwapConflictError, changing nothing, when the log changed since the cleaner looked at it; an
        OSError during the renames leaves the files for recovery to finish and the log in memory as
        it was (its descriptors still read the old data).
        """
        self._check_open()
        first = next((i for i, s in enumerate(self._segments) if s is old[0]), None)
        end = None if first is None else first + len(old)
        if (
            generation != self._generation
            or first is None
            or end is None
            or end >= len(self._segments)
            or any(a is not b for a, b in zip(self._segments[first:end], old, strict=True))
        ):
            raise SwapConflictError(f"segments of {self.tp} changed while they were cleaned")
        base = old[0].base_offset
        with self._lock:
            self._dirty_dirs.add(self.directory)
            deleted = swap_in(self.directory, base, [s.base_offset for s in old], rename)
            segment = LogSegment.open(self.directory, base, self._config, now_ms, self._files)
            self._segments[first:end] = [segment]
            self._bases[first:end] = [base]
            for doomed in old:
                doomed.close()
        return deleted

    # --- durability and lifecycle -----------------------------------------------------------
    def flush(self, up_to_offset: int | None = None) -> int:
        """fsync everything below `up_to_offset` (default: the log end offset); thread-safe.

        Returns the recovery point, which advances to the flushed offset. The files are opened by
        path under the lock (which every rename and deletion takes too), so the loop's file cache
        may close the segments' own descriptors meanwhile.
        """
        fds: list[int] = []
        with self._lock:
            if self._closed:
                return self._recovery_point
            target = self._leo if up_to_offset is None else min(up_to_offset, self._leo)
            sync_epochs, sync_dirs = self._epoch_cache.needs_sync, self._dirty_dirs
            if target <= self._recovery_point and not sync_epochs and not sync_dirs:
                return self._recovery_point
            generation = self._generation
            try:
                bases = self._bases
                for i, segment in enumerate(self._segments):
                    end = bases[i + 1] if i + 1 < len(bases) else None
                    past_recovery_point = end is None or end > self._recovery_point
                    if past_recovery_point and segment.base_offset < target:
                        fds += _open_existing(segment.file_paths())
                    if past_recovery_point and segment.has_txn_index:
                        fds += _open_existing([segment.txn_index.path])
                if sync_epochs:
                    fds += _open_existing([self._epoch_cache.path])
                fds += [os.open(d, os.O_RDONLY | os.O_DIRECTORY) for d in sorted(sync_dirs)]
            except OSError:
                for fd in fds:
                    os.close(fd)
                raise
            self._epoch_cache.needs_sync = False
            self._dirty_dirs = set()
        try:
            for fd in fds:
                self._fsync(fd)
        except OSError:
            with self._lock:
                self._epoch_cache.needs_sync |= sync_epochs
                self._dirty_dirs |= sync_dirs
            raise
        finally:
            for fd in fds:
                os.close(fd)
        with self._lock:
            if generation == self._generation and target > self._recovery_point:
                self._recovery_point = target
            return self._recovery_point

    def close(self, flush: bool = False, *, snapshot: bool | None = None, seal: bool = True) -> None:
        """Seal the active segment (its indexes are written), snapshot the producer state if it
        changed (`snapshot`, by default when flushing), optionally fsync, and close every file.

        A clean shutdown snapshots without `flush`: the log manager makes the files durable with
        one sync per log directory, then calls `closed_durably`. A log being deleted is closed
        without `seal` (nothing is written: its disk may be full).
        """
        if self._closed:
            return
        try:
            if seal:
                self._segments[-1].seal_at_close()
            take_snapshot = flush if snapshot is None else snapshot
            if take_snapshot and self.producer_state.producers and self._snapshot_offset != self._leo:
                self._snapshot(sync=flush)
            if flush:
                self.flush()
        finally:
            with self._lock:
                self._closed = True
                for segment in self._segments:
                    segment.close()

    def closed_durably(self) -> None:
        """The caller made every file of this closed log durable: nothing past the recovery point."""
        self._recovery_point = self._leo


def remove_new_partition_dir(directory: Path) -> None:
    """Remove a partition directory `create` made (and nothing was written to since), by its known
    names: unlike `shutil.rmtree` this needs no descriptor, so it works when creating the log
    failed because the process ran out of them."""
    for name in (
        PARTITION_METADATA,
        PARTITION_METADATA + TMP_SUFFIX,
        LEADER_EPOCH_CHECKPOINT,
        LEADER_EPOCH_CHECKPOINT + TMP_SUFFIX,
        f"{0:020d}{LOG_SUFFIX}",
    ):
        with contextlib.suppress(OSError):
            os.unlink(directory / name)
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)


def _open_existing(paths: list[Path]) -> list[int]:
    """Read-only descriptors of those of `paths` that exist (for fsync)."""
    fds = []
    for path in paths:
        try:
            fds.append(os.open(path, os.O_RDONLY))
        except FileNotFoundError:
            continue
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
    return fds


class LogReader:
    """Whole batches of a log's segments, in order, from another thread (`PartitionLog.reader`)."""

    __slots__ = ("_fds", "end_offset", "log_start_offset")

    def __init__(self, fds: list[tuple[int, int]], log_start_offset: int, end_offset: int) -> None:
        self._fds = fds  # (descriptor, size to read up to) per segment
        self.log_start_offset = log_start_offset
        self.end_offset = end_offset

    def chunks(self, chunk_bytes: int = 1 << 20) -> Iterator[bytes]:
        """Byte runs of whole batches (a batch larger than `chunk_bytes` comes whole, alone)."""
        for fd, size in self._fds:
            position = 0
            while position < size:
                data = os.pread(fd, min(chunk_bytes, size - position), position)
                if not data:
                    break
                end = 0
                while len(data) - end >= LOG_OVERHEAD:
                    length = int.from_bytes(data[end + 8 : end + 12], "big")
                    if end + LOG_OVERHEAD + length > len(data):
                        break
                    end += LOG_OVERHEAD + length
                if end == 0:  # one batch larger than the chunk
                    if len(data) < LOG_OVERHEAD:
                        break
                    length = int.from_bytes(data[8:12], "big")
                    data = os.pread(fd, LOG_OVERHEAD + length, position)
                    end = len(data)
                    if end < LOG_OVERHEAD + length:
                        break  # the file ends inside it
                yield data[:end]
                position += end

    def close(self) -> None:
        for fd, _ in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
