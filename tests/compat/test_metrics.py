"""The Prometheus endpoint: what a scrape shows after real clients produced and fetched, and after
they deleted a topic."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_after_produce_and_fetch(broker_factory: Callable[..., BrokerProcess]) -> None:
    broker = broker_factory({"odradek.metrics.port": "0"})
    assert broker.metrics_port is not None
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 50})
    for i in range(10):
        producer.produce("metered", value=b"x" * 100, key=str(i).encode())
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "m", "enable.auto.commit": False})
    consumer.assign([TopicPartition("metered", 0, 0)])
    got = 0
    while got < 10:
        got += len([m for m in consumer.consume(10, timeout=10) if m.error() is None])
    samples = scrape(broker.metrics_port)
    consumer.close()

    produce_requests = sum(
        v for k, v in samples.items() if k.startswith('odradek_requests_total{api="PRODUCE"')
    )
    assert produce_requests >= 1
    assert any(k.startswith('odradek_request_seconds_bucket{api="FETCH"') for k in samples)
    assert samples['odradek_log_end_offset{partition="0",topic="metered"}'] == 10
    assert samples['odradek_log_start_offset{partition="0",topic="metered"}'] == 0
    assert samples['odradek_log_size_bytes{partition="0",topic="metered"}'] > 1000
    assert samples['odradek_topic_messages_in_total{topic="metered"}'] == 10
    assert samples['odradek_topic_bytes_in_total{topic="metered"}'] > 1000
    assert samples['odradek_topic_bytes_out_total{topic="metered"}'] > 1000
    assert samples["odradek_open_connections"] >= 1
    assert samples["odradek_request_queue_depth"] >= 0


def test_a_deleted_topic_leaves_the_metrics_and_counts_from_zero_when_created_again(
    broker_factory: Callable[..., BrokerProcess],
) -> None:
    broker = broker_factory({"odradek.metrics.port": "0"})
    assert broker.metrics_port is not None
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})

    def produce(count: int) -> None:
        for _ in range(count):
            producer.produce("doomed", value=b"x" * 100)
        assert producer.flush(30) == 0

    produce(10)
    assert scrape(broker.metrics_port)['odradek_topic_messages_in_total{topic="doomed"}'] == 10
    [deleted] = admin.delete_topics(["doomed"], operation_timeout=10).values()
    deleted.result(15)
    deadline = time.monotonic() + 10
    while any('topic="doomed"' in k for k in scrape(broker.metrics_port)) and time.monotonic() < deadline:
        time.sleep(0.1)  # the broker applies the deletion shortly after the controller answers
    assert [k for k in scrape(broker.metrics_port) if 'topic="doomed"' in k] == []
    [created] = admin.create_topics([NewTopic("doomed", 1, 1)], operation_timeout=10).values()
    created.result(15)
    produce(3)
    assert scrape(broker.metrics_port)['odradek_topic_messages_in_total{topic="doomed"}'] == 3


def test_unknown_path_is_404(broker_factory: Callable[..., BrokerProcess]) -> None:
    broker = broker_factory({"odradek.metrics.port": "0"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://127.0.0.1:{broker.metrics_port}/nope", timeout=10)
    assert info.value.code == 404
    info.value.close()
