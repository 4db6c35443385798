"""The Kafka-to-Kafka replicator between two odradek brokers: topics by regex, partitions and
order kept, keys/values/headers/timestamps byte for byte, consumer-group offsets translated
through MM2's offset syncs and checkpoints, and still after a restart with nothing new to copy."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from connect_helpers import read_topic, wait_for

from odradek.connect.connectors.mirror_formats import Checkpoint, OffsetSync


def test_replicates_records_and_translates_group_offsets(
    standalone, broker_factory, bootstrap: str, topic_name: str
) -> None:
    source = broker_factory()
    source_admin = AdminClient({"bootstrap.servers": source.bootstrap})
    source_admin.create_topics([NewTopic(topic_name, 2, 1)])[topic_name].result(10)
    producer = Producer({"bootstrap.servers": source.bootstrap})
    sent = []
    for i in range(40):
        record = dict(
            key=f"k{i}".encode(),
            value=bytes([i]) * 100,
            partition=i % 2,
            headers=[("trace", f"t{i}".encode()), ("empty", b"")],
            timestamp=1_600_000_000_000 + i,
        )
        producer.produce(topic_name, **record)
        sent.append(record)
    producer.flush(10)
    consumer = Consumer(
        {"bootstrap.servers": source.bootstrap, "group.id": "billing", "enable.auto.commit": False}
    )
    consumer.commit(
        offsets=[KafkaTopicPartition(topic_name, 0, 10), KafkaTopicPartition(topic_name, 1, 15)],
        asynchronous=False,
    )
    consumer.close()

    herder = standalone()
    herder.put_connector_config(
        "mirror",
        {
            "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector",
            "source.cluster.alias": "east",
            "source.cluster.bootstrap.servers": source.bootstrap,
            "target.cluster.bootstrap.servers": bootstrap,
            "topics": topic_name + ".*",
            "tasks.max": "2",
            "sync.group.offsets.interval.seconds": "1",
            "groups": "billing|later",
            "offset.lag.max": "0",  # a sync per record: translation is exact
        },
        allow_replace=False,
    )
    target_topic = f"east.{topic_name}"
    copied = read_topic(bootstrap, target_topic, 40)
    assert len(copied) == 40
    for partition in (0, 1):
        want = [r for r in sent if r["partition"] == partition]
        got = [m for m in copied if m.partition() == partition]
        assert [(m.key(), m.value(), m.headers(), m.timestamp()[1]) for m in got] == [
            (r["key"], r["value"], r["headers"], r["timestamp"]) for r in want
        ]
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(target_topic, timeout=10)
    assert len(metadata.topics[target_topic].partitions) == 2

    def translated() -> dict[int, int]:
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "billing"})
        try:
            committed = c.committed(
                [KafkaTopicPartition(target_topic, 0), KafkaTopicPartition(target_topic, 1)], 10
            )
        finally:
            c.close()
        return {tp.partition: tp.offset for tp in committed if tp.offset >= 0}

    assert wait_for(lambda: translated() == {0: 10, 1: 15} and translated(), timeout=30, what="group offsets")
    status = herder.connector_status("mirror")
    assert [t["state"] for t in status["tasks"]] == ["RUNNING", "RUNNING"]
    # MM2's records: offset syncs on the source cluster, checkpoints on the target
    syncs = [
        OffsetSync.parse(m.key(), m.value())
        for m in read_topic(source.bootstrap, "mm2-offset-syncs.target.internal", 40)
    ]
    assert {(s.topic, s.partition, s.upstream_offset) for s in syncs} == {
        (topic_name, r["partition"], i // 2) for i, r in enumerate(sent)
    }
    checkpoints = [
        Checkpoint.parse(m.key(), m.value()) for m in read_topic(bootstrap, "east.checkpoints.internal", 2)
    ]
    assert {(c.group, c.topic, c.partition, c.upstream_offset, c.downstream_offset) for c in checkpoints} >= {
        ("billing", target_topic, 0, 10, 10),
        ("billing", target_topic, 1, 15, 15),
    }

    # restarted with nothing new to copy: the offset syncs are read back, a new group translates
    consumer = Consumer(
        {"bootstrap.servers": source.bootstrap, "group.id": "later", "enable.auto.commit": False}
    )
    consumer.commit(offsets=[KafkaTopicPartition(topic_name, 1, 7)], asynchronous=False)
    consumer.close()
    herder.restart_connector("mirror", include_tasks=True, only_failed=False)

    def later() -> dict[int, int]:
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "later"})
        try:
            committed = c.committed([KafkaTopicPartition(target_topic, 1)], 10)
        finally:
            c.close()
        return {tp.partition: tp.offset for tp in committed if tp.offset >= 0}

    assert wait_for(lambda: later() == {1: 7}, timeout=30, what="group translated after a restart")
