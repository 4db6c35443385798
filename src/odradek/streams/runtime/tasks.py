"""Active tasks of the runtime: which sub-topology and partition each is, its stores, its checkpoint.

A task id is `"{sub-topology}_{partition}"`: partition p of every source topic of the sub-topology
(co-partitioned topics) is processed by one task, and its stores' changelog partition is p.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odradek.streams.config import StreamsConfig
from odradek.streams.engine.collector import RecordCollector
from odradek.streams.engine.task import Task
from odradek.streams.errors import StreamsException
from odradek.streams.runtime.checkpoint import delete_checkpoint, read_checkpoint, write_checkpoint
from odradek.streams.runtime.state_directory import StateDirectory
from odradek.streams.state.buffered import BufferedStore
from odradek.streams.state.factory import open_store
from odradek.streams.topology import SourceNode, Subtopology, Topology

log = logging.getLogger("odradek.streams")


class TaskState(enum.Enum):
    RESTORING = "restoring"
    RUNNING = "running"


@dataclass
class ActiveTask:
    task_id: str
    partition: int
    task: Task
    task_dir: Path
    inputs: set[tuple[str, int]]
    changelogs: dict[tuple[str, int], BufferedStore]
    state: TaskState = TaskState.RUNNING
    consumed: dict[tuple[str, int], int] = field(default_factory=dict)
    committed: dict[tuple[str, int], int] = field(default_factory=dict)
    checkpoint: dict[tuple[str, int], int] = field(default_factory=dict)
    restore_job: Any = None


class TaskFactory:
    def __init__(
        self,
        topology: Topology,
        config: StreamsConfig,
        state_directory: StateDirectory,
        physical: Callable[[str], str],
        wall_clock: Callable[[], int],
        global_stores: dict[str, BufferedStore],
    ) -> None:
        self.topology = topology
        self.config = config
        self.state_directory = state_directory
        self.physical = physical
        self.wall_clock = wall_clock
        self.global_stores = global_stores
        self.before_open: Callable[[str], None] | None = None
        """Called with a task id before its directory is locked (a standby releases it)."""
        self.subtopologies = topology.subtopologies()
        self.sub_of_topic: dict[str, Subtopology] = {}
        for sub in self.subtopologies:
            for topic in sub.source_topics:
                self.sub_of_topic[physical(topic)] = sub

        self.sub_of_pattern: dict[str, Subtopology] = {
            pattern.pattern: sub for sub in self.subtopologies for pattern in sub.source_patterns
        }
        self.internal_topics = {physical(name) for name in topology.internal_topics}

    def source_topics(self) -> list[str]:
        """What the consumer subscribes to: topic names, and `^(pattern)$` for each pattern source
        (a regex subscription: the broker, or librdkafka under the classic protocol, matches new
        topics as they are created)."""
        return sorted(self.sub_of_topic) + [f"^({p})$" for p in sorted(self.sub_of_pattern)]

    def sub_for_topic(self, topic: str) -> Subtopology | None:
        sub = self.sub_of_topic.get(topic)
        if sub is not None or topic in self.internal_topics:
            return sub
        name = self.topology.pattern_source_of(topic)
        if name is None:
            return None
        node = self.topology.nodes[name]
        assert isinstance(node, SourceNode) and node.pattern is not None
        return self.sub_of_pattern[node.pattern.pattern]

    def reads(self, topic: str) -> bool:
        return self.sub_for_topic(topic) is not None

    def task_id_of(self, topic: str, partition: int) -> str:
        sub = self.sub_for_topic(topic)
        if sub is None:
            raise StreamsException(f"topic {topic!r} is not read by this topology")
        return f"{sub.id}_{partition}"

    def changelog_topic(self, store: str) -> str:
        return self.physical(f"{store}-changelog")

    def create(self, task_id: str, collector: RecordCollector) -> ActiveTask:
        sub_id, partition = (int(x) for x in task_id.split("_"))
        sub = self.subtopologies[sub_id]
        if self.before_open is not None:
            self.before_open(task_id)
        task_dir = self.state_directory.lock(task_id)
        key_default = self.config.serde("default.key.serde")
        value_default = self.config.serde("default.value.serde")
        cache = int(self.config["statestore.cache.max.records"]) or 1
        checkpoint = read_checkpoint(task_dir)
        stores: dict[str, BufferedStore] = dict(self.global_stores)
        changelogs: dict[tuple[str, int], BufferedStore] = {}
        try:
            for name in sub.stores:
                spec = self.topology.stores[name]
                tp = (self.changelog_topic(name), partition)
                if spec.persistent and spec.logging and tp not in checkpoint:
                    # no checkpoint: whatever is on disk cannot be trusted; rebuild from the changelog
                    self.state_directory.wipe_store(task_id, name)
                store = open_store(spec, task_dir, key_default, value_default, cache)
                if spec.logging:
                    store.changelog = _changelog_sender(collector, tp[0], partition)
                    store.topic = tp[0]  # serdes see the changelog topic (registry subjects)
                    changelogs[tp] = store
                stores[name] = store
        except BaseException:
            for store in stores.values():
                if store not in self.global_stores.values():
                    store.close()
            self.state_directory.unlock(task_id)
            raise
        task = Task(
            task_id, self.topology, sub.nodes, stores, collector, self.config, self.wall_clock, self.physical
        )
        inputs = {(self.physical(t), partition) for t in sub.source_topics}
        active = ActiveTask(task_id, partition, task, task_dir, inputs, changelogs)
        # under exactly-once too the checkpoint stays valid: RocksDB only ever holds committed data
        active.checkpoint = {tp: checkpoint.get(tp, 0) for tp in changelogs}
        return active

    def restore_start(self, active: ActiveTask) -> dict[tuple[str, int], int]:
        """Changelog offsets to restore from: the checkpoint for RocksDB stores, 0 for memory stores."""
        start = {}
        for tp, store in active.changelogs.items():
            start[tp] = active.checkpoint.get(tp, 0) if store.persistent else 0
        return start

    def write_checkpoint(self, active: ActiveTask, offsets: dict[tuple[str, int], int]) -> None:
        changed = False
        for tp in active.changelogs:
            if tp in offsets and offsets[tp] != active.checkpoint.get(tp):
                active.checkpoint[tp] = offsets[tp]
                changed = True
        if changed:
            persistent = {tp: o for tp, o in active.checkpoint.items() if active.changelogs[tp].persistent}
            if persistent:
                write_checkpoint(active.task_dir, persistent)

    def close(self, active: ActiveTask, clean: bool) -> None:
        if not clean:
            active.task.abort()
        try:
            active.task.close()
        finally:
            if not clean:
                log.info("task %s closed dirty: its checkpoint stays at the last commit", active.task_id)
            self.state_directory.unlock(active.task_id)

    def forget(self, active: ActiveTask) -> None:
        delete_checkpoint(active.task_dir)


def _changelog_sender(collector: RecordCollector, topic: str, partition: int) -> Any:
    def send(key: bytes, value: bytes | None, timestamp: int) -> None:
        collector.send(topic, key, value, timestamp, None, partition)

    return send


def source_nodes(topology: Topology) -> list[SourceNode]:
    return [n for n in topology.nodes.values() if isinstance(n, SourceNode)]
