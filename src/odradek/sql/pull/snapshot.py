"""Snapshots for pull queries: the rows of a table or stream at one moment.

- A table written by a persistent query on this server: its materialized store (`<query id>-TABLE`),
  read through the streams runtime's interactive-query view — the table as that query has processed
  it, every row at once.
- Any other table or stream: a bounded scan of its topic, every partition from the beginning up to
  its end offset at the start of the scan (a table keeps the latest value per key; a tombstone
  deletes). This is how a pull query reads a stream (beyond ksqlDB, KLIP-53's idea).

A row is `(key tuple, value dict, rowtime, window start, window end)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from odradek.sql.compiler.registry_serdes import SchemaRegistry
from odradek.sql.compiler.serdes import source_serdes
from odradek.sql.metastore import DataSource
from odradek.streams.state.keyvalue import ValueAndTimestamp
from odradek.streams.windows import Windowed

Row = tuple[tuple[Any, ...], dict[str, Any], int, int | None, int | None]


def store_rows(store: Any) -> Iterator[Row]:
    for key, stored in store.all():
        ts, value = 0, stored
        if isinstance(stored, ValueAndTimestamp):
            value, ts = stored.value, stored.timestamp
        if value is None:
            continue
        if isinstance(key, Windowed):
            yield key.key, value, ts, key.window.start, key.window.end
        else:
            yield key or (), value, ts, None, None


def store_get(store: Any, key: tuple[Any, ...]) -> list[Row]:
    value = store.get(key)
    if value is None:
        return []
    ts = 0
    if isinstance(value, ValueAndTimestamp):
        value, ts = value.value, value.timestamp
    return [(key, value, ts, None, None)]


def scan_topic(
    client_config: Mapping[str, Any],
    source: DataSource,
    timeout_s: float = 30.0,
    registry: SchemaRegistry | None = None,
) -> list[Row]:
    """Every record of the source's topic up to its current end (latest per key for a table);
    `client_config` has ``bootstrap.servers`` and the security settings (`Cluster.config`)."""
    k_serde, v_serde = source_serdes(source, registry)
    consumer = Consumer(
        {
            **client_config,
            "group.id": f"_odradek-pull-{source.name}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    try:
        md = consumer.list_topics(source.topic, timeout=10).topics.get(source.topic)
        if md is None or md.error is not None:
            return []
        ends: dict[int, int] = {}
        assign = []
        for p in md.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(source.topic, p), timeout=10)
            if high > low:
                ends[p] = high
                assign.append(TopicPartition(source.topic, p, low))
        if not assign:
            return []
        consumer.assign(assign)
        latest: dict[Any, Row] = {}
        rows: list[Row] = []
        import time

        deadline = time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            p = msg.partition() or 0
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    ends.pop(p, None)
                continue
            end = ends.get(p)
            offset = msg.offset() or 0
            if end is None or offset >= end:
                continue
            if offset >= end - 1:
                del ends[p]
            try:
                key = k_serde.deserialize(source.topic, msg.key())
                value = None if msg.value() is None else v_serde.deserialize(source.topic, msg.value())
            except Exception:
                continue  # an undecodable record: skipped, as a query's deserialization handler would
            ws = we = None
            if isinstance(key, Windowed):
                ws, we, key = key.window.start, key.window.end, key.key
            key = key or ()
            ts = msg.timestamp()[1]
            if source.is_table:
                if value is None:
                    latest.pop((key, ws), None)
                else:
                    latest[(key, ws)] = (key, value, ts, ws, we)
            elif value is not None:
                rows.append((key, value, ts, ws, we))
        return list(latest.values()) if source.is_table else rows
    finally:
        consumer.close()
