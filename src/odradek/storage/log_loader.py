"""Loading the partition directories of a start in parallel (`num.recovery.threads.per.data.dir`).

Partitions listed in a clean shutdown's log state (`log_state.py`) need no loading. The others (every
partition after a crash, or a directory without that file) are loaded by `PartitionLog.load`: a
directory listing, a few small files, and after a crash the segments past the recovery point
re-read, CRCs checked and indexes rebuilt. That is mostly Python work, so threads share one core
(the GIL); worker processes use every core. Measured on 2 cores with 20,000 partitions of one record
each after `kill -9` (bench/scale_bench.py): one thread about 3 s of CPU, two threads slower than
one, two processes about half the wall time of one thread once their start-up (an interpreter and
the storage modules, about 0.3 s) is paid. So:

* fewer than `PROCESS_MIN_PARTITIONS` partitions to load: threads (`workers` of them; the work is
  small and a process start would cost more than it saves);
* more: `workers` processes. Each loads its share completely (recovery writes what it rebuilds:
  `.txnindex`, truncations, the indexes of closed segments), then hands back each log's `LogState`,
  its producer state, its recovery point and its active segment's rebuilt index entries (held in
  memory until the segment is sealed, as in a log recovered in-process), from which the broker
  builds the log without touching the disk (`PartitionLog.from_state`).

A loader, thread or process, has its own small file cache, so a start never holds more than a few
descriptors per worker, whatever the number of partitions.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from odradek.model.topic_partition import TopicPartition
from odradek.storage.errors import StorageError
from odradek.storage.file_cache import FileCache
from odradek.storage.log_config import LogConfig
from odradek.storage.log_state import LogState
from odradek.storage.partition_log import Fsync, PartitionLog
from odradek.storage.producer_state import ProducerStateManager

if TYPE_CHECKING:
    import queue

LOADER_OPEN_FILES = 16  # descriptors each loader may hold (its own file cache)
PROCESS_MIN_PARTITIONS = 2000
RESULT_BATCH = 256  # logs per pickle a worker process sends back
WORKER_COMMAND = "from odradek.storage.log_loader import worker_main; worker_main()"


@dataclass(frozen=True, slots=True)
class LoadJob:
    """One partition directory to load, with what the log directory's checkpoints say about it."""

    log_dir: Path
    directory: Path
    tp: TopicPartition
    config: LogConfig
    recovery_point: int
    log_start_offset: int
    high_watermark: int
    clean: bool
    now_ms: int

    def load(self, files: FileCache, fsync: Fsync) -> PartitionLog:
        return PartitionLog.load(
            self.directory,
            self.tp,
            self.config,
            recovery_point=self.recovery_point,
            log_start_offset=self.log_start_offset,
            high_watermark=self.high_watermark,
            clean=self.clean,
            now_ms=self.now_ms,
            fsync=fsync,
            files=files,
        )


@dataclass(frozen=True, slots=True)
class LoadedLog:
    """What a worker process hands back for one log."""

    state: LogState
    recovery_point: int
    producer_state: ProducerStateManager
    truncated_bytes: int
    active_indexes: tuple[bytes, bytes] | None
    """The active segment's index entries when recovery rebuilt them (`LogSegment.export_indexes`)."""


Batch = list[LoadedLog | BaseException]


def worker_main() -> None:
    """A loader process (`WORKER_COMMAND`): jobs in (one pickle on stdin), batches of results out
    (pickles on stdout, then None), the warnings it logged returned with them."""
    import gc
    import logging
    import os
    import pickle
    import sys

    # Every object a worker makes lives until it exits (logs, segments, producer states, then their
    # pickles): the collector would only re-scan them, again and again as they pile up (a third of
    # a worker's CPU at 10,000 partitions), as the broker's own loading pauses it (`paused_gc`).
    gc.disable()
    warnings: list[tuple[str, int, str]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append((record.name, record.levelno, record.getMessage()))

    logging.basicConfig(level=logging.WARNING, handlers=[Keep()])
    jobs: list[LoadJob] = pickle.load(sys.stdin.buffer)
    files = FileCache(LOADER_OPEN_FILES)
    out = sys.stdout.buffer
    for start in range(0, len(jobs), RESULT_BATCH):
        batch: Batch = []
        for job in jobs[start : start + RESULT_BATCH]:
            try:
                log = job.load(files, os.fsync)
                batch.append(
                    LoadedLog(
                        log.state(),
                        log.recovery_point,
                        log.producer_state,
                        log.truncated_on_load,
                        log.active_segment.export_indexes(),  # rebuilt in memory, not on disk
                    )
                )
            except Exception as exc:  # the broker fails its start with it, as a thread would
                batch.append(exc)
        files.close_all()
        pickle.dump((batch, warnings[:]), out)
        warnings.clear()
        out.flush()
    pickle.dump(None, out)
    out.flush()


def load_logs(
    jobs: Sequence[LoadJob], workers: int, files: FileCache, fsync: Fsync
) -> Iterator[tuple[LoadJob, PartitionLog | OSError]]:
    """Load every job's log with `workers` threads or processes; the logs use `files` afterwards.
    A log whose files cannot be read comes back as the OSError (its directory is failing)."""
    if workers > 1 and len(jobs) >= PROCESS_MIN_PARTITIONS:
        yield from _in_processes(jobs, workers, files, fsync)
    else:
        yield from _in_threads(jobs, workers, files, fsync)


def _in_threads(
    jobs: Sequence[LoadJob], workers: int, files: FileCache, fsync: Fsync
) -> Iterator[tuple[LoadJob, PartitionLog | OSError]]:
    local = threading.local()

    def run(job: LoadJob) -> tuple[LoadJob, PartitionLog | OSError]:
        own = getattr(local, "files", None)
        if own is None:
            own = local.files = FileCache(LOADER_OPEN_FILES)
        try:
            log = job.load(own, fsync)
        except OSError as exc:
            own.close_all()
            return job, exc
        log.rebind(files)  # closes what the loader opened
        return job, log

    threads = min(len(jobs), workers)
    if threads <= 1:
        yield from map(run, jobs)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="log-recovery") as pool:
        yield from pool.map(run, jobs)


def _in_processes(
    jobs: Sequence[LoadJob], workers: int, files: FileCache, fsync: Fsync
) -> Iterator[tuple[LoadJob, PartitionLog | OSError]]:
    """Each worker gets every `workers`-th job; a reader thread per worker turns its batches into
    (job, loaded) pairs on one queue, and the logs are built here as they arrive."""
    import queue

    shares = [list(jobs[i::workers]) for i in range(workers)]
    results: queue.SimpleQueue[tuple[LoadJob, LoadedLog | BaseException] | BaseException | None] = (
        queue.SimpleQueue()
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER_COMMAND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in shares
    ]
    readers = [
        threading.Thread(target=_read_worker, args=(proc, share, results), daemon=True)
        for proc, share in zip(procs, shares, strict=True)
    ]
    try:
        for reader in readers:
            reader.start()
        finished = 0
        while finished < len(readers):
            item = results.get()
            if item is None:
                finished += 1
                continue
            if isinstance(item, BaseException):
                raise item
            job, loaded = item
            if isinstance(loaded, OSError):
                yield job, loaded
            elif isinstance(loaded, BaseException):
                raise loaded
            else:
                yield job, _from_loaded(job, loaded, files, fsync)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for reader in readers:
            if reader.ident is not None:  # started
                reader.join()
        for proc in procs:
            if proc.stdout is not None:
                proc.stdout.close()


def _read_worker(
    proc: subprocess.Popen[bytes],
    share: list[LoadJob],
    results: queue.SimpleQueue[tuple[LoadJob, LoadedLog | BaseException] | BaseException | None],
) -> None:
    import pickle

    assert proc.stdin is not None and proc.stdout is not None
    try:
        with proc.stdin:
            pickle.dump(share, proc.stdin)
        position = 0
        while (item := pickle.load(proc.stdout)) is not None:
            batch, warnings = item
            for name, level, message in warnings:
                logging.getLogger(name).log(level, "%s", message)
            for loaded in batch:
                results.put((share[position], loaded))
                position += 1
        if position != len(share):
            raise StorageError(f"log loader process answered {position} of {len(share)} partitions")
    except (OSError, EOFError, pickle.UnpicklingError) as exc:
        results.put(StorageError(f"log loader process failed: {exc!r} (exit code {proc.poll()})"))
    except BaseException as exc:
        results.put(exc)
    finally:
        results.put(None)


def _from_loaded(job: LoadJob, loaded: LoadedLog, files: FileCache, fsync: Fsync) -> PartitionLog:
    log = PartitionLog.from_state(
        job.directory,
        job.tp,
        job.config,
        loaded.state,
        now_ms=job.now_ms,
        fsync=fsync,
        files=files,
        recovery_point=loaded.recovery_point,
        producer_state=loaded.producer_state,
    )
    log.truncated_on_load = loaded.truncated_bytes
    if loaded.active_indexes is not None:
        log.active_segment.import_indexes(*loaded.active_indexes)
    return log
