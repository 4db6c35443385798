"""The `.log` descriptor bound (`odradek.log.max.open.files`) under a real client writing to more
partitions than the bound: every append past the bound closes one segment's descriptor and opens
another, and what was written reads back byte for byte, also after `kill -9` and a restart."""

from __future__ import annotations

import os
from collections.abc import Callable

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.testing.broker_process import BrokerProcess

BOUND = 8
PARTITIONS = 40
ROUNDS = 3


def open_log_files(broker: BrokerProcess, topic: str) -> int:
    """The broker's open descriptors on `topic`'s segment files (not the metadata log's)."""
    assert broker.proc is not None
    fd_dir = f"/proc/{broker.proc.pid}/fd"
    count = 0
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(f"{fd_dir}/{name}")
        except OSError:  # closed since the listing
            continue
        count += f"/{topic}-" in target and target.endswith(".log")
    return count


def value(round_: int, partition: int) -> bytes:
    return b"%d/%d:" % (round_, partition) + bytes(range(256)) * (1 + partition % 3)


def read_all(bootstrap: str, topic: str) -> dict[int, list[bytes]]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    got: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
    try:
        remaining = PARTITIONS * ROUNDS
        while remaining:
            msg = consumer.poll(10)
            assert msg is not None, f"{remaining} records not read back"
            assert msg.error() is None, msg.error()
            got[msg.partition()].append(msg.value())
            remaining -= 1
    finally:
        consumer.close()
    return got


def test_more_partitions_than_descriptors_written_and_read_back_after_kill_9(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    broker = broker_factory({"odradek.log.max.open.files": str(BOUND)})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic_name, PARTITIONS, 1)])[topic_name].result(30)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    most_open = 0
    for round_ in range(ROUNDS):
        for partition in range(PARTITIONS):
            producer.produce(topic_name, value(round_, partition), partition=partition)
            producer.poll(0)
            most_open = max(most_open, open_log_files(broker, topic_name))
        assert producer.flush(30) == 0
        most_open = max(most_open, open_log_files(broker, topic_name))
    # every partition was appended to past the bound: at least one descriptor was open, never more
    # than the bound
    assert 1 <= most_open <= BOUND
    expected = {p: [value(r, p) for r in range(ROUNDS)] for p in range(PARTITIONS)}
    assert read_all(broker.bootstrap, topic_name) == expected
    assert open_log_files(broker, topic_name) <= BOUND

    broker.restart(kill=True)
    assert read_all(broker.bootstrap, topic_name) == expected
    assert open_log_files(broker, topic_name) <= BOUND
