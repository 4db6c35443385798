"""Cleaning one compacted partition log (Kafka's log cleaner), as steps for a thread and for the loop.

One run (`CleaningJob`), given the range `LogToClean` chose (`cleaner_decision.py`):

    begin             (loop)    open our own read descriptors on the closed segments below the first
                                uncleanable offset; remember those segments, the log's generation
                                and config. Never the active segment.
    build_offset_map  (thread)  key -> latest offset over the dirty range [first dirty, first
                                uncleanable) (`offset_map.py`); when the map fills up, the run ends
                                early, at the map's latest offset + 1 (a prefix is cleaned)
    for each group of segments below that end (`group_segments_by_size`), from the log's start:
      clean_group     (thread)  every batch through `batch_filter.filter_batch` into `.cleaned`
                                files (`cleaned_segment.py`), fsynced; a lone segment that comes out
                                unchanged is left alone
      swap            (loop)    `PartitionLog.replace_segments` (`segment_swap.py`), under the log's
                                lock; refused if the log changed meanwhile
    finish            (thread)  fsync the directory, remove the `.deleted` files, and report the end
                                offset, which becomes the next run's first dirty offset

`steps()` yields these as `Step`s marked `blocking` (read, decompress, write, fsync: a worker thread)
or not (they change the log's segment list: run them where the log is used, the event loop). Thread
steps only use the job's own descriptors and data captured at `begin`, never the log, so the loop
keeps appending to the active segment and serving reads meanwhile. Readers never see a half-swapped
log: the swap happens between two loop callbacks, and loop reads are synchronous.

Which empty batches stay (as headers without records): the last batch of each group (so a cleaned
segment ends at the offset the old ones ended at: recovery of an interrupted swap relies on it, and
Kafka keeps the cleaning round's last batch for the same offset information), the batch ending just
before the first uncleanable offset (Kafka's rule), and the last batch of each active producer
(it carries the producer's last sequence and epoch). Active producers come from the
`active_producers` hook (the producer state, once wired); by default, the producers whose last batch
in the cleaned segments is younger than `producer.id.expiration.ms`.

Transactions: `TransactionFilter` decides per batch, in log order, whether its records may be
discarded. The default here treats every transaction as committed; `LogManager` wires
`cleaner_transactions.aborted_transaction_filter` (from the `.txnindex`), so data of an aborted
transaction is discarded and skipped when building the offset map. Not done: a COMMIT/ABORT marker
whose transaction has no data left getting a delete horizon and then going (markers are kept), and
rebuilding the `.txnindex` of a cleaned segment from the segments it replaces (the aborted data it
listed is gone by then, so read_committed consumers lose nothing).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple, Protocol

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.raw_records import batch_records
from odradek.protocol.records import BatchHeader
from odradek.storage.atomic_file import fsync_dir
from odradek.storage.batch_filter import Verdict, filter_batch
from odradek.storage.cleaned_segment import CleanedSegmentWriter
from odradek.storage.cleaner_decision import GroupableSegment, LogToClean, group_segments_by_size
from odradek.storage.file_records import iter_batches, scan_headers
from odradek.storage.layout import INDEX_SUFFIX, TIME_INDEX_SUFFIX, segment_path
from odradek.storage.log_config import LogConfig
from odradek.storage.offset_map import OffsetMap
from odradek.storage.partition_log import PartitionLog
from odradek.storage.segment import LogSegment
from odradek.storage.segment_swap import Rename

_log = logging.getLogger(__name__)
Fsync = Callable[[int], None]


class CleaningAbortedError(Exception):
    """The cleaner was asked to stop (broker shutdown)."""


class LastRecord(NamedTuple):
    """An active producer's last entry in the log (Kafka's `LastRecord`)."""

    last_data_offset: int | None  # None: its last entry is a transaction marker
    producer_epoch: int


class TransactionFilter(Protocol):
    def discard_records(self, header: BatchHeader) -> bool:
        """Called for every batch of the cleaned range in log order: may its records go?"""
        ...


class NoAbortedTransactions:
    def discard_records(self, header: BatchHeader) -> bool:
        return False


ActiveProducers = Callable[[PartitionLog], Mapping[int, LastRecord]]
TransactionFilters = Callable[[PartitionLog, int, int], TransactionFilter]


@dataclass(frozen=True, slots=True)
class Step:
    run: Callable[[], None]
    blocking: bool  # True: run it in a worker thread; False: where the log is used (the event loop)


@dataclass(slots=True)
class CleanStats:
    tp: TopicPartition
    first_dirty_offset: int
    end_offset: int = -1  # the next run's first dirty offset
    segments_read: int = 0
    groups_swapped: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    records_read: int = 0
    records_kept: int = 0
    map_entries: int = 0
    map_utilization: float = 0.0


@dataclass(slots=True)
class _Source:
    """A closed segment as the job reads it: through its own descriptor, at its size at `begin`."""

    segment: LogSegment
    fd: int
    size: int
    offset_index_bytes: int
    time_index_bytes: int

    @property
    def base_offset(self) -> int:
        return self.segment.base_offset


def _file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


@dataclass(slots=True)
class CleanerSettings:
    dedupe_buffer_size: int
    io_buffer_size: int
    producer_id_expiration_ms: int
    fsync: Fsync = os.fsync
    rename: Rename = os.replace
    abort: threading.Event = field(default_factory=threading.Event)


class CleaningJob:
    def __init__(
        self,
        log: PartitionLog,
        todo: LogToClean,
        now_ms: int,
        settings: CleanerSettings,
        *,
        active_producers: Mapping[int, LastRecord] | None = None,
        transactions: TransactionFilters | None = None,
        on_finish: Callable[[CleanStats], None] | None = None,
    ) -> None:
        self.log = log
        self.todo = todo
        self.now_ms = now_ms
        self.settings = settings
        self.config: LogConfig = log.config
        self.generation = log.generation
        self.directory = log.directory
        self.stats = CleanStats(todo.tp, todo.first_dirty_offset)
        self.offset_map = OffsetMap(settings.dedupe_buffer_size)
        self.end_offset = todo.first_dirty_offset
        self._active_producers = active_producers
        self._transactions = transactions
        self._on_finish = on_finish
        self._cleaning_txns: TransactionFilter | None = None
        self._writer: CleanedSegmentWriter | None = None
        self._prepared: list[_Source] | None = None
        self._deleted: list[Path] = []
        self._sources: list[_Source] = []
        if transactions is not None:
            for segment in log.segments:
                segment.txn_index.load()  # here, on the loop: the filter reads them in the worker thread
        try:
            for segment in log.segments[:-1]:
                if segment.base_offset >= todo.first_uncleanable_offset:
                    break
                fd = os.open(segment.log_path, os.O_RDONLY)
                self._sources.append(
                    _Source(
                        segment,
                        fd,
                        segment.size,
                        _file_size(segment_path(self.directory, segment.base_offset, INDEX_SUFFIX)),
                        _file_size(segment_path(self.directory, segment.base_offset, TIME_INDEX_SUFFIX)),
                    )
                )
        except OSError:
            self.close()
            raise

    # --- the run as steps ---------------------------------------------------------------------
    def steps(self) -> Iterator[Step]:
        yield Step(self.build_offset_map, blocking=True)
        for group in self.groups():
            yield Step(partial(self.clean_group, group), blocking=True)
            if self._prepared is not None:
                yield Step(self.swap, blocking=False)
        yield Step(self.finish, blocking=True)

    def run_inline(self) -> CleanStats:
        """All steps in the caller's thread (tests, tools, a log nobody else uses)."""
        for step in self.steps():
            step.run()
        return self.stats

    def _check_abort(self) -> None:
        if self.settings.abort.is_set():
            raise CleaningAbortedError(f"cleaning of {self.todo.tp} aborted")

    def _batches(self, source: _Source) -> Iterator[tuple[int, BatchHeader, memoryview]]:
        self.stats.segments_read += 1
        for pos, header, batch in iter_batches(source.fd, 0, source.size, self.settings.io_buffer_size):
            self._check_abort()
            self.stats.bytes_read += len(batch)
            yield pos, header, batch

    def _transaction_filter(self) -> TransactionFilter:
        if self._transactions is None:
            return NoAbortedTransactions()
        return self._transactions(self.log, self.todo.first_dirty_offset, self.todo.first_uncleanable_offset)

    # --- step 1: the offset map ---------------------------------------------------------------
    def build_offset_map(self) -> None:
        first_dirty, upper = self.todo.first_dirty_offset, self.todo.first_uncleanable_offset
        offset_map = self.offset_map
        offset_map.clear()
        txns = self._transaction_filter()
        sources = self._sources
        for i, source in enumerate(sources):
            next_base = sources[i + 1].base_offset if i + 1 < len(sources) else upper
            if next_base <= first_dirty:
                continue
            if self._map_segment(source, first_dirty, txns):
                break
            offset_map.update_latest_offset(next_base - 1)  # offsets missing at the end are covered too
        self.end_offset = max(offset_map.latest_offset + 1, first_dirty)
        self.stats.end_offset = self.end_offset
        self.stats.map_entries = len(offset_map)
        self.stats.map_utilization = offset_map.utilization

    def _map_segment(self, source: _Source, first_dirty: int, txns: TransactionFilter) -> bool:
        """Map one segment's keys; True when the map filled up inside it."""
        offset_map = self.offset_map
        for _, header, batch in self._batches(source):
            if header.last_offset < first_dirty:
                continue
            if not header.is_control and not txns.discard_records(header):
                _, records = batch_records(batch, header)
                force = offset_map.latest_offset < first_dirty  # the first batch always fits
                for record in records:
                    offset = header.base_offset + record.offset_delta
                    if record.key is None or offset < first_dirty:
                        continue
                    if not offset_map.put(record.key, offset, force=force):
                        return True
            offset_map.update_latest_offset(header.last_offset)
        return False

    # --- step 2: groups, cleaned and swapped one at a time ---------------------------------------
    def groups(self) -> list[list[_Source]]:
        eligible = [s for s in self._sources if s.base_offset < self.end_offset]
        views = [
            GroupableSegment(s.base_offset, s.size, s.offset_index_bytes, s.time_index_bytes)
            for s in eligible
        ]
        indexes = group_segments_by_size(
            views,
            max_size=self.config.segment_bytes,
            max_index_size=self.config.segment_index_bytes,
            first_uncleanable=self.todo.first_uncleanable_offset,
        )
        return [[eligible[i] for i in group] for group in indexes]

    def _producers(self) -> Mapping[int, LastRecord]:
        """Active producers' last entries: from the hook, or from the headers of the cleaned segments."""
        if self._active_producers is not None:
            return self._active_producers
        last: dict[int, tuple[BatchHeader, int]] = {}
        for source in self._sources:
            if source.base_offset >= self.end_offset:
                break
            for _, header in scan_headers(source.fd, 0, source.size):
                if header.producer_id >= 0:
                    last[header.producer_id] = (header, header.max_timestamp)
        expiry = self.settings.producer_id_expiration_ms
        self._active_producers = {
            pid: LastRecord(None if header.is_control else header.last_offset, header.producer_epoch)
            for pid, (header, last_ts) in last.items()
            if self.now_ms - last_ts <= expiry
        }
        return self._active_producers

    def _is_producers_last(self, header: BatchHeader, producers: Mapping[int, LastRecord]) -> bool:
        if header.producer_id < 0:
            return False
        last = producers.get(header.producer_id)
        if last is None:
            return False
        if last.last_data_offset is not None:
            return header.last_offset == last.last_data_offset
        return header.is_control and header.producer_epoch == last.producer_epoch

    def clean_group(self, group: list[_Source]) -> None:
        """Write the group's kept batches into `.cleaned` files (none if nothing would change)."""
        self._prepared = None
        producers = self._producers()
        if self._cleaning_txns is None:
            self._cleaning_txns = self._transaction_filter()
        txns = self._cleaning_txns
        config, upper = self.config, self.todo.first_uncleanable_offset
        writer = self._writer = CleanedSegmentWriter(
            self.directory,
            group[0].base_offset,
            config.index_interval_bytes,
            buffer_bytes=self.settings.io_buffer_size,
            fsync=self.settings.fsync,
        )
        changed = len(group) > 1
        last_nonempty = max((k for k, s in enumerate(group) if s.size > 0), default=-1)
        for k, source in enumerate(group):
            for pos, header, batch in self._batches(source):
                is_last = k == last_nonempty and pos + len(batch) == source.size
                result = filter_batch(
                    batch,
                    header,
                    self.offset_map,
                    now_ms=self.now_ms,
                    delete_retention_ms=config.delete_retention_ms,
                    retain_empty=is_last
                    or header.next_offset == upper
                    or self._is_producers_last(header, producers),
                    discard_records=txns.discard_records(header),
                )
                self.stats.records_read += header.record_count
                self.stats.records_kept += result.records_kept
                changed = changed or result.verdict is not Verdict.ORIGINAL
                if result.verdict is not Verdict.DROPPED:
                    writer.append(result.data, header.last_offset, result.max_timestamp)
        if not changed:
            writer.discard()
            self._writer = None
            return
        writer.finish()
        self.stats.bytes_written += writer.size
        self._prepared = group

    def swap(self) -> None:
        """Swap the prepared group in (on the loop: it changes the log's segment list)."""
        group, self._prepared = self._prepared, None
        assert group is not None
        self._check_abort()
        self._deleted += self.log.replace_segments(
            [s.segment for s in group], self.generation, self.now_ms, self.settings.rename
        )
        self._writer = None
        self.stats.groups_swapped += 1

    # --- step 3 and the way out ---------------------------------------------------------------
    def finish(self) -> None:
        self._remove_deleted()
        self.close()
        if self._on_finish is not None:
            self._on_finish(self.stats)  # the log cleaner checkpoints the end offset

    def _remove_deleted(self) -> None:
        if self._deleted:
            fsync_dir(self.directory)  # the swaps' renames are durable before the old data goes
            for path in self._deleted:
                path.unlink(missing_ok=True)
            self._deleted = []

    def discard(self) -> None:
        """After a failure or an abort: remove our `.cleaned` files and what swaps already replaced."""
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        try:
            self._remove_deleted()
        finally:
            self.close()

    def close(self) -> None:
        """Close our descriptors (nothing is removed: a crash test stops here)."""
        if self._writer is not None:
            self._writer.close()
        for source in self._sources:
            if source.fd >= 0:
                os.close(source.fd)
                source.fd = -1
