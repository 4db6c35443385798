"""A stream thread: one consumer in the application's group, one producer, the active tasks of its
assigned partitions, and the loop `poll -> process -> punctuate -> commit`.

Commits (every `commit.interval.ms`, when a processor asks, or when stores hold many uncommitted
entries) are, for at-least-once: flush processors and send changelog records, wait until the producer
has delivered everything, commit the consumer offsets of processed records, then write the stores to
RocksDB and the checkpoints. For exactly-once v2 (one transactional producer per thread, KIP-447):
the same inside a transaction, with the offsets sent by `send_offsets_to_transaction` and the stores
written only after `commit_transaction` returned. An aborted transaction drops the stores' buffers and
recreates the tasks from their committed state; nothing on disk is ever wiped for it.

Rebalancing is cooperative: revoked partitions' tasks are committed and closed, assigned partitions
get new tasks; a task with stores to restore stays paused while the `StateRestorer` replays its
changelogs on another thread, so the poll loop never blocks on a restore.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from odradek.streams.config import StreamsConfig
from odradek.streams.errors import StreamsException
from odradek.streams.handlers import ErrorHandlerContext, HandlerAction
from odradek.streams.runtime.collector import ProducerCollector
from odradek.streams.runtime.restore import RestoreJob, StateRestorer
from odradek.streams.runtime.tasks import ActiveTask, TaskFactory, TaskState
from odradek.streams.state.buffered import StoreGuard

log = logging.getLogger("odradek.streams")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _timestamp(msg: Any) -> int:
    return msg.timestamp()[1]  # type: ignore[no-any-return]


def poll_batch(consumer: Any, max_records: int, timeout_s: float) -> list[Any]:
    """Up to `max_records` records: what librdkafka holds now, or, when it holds none, the first
    to arrive within `timeout_s` together with what came with it. librdkafka's batch consume waits
    until the batch is full or the timeout passed; Kafka's `poll` returns as soon as records are
    there, so a thread neither idles next to queued records nor adds `poll.ms` to their latency."""
    messages: list[Any] = consumer.consume(max_records, 0)
    if messages:
        return messages
    messages = consumer.consume(1, timeout_s)
    if messages and max_records > 1:
        messages += consumer.consume(max_records - 1, 0)
    return messages


class StreamThread:
    def __init__(
        self,
        index: int,
        config: StreamsConfig,
        factory: TaskFactory,
        client_id: str,
        transactional_id: str,
        partition_counts: Callable[[str], int | None],
        on_error: Callable[[StreamThread, BaseException], None],
        on_rebalance: Callable[[StreamThread], None],
    ) -> None:
        self.index = index
        self.name = f"{client_id}-StreamThread-{index}"
        self.config = config
        self.factory = factory
        self.client_id = client_id
        self.transactional_id = transactional_id
        self.partition_counts = partition_counts
        self.on_error = on_error
        self.on_rebalance = on_rebalance
        self.eos = config.exactly_once
        self.tasks: dict[str, ActiveTask] = {}
        self.by_partition: dict[tuple[str, int], ActiveTask] = {}
        self.error: BaseException | None = None
        self.running = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._in_txn = False
        self.processed = 0
        self.commits = 0
        self.commit_seconds = 0.0
        self.process_seconds = 0.0
        self.rebalances = 0
        self.last_commit_ms = now_ms()
        self.assigned: set[tuple[str, int]] = set()
        self.lag: dict[tuple[str, int], int] = {}
        self.state_lock = StoreGuard()
        """Held while this thread changes its tasks' stores (processing, commit, close): the stores'
        `guard`, so a query's snapshot sees them between two batches."""

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _client_configs(self) -> tuple[dict[str, Any], dict[str, Any]]:
        c = self.config
        common = {"bootstrap.servers": c["bootstrap.servers"], "client.id": self.client_id}
        consumer = {
            **common,
            "group.id": c.application_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed" if self.eos else "read_uncommitted",
            # librdkafka stops fetching for this long once its local queue is full (default 1 s): the
            # queue drains in a fraction of that and the thread would then wait for records
            "fetch.queue.backoff.ms": 20,
        }
        if c["group.protocol"] == "consumer":
            consumer["group.protocol"] = "consumer"
            consumer["group.remote.assignor"] = "range"
        else:
            consumer["partition.assignment.strategy"] = "cooperative-sticky"
        producer: dict[str, Any] = {
            **common,
            "partitioner": "murmur2_random",
            "enable.idempotence": True,
            "acks": "all",
            # Kafka Streams' own default for its producers: a thread's output leaves in few, large
            # Produce requests (fewer wake-ups here and far less per-request work on the broker);
            # an exactly-once commit (every 100 ms) sends what is pending anyway
            "linger.ms": 100,
        }
        if self.eos:
            producer["transactional.id"] = self.transactional_id
        consumer.update(c.client_overrides("consumer."))
        producer.update(c.client_overrides("producer."))
        return consumer, producer

    def _run(self) -> None:
        consumer_conf, producer_conf = self._client_configs()
        self.consumer = Consumer(consumer_conf)
        # delivery reports per record only where changelog offsets are needed (checkpoints)
        self.collector = ProducerCollector(
            None,
            self.partition_counts,
            self._ensure_txn if self.eos else None,
            report_successes=bool(self.factory.topology.stores),
        )
        self.producer = Producer({**producer_conf, **self.collector.producer_settings()})
        self.collector.producer = self.producer
        for name in self.factory.topology.stores:
            self.collector.changelog_topics.add(self.factory.changelog_topic(name))
        self.restorer = StateRestorer(
            {k: v for k, v in consumer_conf.items() if k not in ("group.protocol", "group.remote.assignor")},
            f"{self.name}-restorer",
        )
        self.restorer.start()
        try:
            if self.eos:
                self.producer.init_transactions(60)
            self.consumer.subscribe(
                self.factory.source_topics(),
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )
            self.running.set()
            poll_s = int(self.config["poll.ms"]) / 1000
            max_records = int(self.config["max.poll.records"])
            while not self._stopping:
                self._run_once(max_records, poll_s)
            self._shutdown(clean=True)
        except BaseException as exc:
            self.error = exc
            log.error("stream thread %s failed: %s", self.name, exc, exc_info=exc)
            try:
                self._shutdown(clean=False)
            except BaseException:
                log.exception("closing failed stream thread %s", self.name)
            self.on_error(self, exc)
        finally:
            self.restorer.stop()
            self.running.clear()

    def _shutdown(self, clean: bool) -> None:
        if clean:
            self.commit()
        elif self.eos and self.in_txn:
            try:
                self.producer.abort_transaction(10)
            except KafkaException:
                log.warning("aborting the transaction of %s failed", self.name)
            self.in_txn = False
        with self.state_lock:
            for active in list(self.tasks.values()):
                self.factory.close(active, clean)
        self.tasks.clear()
        self.by_partition.clear()
        self.consumer.close()
        self.producer.flush(10)
        # drop the client handles now (librdkafka threads end when the last reference goes); the
        # producer's error-only delivery callback is the collector's: break that cycle first
        self.collector.producer = None
        del self.consumer, self.producer, self.collector

    # -- the loop -------------------------------------------------------------------------------------

    def _in_time_order(self, messages: list[Any]) -> list[Any]:
        """Records of a task's partitions interleaved by timestamp (each partition's order kept), as
        Kafka Streams' partition group picks the input record with the smallest timestamp next."""
        if len(messages) < 2 or not self._merging:
            return messages
        per_partition: dict[tuple[str, int], list[Any]] = {}
        for msg in messages:
            per_partition.setdefault((msg.topic(), msg.partition()), []).append(msg)
        if len(per_partition) == 1:
            return messages
        per_task: dict[str | None, list[list[Any]]] = {}
        for tp, msgs in per_partition.items():
            active = self.by_partition.get(tp)
            per_task.setdefault(active.task_id if active is not None else None, []).append(msgs)
        ordered: list[Any] = []
        for lists in per_task.values():
            if len(lists) == 1:
                ordered += lists[0]
            else:
                ordered += heapq.merge(*lists, key=_timestamp)
        return ordered

    @property
    def _merging(self) -> bool:
        """Whether some task reads several partitions (only then are records put in time order)."""
        return any(len(a.inputs) > 1 for a in self.tasks.values())

    def _run_once(self, max_records: int, poll_s: float) -> None:
        messages: list[Any] = self._in_time_order(poll_batch(self.consumer, max_records, poll_s))
        with self.state_lock:  # readers of the stores (queries) see them between two batches
            now = self._process(messages)
        self._check_failed_deliveries()
        self._maybe_commit(now)

    def _process(self, messages: list[Any]) -> int:
        started = time.perf_counter()
        touched: dict[str, ActiveTask] = {}
        rewound: set[tuple[str, int]] = set()
        by_partition = self.by_partition
        # the per-record loop: the task is looked up once per run of records of one partition
        topic: Any = None
        partition, last = -1, -1
        active: ActiveTask | None = None
        process: Any = None
        for msg in messages:
            if msg.error() is not None:
                self._consumer_error(msg.error())
                continue
            t, p = msg.topic(), msg.partition()
            if t != topic or p != partition:
                if active is not None and last >= 0:
                    active.consumed[(topic, partition)] = last + 1
                topic, partition, last = t, p, -1
                active = by_partition.get((t, p))
                process = None
                if active is not None:
                    if active.state is TaskState.RESTORING:
                        if (t, p) not in rewound:
                            rewound.add((t, p))
                            self.consumer.seek(TopicPartition(t, p, msg.offset()))
                    else:
                        process = active.task.process
                        touched[active.task_id] = active
            if process is None:
                continue
            last = msg.offset()
            process(t, p, last, msg.timestamp()[1], msg.key(), msg.value(), msg.headers())
        if active is not None and last >= 0:
            active.consumed[(topic, partition)] = last + 1
        if messages:
            self.processed += len(messages)
            self.process_seconds += time.perf_counter() - started
        self.producer.poll(0)  # delivery reports: keeps librdkafka's queue from filling up
        now = now_ms()
        for active in touched.values():
            active.task.note_input_wall_time(now)
        for active in list(self.tasks.values()):
            if active.state is TaskState.RUNNING:
                active.task.on_wall_clock(now)
        self._check_restores()
        return now

    def _consumer_error(self, err: KafkaError) -> None:
        if err.code() == KafkaError._PARTITION_EOF:
            return
        if err.fatal():
            raise KafkaException(err)
        log.warning("consumer error in %s: %s", self.name, err)

    def _maybe_commit(self, now: int) -> None:
        interval = int(self.config["commit.interval.ms"])
        due = now - self.last_commit_ms >= interval
        if not due:
            for active in self.tasks.values():
                if active.task.commit_requested or active.task.dirty_entries() > 100_000:
                    due = True
                    break
        if due:
            self.commit()
            self.last_commit_ms = now

    @property
    def in_txn(self) -> bool:
        """Whether this thread's producer has a transaction open (exactly-once only)."""
        return self._in_txn

    @in_txn.setter
    def in_txn(self, open_: bool) -> None:
        self._in_txn = open_
        # the collector calls `_ensure_txn` before a send only while no transaction is open: not a
        # Python call per record in the middle of one
        collector = self.__dict__.get("collector")
        if collector is not None and self.eos:
            collector.before_send = None if open_ else self._ensure_txn

    def _ensure_txn(self) -> None:
        if not self._in_txn:
            self.producer.begin_transaction()
            self.in_txn = True

    # -- commit ---------------------------------------------------------------------------------------

    def commit(self) -> None:
        started = time.perf_counter()
        running = [a for a in self.tasks.values() if a.state is TaskState.RUNNING]
        offsets = {tp: off for a in running for tp, off in a.consumed.items() if off != a.committed.get(tp)}
        dirty = any(a.task.dirty_entries() for a in running)
        if not offsets and not dirty and not self.in_txn:
            return
        if self.eos:
            try:
                self._ensure_txn()
                with self.state_lock:
                    for active in running:
                        active.task.prepare_commit()
                if offsets:
                    self.producer.send_offsets_to_transaction(
                        [TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                        self.consumer.consumer_group_metadata(),
                        30,
                    )
                self.producer.commit_transaction(60)
                self.in_txn = False
            except KafkaException as exc:
                self._transaction_failed(exc)
                return
        else:
            with self.state_lock:
                for active in running:
                    active.task.prepare_commit()
            self.collector.flush()
            self._check_failed_deliveries()
            if offsets:
                self.consumer.commit(
                    offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False
                )
        with self.state_lock:
            for active in running:
                active.task.complete_commit()
        for active in running:
            self.factory.write_checkpoint(active, self.collector.changelog_offsets)
            for tp, off in active.consumed.items():
                active.committed[tp] = off
        self.commits += 1
        self.commit_seconds += time.perf_counter() - started
        self._update_lag()

    def _transaction_failed(self, exc: KafkaException) -> None:
        err = exc.args[0] if exc.args else None
        if err is not None and hasattr(err, "txn_requires_abort") and err.txn_requires_abort():
            log.warning(
                "transaction of %s aborted (%s): tasks restart from their last commit", self.name, err
            )
            self.producer.abort_transaction(30)
            self.in_txn = False
            self._reset_tasks()
            return
        raise StreamsException(f"exactly-once commit failed in {self.name}: {exc}") from exc

    def _reset_tasks(self) -> None:
        """Close every task without committing and start it again from the committed offsets."""
        assigned = [tp for a in self.tasks.values() for tp in a.inputs if tp in self.assigned]
        with self.state_lock:
            for active in list(self.tasks.values()):
                self.factory.close(active, clean=False)
        self.tasks.clear()
        self.by_partition.clear()
        committed = self.consumer.committed([TopicPartition(t, p) for t, p in assigned], 30)
        self._create_tasks(assigned)
        for tp in committed:
            if tp.offset >= 0:
                self.consumer.seek(tp)

    def _update_lag(self) -> None:
        for tp in list(self.assigned):
            try:
                _, high = self.consumer.get_watermark_offsets(TopicPartition(*tp), cached=True)
            except KafkaException:
                continue
            active = self.by_partition.get(tp)
            position = active.consumed.get(tp) if active is not None else None
            if high >= 0 and position is not None:
                self.lag[tp] = max(high - position, 0)

    # -- failures -------------------------------------------------------------------------------------

    def _check_failed_deliveries(self) -> None:
        for failed in self.collector.take_failures():
            context = ErrorHandlerContext(
                failed.topic,
                failed.partition,
                None,
                None,
                None,
                "unknown",
                failed.timestamp,
                failed.key,
                failed.value,
            )
            handler = next(iter(self.tasks.values())).task.production_handler if self.tasks else None
            exc = KafkaException(failed.error)
            if handler is None or handler.handle(context, failed, exc).action is HandlerAction.FAIL:
                raise StreamsException(
                    f"producing to {failed.topic}-{failed.partition} failed and the production exception"
                    f" handler said FAIL: {failed.error}"
                )

    # -- restoration ----------------------------------------------------------------------------------

    def _check_restores(self) -> None:
        for active in list(self.tasks.values()):
            if active.state is not TaskState.RESTORING or not active.restore_job.done:
                continue
            job: RestoreJob = active.restore_job
            if job.error is not None:
                raise StreamsException(f"restoring task {active.task_id} failed: {job.error}") from job.error
            self.factory.write_checkpoint(active, job.end)
            active.state = TaskState.RUNNING
            active.restore_job = None
            paused = [TopicPartition(*tp) for tp in active.inputs if tp in self.assigned]
            if paused:
                self.consumer.resume(paused)
            log.info("task %s is running (restored %d records)", active.task_id, job.restored)

    # -- rebalancing ----------------------------------------------------------------------------------

    def _create_tasks(self, partitions: list[tuple[str, int]]) -> None:
        by_task: dict[str, list[tuple[str, int]]] = {}
        for tp in partitions:
            by_task.setdefault(self.factory.task_id_of(*tp), []).append(tp)
        for task_id, tps in by_task.items():
            active = self.tasks.get(task_id)
            if active is None:
                active = self.factory.create(task_id, self.collector)
                for store in active.task.stores.values():
                    if store not in self.factory.global_stores.values():
                        store.guard = self.state_lock
                self.tasks[task_id] = active
                if active.changelogs:
                    active.state = TaskState.RESTORING
                    active.restore_job = RestoreJob(
                        task_id, dict(active.changelogs), self.factory.restore_start(active)
                    )
                    self.restorer.submit(active.restore_job)
            for tp in tps:
                self.by_partition[tp] = active
                active.inputs.add(tp)  # a pattern source's new topics join the task's inputs
            if active.state is TaskState.RESTORING:
                self.consumer.pause([TopicPartition(*tp) for tp in tps])

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        try:
            consumer.incremental_assign(partitions)
        except KafkaException:
            consumer.assign(partitions)
        tps = [(tp.topic, tp.partition) for tp in partitions]
        self.assigned.update(tps)
        self._create_tasks(tps)
        self.rebalances += 1
        log.info("%s assigned %s", self.name, sorted(tps))
        self.on_rebalance(self)

    def _close_tasks_of(self, tps: set[tuple[str, int]], clean: bool) -> None:
        affected = {a.task_id: a for tp in tps if (a := self.by_partition.get(tp)) is not None}
        keep: list[tuple[str, int]] = []
        for active in affected.values():
            if active.state is TaskState.RESTORING:
                self.restorer.cancel(active.task_id)
            with self.state_lock:
                self.factory.close(active, clean and active.state is TaskState.RUNNING)
            del self.tasks[active.task_id]
            for tp in active.inputs:
                if self.by_partition.get(tp) is active:
                    del self.by_partition[tp]
                    if tp not in tps and tp in self.assigned:
                        keep.append(tp)
        if keep:
            self._create_tasks(keep)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = {(tp.topic, tp.partition) for tp in partitions}
        try:
            self.commit()
        except Exception:
            log.exception("commit on revocation failed in %s", self.name)
            self._close_tasks_of(tps, clean=False)
        else:
            self._close_tasks_of(tps, clean=True)
        self.assigned -= tps
        try:
            consumer.incremental_unassign(partitions)
        except KafkaException:
            consumer.unassign()
        log.info("%s revoked %s", self.name, sorted(tps))
        self.on_rebalance(self)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = {(tp.topic, tp.partition) for tp in partitions}
        if self.eos and self.in_txn:
            try:
                self.producer.abort_transaction(30)
            except KafkaException:
                log.warning("abort after lost partitions failed in %s", self.name)
            self.in_txn = False
            self._close_tasks_of(set(self.by_partition), clean=False)
        else:
            self._close_tasks_of(tps, clean=False)
        self.assigned -= tps
        log.warning("%s lost %s", self.name, sorted(tps))
        self.on_rebalance(self)

    # -- queries --------------------------------------------------------------------------------------

    def stores_named(self, name: str) -> list[tuple[ActiveTask, Any]]:
        return [
            (a, a.task.stores[name])
            for a in list(self.tasks.values())
            if a.state is TaskState.RUNNING and name in a.task.stores
        ]
