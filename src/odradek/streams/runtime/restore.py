"""State restoration off the poll loop.

Each stream thread has a `StateRestorer`: a thread with its own consumer (no group, read_committed
under exactly-once) that replays a task's changelog partitions from the checkpointed offset to the
end, writing raw records straight into the stores' byte stores in batches. Meanwhile the stream
thread keeps polling (its group membership stays alive) and keeps processing its other tasks; the
restoring task's input partitions stay paused until `RestoreJob.done`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from odradek.streams.state.buffered import BufferedStore

log = logging.getLogger("odradek.streams")


@dataclass
class RestoreJob:
    task_id: str
    stores: dict[tuple[str, int], BufferedStore]
    """Changelog partition -> the store it restores."""
    start: dict[tuple[str, int], int]
    end: dict[tuple[str, int], int] = field(default_factory=dict)
    """Where each partition's restore stopped (the next offset): the new checkpoint."""
    restored: int = 0
    total: int = 0
    done: bool = False
    error: BaseException | None = None
    started_at: float = field(default_factory=time.monotonic)
    remaining: set[tuple[str, int]] = field(default_factory=set)


class StateRestorer:
    def __init__(self, consumer_config: dict[str, Any], name: str) -> None:
        self.config = {
            **consumer_config,
            "enable.partition.eof": True,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "group.id": consumer_config.get("group.id", "restore") + "-restore-unused",
        }
        self.name = name
        self._jobs: dict[str, RestoreJob] = {}
        self._new: list[RestoreJob] = []
        self._cancelled: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.total_restored = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)

    def submit(self, job: RestoreJob) -> None:
        with self._lock:
            self._new.append(job)
        self._wake.set()

    def cancel(self, task_id: str) -> None:
        with self._lock:
            self._cancelled.append(task_id)
        self._wake.set()

    def _run(self) -> None:
        consumer = Consumer(self.config)
        try:
            while not self._stop:
                self._apply_changes(consumer)
                if not self._jobs:
                    self._wake.wait(0.5)
                    self._wake.clear()
                    continue
                messages: list[Any] = consumer.consume(10_000, 0.1)
                batches: dict[tuple[str, int], list[Any]] = {}
                finished: list[tuple[tuple[str, int], int]] = []
                for msg in messages:
                    err = msg.error()
                    tp = (msg.topic(), msg.partition())
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            finished.append((tp, msg.offset()))
                            continue
                        raise RuntimeError(f"restoring {tp}: {err}")
                    batches.setdefault(tp, []).append(msg)
                    self._note_offset(tp, msg.offset() + 1)
                for tp, batch in batches.items():
                    job = self._job_of(tp)
                    if job is not None:
                        apply_changelog(job.stores[tp], batch)
                        job.restored += len(batch)
                        self.total_restored += len(batch)
                for tp, offset in finished:
                    self._finish_partition(consumer, tp, offset)
        except BaseException as exc:
            log.exception("state restoration failed")
            with self._lock:
                for job in self._jobs.values():
                    job.error = exc
                    job.done = True
        finally:
            consumer.close()

    def _job_of(self, tp: tuple[str, int]) -> RestoreJob | None:
        for job in self._jobs.values():
            if tp in job.stores:
                return job
        return None

    def _note_offset(self, tp: tuple[str, int], offset: int) -> None:
        job = self._job_of(tp)
        if job is not None:
            job.end[tp] = offset

    def _finish_partition(self, consumer: Consumer, tp: tuple[str, int], offset: int) -> None:
        job = self._job_of(tp)
        if job is None or tp not in job.remaining:
            return
        job.remaining.discard(tp)
        job.end[tp] = max(offset, job.end.get(tp, 0))
        consumer.incremental_unassign([TopicPartition(*tp)])
        if not job.remaining:
            job.done = True
            del self._jobs[job.task_id]
            log.info(
                "task %s restored %d records in %.2f s",
                job.task_id,
                job.restored,
                time.monotonic() - job.started_at,
            )

    def _apply_changes(self, consumer: Consumer) -> None:
        with self._lock:
            new, self._new = self._new, []
            cancelled, self._cancelled = self._cancelled, []
        for task_id in cancelled:
            job = self._jobs.pop(task_id, None)
            if job is not None and job.remaining:
                consumer.incremental_unassign([TopicPartition(*tp) for tp in job.remaining])
        for job in new:
            assign = []
            for tp, start in job.start.items():
                low, high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=10, cached=False)
                begin = max(start, low)
                job.end[tp] = begin
                if begin < high:
                    job.total += high - begin
                    job.remaining.add(tp)
                    assign.append(TopicPartition(tp[0], tp[1], begin))
            if not job.remaining:
                job.done = True
                continue
            self._jobs[job.task_id] = job
            consumer.incremental_assign(assign)


def apply_changelog(store: BufferedStore, messages: list[Any]) -> None:
    """Apply changelog messages to a store: (key, value), or with the record timestamps for a
    versioned store (each record's timestamp is its version's)."""
    if getattr(store, "restores_with_timestamps", False):
        store.restore_records(  # type: ignore[attr-defined]
            [(m.key(), m.value(), m.timestamp()[1]) for m in messages]
        )
    else:
        store.restore([(m.key(), m.value()) for m in messages])
