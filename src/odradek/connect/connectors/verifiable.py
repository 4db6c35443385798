"""`VerifiableSourceConnector` (Kafka's tool of the same name): each task counts 0, 1, 2, ... and
writes `{"name", "task", "topic", "time_ms", "seqno"}` JSON strings keyed by its task id, with the
source partition `{"id": <task>}` and offset `{"seqno": n}`. A restarted task goes on after its
stored offset, so reading the topic back shows any duplicate or gap at once: the tool for testing
delivery guarantees (exactly-once sources, worker crashes) and for benchmarks.

Configs: `topic`, `throughput` (records per second per task, -1: as fast as possible),
`batch.size` (records per poll, default 500).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from odradek.connect.api.config_def import NO_DEFAULT, ConfigDef, ConfigType, Importance, at_least
from odradek.connect.api.connector import ExactlyOnceSupport, SourceConnector, SourceTask, Task
from odradek.connect.api.records import SourceRecord
from odradek.connect.data.schema import INT32_SCHEMA, STRING_SCHEMA


class VerifiableSourceConnector(SourceConnector):
    java_class = "org.apache.kafka.connect.tools.VerifiableSourceConnector"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define("topic", ConfigType.STRING, NO_DEFAULT, None, Importance.HIGH, "The topic to write to.")
            .define(
                "throughput",
                ConfigType.LONG,
                -1,
                None,
                Importance.HIGH,
                "Records per second per task (-1: unlimited).",
            )
            .define("batch.size", ConfigType.INT, 500, at_least(1), Importance.LOW, "Records per poll.")
        )

    def version(self) -> str:
        return "odradek"

    def start(self, props: Mapping[str, str]) -> None:
        self.props = {k: str(v) for k, v in self.config_def().parse(props).items()}

    def task_class(self) -> type[Task]:
        return VerifiableSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{**self.props, "id": str(i)} for i in range(max_tasks)]

    def stop(self) -> None:
        return None

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport | None:
        return ExactlyOnceSupport.SUPPORTED

    def alter_offsets(self, props: Mapping[str, str], offsets: Mapping[object, object]) -> bool:
        return True


class VerifiableSourceTask(SourceTask):
    def start(self, props: Mapping[str, str]) -> None:
        self.name = props.get("name", "")
        self.topic = props["topic"]
        self.id = int(props["id"])
        self.throughput = int(props.get("throughput", "-1"))
        self.batch_size = int(props.get("batch.size", "500"))
        self.partition = {"id": self.id}
        stored = self.context.offset_storage_reader().offset(self.partition)
        self.seqno = int(stored["seqno"]) + 1 if stored and "seqno" in stored else 0
        self.started = time.monotonic()
        self.sent = 0

    def poll(self) -> Sequence[SourceRecord] | None:
        count = self.batch_size
        if self.throughput > 0:
            allowed = int((time.monotonic() - self.started) * self.throughput) - self.sent
            if allowed <= 0:
                time.sleep(min(0.1, 1 / self.throughput))
                return None
            count = min(count, allowed)
        now = int(time.time() * 1000)
        records = []
        for _ in range(count):
            value = json.dumps(
                {
                    "name": self.name,
                    "task": self.id,
                    "topic": self.topic,
                    "time_ms": now,
                    "seqno": self.seqno,
                },
                separators=(",", ":"),
            )
            records.append(
                SourceRecord(
                    self.topic,
                    None,
                    INT32_SCHEMA,
                    self.id,
                    STRING_SCHEMA,
                    value,
                    None,
                    source_partition=self.partition,
                    source_offset={"seqno": self.seqno},
                )
            )
            self.seqno += 1
        self.sent += count
        return records

    def stop(self) -> None:
        return None
