"""PRINT topic: the records of a topic as text lines, as ksqlDB's PRINT shows them.

    rowtime: 2024/01/02 03:04:05.678 Z, key: u1, value: {"a":1}, partition: 0

Keys and values in the schema registry's wire format (AVRO, PROTOBUF, JSON_SR) are decoded with
their registered schema and shown as JSON; others as UTF-8 text when they decode, else as hex. FROM BEGINNING starts at the
earliest offset (else the latest); INTERVAL n shows every n-th record; LIMIT n stops after n.
"""

from __future__ import annotations

import datetime
import json
import queue
import threading
from collections.abc import AsyncIterator
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition
from starlette.concurrency import run_in_threadpool

from odradek.sql.compiler.registry_serdes import SchemaRegistry
from odradek.sql.errors import NOT_FOUND, KsqlError
from odradek.sql.parser import ast
from odradek.sql.server.cluster import Cluster


def _text(data: bytes | None, registry: SchemaRegistry | None = None) -> str:
    if data is None:
        return "<null>"
    decoded = registry.decode(data) if registry is not None else None
    if decoded is not None:
        return json.dumps(decoded[1], default=str, separators=(",", ":"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex()


def _resolve_topic(cluster: Cluster, name: str) -> str:
    topics = [n for n, _, _ in cluster.topics()]
    if name in topics:
        return name
    matches = [t for t in topics if t.lower() == name.lower()]
    if len(matches) == 1:
        return matches[0]
    raise KsqlError(
        f"Could not find topic '{name}', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive.",
        error_code=NOT_FOUND,
    )


async def print_topic(cluster: Cluster, stmt: ast.Print, props: dict[str, Any]) -> AsyncIterator[bytes]:
    topic = await run_in_threadpool(_resolve_topic, cluster, stmt.topic)
    partitions = await run_in_threadpool(cluster.partitions, topic) or 1
    lines: queue.Queue[str | None] = queue.Queue(1000)
    stop = threading.Event()

    def consume() -> None:
        consumer = Consumer(
            {
                **cluster.config,
                "group.id": f"print-{id(stop)}",
                "enable.auto.commit": False,
            }
        )
        start = OFFSET_BEGINNING if stmt.from_beginning else OFFSET_END
        consumer.assign([TopicPartition(topic, p, start) for p in range(partitions)])
        seen = shown = 0
        try:
            while not stop.is_set():
                msg = consumer.poll(0.2)
                if msg is None or msg.error() is not None:
                    continue
                seen += 1
                if (seen - 1) % max(stmt.interval, 1):
                    continue
                ts = datetime.datetime.fromtimestamp(msg.timestamp()[1] / 1000, datetime.UTC)
                stamp = ts.strftime("%Y/%m/%d %H:%M:%S.") + f"{ts.microsecond // 1000:03d} Z"
                lines.put(
                    f"rowtime: {stamp}, key: {_text(msg.key(), cluster.registry)}, value: {_text(msg.value(), cluster.registry)}, partition: {msg.partition()}\n"
                )
                shown += 1
                if stmt.limit is not None and shown >= stmt.limit:
                    break
        finally:
            consumer.close()
            lines.put(None)

    worker = threading.Thread(target=consume, name=f"print-{topic}", daemon=True)
    worker.start()
    yield b"Key format: KAFKA_STRING\nValue format: JSON or KAFKA_STRING\n"
    try:
        while True:
            line = await run_in_threadpool(lines.get)
            if line is None:
                return
            yield line.encode()
    finally:
        stop.set()
