"""librdkafka (confluent-kafka) against the broker: what it writes comes back exactly."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest
from compat_clients import (
    CODECS,
    Out,
    assert_librdkafka_compressed,
    consume_confluent,
    consumer_confluent,
    expected_recs,
    produce_confluent,
    sample_records,
)
from confluent_kafka import OFFSET_END, TIMESTAMP_LOG_APPEND_TIME, Producer, TopicPartition

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


@pytest.mark.parametrize("codec", CODECS)
def test_records_round_trip_exactly(bootstrap: str, topic_name: str, codec: str) -> None:
    records = sample_records(300)
    placed = produce_confluent(bootstrap, topic_name, records, **{"compression.type": codec, "acks": "all"})
    assert placed == [(0, i) for i in range(300)]
    assert_librdkafka_compressed(bootstrap, topic_name, codec)
    assert consume_confluent(bootstrap, topic_name, 300) == expected_recs(records, placed)


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_acks(bootstrap: str, topic_name: str, acks: str) -> None:
    records = [Out(f"k{i}".encode(), f"v{i}".encode(), timestamp=1_700_000_000_000 + i) for i in range(500)]
    placed = produce_confluent(bootstrap, topic_name, records, acks=acks)
    assert len(placed) == 500
    if acks != "0":  # with acks=0 there is no answer, so no offsets
        assert placed == [(0, i) for i in range(500)]
    got = consume_confluent(bootstrap, topic_name, 500)
    assert got == expected_recs(records, [(0, i) for i in range(500)])


def test_batches_of_many_sizes(bootstrap: str, topic_name: str) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 50, "batch.num.messages": 10000}
    )
    sizes = [1, 2, 3, 7, 64, 100, 1000, 5000]
    sent: list[bytes] = []
    for size in sizes:
        for i in range(size):
            value = f"{size}:{i}:".encode() + b"x" * (i % 50)
            sent.append(value)
            producer.produce(topic_name, value=value, partition=0)
        assert producer.flush(30) == 0  # one flush per group: groups land in separate batches
    got = consume_confluent(bootstrap, topic_name, len(sent))
    assert [r.value for r in got] == sent
    assert [r.offset for r in got] == list(range(len(sent)))


@pytest.mark.parametrize("codec", ["none", "zstd"])
def test_one_megabyte_message(bootstrap: str, topic_name: str, codec: str) -> None:
    big = bytes(range(256)) * 3900  # 998,400 bytes: under librdkafka's default message.max.bytes
    records = [Out(b"small", b"before"), Out(b"big", big), Out(b"small", b"after")]
    placed = produce_confluent(bootstrap, topic_name, records, **{"compression.type": codec, "linger.ms": 0})
    got = consume_confluent(bootstrap, topic_name, 3, **{"max.partition.fetch.bytes": 100_000})
    assert [(r.offset, r.key, r.value) for r in got] == [
        (o, r.key, r.value) for (_, o), r in zip(placed, records, strict=True)
    ]


@pytest.fixture
def three_partitions(broker_factory: Callable[..., BrokerProcess]) -> str:
    return broker_factory({"num.partitions": "3"}).bootstrap


def test_order_is_kept_per_partition(three_partitions: str, topic_name: str) -> None:
    bootstrap = three_partitions
    n = 3000
    records = [Out(f"key-{i % 17}".encode(), f"{i}".encode()) for i in range(n)]
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2, "batch.num.messages": 50}
    )
    placed: dict[int, list[tuple[int, bytes]]] = {0: [], 1: [], 2: []}

    def report(err: object, msg: object) -> None:
        assert err is None
        placed[msg.partition()].append((msg.offset(), msg.value()))  # type: ignore[attr-defined]

    for r in records:
        producer.produce(topic_name, key=r.key, value=r.value, on_delivery=report)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert all(placed.values()), "keys should spread over the three partitions"
    got = consume_confluent(bootstrap, topic_name, n, partitions=(0, 1, 2))
    for partition, acked in placed.items():
        mine = [(r.offset, r.value) for r in got if r.partition == partition]
        assert mine == sorted(acked)
        assert [o for o, _ in mine] == list(range(len(mine)))
        # the producer's order within a partition is the log's order
        seq = [int(v) for _, v in mine if v is not None]
        assert seq == sorted(seq)
        # a key always lands in the same partition
    partition_of: dict[bytes | None, int] = {}
    for r in got:
        assert partition_of.setdefault(r.key, r.partition) == r.partition


def test_long_poll_wakes_on_new_data(bootstrap: str, topic_name: str) -> None:
    produce_confluent(bootstrap, topic_name, [Out(None, b"seed")])
    consumer = consumer_confluent(bootstrap, **{"fetch.wait.max.ms": 5000, "fetch.min.bytes": 1})
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": "1"})
    latencies = []
    try:
        consumer.assign([TopicPartition(topic_name, 0, OFFSET_END)])
        assert consumer.consume(10, timeout=1.0) == []  # now parked in a long poll at the end
        for i in range(5):
            time.sleep(0.3)  # let the consumer's next fetch park
            sent = time.monotonic()
            producer.produce(topic_name, value=f"wake-{i}".encode(), partition=0)
            producer.poll(0)
            msgs = consumer.consume(1, timeout=6)
            latencies.append(time.monotonic() - sent)
            assert [m.value() for m in msgs] == [f"wake-{i}".encode()]
        producer.flush(5)
    finally:
        consumer.close()
    # With fetch.wait.max.ms=5000, only a wake-up on append explains sub-second delivery.
    assert statistics.median(latencies) < 0.2, latencies
    assert max(latencies) < 2.5, latencies


@pytest.mark.parametrize("codec", CODECS)
def test_list_offsets_earliest_latest_and_by_time(bootstrap: str, topic_name: str, codec: str) -> None:
    timestamps = [1000, 3000, 2000, 5000, 4000, 5000, 9000]
    records = [Out(None, f"value {i} ".encode() * 20, timestamp=ts) for i, ts in enumerate(timestamps)]
    # three batches: timestamps are looked up across batch boundaries, inside compressed batches
    conf = {"linger.ms": 0, "acks": "all", "compression.type": codec}
    produce_confluent(bootstrap, topic_name, records[:3], **conf)
    produce_confluent(bootstrap, topic_name, records[3:5], **conf)
    produce_confluent(bootstrap, topic_name, records[5:], **conf)
    assert_librdkafka_compressed(bootstrap, topic_name, codec)
    consumer = consumer_confluent(bootstrap)
    try:
        tp = TopicPartition(topic_name, 0)
        assert consumer.get_watermark_offsets(tp, timeout=10, cached=False) == (0, 7)
        queries = {0: 0, 1000: 0, 1001: 1, 2000: 1, 3001: 3, 5000: 3, 5001: 6, 9000: 6, 9001: -1}
        for ts, offset in queries.items():
            [found] = consumer.offsets_for_times([TopicPartition(topic_name, 0, ts)], timeout=10)
            assert (ts, found.offset, found.error) == (ts, offset, None)
    finally:
        consumer.close()


def test_log_append_time(broker_factory: Callable[..., BrokerProcess]) -> None:
    bootstrap = broker_factory({"log.message.timestamp.type": "LogAppendTime"}).bootstrap
    before = int(time.time() * 1000)
    records = [Out(f"k{i}".encode(), f"v{i}".encode(), timestamp=1000 + i) for i in range(50)]
    produce_confluent(bootstrap, "appended", records, **{"compression.type": "gzip"})
    after = int(time.time() * 1000)
    consumer = consumer_confluent(bootstrap)
    try:
        consumer.assign([TopicPartition("appended", 0, 0)])
        got = []
        deadline = time.monotonic() + 10
        while len(got) < 50 and time.monotonic() < deadline:
            got += [m for m in consumer.consume(50 - len(got), timeout=0.5) if m.error() is None]
    finally:
        consumer.close()
    assert [m.value() for m in got] == [r.value for r in records]
    for m in got:
        kind, ts = m.timestamp()
        assert kind == TIMESTAMP_LOG_APPEND_TIME
        assert before <= ts <= after


def test_consumption_across_many_segments(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    # rolls by record time (Kafka's rule): a batch more than log.roll.ms newer than the active
    # segment's first starts a new segment
    broker = broker_factory({"log.roll.ms": "1"})
    bootstrap = broker.bootstrap
    records = [Out(None, f"{i:06d}".encode() * 20) for i in range(3000)]
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    placed: list[tuple[int, int]] = []
    for start in range(0, len(records), 100):
        for r in records[start : start + 100]:
            producer.produce(
                topic_name, value=r.value, on_delivery=lambda e, m: placed.append((m.partition(), m.offset()))
            )
        assert producer.flush(10) == 0
        time.sleep(0.003)  # record timestamps of the next batch are past the segment's by > 1 ms
    segments = list((broker.data_dir / f"{topic_name}-0").glob("*.log"))
    assert len(segments) >= 20
    got = consume_confluent(bootstrap, topic_name, 3000, **{"max.partition.fetch.bytes": 30_000})
    assert [(r.offset, r.value) for r in got] == [
        (o, r.value) for (_, o), r in zip(placed, records, strict=True)
    ]
    consumer = consumer_confluent(bootstrap)
    try:
        assert consumer.get_watermark_offsets(TopicPartition(topic_name, 0), timeout=10, cached=False) == (
            0,
            3000,
        )
    finally:
        consumer.close()
