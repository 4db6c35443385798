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

from odradek.model.topic_partition import TopicPartition
from odradek.storage.checkpoints import read_offsets, write_clean_shutdown, write_offsets
from odradek.storage.cleaner import CleanStats
from odradek.storage.errors import StorageError
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
from odradek.storage.partition_log import Fsync, PartitionLog

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadReport:
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
    ) -> None:
        if not log_dirs:
            raise ValueError("log.dirs is empty")
        self.log_dirs = [Path(d) for d in log_dirs]
        self._fsync = fsync
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self._dir_of: dict[TopicPartition, Path] = {}
        self._lock = threading.Lock()  # guards the two dicts (checkpoint runs in a thread)
        self.cleaner = LogCleaner(self, cleaner_config, fsync=fsync)

    # --- startup ----------------------------------------------------------------------------
    def load(self, config_for_topic: Callable[[str], LogConfig], now_ms: int) -> LoadReport:
        """Open every partition in every log directory, recovering those of unclean directories."""
        report = LoadReport()
        for log_dir in self.log_dirs:
            log_dir.mkdir(parents=True, exist_ok=True)
            marker = log_dir / CLEAN_SHUTDOWN_FILE
            clean = marker.exists()
            if not clean:
                report.unclean_dirs.append(log_dir)
            recovery_points = read_offsets(log_dir / RECOVERY_POINT_CHECKPOINT)
            log_starts = read_offsets(log_dir / LOG_START_OFFSET_CHECKPOINT)
            high_watermarks = read_offsets(log_dir / REPLICATION_OFFSET_CHECKPOINT)
            for entry in sorted(os.scandir(log_dir), key=lambda e: e.name):
                if not entry.is_dir():
                    continue
                if is_deleted_partition_dir(entry.name):
                    report.stale.append(Path(entry.path))
                    continue
                tp = parse_partition_dir(entry.name)
                if tp is None:
                    continue
                if tp in self._logs:
                    raise StorageError(f"{tp} found in both {self._dir_of[tp]} and {log_dir}")
                log = PartitionLog.load(
                    Path(entry.path),
                    tp,
                    config_for_topic(tp.topic),
                    recovery_point=recovery_points.get(tp, 0),
                    log_start_offset=log_starts.get(tp, 0),
                    high_watermark=high_watermarks.get(tp, 0),
                    clean=clean,
                    now_ms=now_ms,
                    fsync=self._fsync,
                )
                if not clean:
                    report.recovered.append(tp)
                if log.truncated_on_load:
                    report.truncated[tp] = log.truncated_on_load
                with self._lock:
                    self._logs[tp] = log
                    self._dir_of[tp] = log_dir
                report.partitions += 1
            # From now on a crash must trigger recovery.
            marker.unlink(missing_ok=True)
        return report

    # --- partitions -------------------------------------------------------------------------
    def get(self, tp: TopicPartition) -> PartitionLog | None:
        return self._logs.get(tp)

    def __contains__(self, tp: object) -> bool:
        return tp in self._logs

    def items(self) -> list[tuple[TopicPartition, PartitionLog]]:
        with self._lock:
            return list(self._logs.items())

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
        counts = self.partitions_by_dir()
        return min(self.log_dirs, key=lambda d: len(counts[d]))  # min() keeps the first of equals

    def create_partition(
        self, tp: TopicPartition, topic_id: uuid.UUID, config: LogConfig, now_ms: int
    ) -> PartitionLog:
        """Create an empty log; returns the existing one if the partition is already here."""
        existing = self._logs.get(tp)
        if existing is not None:
            return existing
        log_dir = self.next_log_dir()
        log = PartitionLog.create(
            log_dir / partition_dir_name(tp), tp, topic_id, config, now_ms=now_ms, fsync=self._fsync
        )
        with self._lock:
            self._logs[tp] = log
            self._dir_of[tp] = log_dir
        return log

    def delete_partition(self, tp: TopicPartition) -> Path | None:
        """Close the log and rename its directory to `<topic>-<partition>.<uuidhex>-delete`.

        Returns that path for `remove_paths` (None if the partition is not here). A partition of the
        same name created afterwards starts empty.
        """
        with self._lock:
            log = self._logs.pop(tp, None)
            log_dir = self._dir_of.pop(tp, None)
        if log is None or log_dir is None:
            return None
        self.cleaner.forget(tp)
        log.close()
        target = log_dir / f"{partition_dir_name(tp)}.{uuid.uuid4().hex}{DELETE_DIR_SUFFIX}"
        os.replace(log.directory, target)
        return target

    def describe_dirs(self) -> list[LogDirDescription]:
        result = []
        for log_dir, tps in self.partitions_by_dir().items():
            sizes = {tp: log.size_in_bytes for tp in tps if (log := self._logs.get(tp)) is not None}
            usage = shutil.disk_usage(log_dir)
            result.append(LogDirDescription(log_dir, sizes, usage.total, usage.free))
        return result

    # --- background work --------------------------------------------------------------------
    def run_retention(self, now_ms: int) -> list[Path]:
        """Delete expired segments of every log; returns the `.deleted` files to remove."""
        paths: list[Path] = []
        for _, log in self.items():
            if not log.closed:
                paths += log.delete_old_segments(now_ms)
        return paths

    def run_cleaner(self, now_ms: int) -> list[CleanStats]:
        """Compact every compacted log that needs it, inline (blocking; the broker runs the same
        steps with the heavy ones in a worker thread, `LogCleanerService`)."""
        return self.cleaner.run(now_ms)

    def checkpoint(self) -> None:
        """Write every directory's recovery-point, log-start-offset and high-watermark checkpoints.

        Blocking (fsync); safe to run in a worker thread while the loop appends.
        """
        by_dir: dict[Path, list[tuple[TopicPartition, PartitionLog]]] = {d: [] for d in self.log_dirs}
        with self._lock:
            for tp, log in self._logs.items():
                by_dir[self._dir_of[tp]].append((tp, log))
        for log_dir, logs in by_dir.items():
            write_offsets(log_dir / RECOVERY_POINT_CHECKPOINT, {tp: log.recovery_point for tp, log in logs})
            write_offsets(
                log_dir / LOG_START_OFFSET_CHECKPOINT, {tp: log.log_start_offset for tp, log in logs}
            )
            write_offsets(
                log_dir / REPLICATION_OFFSET_CHECKPOINT, {tp: log.high_watermark for tp, log in logs}
            )

    def flush_all(self) -> None:
        for _, log in self.items():
            log.flush()

    def close(self, broker_epoch: int = -1) -> None:
        """Flush and close every log, write checkpoints, then mark each directory cleanly shut down."""
        failed: set[Path] = set()
        for tp, log in self.items():
            try:
                log.close(flush=True)
            except OSError:
                _log.exception("flushing %s failed: its directory will be recovered at next start", tp)
                failed.add(self._dir_of[tp])
        self.checkpoint()
        for log_dir in self.log_dirs:
            if log_dir not in failed:
                write_clean_shutdown(log_dir / CLEAN_SHUTDOWN_FILE, broker_epoch)
