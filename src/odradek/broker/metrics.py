"""Prometheus metrics of one broker, in a registry of its own (several brokers may share a process).

Counted per request, per produce/fetch topic entry, never per record. Partition gauges (log end
offset, size) are computed when Prometheus scrapes, so the hot path pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PartitionStat = tuple[str, int, int, int, int]
"""topic, partition, log_start_offset, log_end_offset, size_bytes."""


class _PartitionCollector(Collector):
    def __init__(self, source: Callable[[], Iterable[PartitionStat]]) -> None:
        self.source = source

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without samples: registering must not walk 20,000 partitions."""
        return self._families(())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return self._families(self.source())

    def _families(self, stats: Iterable[PartitionStat]) -> Iterator[GaugeMetricFamily]:
        leo = GaugeMetricFamily("odradek_log_end_offset", "Log end offset", labels=["topic", "partition"])
        lso = GaugeMetricFamily("odradek_log_start_offset", "Log start offset", labels=["topic", "partition"])
        size = GaugeMetricFamily("odradek_log_size_bytes", "Bytes on disk", labels=["topic", "partition"])
        for topic, partition, start, end, nbytes in stats:
            labels = [topic, str(partition)]
            leo.add_metric(labels, end)
            lso.add_metric(labels, start)
            size.add_metric(labels, nbytes)
        yield leo
        yield lso
        yield size


class BrokerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("odradek_requests", "Requests handled", ["api", "version"], registry=r)
        self.request_seconds = Histogram(
            "odradek_request_seconds",
            "Time from request parsed to response ready",
            ["api", "version"],
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
            registry=r,
        )
        self.bytes_in = Counter("odradek_topic_bytes_in", "Record bytes produced", ["topic"], registry=r)
        self.bytes_out = Counter("odradek_topic_bytes_out", "Record bytes fetched", ["topic"], registry=r)
        self.messages_in = Counter(
            "odradek_topic_messages_in", "Records produced (from batch headers)", ["topic"], registry=r
        )
        self.batches_rewritten = Counter(
            "odradek_batches_rewritten",
            "Produced batches whose header the broker recomputed from their records, by header field",
            ["field"],
            registry=r,
        )
        self.connections = Gauge("odradek_open_connections", "Open client connections", registry=r)
        self.authentication_failures = Counter(
            "odradek_authentication_failures",
            "SASL logins that failed (SASL_AUTHENTICATION_FAILED)",
            registry=r,
        )
        self.authorization_denials = Counter(
            "odradek_authorization_denials",
            "Requests (or parts of them) refused by ACLs",
            ["api"],
            registry=r,
        )
        self.throttle_ms = Counter(
            "odradek_quota_throttle_ms",
            "Milliseconds clients were throttled by quotas",
            ["quota"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "odradek_request_queue_depth", "Requests received and not yet answered", registry=r
        )
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, api: str, version: int, seconds: float) -> None:
        key = (api, version)
        child = self._children.get(key)
        if child is None:
            labels = (api, str(version))
            child = (self.requests.labels(*labels), self.request_seconds.labels(*labels))
            self._children[key] = child
        child[0].inc()
        child[1].observe(seconds)

    def watch_partitions(self, source: Callable[[], Iterable[PartitionStat]]) -> None:
        self.registry.register(_PartitionCollector(source))

    def watch_queue_depth(self, source: Callable[[], float]) -> None:
        self.queue_depth.set_function(source)
