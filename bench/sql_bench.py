#!/usr/bin/env python3
"""SQL benchmark: persistent query throughput, pull query latency, cost per persistent query.

    python bench/sql_bench.py                      # everything (several minutes)
    python bench/sql_bench.py --only throughput    # or: pull, scan, queries
    python bench/sql_bench.py --records 20000      # fewer input records (quicker)

Everything runs end to end on one machine: a fresh odradek broker and an `odradek sql-server`
process, statements over the REST API, 1 KiB JSON records produced with confluent-kafka.

- throughput: for filter/project, a tumbling-window count and a stream-table join, the query is
  started on an empty topic and its consumer group settles; then N input records are loaded in ONE
  producer transaction, invisible to the query (exactly-once, the SQL server's default, reads
  committed) until the clock starts with `commit_transaction`: the query finds N records waiting,
  as a persistent query does that catches up a topic. records/s = N / (time of the last output
  record, read committed by a consumer taking large fetches - commit time). Loading before the
  clock is what "query throughput" means here: the records/s the query processes, end to end from
  the input topic to its output read back; on a 2-core machine a producer racing the query takes
  a third of the CPU (~5 µs per 1 KiB record in the bench process plus ~3 µs in the broker: more
  than the query's own broker work), which measures the producer as much as the query. The old
  measurement is kept as `filter_project_live`: the same query with the N records produced as fast
  as the producer can while it runs (records/s = N / (last output - first record sent)). For each
  case also N / CPU-seconds the SQL server process used meanwhile (less sensitive to machine load),
  and the CPU per record of the SQL server, the broker and this process's own clients (the reading
  consumer, plus the producer in the live case) over the measured window.
- pull: p50/p99 of a key lookup over HTTP (/query-stream) on a CTAS table of 10 000 rows, and the
  SQL server's CPU time per lookup, with two clients taking turns: a lean one (one keep-alive
  socket, the request's bytes built before the clock starts: the server's latency plus loopback
  TCP) and httpx (what a Python application using httpx sees: its own work adds ~0.6 ms); and the
  share of lookups the server answered within 1 ms by its own latency histogram.
- scan: p50/p99 of a scan + aggregate over 1 000 000 rows (DuckDB over the cached Arrow snapshot),
  and the time to build that snapshot from a RocksDB store of 1 000 000 rows (the cold query).
- queries: server RSS and threads with 1 and with 100 persistent queries over the same topic.

Benchmarks are never part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, Producer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration" / "sql"))

from sql_server_process import SQL_BROKER, SqlServerProcess  # noqa: E402

from odradek.testing.broker_process import BrokerProcess  # noqa: E402

PADS = ["".join(random.choices(string.ascii_letters, k=900)) for _ in range(64)]


def payload(i: int, customers: int = 1000) -> bytes:
    doc = {"ID": i, "CUSTOMER": f"c{i % customers}", "AMOUNT": float(i % 500), "NOTE": PADS[i % len(PADS)]}
    return json.dumps(doc).encode()


def produce(
    bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], start_ts: int = 1_700_000_000_000
) -> float:
    """Produce the records (built before the clock starts: the producer must outpace the query)."""
    producer = _producer(bootstrap)
    t0 = time.monotonic()
    _send(producer, topic, records, start_ts)
    return t0


def load(bootstrap: str, topic: str, n: int, start_ts: int = 1_700_000_000_000) -> Producer:
    """Produce n records in one transaction, left open: its commit starts the clock."""
    producer = _producer(bootstrap, {"transactional.id": f"bench-load-{uuid.uuid4().hex[:6]}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    _send(producer, topic, _records(n), start_ts)
    return producer


def _producer(bootstrap: str, extra: dict[str, Any] | None = None) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "batch.num.messages": 10000,
            "compression.type": "lz4",
            **(extra or {}),
        }
    )


def _records(n: int) -> list[tuple[bytes, bytes]]:
    return [(f"c{i % 1000}".encode(), payload(i)) for i in range(n)]


def _send(producer: Producer, topic: str, records: list[tuple[bytes, bytes]], start_ts: int) -> None:
    for i, (key, value) in enumerate(records):
        while True:
            try:
                producer.produce(topic, key=key, value=value, timestamp=start_ts + i)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10000 == 0:
            producer.poll(0)
    producer.flush(120)


def count_output(bootstrap: str, topic: str, expected: int, timeout_s: float) -> float:
    """Read `topic` (read committed) until `expected` records arrived; the time of the last."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "fetch.max.bytes": 52428800,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    last = time.monotonic()
    deadline = last + timeout_s
    try:
        while seen < expected and time.monotonic() < deadline:
            for msg in consumer.consume(10000, 0.5):
                if msg.error() is None:
                    seen += 1
                    last = time.monotonic()
    finally:
        consumer.close()
    if seen < expected:
        raise RuntimeError(f"{topic}: only {seen} of {expected} records")
    return last


def throughput(broker: BrokerProcess, server: SqlServerProcess, n: int) -> dict[str, float]:
    bootstrap = broker.bootstrap
    results = {}
    s = uuid.uuid4().hex[:6]
    server.ok(
        f"CREATE TABLE customers_{s} (customer STRING PRIMARY KEY, name STRING) WITH (kafka_topic='customers-{s}', partitions=1);"
    )
    producer = Producer({"bootstrap.servers": bootstrap})
    for c in range(1000):
        producer.produce(
            f"customers-{s}",
            key=f"c{c}".encode(),
            value=json.dumps({"NAME": f"Customer {c}"}).encode(),
            timestamp=1,
        )
    producer.flush(30)
    cases = {
        "filter_project": (
            "SELECT id, customer, amount * 2 AS doubled FROM {src} WHERE amount >= 0",
            "STREAM",
            n,
        ),
        "filter_project_live": (
            "SELECT id, customer, amount * 2 AS doubled FROM {src} WHERE amount >= 0",
            "STREAM",
            n,
        ),
        "tumbling_count": (
            "SELECT customer, COUNT(*) AS n, SUM(amount) AS total FROM {src} WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY customer",
            "TABLE",
            None,
        ),
        "stream_table_join": (
            f"SELECT o.customer, o.id, o.amount, c.name FROM {{src}} o JOIN customers_{s} c ON o.customer = c.customer",
            "STREAM",
            n,
        ),
    }
    for name, (select, kind, expected) in cases.items():
        src = f"orders_{name}_{s}"
        server.ok(
            f"CREATE STREAM {src} (customer STRING KEY, id BIGINT, amount DOUBLE, note STRING) WITH (kafka_topic='{src}', partitions=1);"
        )
        sink = f"OUT_{name}_{s}".upper()
        server.ok(f"CREATE {kind} {sink} WITH (kafka_topic='{sink}') AS {select.format(src=src)};")
        time.sleep(3)  # the query's consumer group settles
        if name.endswith("_live"):
            cpu0, broker_cpu0 = cpu_seconds(server), cpu_seconds(broker)
            records = _records(n)
            bench_cpu0 = own_cpu_seconds()
            t0 = produce(bootstrap, src, records)
        else:
            loader = load(bootstrap, src, n)  # the load's own CPU is not the query's
            cpu0, broker_cpu0, bench_cpu0 = cpu_seconds(server), cpu_seconds(broker), own_cpu_seconds()
            t0 = time.monotonic()
            loader.commit_transaction(120)
        if expected is not None:
            last = count_output(bootstrap, sink, expected, timeout_s=600)
        else:
            # an aggregate's updates are cached between commits: done when the counts add up to n
            last = wait_total(server, sink, n)
        results[f"{name}_records_per_s"] = round(n / (last - t0))
        # what a loaded machine hides: records per CPU-second of the SQL server process
        cpu = max(cpu_seconds(server) - cpu0, 1e-6)
        results[f"{name}_records_per_server_cpu_s"] = round(n / cpu)
        results[f"{name}_server_cpu_us_per_record"] = round(cpu * 1e6 / n, 2)
        results[f"{name}_broker_cpu_us_per_record"] = round((cpu_seconds(broker) - broker_cpu0) * 1e6 / n, 2)
        # this process: the reading consumer (and the producer of a live case), all their threads
        results[f"{name}_bench_clients_cpu_us_per_record"] = round(
            (own_cpu_seconds() - bench_cpu0) * 1e6 / n, 2
        )
        results[f"{name}_load_average_1min"] = round(os.getloadavg()[0], 2)
        print(
            f"  {name}: {results[f'{name}_records_per_s']} records/s, "
            f"{results[f'{name}_records_per_server_cpu_s']} records per server CPU-second "
            f"({results[f'{name}_server_cpu_us_per_record']} µs per record; broker "
            f"{results[f'{name}_broker_cpu_us_per_record']} µs, bench clients "
            f"{results[f'{name}_bench_clients_cpu_us_per_record']} µs), "
            f"load average {results[f'{name}_load_average_1min']}",
            flush=True,
        )
    return results


def own_cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads: librdkafka's too)."""
    t = os.times()
    return t.user + t.system


def cpu_seconds(server: SqlServerProcess | BrokerProcess) -> float:
    """User + system CPU time of the SQL server (or broker) process so far (Linux /proc)."""
    assert server.proc is not None
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_total(server: SqlServerProcess, table: str, n: int, timeout_s: float = 600) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = server.query_stream(f"SELECT SUM(n) AS total FROM {table};")[1:]
        if rows and rows[0][0] == n:
            return time.monotonic()
        time.sleep(0.2)
    raise RuntimeError(f"{table}: the counts never reached {n}")


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 3),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1] * 1000, 3),
    }


class LeanClient:
    """HTTP/1.1 over one keep-alive socket (TCP_NODELAY), each request one `sendall` of bytes built
    before the clock starts, the response read by its Content-Length: what the server and loopback
    TCP take, without a client library's own work per request (httpx adds ~0.6 ms and its garbage
    collections on this machine: measured alongside)."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = (
            f"POST /query-stream HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        ).encode()
        self.buffer = b""

    def request(self, body: bytes) -> bytes:
        return self.head + b"content-length: %d\r\n\r\n" % len(body) + body

    def post(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(
            int(v) for k, _, v in (x.partition(b":") for x in lines[1:]) if k.lower() == b"content-length"
        )
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return int(lines[0].split()[1]), rest[:length]

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        return data

    def close(self) -> None:
        self.sock.close()


def lookups_within(server: SqlServerProcess, seconds: str) -> tuple[float, float]:
    """(requests, of which answered within `seconds`) of POST /query-stream, from the server's
    latency histogram (from the parsed request reaching the app to its answer handed to the HTTP
    transport)."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    total = within = 0.0
    for line in text.splitlines():
        if line.startswith("odradek_http_request_seconds_bucket") and 'route="/query-stream"' in line:
            if f'le="{seconds}"' in line:
                within = float(line.rsplit(" ", 1)[1])
            elif 'le="+Inf"' in line:
                total = float(line.rsplit(" ", 1)[1])
    return total, within


def pull(bootstrap: str, server: SqlServerProcess) -> dict[str, Any]:
    s = uuid.uuid4().hex[:6]
    src = f"kv_{s}"
    server.ok(f"CREATE STREAM {src} (k STRING KEY, v BIGINT) WITH (kafka_topic='{src}', partitions=1);")
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for i in range(10_000):
        producer.produce(src, key=f"k{i}".encode(), value=json.dumps({"V": i}).encode())
    producer.flush(30)
    server.ok(f"CREATE TABLE latest_{s} AS SELECT k, LATEST_BY_OFFSET(v) AS v FROM {src} GROUP BY k;")
    server.wait_rows(f"SELECT * FROM latest_{s} WHERE k = 'k9999';", 1, timeout_s=300)
    lean = LeanClient(server.url)
    client = httpx.Client(base_url=server.url, timeout=30)

    def body(key: str) -> bytes:
        return json.dumps({"sql": f"SELECT * FROM latest_{s} WHERE k = '{key}';"}).encode()

    for _ in range(50):  # warm up: connections, plan cache, store handles
        lean.post(lean.request(body("k1")))
        client.post("/query-stream", content=body("k1"))
    samples: dict[str, list[float]] = {"lean": [], "httpx": []}
    cpu = {"lean": 0.0, "httpx": 0.0}
    counted0 = lookups_within(server, "0.001")
    # the two clients take turns (rounds of 100) so that both meet the same machine load
    for _ in range(10):
        for kind in ("lean", "httpx"):
            keys = [f"k{random.randrange(10_000)}" for _ in range(100)]
            cpu0 = cpu_seconds(server)
            if kind == "lean":
                requests = [lean.request(body(key)) for key in keys]
                for request in requests:
                    t0 = time.perf_counter()
                    status, content = lean.post(request)
                    samples[kind].append(time.perf_counter() - t0)
                    assert status == 200 and content.count(b"\n") == 2, content
            else:
                for key in keys:
                    t0 = time.perf_counter()
                    resp = client.post("/query-stream", content=body(key))
                    samples[kind].append(time.perf_counter() - t0)
                    assert resp.status_code == 200 and len(resp.text.splitlines()) == 2, resp.text
            cpu[kind] += cpu_seconds(server) - cpu0
    counted1 = lookups_within(server, "0.001")
    lean.close()
    client.close()
    handled = counted1[0] - counted0[0]
    return {
        "key_lookup_http": {
            **percentiles(samples["lean"]),
            "server_cpu_ms_per_lookup": round(cpu["lean"] * 1000 / len(samples["lean"]), 3),
            "client": "lean keep-alive socket",
        },
        "key_lookup_httpx": {
            **percentiles(samples["httpx"]),
            "server_cpu_ms_per_lookup": round(cpu["httpx"] * 1000 / len(samples["httpx"]), 3),
            "client": "httpx.Client",
        },
        "in_server_within_1ms": round((counted1[1] - counted0[1]) / max(handled, 1), 4),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def scan(rows: int) -> dict[str, Any]:
    """Scan + aggregate over `rows` rows: DuckDB over the Arrow snapshot, and building that snapshot."""
    from odradek.sql import types as t
    from odradek.sql.compiler.serdes import KeySerde, StateSerde
    from odradek.sql.engine.engine import Engine, NoKafka, Session
    from odradek.sql.functions import builtin_registry
    from odradek.sql.parser import ast
    from odradek.sql.pull import duckdb_engine
    from odradek.sql.pull.executor import _parts, evaluate
    from odradek.sql.pull.snapshot import store_rows
    from odradek.sql.schema import Column, Namespace
    from odradek.sql.types import BIGINT
    from odradek.streams import Serdes, Stores
    from odradek.streams.state.factory import open_store

    engine = Engine(builtin_registry())
    session = Session()
    [stmt] = engine.parse(
        "CREATE TABLE big (k STRING PRIMARY KEY, region STRING, amount DOUBLE, n BIGINT) WITH (kafka_topic='big', partitions=1);",
        session,
    )
    out = engine.execute(stmt, session, NoKafka({"big": 1}))
    assert out.command is not None
    engine.apply(out.command, 0)
    regions = [f"r{i}" for i in range(1000)]
    snapshot_rows = [
        ((f"k{i}",), {"REGION": regions[i % 1000], "AMOUNT": float(i % 977), "N": i}, i, None, None)
        for i in range(rows)
    ]
    source = engine.metastore.sources["BIG"]
    columns: list[Any] = [(c.name, c.type, c.namespace) for c in source.schema.columns] + [
        ("ROWTIME", BIGINT, None)
    ]
    t0 = time.perf_counter()
    table = duckdb_engine.arrow_table(columns, snapshot_rows)
    arrow_build_s = time.perf_counter() - t0
    [q] = engine.parse(
        "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM big WHERE n % 2 = 0 GROUP BY region;",
        session,
    )
    assert isinstance(q, ast.Query)
    planned = engine.plan_query(q)
    sql = duckdb_engine.translate(planned, q, _parts(planned.root))
    assert sql is not None
    snapshot = duckdb_engine.Snapshot(table)
    samples = []
    for _ in range(30):
        t1 = time.perf_counter()
        result = snapshot.query(sql)
        samples.append(time.perf_counter() - t1)
    assert len(result) == 500  # even n only: every other region
    t2 = time.perf_counter()
    _, _, python_result = evaluate(planned, q, snapshot_rows, engine)
    python_s = time.perf_counter() - t2
    assert len(python_result) == 500
    # the cold query: read every row of a RocksDB store of `rows` entries (the snapshot's source)
    tmp = Path(tempfile.mkdtemp())
    spec = Stores.key_value(
        "bench-store", KeySerde((Column("K", t.STRING, Namespace.KEY),), "KAFKA"), StateSerde()
    )
    store = open_store(spec, tmp, Serdes.BYTES, Serdes.BYTES, 1)
    for i, (k, v, *_rest) in enumerate(snapshot_rows):
        store.put(k, v)
        if i % 100_000 == 0:
            store.flush() if hasattr(store, "flush") else None
    if hasattr(store, "flush"):
        store.flush()
    t3 = time.perf_counter()
    read = sum(1 for _ in store_rows(store))
    store_read_s = time.perf_counter() - t3
    return {
        "rows": rows,
        "duckdb_warm": percentiles(samples),
        "arrow_snapshot_build_s": round(arrow_build_s, 2),
        "rocksdb_store_read_s": round(store_read_s, 2),
        "rocksdb_rows_read": read,
        "python_evaluator_s": round(python_s, 2),
    }


def rss_threads(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
    threads = int(next(line for line in status.splitlines() if line.startswith("Threads")).split()[1])
    return rss, threads


def queries(bootstrap: str, tmp: Path, count: int) -> dict[str, Any]:
    with SqlServerProcess(bootstrap, tmp / "q-state", service_id=f"bench{uuid.uuid4().hex[:4]}_") as server:
        assert server.proc is not None
        s = uuid.uuid4().hex[:6]
        server.ok(
            f"CREATE STREAM shared_{s} (k STRING KEY, v BIGINT) WITH (kafka_topic='shared-{s}', partitions=1);"
        )
        base = rss_threads(server.proc.pid)
        server.ok(f"CREATE STREAM q0_{s} AS SELECT k, v FROM shared_{s} WHERE v > 0;")
        time.sleep(2)
        one = rss_threads(server.proc.pid)
        t0 = time.monotonic()
        for i in range(1, count):
            server.ok(f"CREATE STREAM q{i}_{s} AS SELECT k, v FROM shared_{s} WHERE v > {i};")
        created_s = time.monotonic() - t0
        # every query reads the same 10 000 records (so its consumer, producer and state are in use)
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
        for i in range(10_000):
            producer.produce(f"shared-{s}", key=f"k{i % 100}".encode(), value=json.dumps({"V": i}).encode())
        producer.flush(30)
        count_output(bootstrap, f"Q{count - 1}_{s}".upper(), 10_000 - count, timeout_s=600)
        time.sleep(5)
        many = rss_threads(server.proc.pid)
        return {
            "rss_no_query_mib": round(base[0] / 1024),
            "rss_1_query_mib": round(one[0] / 1024),
            f"rss_{count}_queries_mib": round(many[0] / 1024),
            "threads_no_query": base[1],
            f"threads_{count}_queries": many[1],
            "mib_per_extra_query": round((many[0] - one[0]) / 1024 / (count - 1), 1),
            "create_s": round(created_s, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("throughput", "pull", "scan", "queries"))
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--scan-rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count()}
    if args.only == "scan":
        results["scan"] = scan(args.scan_rows)
        print(json.dumps(results, indent=2))
        return
    tmp = Path(tempfile.mkdtemp(prefix="sql-bench-"))
    with BrokerProcess(tmp / "broker", SQL_BROKER) as broker:
        if args.only in (None, "throughput", "pull"):
            with SqlServerProcess(broker.bootstrap, tmp / "state") as server:
                if args.only in (None, "throughput"):
                    print("throughput", flush=True)
                    results["throughput"] = throughput(broker, server, args.records)
                if args.only in (None, "pull"):
                    print("pull", flush=True)
                    results["pull"] = pull(broker.bootstrap, server)
        if args.only in (None, "queries"):
            print("queries", flush=True)
            results["queries"] = queries(broker.bootstrap, tmp, args.queries)
    if args.only is None:
        results["scan"] = scan(args.scan_rows)
    print(json.dumps(results, indent=2))
    subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    main()
