"""The broker's metrics count in plain Python and render through prometheus_client at scrape time."""

from __future__ import annotations

import subprocess
import sys

from prometheus_client.exposition import generate_latest

from odradek.broker.metrics import BrokerMetrics


def samples(metrics: BrokerMetrics) -> dict[str, float]:
    text = generate_latest(metrics.registry).decode()
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_requests_counters_histogram_gauges_and_partitions_render_in_prometheus_text_format() -> None:
    metrics = BrokerMetrics()
    metrics.observe_request("PRODUCE", 9, 0.002)
    metrics.observe_request("PRODUCE", 9, 1.0)
    metrics.observe_request("FETCH", 12, 0.0001)
    metrics.bytes_in.labels("t").inc(100)
    metrics.bytes_in.labels("t").inc(20)
    metrics.authentication_failures.inc()
    metrics.connections.inc()
    metrics.connections.inc()
    metrics.connections.dec()
    metrics.watch_queue_depth(lambda: 3)
    metrics.watch_partitions(lambda: [("t", 0, 5, 10, 2000)])
    got = samples(metrics)
    assert got['odradek_requests_total{api="PRODUCE",version="9"}'] == 2
    assert got['odradek_requests_total{api="FETCH",version="12"}'] == 1
    assert got['odradek_request_seconds_bucket{api="PRODUCE",le="0.001",version="9"}'] == 0
    assert got['odradek_request_seconds_bucket{api="PRODUCE",le="0.005",version="9"}'] == 1
    assert (
        got['odradek_request_seconds_bucket{api="PRODUCE",le="1.0",version="9"}'] == 2
    )  # le: bound included
    assert got['odradek_request_seconds_bucket{api="FETCH",le="0.0001",version="12"}'] == 1
    assert got['odradek_request_seconds_bucket{api="PRODUCE",le="+Inf",version="9"}'] == 2
    assert got['odradek_request_seconds_count{api="PRODUCE",version="9"}'] == 2
    assert got['odradek_request_seconds_sum{api="PRODUCE",version="9"}'] == 1.002
    assert got['odradek_topic_bytes_in_total{topic="t"}'] == 120
    assert got["odradek_authentication_failures_total"] == 1
    assert got["odradek_open_connections"] == 1
    assert got["odradek_request_queue_depth"] == 3
    assert got['odradek_log_end_offset{partition="0",topic="t"}'] == 10
    assert got['odradek_log_start_offset{partition="0",topic="t"}'] == 5
    assert got['odradek_log_size_bytes{partition="0",topic="t"}'] == 2000


def test_the_registry_is_the_same_at_every_scrape_and_sees_later_counts() -> None:
    metrics = BrokerMetrics()
    registry = metrics.registry
    metrics.throttle_ms.labels("produce").inc(7)
    assert metrics.registry is registry
    assert samples(metrics)['odradek_quota_throttle_ms_total{quota="produce"}'] == 7


def test_counting_does_not_import_prometheus_client() -> None:
    code = """
import sys
from odradek.broker.metrics import BrokerMetrics
m = BrokerMetrics()
m.observe_request("METADATA", 12, 0.001)
m.bytes_out.labels("t").inc(5)
assert "prometheus_client" not in sys.modules
m.registry
assert "prometheus_client" in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_produced_batches_count_in_the_topics_bytes_and_messages() -> None:
    metrics = BrokerMetrics()
    metrics.bytes_in.labels("p").inc(5)  # the same counters, however reached
    metrics.produced("p", 100, 3)
    metrics.produced("p", 20, 1)
    metrics.produced("q", 7, 7)
    got = samples(metrics)
    assert got['odradek_topic_bytes_in_total{topic="p"}'] == 125
    assert got['odradek_topic_messages_in_total{topic="p"}'] == 4
    assert got['odradek_topic_bytes_in_total{topic="q"}'] == 7
    assert got['odradek_topic_messages_in_total{topic="q"}'] == 7


def test_a_forgotten_topic_is_not_listed_and_counts_from_zero_when_it_comes_back() -> None:
    metrics = BrokerMetrics()
    metrics.produced("p", 100, 3)
    metrics.bytes_out.labels("p").inc(40)
    metrics.produced("q", 7, 7)
    metrics.forget_topic("p")
    got = samples(metrics)
    assert [k for k in got if 'topic="p"' in k] == []
    assert got['odradek_topic_bytes_in_total{topic="q"}'] == 7  # other topics keep theirs
    metrics.produced("p", 5, 1)  # created again under the name
    got = samples(metrics)
    assert got['odradek_topic_bytes_in_total{topic="p"}'] == 5
    assert got['odradek_topic_messages_in_total{topic="p"}'] == 1
    assert 'odradek_topic_bytes_out_total{topic="p"}' not in got
