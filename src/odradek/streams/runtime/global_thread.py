"""The global stream thread: keeps every global store filled from all partitions of its topic.

At start it reads each global topic to its end before the application reports RUNNING (so joins
against a global table see its whole content), then keeps polling. Global stores live in
`{state.dir}/{application.id}/global/` with a checkpoint of the topic offsets, so a restart reads
only what was added since.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from odradek.streams.config import StreamsConfig
from odradek.streams.engine.task import Task
from odradek.streams.runtime.checkpoint import read_checkpoint, write_checkpoint
from odradek.streams.runtime.state_directory import StateDirectory
from odradek.streams.state.buffered import BufferedStore, StoreGuard
from odradek.streams.state.factory import open_store
from odradek.streams.topology import Topology

log = logging.getLogger("odradek.streams")


class _NoSinks:
    def send(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a global store's processor cannot forward to a sink")

    def partitions_for(self, topic: str) -> int | None:
        return None


class GlobalStreamThread:
    def __init__(
        self,
        topology: Topology,
        config: StreamsConfig,
        state_directory: StateDirectory,
        client_id: str,
        wall_clock: Callable[[], int],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.topology = topology
        self.config = config
        self.state_directory = state_directory
        self.client_id = client_id
        self.on_error = on_error
        self.task_dir = state_directory.lock("global")
        key_default = config.serde("default.key.serde")
        value_default = config.serde("default.value.serde")
        self.stores: dict[str, BufferedStore] = {}
        nodes: list[str] = []
        for name, g in topology.global_stores.items():
            self.stores[name] = open_store(g.spec, self.task_dir, key_default, value_default)
            nodes += [g.source, g.processor]
        self.task = Task("global", topology, nodes, self.stores, _NoSinks(), config, wall_clock, lambda t: t)
        self.state_lock = StoreGuard()
        """Held while this thread writes the global stores (their `guard`, see `BufferedStore.snapshot`)."""
        for store in self.stores.values():
            store.guard = self.state_lock
        self.offsets = read_checkpoint(self.task_dir)
        self.bootstrapped = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"{self.client_id}-GlobalStreamThread", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(30)

    def _process(self, messages: list[Any], pending: set[tuple[str, int]]) -> None:
        for msg in messages:
            err = msg.error()
            tp = (msg.topic(), msg.partition())
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    pending.discard(tp)
                    continue
                raise KafkaException(err)
            self.task.process(
                tp[0], tp[1], msg.offset(), msg.timestamp()[1], msg.key(), msg.value(), msg.headers()
            )
            self.offsets[tp] = msg.offset() + 1
        self.task.commit()

    def _run(self) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self.config["bootstrap.servers"],
                "group.id": f"{self.config.application_id}-global-unused",
                "client.id": f"{self.client_id}-global",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed" if self.config.exactly_once else "read_uncommitted",
                **self.config.security_settings(),
            }
        )
        try:
            topics = sorted(self.topology.global_topics())
            metadata = consumer.list_topics(timeout=30).topics
            assignment = []
            for topic in topics:
                meta = metadata.get(topic)
                if meta is None or meta.error is not None:
                    raise KafkaException(
                        KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, f"global topic {topic} missing")
                    )
                for p in meta.partitions:
                    assignment.append(TopicPartition(topic, p, self.offsets.get((topic, p), -2)))
            consumer.assign(assignment)
            pending = {(tp.topic, tp.partition) for tp in assignment}
            last_checkpoint = dict(self.offsets)
            while not self._stop:
                messages: list[Any] = consumer.consume(5000, 0.2)
                with self.state_lock:  # queries' snapshots see the stores between two batches
                    self._process(messages, pending)
                if self.offsets != last_checkpoint:
                    write_checkpoint(self.task_dir, self.offsets)
                    last_checkpoint = dict(self.offsets)
                if not pending and not self.bootstrapped.is_set():
                    log.info("global stores are up to date")
                    self.bootstrapped.set()
        except BaseException as exc:
            log.error("global stream thread failed: %s", exc, exc_info=exc)
            self.bootstrapped.set()
            self.on_error(exc)
        finally:
            consumer.close()
            with self.state_lock:
                self.task.close()
            self.state_directory.unlock("global")
