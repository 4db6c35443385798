"""A filter/project persistent query writes the same rows under at-least-once (ksqlDB's default,
`--override processing.guarantee=at_least_once`) as under the SQL server's exactly-once default:
the WHERE drops what it should (FALSE and NULL), the projection computes its expressions, and the
records' timestamps (ROWTIME) reach the sink."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from sql_server_process import SqlServerProcess


def read(
    bootstrap: str, topic: str, count: int, timeout_s: float = 90.0
) -> list[tuple[bytes, dict[str, float], int]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    out: list[tuple[bytes, dict[str, float], int]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < count and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.2):
                if msg.error() is None:
                    out.append((msg.key(), json.loads(msg.value()), msg.timestamp()[1]))
    finally:
        consumer.close()
    return out


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_a_filter_project_query_writes_the_expected_rows(
    sql_bootstrap: str, tmp_path: Path, guarantee: str
) -> None:
    suffix = uuid.uuid4().hex[:6]
    src, sink = f"amounts_{suffix}", f"DOUBLED_{suffix}".upper()
    overrides = {"processing.guarantee": guarantee}
    with SqlServerProcess(
        sql_bootstrap, tmp_path / "state", service_id=f"g{suffix}_", overrides=overrides
    ) as server:
        server.ok(
            f"CREATE STREAM {src} (k STRING KEY, amount DOUBLE) WITH (kafka_topic='{src}', partitions=1);"
        )
        server.ok(f"CREATE STREAM {sink} AS SELECT k, amount * 2 AS doubled FROM {src} WHERE amount >= 0;")
        producer = Producer({"bootstrap.servers": sql_bootstrap})
        for n in range(300):
            amount = None if n % 7 == 0 else float(n % 5 - 1)  # NULL, -1 (dropped), 0, 1, 2, 3
            producer.produce(
                src, key=f"k{n}".encode(), value=json.dumps({"AMOUNT": amount}).encode(), timestamp=1_000 + n
            )
        producer.flush(30)
        expected = [
            (f"k{n}".encode(), {"DOUBLED": float(n % 5 - 1) * 2}, 1_000 + n)
            for n in range(300)
            if n % 7 != 0 and n % 5 != 0
        ]
        assert sorted(read(sql_bootstrap, sink, len(expected)), key=lambda row: row[2]) == expected
