"""Topic configs changed through IncrementalAlterConfigs change what the broker does, at once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from admin_clients import error_of
from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from odradek.model.errors import ErrorCode
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def create(admin: AdminClient, topic: str, **configs: str) -> None:
    assert error_of(admin.create_topics([NewTopic(topic, 1, 1, config=configs)])[topic]) == ErrorCode.NO_ERROR


def set_configs(admin: AdminClient, topic: str, **configs: str) -> None:
    entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()]
    futures = admin.incremental_alter_configs(
        [ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)]
    )
    (future,) = futures.values()
    assert error_of(future) == ErrorCode.NO_ERROR


def produce(bootstrap: str, topic: str, values: list[bytes], **config: object) -> list[KafkaError | None]:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, **config})
    errors: list[KafkaError | None] = []
    for value in values:
        producer.produce(topic, value, partition=0, on_delivery=lambda err, _m: errors.append(err))
        producer.poll(0)
    assert producer.flush(30) == 0
    return errors


def consume_all(bootstrap: str, topic: str, count: int) -> list[Message]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen: list[Message] = []
    deadline = time.monotonic() + 20
    while len(seen) < count and time.monotonic() < deadline:
        seen += [m for m in consumer.consume(count, timeout=1) if m.error() is None]
    consumer.close()
    return seen


def earliest_and_latest(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
    consumer.close()
    return low, high


def segment_files(broker: BrokerProcess, topic: str) -> list[str]:
    return sorted(p.name for p in (broker.data_dir / f"{topic}-0").glob("*.log"))


def test_max_message_bytes(admin: AdminClient, bootstrap: str, topic_name: str) -> None:
    create(admin, topic_name)
    assert produce(bootstrap, topic_name, [b"x" * 5000]) == [None]
    set_configs(admin, topic_name, **{"max.message.bytes": "1000"})
    (error,) = produce(bootstrap, topic_name, [b"x" * 5000])
    assert error is not None and error.code() == ErrorCode.MESSAGE_TOO_LARGE
    assert produce(bootstrap, topic_name, [b"small"]) == [None]


def test_log_append_time(admin: AdminClient, bootstrap: str, topic_name: str) -> None:
    create(admin, topic_name)
    producer_ts = 1_000_000_000_000  # 2001
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic_name, b"before", partition=0, timestamp=producer_ts)
    assert producer.flush(10) == 0
    set_configs(admin, topic_name, **{"message.timestamp.type": "LogAppendTime"})
    before_append = int(time.time() * 1000)
    producer.produce(topic_name, b"after", partition=0, timestamp=producer_ts)
    assert producer.flush(10) == 0
    first, second = consume_all(bootstrap, topic_name, 2)
    assert first.timestamp() == (TIMESTAMP_CREATE_TIME, producer_ts)
    kind, stamped = second.timestamp()
    assert kind == TIMESTAMP_LOG_APPEND_TIME
    assert before_append - 1000 <= stamped <= int(time.time() * 1000) + 1000


def test_segment_bytes_rolls_segments(
    admin: AdminClient, bootstrap: str, topic_name: str, broker: BrokerProcess | None
) -> None:
    if broker is None:
        pytest.skip("needs the broker's data directory")
    create(admin, topic_name)
    set_configs(admin, topic_name, **{"segment.bytes": str(1024 * 1024)})
    value = b"v" * 200_000
    assert produce(bootstrap, topic_name, [value] * 16, **{"batch.size": 250_000}) == [None] * 16
    # 16 batches of ~200 kB: five fit in a 1 MiB segment.
    assert len(segment_files(broker, topic_name)) == 4


def test_segment_ms_rolls_segments(
    admin: AdminClient, bootstrap: str, topic_name: str, broker: BrokerProcess | None
) -> None:
    if broker is None:
        pytest.skip("needs the broker's data directory")
    create(admin, topic_name)
    assert produce(bootstrap, topic_name, [b"one"]) == [None]
    set_configs(admin, topic_name, **{"segment.ms": "50"})
    time.sleep(0.1)
    assert produce(bootstrap, topic_name, [b"two"]) == [None]
    assert segment_files(broker, topic_name) == ["00000000000000000000.log", "00000000000000000001.log"]


def test_cleanup_policy_is_stored_and_honoured(admin: AdminClient, bootstrap: str, topic_name: str) -> None:
    create(admin, topic_name)
    assert produce(bootstrap, topic_name, [b"a", b"b"]) == [None, None]
    set_configs(admin, topic_name, **{"cleanup.policy": "compact"})
    (entries,) = [f.result() for f in admin.describe_configs([ConfigResource("topic", topic_name)]).values()]
    assert entries["cleanup.policy"].value == "compact"
    # DeleteRecords is refused on a topic without the delete policy.
    (future,) = admin.delete_records([TopicPartition(topic_name, 0, 1)]).values()
    assert error_of(future) == ErrorCode.POLICY_VIOLATION


def test_min_insync_replicas(admin: AdminClient, bootstrap: str, topic_name: str) -> None:
    create(admin, topic_name)
    assert produce(bootstrap, topic_name, [b"ok"], acks="all") == [None]
    set_configs(admin, topic_name, **{"min.insync.replicas": "2"})
    (error,) = produce(bootstrap, topic_name, [b"refused"], acks="all", retries=0)
    assert error is not None and error.code() == ErrorCode.NOT_ENOUGH_REPLICAS
    assert produce(bootstrap, topic_name, [b"acks=1 is fine"], acks=1) == [None]
    assert earliest_and_latest(bootstrap, topic_name) == (0, 2)


@pytest.fixture
def fast_retention_broker(broker_factory: Callable[..., BrokerProcess]) -> BrokerProcess:
    return broker_factory({"log.retention.check.interval.ms": "100", "num.partitions": "1"})


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_retention_ms_deletes_old_segments(fast_retention_broker: BrokerProcess) -> None:
    proc = fast_retention_broker
    admin = AdminClient({"bootstrap.servers": proc.bootstrap})
    create(admin, "aging", **{"segment.ms": "50"})
    assert produce(proc.bootstrap, "aging", [b"old-1", b"old-2"]) == [None, None]
    time.sleep(0.1)
    assert produce(proc.bootstrap, "aging", [b"new"]) == [None]  # rolls: the old records are sealed
    assert earliest_and_latest(proc.bootstrap, "aging") == (0, 3)
    set_configs(admin, "aging", **{"retention.ms": "1000"})
    assert wait_for(lambda: earliest_and_latest(proc.bootstrap, "aging")[0] >= 2)
    assert "00000000000000000000.log" not in segment_files(proc, "aging")


def test_retention_bytes_deletes_old_segments(fast_retention_broker: BrokerProcess) -> None:
    proc = fast_retention_broker
    admin = AdminClient({"bootstrap.servers": proc.bootstrap})
    create(admin, "sized", **{"segment.bytes": str(1024 * 1024)})
    value = b"v" * 200_000
    assert produce(proc.bootstrap, "sized", [value] * 16, **{"batch.size": 250_000}) == [None] * 16
    assert len(segment_files(proc, "sized")) == 4
    set_configs(admin, "sized", **{"retention.bytes": str(1024 * 1024)})
    # Whole sealed segments go while the rest exceeds 1 MiB: the first two (10 records).
    assert wait_for(lambda: earliest_and_latest(proc.bootstrap, "sized")[0] == 10)
    assert len(segment_files(proc, "sized")) == 2
