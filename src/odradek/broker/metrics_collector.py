"""The Prometheus view of `BrokerMetrics`: metric families built from its plain counters when
Prometheus scrapes (this module, and `prometheus_client`, are imported by the first scrape)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from odradek.broker.metrics import BrokerMetrics, PartitionStat


class BrokerCollector(Collector):
    def __init__(self, metrics: BrokerMetrics) -> None:
        self.metrics = metrics

    @classmethod
    def registry_for(cls, metrics: BrokerMetrics) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(cls(metrics))
        return registry

    def describe(self) -> Iterator[Metric]:
        """The families without samples: registering must not walk 20,000 partitions."""
        return families(self.metrics, partitions=False)

    def collect(self) -> Iterator[Metric]:
        return families(self.metrics)


def families(metrics: BrokerMetrics, *, partitions: bool = True) -> Iterator[Metric]:
    for counter in metrics.counters:
        family = CounterMetricFamily(counter.name, counter.documentation, labels=counter.labelnames)
        for values, child in list(counter.children.items()):
            family.add_metric(values, child.value, created=child.created)
        yield family
    histogram = metrics.request_seconds
    family_h = HistogramMetricFamily(histogram.name, histogram.documentation, labels=histogram.labelnames)
    for values, hchild in list(histogram.children.items()):
        cumulative = 0
        buckets: list[tuple[str, float]] = []
        for bound, count in zip((*histogram.buckets, float("inf")), hchild.counts, strict=True):
            cumulative += count
            buckets.append(
                ("+Inf" if bound == float("inf") else repr(bound), cumulative)
            )  # as Go prints them
        family_h.add_metric(values, buckets, hchild.sum)
    yield family_h
    for gauge in metrics.gauges:
        family_g = GaugeMetricFamily(gauge.name, gauge.documentation)
        family_g.add_metric([], gauge.get())
        yield family_g
    yield from _partition_families(metrics._partition_source() if partitions else ())


def _partition_families(stats: Iterable[PartitionStat]) -> Iterator[GaugeMetricFamily]:
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
