"""All partition logs of a broker, over one or more log directories (`log.dirs`, JBOD).

Placement: a new partition goes to the directory holding the fewest partitions (ties: the first
listed), as Kafka does. Each directory has its own checkpoint files and clean-shutdown marker
(`layout.py`, `checkpoints.py`).

Blocking work is explicit: `load`, `checkpoint` and `close` fsync and may take long, so the broker
runs them at startup, in a worker thread, or at shutdown; `delete_partition`, `run_retention` and
the partition logs' own deletions only rename (instant) and hand back paths whose removal
(`remove_paths`) the caller may run in a thread. `cleaner` is the log cleaner of the compacted logs
(`log_cleaner.py`); `run_cleaner` runs it inline. Nothing here uses asyncio.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from odradek.model.topic_partition import TopicPartition
from odradek.storage.atomic_file import sync_filesystem
from odradek.storage.checkpoints import read_offsets, write_clean_shutdown, write_offsets
from odradek.storage.cleaner_transactions import aborted_transaction_filter
from odradek.storage.errors import StorageError
from odradek.storage.file_cache import AUTO, MIN_CAPACITY, FileCache
from odradek.storage.layout import (
    CLEAN_SHUTDOWN_FILE,
    DELETE_DIR_SUFFIX,
    LOG_START_OFFSET_CHECKPOINT,
    RECOVERY_POINT_CHECKPOINT,
    REPLICATION_OFFSET_CHECKPOINT,
    is_deleted_partition_dir,
    parse_partition_dir,
    partition_dir_name,
)
from odradek.storage.log_cleaner import CleanerConfig, LogCleaner
from odradek.storage.log_config import LogConfig
from odradek.storage.log_loader import LoadJob, load_logs
from odradek.storage.log_state import LOG_STATE_FILE, read_log_states, write_log_states
from odradek.storage.partition_log import Fsync, PartitionLog, remove_new_partition_dir

if TYPE_CHECKING:
    from odradek.storage.cleaner import CleanStats  # imported by the first cleaning

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadReport:
    """What loading the log directories found: partitions, unclean directories, recoveries."""

    partitions: int = 0
    unclean_dirs: list[Path] = field(default_factory=list)
    recovered: list[TopicPartition] = field(default_factory=list)  # re-read after an unclean stop
    truncated: dict[TopicPartition, int] = field(default_factory=dict)  # bytes cut by recovery
    stale: list[Path] = field(default_factory=list)  # `-delete` directories for `remove_paths`


@dataclass(frozen=True, slots=True)
class LogDirDescription:
    """What DescribeLogDirs reports for one directory."""

    path: Path
    partition_sizes: dict[TopicPartition, int]
    total_bytes: int
    usable_bytes: int
    offline: bool = False


def lose_unflushed_tail() -> bool:
    """Fault hook of the fault tests (`odradek.testing.fault_cluster`): with
    ODRADEK_FAULT_LOSE_UNFLUSHED_TAIL=1, recovery after a crash drops each partition's tail past its
    recovery-point checkpoint, as a power loss drops writes nobody fsynced. Never set in production."""
    return os.environ.get("ODRADEK_FAULT_LOSE_UNFLUSHED_TAIL") == "1"


def remove_paths(paths: Iterable[Path]) -> None:
    """Remove `.deleted` files and `-delete` directories (blocking; run it in a thread)."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


class LogManager:
    def __init__(
        self,
        log_dirs: Sequence[Path | str],
        *,
        fsync: Fsync = os.fsync,
        cleaner_config: CleanerConfig | None = None,
        max_open_files: int = AUTO,
        recovery_threads_per_dir: int = 1,
        sync_filesystem: Callable[[Path], None] = sync_filesystem,
    ) -> None:
        if not log_dirs:
            raise ValueError("log.dirs is empty")
        self.log_dirs = [Path(d) for d in log_dirs]
        self._fsync = fsync
        self._sync_filesystem = sync_filesystem
        self.files = FileCache(max_open_files)
        self.recovery_threads_per_dir = max(1, recovery_threads_per_dir)
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self._dir_of: dict[TopicPartition, Path] = {}
        self._counts: dict[Path, int] = dict.fromkeys(self.log_dirs, 0)  # partitions per directory
        self.offline_dirs: set[Path] = set()
        self._flush_watch: set[PartitionLog] = set()  # logs the flusher must look at (flush_candidates)
        self._compacted: dict[TopicPartition, PartitionLog] = {}  # what the cleaner looks at (compacted)
        self._checkpointed: dict[Path, tuple[dict[TopicPartition, int], ...]] = {}  # last written
        self.on_dir_offline: list[Callable[[Path], None]] = []  # told once per failed directory
        self._lock = threading.Lock()  # guards the dicts (checkpoint runs in a thread)
        self.cleaner = LogCleaner(self, cleaner_config, fsync=fsync)
        # transactions: never clean at or above the LSO; drop the data of aborted transactions
        self.cleaner.last_stable_offset = lambda _tp, log: log.last_stable_offset
        self.cleaner.transactions = aborted_transaction_filter

    # --- startup ----------------------------------------------------------------------------
    def load(self, config_for_topic: Callable[[str], LogConfig], now_ms: int) -> LoadReport:
        """Open every partition in every log directory, recovering those of unclean directories.

        A directory shut down cleanly is opened from its `clean-shutdown-log-state` (no partition
        directory is read, `log_state.py`); every other partition directory is loaded by
        `recovery_threads_per_dir` threads per log directory, each with a small file cache of its
        own, so loading never holds more descriptors than a few per thread.
        """
        report = LoadReport()
        configs: dict[str, LogConfig] = {}

        def config_of(topic: str) -> LogConfig:
            config = configs.get(topic)
            if config is None:
                config = configs[topic] = config_for_topic(topic)
            return config

        jobs: list[LoadJob] = []
        seen: dict[TopicPartition, Path] = dict(self._dir_of)
        for log_dir in self.log_dirs:
            try:
                log_dir.mkdir(parents=True, exist_ok=True)
                clean = (log_dir / CLEAN_SHUTDOWN_FILE).exists()
                names = sorted(os.listdir(log_dir))
            except OSError as exc:
                _log.error("log directory %s is offline: %s", log_dir, exc)  # as Kafka: the others load
                self.offline_dirs.add(log_dir)
                continue
            if not clean:
                report.unclean_dirs.append(log_dir)
            states = read_log_states(log_dir / LOG_STATE_FILE) if clean else {}
            checkpoints: list[dict[TopicPartition, int]] = []  # read only if a log needs them
            for name in names:
                if is_deleted_partition_dir(name):
                    report.stale.append(log_dir / name)
                    continue
                tp = parse_partition_dir(name)
                if tp is None:
                    continue
                if tp in seen:
                    raise StorageError(f"{tp} found in both {seen[tp]} and {log_dir}")
                seen[tp] = log_dir
                directory = log_dir / name
                state = states.get(tp)
                if state is not None:
                    log = PartitionLog.from_state(
                        directory,
                        tp,
                        config_of(tp.topic),
                        state,
                        now_ms=now_ms,
                        fsync=self._fsync,
                        files=self.files,
                    )
                    self._add(tp, log, log_dir)
                    report.partitions += 1
                    continue
                if not directory.is_dir():
                    continue
                if not checkpoints:
                    checkpoints = [
                        read_offsets(log_dir / name)
                        for name in (
                            RECOVERY_POINT_CHECKPOINT,
                            LOG_START_OFFSET_CHECKPOINT,
                            REPLICATION_OFFSET_CHECKPOINT,
                        )
                    ]
                recovery_points, log_starts, high_watermarks = checkpoints
                jobs.append(
                    LoadJob(
                        log_dir,
                        directory,
                        tp,
                        config_of(tp.topic),
                        recovery_points.get(tp, 0),
                        log_starts.get(tp, 0),
                        high_watermarks.get(tp, 0),
                        clean,
                        now_ms,
                    )
                )
                if not clean:
                    report.recovered.append(tp)
        workers = self.recovery_threads_per_dir * len(self.log_dirs)
        for job, loaded in load_logs(jobs, workers, self.files, self._fsync):
            if isinstance(loaded, OSError):
                _log.error("cannot load %s (%s): log directory %s is offline", job.tp, loaded, job.log_dir)
                self.mark_offline(job.log_dir)
                continue
            if not job.clean and lose_unflushed_tail():
                lost = loaded.log_end_offset - job.recovery_point
                remove_paths(loaded.truncate_to(job.recovery_point, now_ms))
                _log.warning("fault hook: %s lost its unflushed tail (%d offsets)", job.tp, max(lost, 0))
            self._add(job.tp, loaded, job.log_dir)
            if job.log_dir in self.offline_dirs:
                loaded.take_offline()
                continue
            if loaded.truncated_on_load:
                report.truncated[job.tp] = loaded.truncated_on_load
            report.partitions += 1
        for log_dir in self.log_dirs:
            if log_dir in self.offline_dirs:
                continue
            # From now on a crash must trigger recovery; the state file only goes with the marker.
            (log_dir / CLEAN_SHUTDOWN_FILE).unlink(missing_ok=True)
            (log_dir / LOG_STATE_FILE).unlink(missing_ok=True)
        return report

    def _add(self, tp: TopicPartition, log: PartitionLog, log_dir: Path) -> None:
        log.on_io_error = self._io_failed
        log.on_flush_needed = self._flush_watch.add
        log.on_config_changed = self._config_changed
        if log.config.flushes_itself or log.recovery_point < log.active_segment.base_offset:
            self._flush_watch.add(log)
        with self._lock:
            self._logs[tp] = log
            self._dir_of[tp] = log_dir
            self._counts[log_dir] += 1
            if log.config.compact_enabled:
                self._compacted[tp] = log

    def _config_changed(self, log: PartitionLog) -> None:
        """A log's config changed (AlterConfigs): it joins or leaves the cleaner's logs."""
        with self._lock:
            if log.config.compact_enabled:
                self._compacted[log.tp] = log
            elif self._compacted.get(log.tp) is log:
                del self._compacted[log.tp]

    def compacted_items(self) -> list[tuple[TopicPartition, PartitionLog]]:
        """The logs whose cleanup policy includes `compact`: all the log cleaner looks at, so that
        its pass every `log.cleaner.backoff.ms` costs nothing per partition of a `delete` topic."""
        with self._lock:
            for tp in [tp for tp, log in self._compacted.items() if self._logs.get(tp) is not log]:
                del self._compacted[tp]  # deleted (or replaced) since
            return list(self._compacted.items())

    def flush_candidates(self) -> list[PartitionLog]:
        """The logs that may need a flush without anyone waiting: rolled since their last flush, or
        with `flush.ms`/`flush.messages` set. The flusher looks at these instead of every log."""
        return list(self._flush_watch)

    def flush_not_needed(self, log: PartitionLog) -> None:
        """The flusher found nothing left to do for `log` (it returns when it rolls again)."""
        if not log.config.flushes_itself:
            self._flush_watch.discard(log)

    # --- failed directories (Kafka's LogDirFailureChannel) ----------------------------------
    def _io_failed(self, log: PartitionLog, exc: OSError) -> None:
        log_dir = self._dir_of.get(log.tp)
        if log_dir is not None:
            _log.error("I/O error on %s (%s): taking log directory %s offline", log.tp, exc, log_dir)
            self.mark_offline(log_dir)

    def mark_offline(self, log_dir: Path) -> None:
        """A directory whose disk fails: its logs answer KAFKA_STORAGE_ERROR from now on, new
        partitions go elsewhere, no checkpoint or clean-shutdown marker is written for it (the next
        start recovers it). On the event loop (the logs close their files)."""
        if log_dir in self.offline_dirs:
            return
        self.offline_dirs.add(log_dir)
        for tp, log in self.items():
            if self._dir_of.get(tp) == log_dir:
                log.take_offline()
        for listener in self.on_dir_offline:
            listener(log_dir)

    # --- partitions -------------------------------------------------------------------------
    def get(self, tp: TopicPartition) -> PartitionLog | None:
        return self._logs.get(tp)

    def __contains__(self, tp: object) -> bool:
        return tp in self._logs

    def items(self) -> list[tuple[TopicPartition, PartitionLog]]:
        with self._lock:
            return list(self._logs.items())

    def logs(self) -> list[PartitionLog]:
        """Every log (one list: no pair per partition for a background pass to allocate, each of
        which would count toward, and survive into, the garbage collector's older generations)."""
        with self._lock:
            return list(self._logs.values())

    def dir_of(self, tp: TopicPartition) -> Path:
        return self._dir_of[tp]

    def partitions_by_dir(self) -> dict[Path, list[TopicPartition]]:
        with self._lock:
            result: dict[Path, list[TopicPartition]] = {d: [] for d in self.log_dirs}
            for tp, log_dir in self._dir_of.items():
                result[log_dir].append(tp)
        for tps in result.values():
            tps.sort()
        return result

    def next_log_dir(self) -> Path:
        counts = self._counts
        online = [d for d in self.log_dirs if d not in self.offline_dirs]
        if not online:
            raise StorageError("every log directory is offline")
        return min(online, key=lambda d: counts[d])  # min() keeps the first of equals

    def create_partition(
        self, tp: TopicPartition, topic_id: uuid.UUID, config: LogConfig, now_ms: int
    ) -> PartitionLog:
        """Create an empty log; returns the existing one if the partition is already here.

        Raises OSError (EMFILE, ENOSPC, EIO...) leaving no directory behind."""
        existing = self._logs.get(tp)
        if existing is not None:
            return existing
        log_dir = self.next_log_dir()
        log = PartitionLog.create(
            log_dir / partition_dir_name(tp),
            tp,
            topic_id,
            config,
            now_ms=now_ms,
            fsync=self._fsync,
            files=self.files,
        )
        self._add(tp, log, log_dir)
        return log

    def create_partitions(
        self, wanted: Sequence[tuple[TopicPartition, uuid.UUID, LogConfig, int]], now_ms: int
    ) -> list[tuple[TopicPartition, uuid.UUID]]:
        """Create the empty logs of many new partitions, all or none: on the first failure (EMFILE,
        ENOSPC, EIO...) every log made here is removed again and the OSError raised. Each entry is
        (partition, topic id, config, the leader epoch its first leader starts with or -1); partitions
        already here are skipped; returns the ones created, with their topic ids (for
        `remove_partitions` if the change they belong to fails later).

        Blocking (a directory and two files per partition): the broker runs it in a worker thread
        before it writes the metadata record that creates the partitions, so the record never
        names a partition without a directory. The logs are opened through a file cache of this
        call's own (one descriptor at a time) and handed over to the shared one with none open.
        """
        own = FileCache(MIN_CAPACITY)
        created: list[tuple[TopicPartition, uuid.UUID]] = []
        try:
            for tp, topic_id, config, leader_epoch in wanted:
                if tp in self._logs:
                    continue
                log_dir = self.next_log_dir()
                log = PartitionLog.create(
                    log_dir / partition_dir_name(tp),
                    tp,
                    topic_id,
                    config,
                    now_ms=now_ms,
                    fsync=self._fsync,
                    files=own,
                )
                created.append((tp, topic_id))
                self._add(tp, log, log_dir)
                if leader_epoch >= 0:  # the leader's epoch starts at 0 (written here, not on the loop)
                    log.leader_epoch_cache.assign(leader_epoch, 0)
                log.rebind(self.files)
        except BaseException:
            self.remove_partitions(created)
            raise
        return created

    def remove_partitions(self, created: Iterable[tuple[TopicPartition, uuid.UUID]]) -> None:
        """Undo `create_partitions`: close the logs and remove their directories now (blocking).
        A partition whose log belongs to another topic id by now is left alone: in a cluster, the
        same topic created by another broker may have won meanwhile and be hosted already."""
        for tp, topic_id in created:
            with self._lock:
                found = self._logs.get(tp)
                if found is None or found.topic_id != topic_id:
                    continue
                log = self._logs.pop(tp, None)
                log_dir = self._dir_of.pop(tp, None)
                if log_dir is not None:
                    self._counts[log_dir] -= 1
            if log is not None:
                log.close(seal=False)
                remove_new_partition_dir(log.directory)

    def delete_partition(self, tp: TopicPartition) -> Path | None:
        """Close the log and rename its directory to `<topic>-<partition>.<uuidhex>-delete`.

        Returns that path for `remove_paths` (None if the partition is not here). A partition of the
        same name created afterwards starts empty.
        """
        with self._lock:
            log = self._logs.pop(tp, None)
            log_dir = self._dir_of.pop(tp, None)
            if log_dir is not None:
                self._counts[log_dir] -= 1
        if log is None or log_dir is None:
            return None
        self.cleaner.forget(tp)
        log.close(seal=False)
        target = log_dir / f"{partition_dir_name(tp)}.{uuid.uuid4().hex}{DELETE_DIR_SUFFIX}"
        os.replace(log.directory, target)
        return target

    def describe_dirs(self) -> list[LogDirDescription]:
        result = []
        for log_dir, tps in self.partitions_by_dir().items():
            if log_dir in self.offline_dirs:
                result.append(LogDirDescription(log_dir, {}, -1, -1, offline=True))
                continue
            sizes = {tp: log.size_in_bytes for tp in tps if (log := self._logs.get(tp)) is not None}
            try:
                usage = shutil.disk_usage(log_dir)
            except OSError:
                result.append(LogDirDescription(log_dir, sizes, -1, -1))
                continue
            result.append(LogDirDescription(log_dir, sizes, usage.total, usage.free))
        return result

    # --- background work --------------------------------------------------------------------
    def run_retention(self, now_ms: int) -> list[Path]:
        """Delete expired segments of every log; returns the `.deleted` files to remove."""
        paths: list[Path] = []
        for log in self.logs():
            if not log.closed:
                paths += log.delete_old_segments(now_ms)
        return paths

    def run_cleaner(self, now_ms: int) -> list[CleanStats]:
        """Compact every compacted log that needs it, inline (blocking; the broker runs the same
        steps with the heavy ones in a worker thread, `LogCleanerService`)."""
        return self.cleaner.run(now_ms)

    def checkpoint(self) -> None:
        """Write every directory's recovery-point, log-start-offset and high-watermark checkpoints.

        Blocking (fsync); safe to run in a worker thread while the loop appends. A directory whose
        three offsets per partition are all what this manager last wrote there is not written
        again (the files on disk already say it): an idle broker rewrites and fsyncs nothing.
        """
        by_dir: dict[Path, tuple[dict[TopicPartition, int], ...]] = {d: ({}, {}, {}) for d in self.log_dirs}
        with self._lock:
            dir_of = self._dir_of
            for tp, log in self._logs.items():
                recovery, start, high = by_dir[dir_of[tp]]
                recovery[tp] = log.recovery_point
                start[tp] = log.log_start_offset
                high[tp] = log.high_watermark
        for log_dir, offsets in by_dir.items():
            if log_dir in self.offline_dirs or self._checkpointed.get(log_dir) == offsets:
                continue
            self._checkpointed.pop(log_dir, None)  # until all three are written
            recovery, start, high = offsets
            write_offsets(log_dir / RECOVERY_POINT_CHECKPOINT, recovery)
            write_offsets(log_dir / LOG_START_OFFSET_CHECKPOINT, start)
            write_offsets(log_dir / REPLICATION_OFFSET_CHECKPOINT, high)
            self._checkpointed[log_dir] = offsets

    def flush_all(self) -> None:
        for _, log in self.items():
            log.flush()

    def close(self, broker_epoch: int = -1) -> None:
        """Close every log, make each log directory durable with one file-system sync (rather than
        an fsync per file: 20,000 partitions close in well under a second), then write the
        checkpoints, the clean-shutdown log state and the clean-shutdown marker of each directory
        whose logs all closed and synced."""
        failed: set[Path] = set(self.offline_dirs)
        by_dir: dict[Path, list[tuple[TopicPartition, PartitionLog]]] = {d: [] for d in self.log_dirs}
        for tp, log in self.items():
            log_dir = self._dir_of[tp]
            by_dir[log_dir].append((tp, log))
            try:
                log.close(snapshot=True)
            except OSError:
                _log.exception("closing %s failed: its directory will be recovered at next start", tp)
                failed.add(log_dir)
        for log_dir, logs in by_dir.items():
            if log_dir in failed:
                continue
            try:
                self._sync_filesystem(log_dir)
            except OSError:
                _log.exception("syncing %s failed: it will be recovered at next start", log_dir)
                failed.add(log_dir)
                continue
            for _, log in logs:
                log.closed_durably()
        self.checkpoint()
        for log_dir, logs in by_dir.items():
            if log_dir in failed:
                continue
            states = {tp: log.state() for tp, log in logs}
            try:
                write_log_states(log_dir / LOG_STATE_FILE, states)
            except OSError:
                _log.exception("writing %s failed", log_dir / LOG_STATE_FILE)  # the start reads the logs
            write_clean_shutdown(log_dir / CLEAN_SHUTDOWN_FILE, broker_epoch)
        self.files.close_all()
