"""Prometheus metrics of one broker, in a registry of its own (several brokers may share a process).

Counted per request, per produce/fetch topic entry, never per record, in plain counters: the
`prometheus_client` library (with its HTTP server, urllib and compression imports) is loaded when
the registry is first asked for, by the first scrape of the /metrics endpoint, not at start.
Partition gauges (log end offset, size) are computed when Prometheus scrapes, so the hot path pays
nothing for them.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from odradek.protocol.api_keys import ApiKey

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

PartitionStat = tuple[str, int, int, int, int]
"""topic, partition, log_start_offset, log_end_offset, size_bytes."""

REQUEST_SECONDS_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30)


class CounterChild:
    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.created = time.time()

    def inc(self, amount: float = 1) -> None:
        self.value += amount


class Counter:
    """A counter family by label values, rendered as Prometheus' `<name>_total`."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.children: dict[tuple[str, ...], CounterChild] = {}

    def labels(self, *values: str) -> CounterChild:
        child = self.children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
            child = self.children[values] = CounterChild()
        return child

    def inc(self, amount: float = 1) -> None:
        self.labels().inc(amount)


class HistogramChild:
    __slots__ = ("bounds", "counts", "created", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.created = time.time()

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value


class Histogram:
    def __init__(
        self, name: str, documentation: str, labelnames: tuple[str, ...], buckets: tuple[float, ...]
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.buckets = tuple(float(b) for b in buckets)
        self.children: dict[tuple[str, ...], HistogramChild] = {}

    def labels(self, *values: str) -> HistogramChild:
        child = self.children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
            child = self.children[values] = HistogramChild(self.buckets)
        return child


class Gauge:
    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self.value = 0.0
        self.function: Callable[[], float] | None = None

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        self.value -= amount

    def set_function(self, function: Callable[[], float]) -> None:
        self.function = function

    def get(self) -> float:
        return self.function() if self.function is not None else self.value


class BrokerMetrics:
    def __init__(self) -> None:
        self.requests = Counter("odradek_requests", "Requests handled", ("api", "version"))
        self.request_seconds = Histogram(
            "odradek_request_seconds",
            "Time from request parsed to response ready",
            ("api", "version"),
            REQUEST_SECONDS_BUCKETS,
        )
        self.bytes_in = Counter("odradek_topic_bytes_in", "Record bytes produced", ("topic",))
        self.bytes_out = Counter("odradek_topic_bytes_out", "Record bytes fetched", ("topic",))
        self.messages_in = Counter(
            "odradek_topic_messages_in", "Records produced (from batch headers)", ("topic",)
        )
        self.batches_rewritten = Counter(
            "odradek_batches_rewritten",
            "Produced batches whose header the broker recomputed from their records, by header field",
            ("field",),
        )
        self.connections = Gauge("odradek_open_connections", "Open client connections")
        self.authentication_failures = Counter(
            "odradek_authentication_failures", "SASL logins that failed (SASL_AUTHENTICATION_FAILED)"
        )
        self.authorization_denials = Counter(
            "odradek_authorization_denials", "Requests (or parts of them) refused by ACLs", ("api",)
        )
        self.throttle_ms = Counter(
            "odradek_quota_throttle_ms", "Milliseconds clients were throttled by quotas", ("quota",)
        )
        self.queue_depth = Gauge("odradek_request_queue_depth", "Requests received and not yet answered")
        self.counters = (
            self.requests,
            self.bytes_in,
            self.bytes_out,
            self.messages_in,
            self.batches_rewritten,
            self.authentication_failures,
            self.authorization_denials,
            self.throttle_ms,
        )
        self.gauges = (self.connections, self.queue_depth)
        self.topic_counters = (self.bytes_in, self.bytes_out, self.messages_in)
        """The counters labelled by topic alone (`forget_topic` drops their children)."""
        self._children: dict[tuple[int | str, int], tuple[CounterChild, HistogramChild]] = {}
        self._produced: dict[str, tuple[CounterChild, CounterChild]] = {}
        self._partition_source: Callable[[], Iterable[PartitionStat]] = tuple
        self._registry: CollectorRegistry | None = None

    def observe_request(self, api: int | str, version: int, seconds: float) -> None:
        """`api`: the API key as sent (an int: no enum on the hot path) or its name."""
        counter, histogram = self.request_metrics(api, version)
        counter.value += 1
        histogram.observe(seconds)

    def produced(self, topic: str, nbytes: int, nrecords: int) -> None:
        """Count a produced batch in ``bytes_in`` and ``messages_in`` (each topic's two counters
        looked up once: this runs for every partition of every Produce)."""
        children = self._produced.get(topic)
        if children is None:
            children = self._produced[topic] = (self.bytes_in.labels(topic), self.messages_in.labels(topic))
        children[0].value += nbytes
        children[1].value += nrecords

    def forget_topic(self, topic: str) -> None:
        """Drop a topic's counters once this broker hosts none of its partitions (deleted, or
        reassigned away), as Kafka's broker removes its per-topic metrics: a scrape no longer lists
        it, and a topic created again under the name counts from zero."""
        self._produced.pop(topic, None)
        for counter in self.topic_counters:
            counter.children.pop((topic,), None)

    def request_metrics(self, api: int | str, version: int) -> tuple[CounterChild, HistogramChild]:
        """The request counter and latency histogram of one API version (what `observe_request`
        updates; the dispatcher keeps them per version it serves)."""
        key = (api, version)
        child = self._children.get(key)
        if child is None:
            labels = (api if isinstance(api, str) else ApiKey(api).name, str(version))
            child = (self.requests.labels(*labels), self.request_seconds.labels(*labels))
            self._children[key] = child
        return child

    def watch_partitions(self, source: Callable[[], Iterable[PartitionStat]]) -> None:
        self._partition_source = source

    def watch_queue_depth(self, source: Callable[[], float]) -> None:
        self.queue_depth.set_function(source)

    @property
    def registry(self) -> CollectorRegistry:
        """The Prometheus registry reading these metrics, made (and the library loaded) on first use."""
        if self._registry is None:
            from odradek.broker.metrics_collector import BrokerCollector

            self._registry = BrokerCollector.registry_for(self)
        return self._registry
