"""sarama 1.22 (Go, Debian's golang-github-shopify-sarama-dev) against a real broker, as a client
family of its own; the driver is `sarama/main.go` (`sarama_client.py` builds it offline).

sarama 1.22 speaks Kafka 2.1's versions: Produce v3, Fetch v4, ListOffsets v1, JoinGroup v1,
OffsetCommit v2 (only because the driver sets a retention: without one it sends v1, which Kafka 4
removed and odradek refuses too). It has an idempotent producer but no transactions; its consumer
reads at read_committed. It found two defects, each with its regression test here: its batches'
maxTimestamp of -1 hid records from offsets-by-time, and zstd on Produce v3 was accepted.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from compat_clients import Out, Rec, consume_confluent, produce_confluent, sample_records
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from sarama_client import sarama

from odradek.protocol import compression
from odradek.protocol.records import iter_headers
from odradek.testing.lying_batches import fetch_raw

pytestmark = pytest.mark.compat

CODECS = ["none", "gzip", "snappy", "lz4"]  # sarama 1.22 sends zstd on Produce v3: refused, see below


def create(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.create_topics([NewTopic(topic, 1, 1)]).values()
    future.result(30)


@pytest.fixture
def topic(bootstrap: str, topic_name: str) -> str:
    create(bootstrap, topic_name)
    return topic_name


def unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def as_rec(r: dict[str, Any]) -> Rec:
    headers = tuple((bytes.fromhex(k).decode(), unhex(v)) for k, v in r["headers"])
    return Rec(r["partition"], r["offset"], unhex(r["key"]), unhex(r["value"]), headers, r["timestamp"])


def stored(bootstrap: str, topic: str) -> list[tuple[str, int, int, int]]:
    """(codec, maxTimestamp, producer id, base sequence) of each stored batch."""
    error, data = fetch_raw(bootstrap, topic)
    assert error == 0
    return [
        (compression.NAMES[h.compression], h.max_timestamp, h.producer_id, h.base_sequence)
        for _, h in iter_headers(data)
    ]


def offset_for_time(bootstrap: str, topic: str, timestamp: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "times"})
    try:
        [found] = consumer.offsets_for_times([TopicPartition(topic, 0, timestamp)], timeout=20)
        return int(found.offset)
    finally:
        consumer.close()


@pytest.mark.parametrize("codec", CODECS)
def test_produce_keys_headers_and_codecs_read_by_librdkafka(bootstrap: str, topic: str, codec: str) -> None:
    ts = int(time.time() * 1000) - 1000
    answer = sarama(bootstrap, "produce", "-topic", topic, "-n", "20", "-codec", codec, "-ts", str(ts))
    assert answer == {"offsets": list(range(20))}
    # one batch, in the codec asked for, its maxTimestamp recomputed (sarama writes -1; and a base
    # sequence of 0 without a producer id, which nothing forbids)
    assert stored(bootstrap, topic) == [(codec, ts + 19, -1, 0)]
    got = consume_confluent(bootstrap, topic, 20)
    assert [(r.key, r.value, r.headers, r.timestamp) for r in got] == [
        (f"key-{i}".encode(), f"value-{i}".encode(), (("h", str(i).encode()),), ts + i) for i in range(20)
    ]


def test_regression_offsets_by_time_find_saramas_records(bootstrap: str, topic: str) -> None:
    """Defect 1: sarama's batches carry maxTimestamp -1; ListOffsets by time answered -1."""
    ts = int(time.time() * 1000) - 60_000
    sarama(bootstrap, "produce", "-topic", topic, "-n", "10", "-ts", str(ts))
    assert sarama(bootstrap, "offset", "-topic", topic, "-time", str(ts - 1)) == {"offset": 0}
    assert sarama(bootstrap, "offset", "-topic", topic, "-time", str(ts + 5)) == {"offset": 5}
    assert offset_for_time(bootstrap, topic, ts - 1) == 0  # every reader: librdkafka too
    assert offset_for_time(bootstrap, topic, ts + 9) == 9
    assert sarama(bootstrap, "offset", "-topic", topic, "-time", "-2") == {"offset": 0}  # earliest
    assert sarama(bootstrap, "offset", "-topic", topic, "-time", "-1") == {"offset": 10}  # latest


def test_regression_zstd_on_produce_v3_is_refused(bootstrap: str, topic: str) -> None:
    """Defect 2: sarama 1.22 sends zstd on Produce v3; Kafka answers UNSUPPORTED_COMPRESSION_TYPE."""
    answer = sarama(bootstrap, "produce", "-topic", topic, "-n", "5", "-codec", "zstd")
    assert "compression type" in answer["error"]  # sarama's text for error 76
    assert stored(bootstrap, topic) == []


@pytest.mark.parametrize("codec", CODECS)
def test_consume_librdkafkas_records_byte_for_byte(bootstrap: str, topic: str, codec: str) -> None:
    sent = sample_records(12)
    placed = produce_confluent(bootstrap, topic, sent, **{"compression.type": codec})
    got = sarama(bootstrap, "consume", "-topic", topic, "-n", "12")
    assert "error" not in got, got
    assert [as_rec(r) for r in got["records"]] == [
        Rec(p, o, s.key, s.value, s.headers, s.timestamp) for s, (p, o) in zip(sent, placed, strict=True)
    ]


def test_zstd_data_is_not_handed_to_fetch_v4(bootstrap: str, topic: str) -> None:
    records = [Out(f"k{i}".encode(), b"compressible " * 100) for i in range(3)]
    produce_confluent(bootstrap, topic, records, **{"compression.type": "zstd", "linger.ms": 100})
    assert {h[0] for h in stored(bootstrap, topic)} == {"zstd"}
    got = sarama(bootstrap, "consume", "-topic", topic, "-n", "3")
    assert got.get("records", []) == [] and "compression type" in got["error"], got


def test_idempotent_producer(bootstrap: str, topic: str) -> None:
    assert sarama(bootstrap, "produce", "-topic", topic, "-n", "5", "-idempotent") == {
        "offsets": [0, 1, 2, 3, 4]
    }
    assert sarama(bootstrap, "produce", "-topic", topic, "-n", "3", "-idempotent") == {"offsets": [5, 6, 7]}
    batches = stored(bootstrap, topic)
    assert [seq for *_, seq in batches] == [0, 0]  # a new producer id each run, sequences from 0
    assert all(pid >= 0 for _, _, pid, _ in batches)
    assert len(consume_confluent(bootstrap, topic, 8)) == 8


def test_consumer_group_commits_what_it_read(bootstrap: str, topic: str) -> None:
    sarama(bootstrap, "produce", "-topic", topic, "-n", "10")
    group = f"{topic}-g"
    got = sarama(bootstrap, "group", "-topic", topic, "-group", group, "-n", "10")
    assert "error" not in got, got
    assert [r["offset"] for r in got["records"]] == list(range(10))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    from confluent_kafka import ConsumerGroupTopicPartitions

    [future] = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)]).values()
    offsets = {(tp.topic, tp.partition): tp.offset for tp in future.result(30).topic_partitions}
    assert offsets == {(topic, 0): 10}


def test_read_committed_skips_librdkafkas_aborted_transaction(bootstrap: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"{topic}-txn"})
    producer.init_transactions(30)
    for value, commit in ((b"kept-1", True), (b"dropped", False), (b"kept-2", True)):
        producer.begin_transaction()
        producer.produce(topic, value=value, partition=0)
        producer.flush(30)  # on the broker before the abort (an abort purges what is still queued)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    committed = sarama(bootstrap, "consume", "-topic", topic, "-n", "2", "-committed")
    assert [unhex(r["value"]) for r in committed["records"]] == [b"kept-1", b"kept-2"]
    everything = sarama(bootstrap, "consume", "-topic", topic, "-n", "3")
    assert [unhex(r["value"]) for r in everything["records"]] == [b"kept-1", b"dropped", b"kept-2"]
