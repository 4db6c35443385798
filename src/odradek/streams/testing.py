"""`TopologyTestDriver`: run a topology in-process, deterministically, with no broker.

    driver = TopologyTestDriver(builder.build(), {"default.value.serde": "json"})
    orders = driver.create_input_topic("orders", Serdes.STRING, Serdes.JSON)
    totals = driver.create_output_topic("totals", Serdes.STRING, Serdes.LONG)
    orders.pipe_input("alice", {"amount": 3}, timestamp=1_000)
    assert totals.read_key_value() == ("alice", 3)
    driver.advance_wall_clock_time(60_000)       # fires wall-clock punctuators
    driver.get_key_value_store("totals-store").get("alice")
    driver.close()

As Kafka Streams' driver: the whole topology runs as one task on partition 0; a record written to a
topic the topology reads (a repartition topic, or a topic read back with `through`) is processed at
once; the task commits after every input record, so caches emit every update; stores are real
(RocksDB in a temporary directory unless `persistent_stores=False`); changelog and output topics can
be read back; wall-clock time only moves when the test moves it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odradek.streams.config import StreamsConfig
from odradek.streams.engine.task import Task
from odradek.streams.errors import StreamsException
from odradek.streams.record import Headers
from odradek.streams.serdes import Serde, Serdes
from odradek.streams.state.buffered import BufferedStore
from odradek.streams.state.factory import open_store
from odradek.streams.topology import Topology


@dataclass(frozen=True)
class TestRecord:
    key: Any
    value: Any
    timestamp: int
    headers: Headers | None = None


@dataclass
class _Stored:
    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: Headers | None
    partition: int | None


class _Collector:
    def __init__(self, driver: TopologyTestDriver) -> None:
        self.driver = driver

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers | None,
        partition: int | None,
    ) -> None:
        self.driver._append(topic, _Stored(key, value, timestamp, headers, partition))

    def partitions_for(self, topic: str) -> int | None:
        return self.driver.partitions.get(topic, 1)


class TopologyTestDriver:
    def __init__(
        self,
        topology: Topology,
        config: Mapping[str, Any] | None = None,
        initial_wall_clock_ms: int = 0,
        partitions: Mapping[str, int] | None = None,
        persistent_stores: bool = True,
    ) -> None:
        settings = {"application.id": "test-driver", "bootstrap.servers": "driver:0", **(config or {})}
        self.config = StreamsConfig(settings)
        self.topology = topology
        self.partitions = dict(partitions or {})
        topology.check_copartitioning(self.partitions)
        self.wall_clock_ms = initial_wall_clock_ms
        self._dir = Path(tempfile.mkdtemp(prefix="odradek-ttd-")) if persistent_stores else None
        self.topics: dict[str, list[_Stored]] = {}
        self._read_positions: dict[str, int] = {}
        self._pending: deque[tuple[str, _Stored]] = deque()
        self._processing = False
        self._offsets: dict[str, int] = {}
        app = self.config.application_id
        self._internal = {f"{app}-{name}" for name in topology.internal_topics}
        collector = _Collector(self)
        key_default, value_default = (
            self.config.serde("default.key.serde"),
            self.config.serde("default.value.serde"),
        )
        cache = int(self.config["statestore.cache.max.records"]) or 1

        def physical(name: str) -> str:
            return f"{app}-{name}" if name in topology.internal_topics else name

        self.global_stores: dict[str, BufferedStore] = {}
        global_nodes: list[str] = []
        for name, g in topology.global_stores.items():
            self.global_stores[name] = open_store(
                g.spec, self._task_dir("global"), key_default, value_default, cache
            )
            global_nodes += [g.source, g.processor]
        self.global_task = Task(
            "global", topology, global_nodes, self.global_stores, collector, self.config, self._now, physical
        )
        stores: dict[str, BufferedStore] = dict(self.global_stores)
        for name, spec in topology.stores.items():
            store = open_store(spec, self._task_dir("0_0"), key_default, value_default, cache)
            if spec.logging:
                changelog = physical(f"{name}-changelog")
                store.changelog = self._changelog_sender(changelog)
                store.topic = changelog
            stores[name] = store
        nodes = [n for n in topology.nodes if n not in set(global_nodes)]
        self.task = Task("0_0", topology, nodes, stores, collector, self.config, self._now, physical)
        self._task_topics = set(self.task.source_topics())
        self._global_topics = set(self.global_task.source_topics())

    def _task_dir(self, task_id: str) -> Path | None:
        return None if self._dir is None else self._dir / self.config.application_id / task_id

    def _changelog_sender(self, topic: str) -> Any:
        def send(key: bytes, value: bytes | None, timestamp: int) -> None:
            self.topics.setdefault(topic, []).append(_Stored(key, value, timestamp, None, 0))

        return send

    def _now(self) -> int:
        return self.wall_clock_ms

    # -- records in -----------------------------------------------------------------------------------

    def _append(self, topic: str, stored: _Stored) -> None:
        self.topics.setdefault(topic, []).append(stored)
        if topic in self._task_topics or topic in self._global_topics or self._by_pattern(topic):
            self._pending.append((topic, stored))

    def pipe(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers | None = None,
    ) -> None:
        """Write one raw record to `topic` and process everything that follows from it."""
        if (
            topic not in self._task_topics
            and topic not in self._global_topics
            and not self._by_pattern(topic)
        ):
            raise StreamsException(f"topic {topic!r} is not read by this topology")
        self._append(topic, _Stored(key, value, timestamp, headers, 0))
        self._run()

    def _by_pattern(self, topic: str) -> bool:
        """A topic a pattern source reads (never the application's own internal topics)."""
        return topic not in self._internal and self.task.reads(topic)

    def _run(self) -> None:
        if self._processing:
            return
        self._processing = True
        processed = False
        try:
            while True:
                while self._pending:
                    topic, stored = self._pending.popleft()
                    offset = self._offsets.get(topic, 0)
                    self._offsets[topic] = offset + 1
                    task = self.global_task if topic in self._global_topics else self.task
                    processed = True
                    task.process(topic, 0, offset, stored.timestamp, stored.key, stored.value, stored.headers)
                self.global_task.commit()
                self.task.commit()
                if not self._pending:
                    break
            if processed:
                self.task.note_input_wall_time(self.wall_clock_ms)
        finally:
            self._processing = False

    def advance_wall_clock_time(self, ms: int) -> None:
        """Move wall-clock time on: wall-clock punctuators fire, idle tasks' stream time follows."""
        self.wall_clock_ms += ms
        self.task.on_wall_clock(self.wall_clock_ms)
        self._run()

    # -- topics ---------------------------------------------------------------------------------------

    def create_input_topic(
        self,
        topic: str,
        key_serde: Serde[Any] = Serdes.BYTES,
        value_serde: Serde[Any] = Serdes.BYTES,
        start_timestamp: int = 0,
        auto_advance_ms: int = 0,
    ) -> TestInputTopic:
        return TestInputTopic(self, topic, key_serde, value_serde, start_timestamp, auto_advance_ms)

    def create_output_topic(
        self, topic: str, key_serde: Serde[Any] = Serdes.BYTES, value_serde: Serde[Any] = Serdes.BYTES
    ) -> TestOutputTopic:
        return TestOutputTopic(self, topic, key_serde, value_serde)

    def produced_topic_names(self) -> set[str]:
        return set(self.topics)

    def read_raw(self, topic: str) -> _Stored | None:
        records = self.topics.get(topic, [])
        pos = self._read_positions.get(topic, 0)
        if pos >= len(records):
            return None
        self._read_positions[topic] = pos + 1
        return records[pos]

    def queue_size(self, topic: str) -> int:
        return len(self.topics.get(topic, [])) - self._read_positions.get(topic, 0)

    # -- stores ---------------------------------------------------------------------------------------

    def get_state_store(self, name: str) -> Any:
        return self.task.store(name)

    get_key_value_store = get_state_store
    get_timestamped_key_value_store = get_state_store
    get_window_store = get_state_store
    get_session_store = get_state_store

    def metrics(self) -> dict[str, Any]:
        return {
            "processed": self.task.processed,
            "dropped_records": self.task.dropped_records_total(),
            "nodes": self.task.node_counts(),
        }

    def close(self) -> None:
        self.task.close()
        self.global_task.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> TopologyTestDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TestInputTopic:
    __test__ = False

    def __init__(
        self,
        driver: TopologyTestDriver,
        topic: str,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        start_timestamp: int,
        auto_advance_ms: int,
    ) -> None:
        self.driver = driver
        self.topic = topic
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.next_timestamp = start_timestamp
        self.auto_advance_ms = auto_advance_ms

    def pipe_input(
        self, key: Any = None, value: Any = None, timestamp: int | None = None, headers: Headers | None = None
    ) -> None:
        if timestamp is None:
            timestamp = self.next_timestamp
            self.next_timestamp += self.auto_advance_ms
        kb = self.key_serde.serialize(self.topic, key, headers)
        vb = self.value_serde.serialize(self.topic, value, headers)
        self.driver.pipe(self.topic, kb, vb, timestamp, headers)

    def pipe_value_list(self, values: Iterable[Any]) -> None:
        for value in values:
            self.pipe_input(None, value)

    def pipe_key_value_list(self, pairs: Iterable[tuple[Any, Any]]) -> None:
        for key, value in pairs:
            self.pipe_input(key, value)

    def pipe_record_list(self, records: Iterable[TestRecord]) -> None:
        for r in records:
            self.pipe_input(r.key, r.value, r.timestamp, r.headers)

    def advance_time(self, ms: int) -> None:
        self.next_timestamp += ms


class TestOutputTopic:
    __test__ = False

    def __init__(
        self, driver: TopologyTestDriver, topic: str, key_serde: Serde[Any], value_serde: Serde[Any]
    ) -> None:
        self.driver = driver
        self.topic = topic
        self.key_serde = key_serde
        self.value_serde = value_serde

    def read_record(self) -> TestRecord:
        stored = self.driver.read_raw(self.topic)
        if stored is None:
            raise StreamsException(f"no more records in output topic {self.topic!r}")
        return TestRecord(
            self.key_serde.deserialize(self.topic, stored.key, stored.headers),
            self.value_serde.deserialize(self.topic, stored.value, stored.headers),
            stored.timestamp,
            stored.headers,
        )

    def read_value(self) -> Any:
        return self.read_record().value

    def read_key_value(self) -> tuple[Any, Any]:
        record = self.read_record()
        return record.key, record.value

    def read_records_to_list(self) -> list[TestRecord]:
        out = []
        while not self.is_empty():
            out.append(self.read_record())
        return out

    def read_values_to_list(self) -> list[Any]:
        return [r.value for r in self.read_records_to_list()]

    def read_key_values_to_list(self) -> list[tuple[Any, Any]]:
        return [(r.key, r.value) for r in self.read_records_to_list()]

    def read_key_values_to_map(self) -> dict[Any, Any]:
        return dict(self.read_key_values_to_list())

    def is_empty(self) -> bool:
        return self.driver.queue_size(self.topic) == 0

    def get_queue_size(self) -> int:
        return self.driver.queue_size(self.topic)
