"""The log cleaner of a broker: which compacted log to clean next, and where each one's dirty part starts.

`cleaner-offset-checkpoint` (one per log directory, Kafka's offset checkpoint format, `checkpoints.py`)::

    0                  version
    2                  number of entries
    users 0 1234       topic, partition, first dirty offset (the end offset of the last clean)
    users 1 99

A partition missing from it is dirty from its log start offset. The file is rewritten (tmp, fsync,
rename) after every clean, with the entries of the partitions the directory still holds.

Use: `grab_filthiest(now_ms)` (on the loop: reads segment sizes and timestamps) picks the compacted
log with the highest dirty ratio that needs cleaning (`cleaner_decision.py`); `begin` opens a
`CleaningJob` for it (loop); the job's steps run in a thread or on the loop (`cleaner.py`); the
job's `finish` step records the new first dirty offset here. `run(now_ms)` does all of it inline,
for every log that needs it, one at a time, dirtiest first (tests, `LogManager.run_cleaner`); the
broker's `LogCleanerService` does the same with the blocking steps in a worker thread.

A partition whose cleaning fails with an unexpected error (corrupt batch, I/O error) is marked
uncleanable and skipped until restart, as Kafka does; a run that finds its log changed under it
(retention, truncation, deletion) is simply dropped and the next one starts over. `abort()` stops
running jobs at their next batch (shutdown).

Hooks the broker may set: `last_stable_offset(tp, log)` (transactions; default: the high
watermark), `active_producers(tp, log)` (producer state; default: see `cleaner.py`) and
`transactions(log, first_dirty, first_uncleanable)` (a `TransactionFilter`; default: none aborted).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from odradek.model.topic_partition import TopicPartition
from odradek.storage.checkpoints import read_offsets, write_offsets
from odradek.storage.cleaner_decision import LogToClean, filthiest, log_to_clean
from odradek.storage.errors import LogClosedError
from odradek.storage.layout import CLEANER_OFFSET_CHECKPOINT
from odradek.storage.partition_log import PartitionLog
from odradek.storage.segment_swap import Rename, SwapConflictError

if TYPE_CHECKING:
    # the compaction itself (`cleaner.py`: offset map, batch filter, segment rewrite) is imported by
    # the first cleaning: a broker with no log to compact never loads it
    from odradek.storage.cleaner import (
        CleanerSettings,
        CleaningJob,
        CleanStats,
        Fsync,
        LastRecord,
        TransactionFilters,
    )

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CleanerConfig:
    """The log cleaner's settings (Kafka's log.cleaner.* configs)."""

    dedupe_buffer_size: int = 128 * 1024 * 1024  # log.cleaner.dedupe.buffer.size
    io_buffer_size: int = 512 * 1024  # log.cleaner.io.buffer.size: read chunk and write buffer
    producer_id_expiration_ms: int = 86_400_000  # producer.id.expiration.ms


class LogSource(Protocol):
    """What the cleaner needs of the `LogManager`."""

    def items(self) -> list[tuple[TopicPartition, PartitionLog]]: ...

    def compacted_items(self) -> list[tuple[TopicPartition, PartitionLog]]: ...

    def get(self, tp: TopicPartition) -> PartitionLog | None: ...

    def dir_of(self, tp: TopicPartition) -> Path: ...

    @property
    def log_dirs(self) -> list[Path]: ...


class LogCleaner:
    def __init__(
        self,
        logs: LogSource,
        config: CleanerConfig | None = None,
        *,
        fsync: Fsync = os.fsync,
        rename: Rename = os.replace,
    ) -> None:
        self._logs = logs
        self.config = config or CleanerConfig()
        self._fsync = fsync
        self._rename = rename
        self.last_stable_offset: Callable[[TopicPartition, PartitionLog], int] | None = None
        self.active_producers: Callable[[TopicPartition, PartitionLog], Mapping[int, LastRecord]] | None = (
            None
        )
        self.transactions: TransactionFilters | None = None
        self.uncleanable: set[TopicPartition] = set()
        self._first_dirty: dict[TopicPartition, int] | None = None
        self._lock = threading.Lock()  # guards `_first_dirty` and the checkpoint files
        self._abort = threading.Event()

    # --- checkpoints --------------------------------------------------------------------------
    def _checkpoints(self) -> dict[TopicPartition, int]:
        if self._first_dirty is None:
            loaded: dict[TopicPartition, int] = {}
            for log_dir in self._logs.log_dirs:
                loaded.update(read_offsets(log_dir / CLEANER_OFFSET_CHECKPOINT))
            self._first_dirty = loaded
        return self._first_dirty

    def first_dirty_offsets(self) -> dict[TopicPartition, int]:
        with self._lock:
            return dict(self._checkpoints())

    def _record_clean(self, tp: TopicPartition, end_offset: int) -> None:
        """Checkpoint the next first dirty offset of `tp` (blocking: fsync)."""
        with self._lock:
            offsets = self._checkpoints()
            offsets[tp] = end_offset
            try:
                log_dir = self._logs.dir_of(tp)
            except KeyError:  # deleted meanwhile
                return
            entries = {}
            for other, _ in self._logs.items():
                offset = offsets.get(other)
                if offset is not None and self._logs.dir_of(other) == log_dir:
                    entries[other] = offset
            write_offsets(log_dir / CLEANER_OFFSET_CHECKPOINT, entries)

    def forget(self, tp: TopicPartition) -> None:
        """The partition was deleted: a new one of the same name starts dirty."""
        with self._lock:
            self._checkpoints().pop(tp, None)
        self.uncleanable.discard(tp)

    # --- choosing -----------------------------------------------------------------------------
    def candidates(
        self, now_ms: int, skip: Collection[TopicPartition] = ()
    ) -> list[tuple[LogToClean, float]]:
        """Every compacted log, measured, with its `min.cleanable.dirty.ratio`. Only the logs of
        compacted topics are looked at (`compacted_items`), never every partition."""
        result: list[tuple[LogToClean, float]] = []
        compacted = self._logs.compacted_items()
        if not compacted:
            return result
        checkpoints = self.first_dirty_offsets()
        for tp, log in compacted:
            config = log.config
            if log.closed or not config.compact_enabled or tp in self.uncleanable or tp in skip:
                continue
            lso = log.high_watermark if self.last_stable_offset is None else self.last_stable_offset(tp, log)
            todo = log_to_clean(
                tp,
                log.segments,
                checkpoint=checkpoints.get(tp),
                log_start_offset=log.log_start_offset,
                log_end_offset=log.log_end_offset,
                last_stable_offset=min(lso, log.high_watermark),
                min_compaction_lag_ms=config.min_compaction_lag_ms,
                max_compaction_lag_ms=config.max_compaction_lag_ms,
                now_ms=now_ms,
            )
            result.append((todo, config.min_cleanable_dirty_ratio))
        return result

    def grab_filthiest(self, now_ms: int, skip: Collection[TopicPartition] = ()) -> LogToClean | None:
        return filthiest(self.candidates(now_ms, skip))

    # --- running ------------------------------------------------------------------------------
    def begin(self, todo: LogToClean, now_ms: int) -> CleaningJob | None:
        """Open a job for `todo` (on the loop); None if the log is gone."""
        log = self._logs.get(todo.tp)
        if log is None or log.closed:
            return None
        from odradek.storage.cleaner import CleanerSettings

        config = self.config
        settings = CleanerSettings(
            config.dedupe_buffer_size,
            config.io_buffer_size,
            config.producer_id_expiration_ms,
            fsync=self._fsync,
            rename=self._rename,
            abort=self._abort,
        )
        producers = None if self.active_producers is None else self.active_producers(todo.tp, log)
        try:
            return self._open_job(log, todo, now_ms, settings, producers)
        except OSError:
            self.uncleanable.add(todo.tp)
            _log.exception("cannot start cleaning %s; not cleaning it again until restart", todo.tp)
            return None

    def _open_job(
        self,
        log: PartitionLog,
        todo: LogToClean,
        now_ms: int,
        settings: CleanerSettings,
        producers: Mapping[int, LastRecord] | None,
    ) -> CleaningJob:
        from odradek.storage.cleaner import CleaningJob

        return CleaningJob(
            log,
            todo,
            now_ms,
            settings,
            active_producers=producers,
            transactions=self.transactions,
            on_finish=lambda stats: self._record_clean(stats.tp, stats.end_offset),
        )

    def failed(self, job: CleaningJob, exc: BaseException) -> None:
        """A job's step raised: clean up after it and decide whether to try again later."""
        from odradek.storage.cleaner import CleaningAbortedError

        tp = job.todo.tp
        try:
            job.discard()
        except OSError:
            _log.exception("cleaning up after the cleaning of %s failed", tp)
        if job.log.closed or isinstance(exc, CleaningAbortedError | SwapConflictError | LogClosedError):
            _log.info("cleaning of %s stopped: %s", tp, exc)  # shutdown, or the log changed or went
            return
        self.uncleanable.add(tp)
        _log.error("cleaning of %s failed; not cleaning it again until restart", tp, exc_info=exc)

    def run(self, now_ms: int) -> list[CleanStats]:
        """Clean every compacted log that needs it, dirtiest first, each at most once, inline."""
        done: set[TopicPartition] = set()
        results = []
        while not self._abort.is_set() and (todo := self.grab_filthiest(now_ms, done)) is not None:
            done.add(todo.tp)
            job = self.begin(todo, now_ms)
            if job is None:
                continue
            try:
                results.append(job.run_inline())
            except Exception as exc:
                self.failed(job, exc)
        return results

    def abort(self) -> None:
        """Stop running jobs at their next batch or swap, and start no new ones (shutdown)."""
        self._abort.set()

    @property
    def aborted(self) -> bool:
        return self._abort.is_set()
