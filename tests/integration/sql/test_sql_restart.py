"""A persistent query survives its server being killed: a restarted server (same service id and
state directory) replays the command topic, resumes the query, and exactly-once holds: every input
record reaches the sink once, none twice, none lost; a second server with the same service id sees
the same streams, tables and queries."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer
from sql_server_process import SqlServerProcess


def read_committed(bootstrap: str, topic: str, count: int, timeout_s: float = 120.0) -> list[dict[str, int]]:
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
    out: list[dict[str, int]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None and msg.value() is not None:
                out.append(json.loads(msg.value()))
        # anything more would be a duplicate: read a little longer
        end = time.monotonic() + 2
        while time.monotonic() < end:
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None and msg.value() is not None:
                out.append(json.loads(msg.value()))
    finally:
        consumer.close()
    return out


def produce(bootstrap: str, topic: str, start: int, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for n in range(start, start + count):
        producer.produce(
            topic, key=f"k{n % 10}".encode(), value=json.dumps({"N": n}).encode(), timestamp=1_000 + n
        )
    producer.flush(30)


def test_restart_in_the_middle_of_a_persistent_query_is_exactly_once(
    sql_bootstrap: str, tmp_path: Path
) -> None:
    service = f"restart{uuid.uuid4().hex[:6]}_"
    suffix = uuid.uuid4().hex[:6]
    src, sink = f"nums_{suffix}", f"NUMS_COPY_{suffix}".upper()
    state = tmp_path / "state"
    first = SqlServerProcess(sql_bootstrap, state, service_id=service).start()
    try:
        first.ok(
            f"CREATE STREAM nums_{suffix} (k STRING KEY, n INT) WITH (kafka_topic='{src}', partitions=1);"
        )
        first.ok(f"CREATE STREAM {sink} AS SELECT k, n FROM nums_{suffix} WHERE n >= 0;")
        first.ok(f"CREATE TABLE counts_{suffix} AS SELECT k, COUNT(*) AS c FROM nums_{suffix} GROUP BY k;")
        produce(sql_bootstrap, src, 0, 300)
        assert len(read_committed(sql_bootstrap, sink, 50, timeout_s=90)) >= 50
    finally:
        first.kill()  # kill -9 in the middle of the query's work
    produce(sql_bootstrap, src, 300, 300)
    second = SqlServerProcess(sql_bootstrap, state, service_id=service).start()
    try:
        streams = {s["name"] for s in second.ok("SHOW STREAMS;")[0]["streams"]}
        assert {f"NUMS_{suffix}".upper(), sink} <= streams
        out = read_committed(sql_bootstrap, sink, 600)
        numbers = sorted(row["N"] for row in out)
        assert numbers == list(range(600)), (
            f"{len(numbers)} records, duplicates: {len(numbers) - len(set(numbers))}"
        )
        deadline = time.monotonic() + 60
        total = 0
        while time.monotonic() < deadline:
            rows = second.query_stream(f"SELECT SUM(c) AS total FROM counts_{suffix};")[1:]
            total = rows[0][0] if rows else 0
            if total == 600:
                break
            time.sleep(0.5)
        assert total == 600
        # a second server with the same service id replays the same command topic
        with SqlServerProcess(sql_bootstrap, tmp_path / "state2", service_id=service) as third:
            queries = {q["id"] for q in third.ok("SHOW QUERIES;")[0]["queries"]}
            assert (
                queries == {q["id"] for q in second.ok("SHOW QUERIES;")[0]["queries"]} and len(queries) == 2
            )
    finally:
        second.stop()
