"""Prometheus metrics of a `KafkaStreams` instance (served by the interactive-query server's /metrics).

| metric | labels | what |
|---|---|---|
| `odradek_streams_records_processed_total` | thread | input records processed |
| `odradek_streams_node_records_in_total` / `_out_total` | task, node | per node (recording level DEBUG) |
| `odradek_streams_dropped_records_total` | task | records dropped: skipped bad input, late, `None` keys |
| `odradek_streams_process_latency_seconds_avg` | thread | mean time per input record |
| `odradek_streams_commit_total`, `odradek_streams_commit_latency_seconds_avg` | thread | commits |
| `odradek_streams_restore_records_total`, `_restore_remaining_records` | thread, task | restore progress |
| `odradek_streams_consumer_lag` | topic, partition | log end offset minus processed offset |
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class StreamsCollector(Collector):
    def __init__(self, streams: Any) -> None:
        self.streams = streams

    def collect(self) -> Iterator[Any]:
        snapshot = self.streams.metrics()
        app = snapshot["application_id"]
        processed = CounterMetricFamily(
            "odradek_streams_records_processed", "input records processed", labels=["application", "thread"]
        )
        node_in = CounterMetricFamily(
            "odradek_streams_node_records_in",
            "records into a processor",
            labels=["application", "task", "node"],
        )
        node_out = CounterMetricFamily(
            "odradek_streams_node_records_out",
            "records out of a processor",
            labels=["application", "task", "node"],
        )
        dropped = CounterMetricFamily(
            "odradek_streams_dropped_records",
            "records dropped (bad input, late, None keys)",
            labels=["application", "task"],
        )
        latency = GaugeMetricFamily(
            "odradek_streams_process_latency_seconds_avg",
            "mean time per record",
            labels=["application", "thread"],
        )
        commits = CounterMetricFamily("odradek_streams_commit", "commits", labels=["application", "thread"])
        commit_latency = GaugeMetricFamily(
            "odradek_streams_commit_latency_seconds_avg", "mean commit time", labels=["application", "thread"]
        )
        restored = CounterMetricFamily(
            "odradek_streams_restore_records", "changelog records restored", labels=["application", "thread"]
        )
        remaining = GaugeMetricFamily(
            "odradek_streams_restore_remaining_records",
            "records left to restore",
            labels=["application", "task"],
        )
        lag = GaugeMetricFamily(
            "odradek_streams_consumer_lag",
            "records not yet processed",
            labels=["application", "topic_partition"],
        )
        for thread in snapshot["threads"]:
            name = thread["name"]
            processed.add_metric([app, name], thread["processed"])
            latency.add_metric([app, name], thread["process_latency_avg_s"])
            commits.add_metric([app, name], thread["commits"])
            commit_latency.add_metric([app, name], thread["commit_latency_avg_s"])
            restored.add_metric([app, name], thread["restored_records"])
            for tp, value in thread["lag"].items():
                lag.add_metric([app, tp], value)
            for task_id, task in thread["tasks"].items():
                dropped.add_metric([app, task_id], task["dropped_records"])
                for node, (count_in, count_out) in task["nodes"].items():
                    node_in.add_metric([app, task_id, node], count_in)
                    node_out.add_metric([app, task_id, node], count_out)
                if task["restore_total"] is not None:
                    remaining.add_metric([app, task_id], max(task["restore_total"] - task["restored"], 0))
        yield from (
            processed,
            node_in,
            node_out,
            dropped,
            latency,
            commits,
            commit_latency,
            restored,
            remaining,
            lag,
        )
