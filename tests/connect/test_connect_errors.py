"""Bad input never takes the worker down and loses nothing: converter and transform failures go
to the dead letter queue with Kafka's context headers (sinks and sources), an intolerant task
fails and restarts with back-off without committing past the bad record, a hung sink is failed
by its deadline and restarted."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition
from connect_helpers import read_topic, wait_for

from odradek.connect.api.connector import SinkConnector, SinkTask, Task
from odradek.connect.api.errors import ConnectException
from odradek.connect.api.records import SinkRecord
from odradek.connect.runtime.config_records import TargetState
from odradek.connect.runtime.herder import HerderOffsets
from odradek.connect.runtime.task_runner import ConnectorTaskId

ENVELOPE = b'{"schema":{"type":"string","optional":false},"payload":"%s"}'


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(topic, value=value)
    producer.flush(10)


def errors_config(dlq: str) -> dict[str, str]:
    return {
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
        "errors.log.enable": "true",
    }


def test_sink_converter_and_transform_failures_go_to_the_dlq(
    standalone, bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    dlq = topic_name + "-dlq"
    produce(
        bootstrap,
        topic_name,
        [ENVELOPE % b"1", b"not json at all", ENVELOPE % b"2", ENVELOPE % b"x", ENVELOPE % b"3"],
    )
    herder = standalone(**{"value.converter": "org.apache.kafka.connect.json.JsonConverter"})
    herder.put_connector_config(
        "snk",
        {
            "connector.class": "FileStreamSink",
            "file": str(out),
            "topics": topic_name,
            "transforms": "toInt",
            "transforms.toInt.type": "org.apache.kafka.connect.transforms.Cast$Value",
            "transforms.toInt.spec": "int32",
            **errors_config(dlq),
        },
        allow_replace=False,
    )
    wait_for(
        lambda: out.exists() and out.read_text().splitlines() == ["1", "2", "3"], what="good records written"
    )
    dead = read_topic(bootstrap, dlq, 2)
    assert [m.value() for m in dead] == [b"not json at all", ENVELOPE % b"x"]  # the consumed bytes, untouched
    converter_failure, transform_failure = (dict(m.headers()) for m in dead)
    assert converter_failure["__connect.errors.stage"] == b"VALUE_CONVERTER"
    assert converter_failure["__connect.errors.class.name"] == b"org.apache.kafka.connect.json.JsonConverter"
    assert (
        converter_failure["__connect.errors.exception.class.name"]
        == b"org.apache.kafka.connect.errors.DataException"
    )
    assert converter_failure["__connect.errors.offset"] == b"1"
    assert converter_failure["__connect.errors.partition"] == b"0"
    assert transform_failure["__connect.errors.stage"] == b"TRANSFORMATION"
    assert (
        transform_failure["__connect.errors.class.name"] == b"org.apache.kafka.connect.transforms.Cast$Value"
    )
    assert b"could not be cast" in transform_failure["__connect.errors.exception.message"]
    assert transform_failure["__connect.errors.task.id"] == b"0"
    assert herder.connector_status("snk")["tasks"][0]["state"] == "RUNNING"


def test_source_transform_failure_goes_to_the_dlq(
    standalone, bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.txt"
    source.write_text("1\n2\nthree\n4\n")
    dlq = topic_name + "-dlq"
    herder = standalone()
    herder.put_connector_config(
        "src",
        {
            "connector.class": "FileStreamSource",
            "file": str(source),
            "topic": topic_name,
            "transforms": "toInt",
            "transforms.toInt.type": "org.apache.kafka.connect.transforms.Cast$Value",
            "transforms.toInt.spec": "int32",
            **errors_config(dlq),
        },
        allow_replace=False,
    )
    written = read_topic(bootstrap, topic_name, 3)
    assert [m.value() for m in written] == [b"1", b"2", b"4"]
    [dead] = read_topic(bootstrap, dlq, 1)
    assert dead.value() == b'"three"'
    headers = dict(dead.headers())
    assert headers["__connect.errors.stage"] == b"TRANSFORMATION"
    assert headers["__connect.errors.topic"] == topic_name.encode()
    assert headers["__connect.errors.connector.name"] == b"src"


def committed(bootstrap: str, group: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        [tp] = consumer.committed([KafkaTopicPartition(topic, 0)], 10)
        return tp.offset
    finally:
        consumer.close()


def test_intolerant_task_fails_restarts_with_back_off_and_commits_nothing_past_the_bad_record(
    standalone, bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    produce(bootstrap, topic_name, [ENVELOPE % b"a", ENVELOPE % b"b"])
    herder = standalone(**{"value.converter": "org.apache.kafka.connect.json.JsonConverter"})
    herder.put_connector_config(
        "snk",
        {
            "connector.class": "FileStreamSink",
            "file": str(out),
            "topics": topic_name,
            "odradek.restart.backoff.initial.ms": "200",
            "odradek.restart.backoff.max.ms": "400",
        },
        allow_replace=False,
    )
    wait_for(lambda: out.exists() and out.read_text().splitlines() == ["a", "b"], what="good records")
    wait_for(lambda: committed(bootstrap, "connect-snk", topic_name) == 2, what="their offsets committed")
    produce(bootstrap, topic_name, [b"{broken", ENVELOPE % b"c"])
    status = wait_for(
        lambda: (
            (s := herder.connector_status("snk")["tasks"])
            and s[0].get("odradek.restart.attempts", 0) >= 2
            and s[0]
        ),
        what="failed and restarted twice",
    )
    assert "DataException" in status["trace"] and status["worker_id"]
    assert committed(bootstrap, "connect-snk", topic_name) == 2  # never past the bad record at offset 2
    assert out.read_text().splitlines() == ["a", "b"]
    assert herder.connector_status("snk")["connector"]["state"] == "RUNNING"  # the worker is fine
    # skipping the bad record by hand (KIP-875) lets the task through: stop, move the offset, resume
    herder.set_target_state("snk", TargetState.STOPPED)
    wait_for(lambda: herder.connector_info("snk")["tasks"] == [], what="stopped")
    offsets = HerderOffsets(herder)
    wait_for(lambda: _alter(offsets, topic_name), what="offset altered (group empty)")
    herder.set_target_state("snk", TargetState.STARTED)
    wait_for(lambda: out.read_text().splitlines()[-1:] == ["c"], what="the record after the bad one")


def _alter(offsets: HerderOffsets, topic: str) -> bool:
    try:
        offsets.alter(
            "snk",
            {
                "offsets": [
                    {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 3}}
                ]
            },
        )
        return True
    except ConnectException:
        return False


class HangingSink(SinkConnector):
    """Hangs in put() while the file `hang.file` exists; appends what it delivered to `out.file`
    (files, since the task runs in a process of its own)."""

    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[Task]:
        return HangingTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        return None


class HangingTask(SinkTask):
    def start(self, props: Mapping[str, str]) -> None:
        self.hang = Path(props["hang.file"])
        self.out = Path(props["out.file"])

    def put(self, records: Sequence[SinkRecord]) -> None:
        while self.hang.exists():
            time.sleep(0.05)
        with self.out.open("a") as out:
            out.write("".join(f"{r.value}\n" for r in records))

    def stop(self) -> None:
        return None


def test_a_hung_sink_is_killed_by_its_deadline_and_restarted(
    standalone, bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    hang, out = tmp_path / "hang", tmp_path / "out.txt"
    hang.touch()
    produce(bootstrap, topic_name, [json.dumps(i).encode() for i in range(5)])
    herder = standalone(
        **{
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
        }
    )
    herder.put_connector_config(
        "hang",
        {
            "connector.class": f"{__name__}.HangingSink",
            "topics": topic_name,
            "hang.file": str(hang),
            "out.file": str(out),
            "odradek.task.hung.timeout.ms": "1000",
            "odradek.restart.backoff.initial.ms": "300",
            "odradek.restart.backoff.max.ms": "600",
        },
        allow_replace=False,
    )
    task = ConnectorTaskId("hang", 0)
    first = wait_for(lambda: herder.tasks.get(task), what="task started")
    pid = first.pid
    status = wait_for(
        lambda: (
            (t := herder.connector_status("hang")["tasks"])
            and "hung in put()" in (t[0].get("trace") or "")
            and t[0]
        ),
        what="hung task failed",
    )
    assert status["state"] in ("FAILED", "RUNNING")
    # killed for real: the hung process is gone, not abandoned
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or "Z" in _proc_state(pid), what="hung process gone")
    assert herder.connector_status("hang")["tasks"][0].get("odradek.restart.attempts", 1) >= 1
    hang.unlink()
    wait_for(
        lambda: out.exists() and sorted(set(out.read_text().split())) == ["0", "1", "2", "3", "4"],
        what="records delivered after restart",
    )
    wait_for(lambda: herder.connector_status("hang")["tasks"][0]["state"] == "RUNNING", what="running again")


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
