"""kafkajs 2.2.4 (JavaScript, npm) against a real broker, as a client family of its own; the
driver is `kafkajs/driver.js` (`kafkajs_client.py` runs it).

kafkajs negotiates versions through ApiVersions (Produce v7, Fetch v11, ...): zstd works. Covered:
produce with keys, headers and every codec, read by librdkafka byte for byte; reading librdkafka's
records byte for byte; offsets by time; consumer groups with committed offsets; the idempotent
producer; transactions both ways (kafkajs commits and aborts, librdkafka reads at read_committed;
librdkafka's transactions, kafkajs reads at read_committed).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from compat_clients import CODECS, Rec, consume_confluent, produce_confluent, sample_records
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafkajs_client import kafkajs

from odradek.protocol import compression
from odradek.protocol.records import iter_headers
from odradek.testing.lying_batches import fetch_raw

pytestmark = pytest.mark.compat


@pytest.fixture
def topic(bootstrap: str, topic_name: str) -> str:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.create_topics([NewTopic(topic_name, 1, 1)]).values()
    future.result(30)
    return topic_name


def unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def as_rec(r: dict[str, Any]) -> Rec:
    headers = tuple((bytes.fromhex(k).decode(), unhex(v)) for k, v in r["headers"])
    return Rec(r["partition"], r["offset"], unhex(r["key"]), unhex(r["value"]), headers, r["timestamp"])


def stored_codecs(bootstrap: str, topic: str) -> list[str]:
    error, data = fetch_raw(bootstrap, topic)
    assert error == 0
    return [compression.NAMES[h.compression] for _, h in iter_headers(data)]


@pytest.mark.parametrize("codec", CODECS)
def test_produce_keys_headers_and_codecs_read_by_librdkafka(bootstrap: str, topic: str, codec: str) -> None:
    ts = int(time.time() * 1000) - 1000
    answer = kafkajs(bootstrap, "produce", topic=topic, n=20, codec=codec, ts=ts)
    assert answer == {"offsets": list(range(20))}
    assert stored_codecs(bootstrap, topic) == [codec]
    got = consume_confluent(bootstrap, topic, 20)
    assert [(r.key, r.value, r.headers, r.timestamp) for r in got] == [
        (f"key-{i}".encode(), f"value-{i}".encode(), (("h", str(i).encode()),), ts + i) for i in range(20)
    ]


@pytest.mark.parametrize("codec", CODECS)
def test_consume_librdkafkas_records_byte_for_byte(bootstrap: str, topic: str, codec: str) -> None:
    sent = sample_records(12)
    placed = produce_confluent(bootstrap, topic, sent, **{"compression.type": codec})
    got = kafkajs(bootstrap, "consume", topic=topic, n=12, group=f"{topic}-g")
    assert "error" not in got, got
    # kafkajs hands headers over as an object: repeated keys grouped, order across keys its own
    expected = [
        Rec(p, o, s.key, s.value, s.headers, s.timestamp) for s, (p, o) in zip(sent, placed, strict=True)
    ]
    assert [
        (r.offset, r.key, r.value, r.timestamp, sorted(r.headers, key=repr))
        for r in map(as_rec, got["records"])
    ] == [(r.offset, r.key, r.value, r.timestamp, sorted(r.headers, key=repr)) for r in expected]


def test_offsets_by_time(bootstrap: str, topic: str) -> None:
    ts = int(time.time() * 1000) - 60_000
    kafkajs(bootstrap, "produce", topic=topic, n=10, ts=ts)
    assert kafkajs(bootstrap, "offsets", topic=topic, ts=ts - 1) == {"offset": 0}
    assert kafkajs(bootstrap, "offsets", topic=topic, ts=ts + 5) == {"offset": 5}


def test_consumer_group_commits_what_it_read(bootstrap: str, topic: str) -> None:
    kafkajs(bootstrap, "produce", topic=topic, n=10)
    group = f"{topic}-g"
    got = kafkajs(bootstrap, "consume", topic=topic, n=10, group=group)
    assert [r["offset"] for r in got["records"]] == list(range(10))
    assert kafkajs(bootstrap, "committed", topic=topic, group=group) == {"offset": 10}


def test_idempotent_producer(bootstrap: str, topic: str) -> None:
    assert kafkajs(bootstrap, "produce", topic=topic, n=5, idempotent=True) == {"offsets": [0, 1, 2, 3, 4]}
    _, data = fetch_raw(bootstrap, topic)
    [(pid, seq)] = [(h.producer_id, h.base_sequence) for _, h in iter_headers(data)]
    assert pid >= 0 and seq == 0
    assert len(consume_confluent(bootstrap, topic, 5)) == 5


def test_transactions_read_committed_by_librdkafka(bootstrap: str, topic: str) -> None:
    txn_id = f"{topic}-txn"
    assert kafkajs(bootstrap, "txn", topic=topic, id=txn_id, values=["a", "b"], commit=True) == {"ok": True}
    assert kafkajs(bootstrap, "txn", topic=topic, id=txn_id, values=["dropped"], commit=False) == {"ok": True}
    assert kafkajs(bootstrap, "txn", topic=topic, id=txn_id, values=["c"], commit=True) == {"ok": True}
    committed = consume_confluent(bootstrap, topic, 3, **{"isolation.level": "read_committed"})
    assert [r.value for r in committed] == [b"a", b"b", b"c"]


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
    got = kafkajs(bootstrap, "consume", topic=topic, n=2, group=f"{topic}-g", committed=True)
    assert [unhex(r["value"]) for r in got["records"]] == [b"kept-1", b"kept-2"]
