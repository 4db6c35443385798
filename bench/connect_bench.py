#!/usr/bin/env python3
"""Kafka Connect benchmarks (never part of `make test`):

1. FileStream pipeline: a file of N 1 KiB lines → FileStreamSource → topic → FileStreamSink → a
   file, one standalone worker with String (source) and ByteArray/String converters, time until
   the sink file holds every line; records/s end to end (target ≥ 100,000/s).
2. Replicator: M MiB of 1 KiB... 64 KiB records already in a source broker copied to a second
   broker by the replicator (ByteArray converters, byte for byte); MB/s (target ≥ 100 MB/s).
3. Converter cost per record: JsonConverter with schemas.enable and AvroConverter (confluent-kafka's
   serializer; registry lookups cached after the first record), both directions, µs/record.

    python bench/connect_bench.py                 # everything
    python bench/connect_bench.py --only converters --records 50000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.connect.runtime.worker import standalone_herder
from odradek.testing.broker_process import BrokerProcess


def wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        time.sleep(0.02)


def task_cpu_s(herder: Any) -> float:
    """CPU seconds (user + system) of the worker's task processes so far (0 in thread mode)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for runner in list(herder.tasks.values()):
        pid = getattr(runner, "pid", None)
        if pid is None:
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def file_pipeline(
    bootstrap: str, work: Path, records: int, converter: str, isolation: str
) -> dict[str, float]:
    source, sink = work / f"in-{converter}.txt", work / f"out-{converter}.txt"
    line = ("x" * 1023 + "\n").encode()
    with source.open("wb") as handle:
        for _ in range(records):
            handle.write(line)
    topic = f"bench-file-{converter}-{time.time_ns()}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
    value_converter = {
        "string": "org.apache.kafka.connect.storage.StringConverter",
        "bytearray": "org.apache.kafka.connect.converters.ByteArrayConverter",
    }[converter]
    herder = standalone_herder(
        {
            "bootstrap.servers": bootstrap,
            "offset.storage.file.filename": str(work / f"offsets-{converter}.json"),
            "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
            "value.converter": value_converter,
            "offset.flush.interval.ms": "5000",
            "producer.linger.ms": "20",
            "producer.batch.size": "1000000",
            "producer.compression.type": "none",
            "odradek.task.isolation": isolation,
        },
        "http://127.0.0.1:0",
    )
    herder.start()
    if isolation == "process":  # the fork server starts once per worker: not part of the figure
        from multiprocessing import forkserver

        from odradek.connect.runtime.task_process import task_context

        task_context()
        forkserver.ensure_running()
    try:
        start = time.monotonic()
        cpu_start = time.process_time()
        # the source's lines are strings; with ByteArrayConverter the values must be bytes: the
        # String converter reads text, the ByteArray one gets the source told to emit bytes
        herder.put_connector_config(
            "src",
            {
                "connector.class": "FileStreamSource",
                "file": str(source),
                "topic": topic,
                "batch.size": "5000",
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            },
            allow_replace=False,
        )
        herder.put_connector_config(
            "snk",
            {
                "connector.class": "FileStreamSink",
                "file": str(sink),
                "topics": topic,
            },
            allow_replace=False,
        )
        # every line is 1 KiB: the file's size says how many arrived (reading it would cost the
        # worker's CPU figure more than the worker itself)
        wait(lambda: size_of(sink) >= records // 10 * 1024, timeout=600)
        steady_start = time.monotonic()
        wait(lambda: size_of(sink) >= records * 1024, timeout=600)
        elapsed = time.monotonic() - start
        steady = time.monotonic() - steady_start
        worker_cpu = time.process_time() - cpu_start
        tasks_cpu = task_cpu_s(herder)
    finally:
        herder.stop()
    assert count_lines(sink) == records, f"{count_lines(sink)} lines in the sink file, {records} expected"
    return {
        "records": records,
        "seconds": elapsed,
        "records_per_s": records / elapsed,
        "steady_records_per_s": (records - records // 10) / steady,
        "mb_per_s": records * 1024 / elapsed / 1e6,
        "worker_cpu_us_per_record": (worker_cpu + tasks_cpu) / records * 1e6,
        "task_processes_cpu_us_per_record": tasks_cpu / records * 1e6,
    }


def replicator(work: Path, megabytes: int, record_size: int) -> dict[str, float]:
    with BrokerProcess(work / "source") as source, BrokerProcess(work / "target") as target:
        topic = "bench-repl"
        src_admin = AdminClient({"bootstrap.servers": source.bootstrap})
        src_admin.create_topics([NewTopic(topic, 4, 1)])[topic].result(10)
        count = megabytes * 1_000_000 // record_size
        producer = Producer({"bootstrap.servers": source.bootstrap, "linger.ms": 20, "batch.size": 1_000_000})
        payload = b"r" * record_size
        for i in range(count):
            while True:
                try:
                    producer.produce(topic, value=payload, partition=i % 4)
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.flush(60)
        herder = standalone_herder(
            {
                "bootstrap.servers": target.bootstrap,
                "offset.storage.file.filename": str(work / "repl-offsets.json"),
                "offset.flush.interval.ms": "10000",
                "producer.linger.ms": "20",
                "producer.batch.size": "4000000",
            },
            "http://127.0.0.1:0",
        )
        herder.start()
        try:
            start = time.monotonic()
            herder.put_connector_config(
                "mirror",
                {
                    "connector.class": "MirrorSourceConnector",
                    "source.cluster.alias": "src",
                    "source.cluster.bootstrap.servers": source.bootstrap,
                    "target.cluster.bootstrap.servers": target.bootstrap,
                    "topics": topic,
                    "tasks.max": "2",
                    "sync.group.offsets.enabled": "false",
                    "source.consumer.fetch.max.bytes": "52428800",
                    "source.consumer.max.partition.fetch.bytes": "10485760",
                },
                allow_replace=False,
            )
            target_admin = AdminClient({"bootstrap.servers": target.bootstrap})

            def copied() -> int:
                from confluent_kafka import Consumer
                from confluent_kafka import TopicPartition as TP

                c = Consumer({"bootstrap.servers": target.bootstrap, "group.id": "bench-probe"})
                try:
                    # all topics: asking for one by name would auto-create it
                    metadata = target_admin.list_topics(timeout=5).topics.get(f"src.{topic}")
                    if metadata is None or metadata.error is not None:
                        return 0
                    return sum(
                        c.get_watermark_offsets(TP(f"src.{topic}", p), timeout=5)[1]
                        for p in metadata.partitions
                    )
                finally:
                    c.close()

            wait(lambda: copied() >= count, timeout=900)
            elapsed = time.monotonic() - start
        finally:
            herder.stop()
    return {
        "records": count,
        "record_bytes": record_size,
        "seconds": elapsed,
        "mb_per_s": count * record_size / elapsed / 1e6,
    }


def converters(records: int) -> dict[str, float]:
    import datetime as dt

    from odradek.connect.converters.json_converter import JsonConverter
    from odradek.connect.converters.schema_registry.avro import AvroConverter
    from odradek.connect.data import (
        INT64_SCHEMA,
        OPTIONAL_STRING_SCHEMA,
        STRING_SCHEMA,
        SchemaBuilder,
        Struct,
        logical,
    )

    schema = (
        SchemaBuilder.struct()
        .name("bench.Order")
        .field("id", INT64_SCHEMA)
        .field("customer", STRING_SCHEMA)
        .field("note", OPTIONAL_STRING_SCHEMA)
        .field("at", logical.TIMESTAMP_SCHEMA)
        .field("tags", SchemaBuilder.array(STRING_SCHEMA).build())
        .build()
    )
    value = (
        Struct(schema)
        .put("id", 42)
        .put("customer", "c-000123")
        .put("note", "leave at the door")
        .put("at", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .put("tags", ["a", "b", "c"])
    )
    out: dict[str, float] = {}
    json_conv = JsonConverter()
    json_conv.configure({"schemas.enable": "true"}, False)
    avro_conv = AvroConverter()
    avro_conv.configure({"schema.registry.url": "mock://bench"}, False)
    for name, conv in (("json_schemas", json_conv), ("avro", avro_conv)):
        raw = conv.from_connect_data("t", schema, value)
        conv.to_connect_data("t", raw)
        start = time.perf_counter()
        for _ in range(records):
            conv.from_connect_data("t", schema, value)
        out[f"{name}_serialize_us"] = (time.perf_counter() - start) / records * 1e6
        start = time.perf_counter()
        for _ in range(records):
            conv.to_connect_data("t", raw)
        out[f"{name}_deserialize_us"] = (time.perf_counter() - start) / records * 1e6
        out[f"{name}_bytes"] = len(raw)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=("file", "replicator", "converters"))
    parser.add_argument(
        "--records", type=int, default=200_000, help="lines of the file pipeline / converter loops"
    )
    parser.add_argument("--isolation", choices=("process", "thread"), default="process")
    parser.add_argument("--megabytes", type=int, default=500, help="data the replicator copies")
    parser.add_argument("--record-size", type=int, default=65_536, help="replicator record size in bytes")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only in (None, "converters"):
            results["converters"] = converters(min(args.records, 50_000))
        if args.only in (None, "file"):
            with BrokerProcess(work / "broker") as broker:
                for converter in ("string", "bytearray"):
                    results[f"file_pipeline_{converter}"] = file_pipeline(
                        broker.bootstrap, work, args.records, converter, args.isolation
                    )
        if args.only in (None, "replicator"):
            results["replicator"] = replicator(work, args.megabytes, args.record_size)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
