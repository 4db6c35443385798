"""Standby replicas (`num.standby.replicas`): warm copies of other instances' task state.

Placement is a pure function every instance computes alike from the group description
(`placement.plan_standbys`: the next instances after the owner, or rack-aware by client tags).
An instance is known by the `{application.id}.{process}` prefix of its members' client ids.

The `StandbyManager` thread keeps this instance's standby tasks: it opens their stores in the task
directory (locked, as for an active task), follows their changelog partitions from the checkpoint,
applies the raw records to the stores and checkpoints every few seconds. When a stream thread takes
the task over as active, it asks the manager to release it first; the active task then restores
only the changelog tail after the standby's checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from odradek.streams.runtime.checkpoint import read_checkpoint, write_checkpoint
from odradek.streams.runtime.placement import (
    AssignmentPlan,
    format_client_id,
    instance_of,
    parse_client_id,
    place_standbys,
    plan_assignment,
    plan_standbys,
)
from odradek.streams.runtime.restore import apply_changelog
from odradek.streams.runtime.tasks import TaskFactory
from odradek.streams.state.buffered import BufferedStore
from odradek.streams.state.factory import open_store

log = logging.getLogger("odradek.streams")

__all__ = [
    "AssignmentPlan",
    "StandbyManager",
    "format_client_id",
    "instance_of",
    "parse_client_id",
    "place_standbys",
    "plan_assignment",
    "plan_standbys",
]


@dataclass
class StandbyTask:
    task_id: str
    stores: dict[tuple[str, int], BufferedStore]
    offsets: dict[tuple[str, int], int]
    task_dir: Any
    applied: int = 0
    checkpointed: dict[tuple[str, int], int] = field(default_factory=dict)


class StandbyManager:
    def __init__(
        self,
        factory: TaskFactory,
        consumer_config: dict[str, Any],
        instance: str,
        replicas: int,
        describe_owners: Callable[[], tuple[dict[str, str], list[str]]],
        active_task_ids: Callable[[], set[str]],
        client_tags: Callable[[], Mapping[str, Mapping[str, str]]] = dict,
        rack_aware_tags: Sequence[str] = (),
    ) -> None:
        self.factory = factory
        self.config = {
            **consumer_config,
            "group.id": f"{consumer_config['group.id']}-standby-unused",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
        self.instance = instance
        self.replicas = replicas
        self.describe_owners = describe_owners
        self.active_task_ids = active_task_ids
        self.client_tags = client_tags
        self.rack_aware_tags = list(rack_aware_tags)
        self.tasks: dict[str, StandbyTask] = {}
        self._lock = threading.Lock()
        self._release: set[str] = set()
        self._released = threading.Condition(self._lock)
        self._stop = False
        self._thread: threading.Thread | None = None
        self.replan_interval_s = 2.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.instance}-standby", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(30)

    def release(self, task_id: str, timeout_s: float = 30.0) -> None:
        """Called by a stream thread before it opens `task_id` as active: close the standby first."""
        with self._lock:
            if task_id not in self.tasks:
                return
            self._release.add(task_id)
            deadline = time.monotonic() + timeout_s
            while task_id in self.tasks and time.monotonic() < deadline:
                self._released.wait(0.1)

    def standby_ids(self) -> set[str]:
        with self._lock:
            return set(self.tasks)

    # -- the thread -----------------------------------------------------------------------------------

    def _run(self) -> None:
        consumer = Consumer(self.config)
        next_plan = 0.0
        try:
            while not self._stop:
                self._handle_releases(consumer)
                if time.monotonic() >= next_plan:
                    next_plan = time.monotonic() + self.replan_interval_s
                    try:
                        self._replan(consumer)
                    except Exception as exc:
                        log.warning("standby placement failed (will retry): %s", exc)
                if not self.tasks:
                    time.sleep(0.1)
                    continue
                self._apply(consumer)
        finally:
            with self._lock:
                for task_id in list(self.tasks):
                    self._close(consumer, task_id)
            consumer.close()

    def _apply(self, consumer: Consumer) -> None:
        messages: list[Any] = consumer.consume(5000, 0.1)
        batches: dict[tuple[str, int], list[Any]] = {}
        last: dict[tuple[str, int], int] = {}
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("standby consumer: %s", err)
                continue
            tp = (msg.topic(), msg.partition())
            batches.setdefault(tp, []).append(msg)
            last[tp] = msg.offset() + 1
        with self._lock:
            for tp, batch in batches.items():
                for standby in self.tasks.values():
                    if tp in standby.stores:
                        apply_changelog(standby.stores[tp], batch)
                        standby.offsets[tp] = last[tp]
                        standby.applied += len(batch)
            for standby in self.tasks.values():
                persistent = {tp: o for tp, o in standby.offsets.items() if standby.stores[tp].persistent}
                if persistent and persistent != standby.checkpointed:
                    write_checkpoint(standby.task_dir, persistent)
                    standby.checkpointed = dict(persistent)

    def _handle_releases(self, consumer: Consumer) -> None:
        with self._lock:
            for task_id in list(self._release):
                if task_id in self.tasks:
                    self._close(consumer, task_id)
                self._release.discard(task_id)
            self._released.notify_all()

    def _replan(self, consumer: Consumer) -> None:
        owners, instances = self.describe_owners()
        plan = plan_standbys(owners, instances, self.replicas, self.client_tags(), self.rack_aware_tags)
        wanted = plan.get(self.instance, set())
        wanted -= self.active_task_ids()
        with self._lock:
            for task_id in set(self.tasks) - wanted:
                self._close(consumer, task_id)
        for task_id in sorted(wanted - set(self.tasks)):
            self._open(consumer, task_id)

    def _open(self, consumer: Consumer, task_id: str) -> None:
        sub_id, partition = (int(x) for x in task_id.split("_"))
        sub = self.factory.subtopologies[sub_id]
        logged = [s for s in sub.stores if self.factory.topology.stores[s].logging]
        if not logged:
            return
        try:
            task_dir = self.factory.state_directory.lock(task_id)
        except Exception:
            return  # an active task of this instance holds it
        checkpoint = read_checkpoint(task_dir)
        config = self.factory.config
        stores: dict[tuple[str, int], BufferedStore] = {}
        offsets: dict[tuple[str, int], int] = {}
        for name in logged:
            spec = self.factory.topology.stores[name]
            tp = (self.factory.changelog_topic(name), partition)
            if spec.persistent and tp not in checkpoint:
                self.factory.state_directory.wipe_store(task_id, name)
            stores[tp] = open_store(
                spec, task_dir, config.serde("default.key.serde"), config.serde("default.value.serde")
            )
            offsets[tp] = checkpoint.get(tp, 0) if spec.persistent else 0
        with self._lock:
            self.tasks[task_id] = StandbyTask(task_id, stores, offsets, task_dir)
        consumer.incremental_assign([TopicPartition(t, p, o) for (t, p), o in offsets.items()])
        log.info("standby task %s follows %s", task_id, sorted(offsets))

    def _close(self, consumer: Consumer, task_id: str) -> None:
        """With the lock held."""
        standby = self.tasks.pop(task_id)
        try:
            consumer.incremental_unassign([TopicPartition(*tp) for tp in standby.stores])
        except Exception as exc:
            log.debug("unassigning standby %s: %s", task_id, exc)
        persistent = {tp: o for tp, o in standby.offsets.items() if standby.stores[tp].persistent}
        if persistent:
            write_checkpoint(standby.task_dir, persistent)
        for store in standby.stores.values():
            store.close()
        self.factory.state_directory.unlock(task_id)
        log.info("standby task %s closed at %s", task_id, persistent)
