"""A stateless application's producer reports only failed deliveries (no Python call per delivered
record): a delivery the broker refuses still reaches the production exception handler, CONTINUE goes
on and commits, FAIL stops the application without committing past the record whose output failed."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition
from streams_kafka import Kafka, wait_for

from odradek.streams import StreamsBuilder
from odradek.streams.runtime.kafka_streams import KafkaStreams, State

INVALID_TOPIC = "invalid topic!"  # the broker refuses the name: the delivery report carries the error


def _committed(kafka: Kafka, group: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": group})
    try:
        return int(consumer.committed([TopicPartition(topic, 0)], 10)[0].offset)
    finally:
        consumer.close()


def _start(kafka: Kafka, src: str, out: str, handler: str) -> tuple[KafkaStreams, str]:
    b = StreamsBuilder()
    records = b.stream(src)
    records.filter(lambda k, v: v != "bad").map_values(str.upper).to(out)
    records.filter(lambda k, v: v == "bad").to(INVALID_TOPIC)
    config = kafka.config(f"delivery-{handler}", **{"production.exception.handler": handler})
    streams = KafkaStreams(b.build(), config)
    streams.start()
    return streams, config["application.id"]


def test_failed_delivery_reaches_the_production_handler_without_per_record_reports(kafka: Kafka) -> None:
    src, out = kafka.topic("delivery-in"), kafka.topic("delivery-out")
    kafka.produce(src, [(b"k", b"a", 1), (b"k", b"bad", 2), (b"k", b"c", 3)])

    streams, group = _start(kafka, src, out, "continue")
    try:
        wait_for(lambda: streams.state is State.RUNNING and bool(streams.threads), what="running")
        wait_for(lambda: _committed(kafka, group, src) == 3, what="commit past the failed delivery")
        assert not streams.threads[0].collector.report_successes  # the error-only mode was in use
        assert streams.error is None
    finally:
        streams.close()
    values = [m.value() for m in kafka.read(out, lambda m: len(m) >= 2, timeout_s=10)]
    assert values == [b"A", b"C"]

    streams, group = _start(kafka, src, kafka.topic("delivery-out2"), "fail")
    try:
        wait_for(lambda: streams.state is State.ERROR, what="the FAIL handler stopping the application")
        assert "production exception handler said FAIL" in str(streams.error)
    finally:
        streams.close()
    assert _committed(kafka, group, src) <= 1  # never past "bad" (offset 1)
