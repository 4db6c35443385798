#!/usr/bin/env python3
"""Schema registry benchmark, and what `odradek dev`'s idle services cost the broker.

    python bench/registry_bench.py            # a few minutes
    python bench/registry_bench.py --quick    # smoke

Scenarios (one broker and one registry subprocess on this machine):
* registrations/s: distinct Avro schemas registered one after another under distinct subjects
  (each one a Kafka transaction read back before the answer), over one keep-alive connection;
* cached id lookups: ``GET /schemas/ids/{id}`` of known ids from C keep-alive connections (a
  minimal asyncio HTTP client, so the load generator costs little); lookups/s, p50 and p99;
* cold start over 10,000 schemas: `_schemas` filled with 10,000 SCHEMA records in Confluent's
  format, then the time from starting `odradek registry` to its first answer listing all subjects;
* broker-side schema validation: µs per record of `SchemaValidation.check` on 1,000-record batches
  of 100-byte values (uncompressed and lz4), ids cached as in steady state;
* broker throughput in `odradek dev` with the registry, REST proxy and Connect idle against the
  broker alone (`odradek dev --without all`), confluent-kafka producer, 100-byte records, runs
  alternated, medians.

Benchmarks are never part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from rest_bench import Http, p99, request  # noqa: E402

from odradek.model.clock import SystemClock  # noqa: E402
from odradek.protocol import records as batches  # noqa: E402
from odradek.registry import records  # noqa: E402
from odradek.registry.model import Schema, SchemaType, SchemaVersion  # noqa: E402
from odradek.testing.broker_process import BrokerProcess  # noqa: E402
from odradek.testing.registry_process import RegistryProcess  # noqa: E402

CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def avro(i: int) -> str:
    return json.dumps({"type": "record", "name": f"R{i}", "fields": [{"name": "f", "type": "long"}]})


def registrations(url: str, count: int) -> dict[str, float]:
    with httpx.Client(base_url=url, headers=CT, timeout=30) as http:
        http.post("/subjects/warmup/versions", json={"schema": avro(-1)})
        start = time.perf_counter()
        for i in range(count):
            r = http.post(f"/subjects/bench-{i}/versions", json={"schema": avro(i)})
            assert r.status_code == 200, r.text
        elapsed = time.perf_counter() - start
    return {"per_s": count / elapsed}


async def lookups(url: str, ids: list[int], seconds: float, conns: int) -> dict[str, float]:
    host = url.split("://", 1)[1]
    raws = [request("GET", f"/schemas/ids/{i}", host) for i in ids]
    samples: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        http = await Http(url).open()
        n = k
        try:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                status, _ = await http.request(raws[n % len(raws)])
                samples.append(time.perf_counter() - t)
                assert status == 200
                n += conns
        finally:
            http.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(conns)))
    elapsed = time.perf_counter() - start
    samples.sort()
    return {
        "per_s": len(samples) / elapsed,
        "p50_ms": samples[len(samples) // 2] * 1000,
        "p99_ms": p99(samples),
    }


def fill_schemas(bootstrap: str, topic: str, count: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config={"cleanup.policy": "compact"})])[topic].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": "20", "acks": "all"})
    for i in range(count):
        entry = SchemaVersion(f"s{i}", 1, i + 1, Schema(SchemaType.AVRO, avro(i)))  # type: ignore[arg-type]
        producer.produce(
            topic, records.encode_schema_value(entry), records.encode_key(records.SchemaKey(f"s{i}", 1))
        )
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def cold_start(bootstrap: str, topic: str, count: int, log: Path) -> float:
    start = time.perf_counter()
    registry = RegistryProcess(bootstrap, {"kafkastore.topic": topic}, log).start()
    try:
        while True:
            subjects = httpx.get(registry.url + "/subjects", timeout=30).json()
            if len(subjects) >= count:
                return time.perf_counter() - start
            time.sleep(0.01)
    finally:
        registry.stop()


def validation_cost(count: int = 1000, rounds: int = 200) -> dict[str, float]:
    from odradek.broker.schema_validation import SchemaValidation

    out = {}
    value = b"\x00\x00\x00\x00\x07" + b"x" * 95
    now = time.time_ns() // 1_000_000
    for codec_name, codec in (("uncompressed", 0), ("lz4", 3)):
        items = [(None, value, [], now)] * count
        batch = batches.build_batch(items, batches.BatchSpec(compression=codec))
        header = batches.validate_batches(memoryview(batch))[0]
        validation = SchemaValidation("http://unused", SystemClock())
        validation._subjects[7] = (frozenset({"t-value"}), now)  # cached, as in steady state
        view = memoryview(batch)
        start = time.perf_counter()
        for _ in range(rounds):
            assert validation.check("t", view, header, (False, True)) is None
        out[codec_name] = (time.perf_counter() - start) / (rounds * count) * 1e6
    return out


def produce_rate(bootstrap: str, topic: str, total: int, value: bytes) -> float:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": "5", "acks": "all", "batch.num.messages": "10000"}
    )
    start = time.perf_counter()
    for _ in range(total):
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(120) == 0
    return total / (time.perf_counter() - start)


def dev_throughput(without_all: bool, total: int) -> float:
    """Broker msgs/s inside `odradek dev`, with every service idle or none."""
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        argv = [
            sys.executable, "-m", "odradek", "--log-level", "WARNING", "dev",
            "--listeners", f"PLAINTEXT://127.0.0.1:{port}", "--metrics-port", "0",
            "--log-dirs", str(Path(tmp) / "d"),
            "--port", "registry=0", "--port", "rest=0", "--port", "connect=0",
        ]  # fmt: skip
        if without_all:
            argv += ["--without", "all"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            expected = 1 if without_all else 4
            seen = 0
            assert proc.stdout is not None
            while seen < expected:
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError("odradek dev stopped")
                if line.startswith("  "):
                    seen += 1
            time.sleep(3)  # let the services settle into idle
            bootstrap = f"127.0.0.1:{port}"
            admin = AdminClient({"bootstrap.servers": bootstrap})
            admin.create_topics([NewTopic("t", 1, 1)])["t"].result(30)
            return produce_rate(bootstrap, "t", total, b"x" * 100)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n_register = 100 if args.quick else 500
    n_cold = 1000 if args.quick else 10_000
    seconds = 3 if args.quick else 10
    runs = 1 if args.quick else args.runs
    results: list[tuple[str, str]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        BrokerProcess(Path(tmp) / "b", {"num.partitions": "1"}) as broker,
    ):
        registry = RegistryProcess(broker.bootstrap, {}, Path(tmp) / "registry.log").start()
        try:
            registry.wait_primary()
            reg = registrations(registry.url, n_register)
            results.append(("registrations", f"{reg['per_s']:,.0f}/s (sequential, one connection)"))
            ids = list(range(1, n_register + 1))
            look = asyncio.run(lookups(registry.url, ids, seconds, 8))
            results.append(
                (
                    "cached id lookups",
                    f"{look['per_s']:,.0f}/s, p50 {look['p50_ms']:.2f} ms, p99 {look['p99_ms']:.2f} ms "
                    "(8 keep-alive connections)",
                )
            )
        finally:
            registry.stop()
        topic = f"_schemas-cold-{uuid.uuid4().hex[:6]}"
        fill_schemas(broker.bootstrap, topic, n_cold)
        cold = [cold_start(broker.bootstrap, topic, n_cold, Path(tmp) / "cold.log") for _ in range(runs)]
        results.append(
            (
                f"cold start over {n_cold:,} schemas",
                f"{statistics.median(cold):.2f} s (start to a full /subjects; "
                f"runs {', '.join(f'{c:.2f}' for c in cold)})",
            )
        )
    cost = validation_cost()
    results.append(
        (
            "validation cost per record",
            f"{cost['uncompressed']:.2f} µs uncompressed, {cost['lz4']:.2f} µs lz4 (cached id)",
        )
    )
    total = 200_000 if args.quick else 1_000_000
    alone, idle = [], []
    for _ in range(runs):
        alone.append(dev_throughput(True, total))
        idle.append(dev_throughput(False, total))
    a, b = statistics.median(alone), statistics.median(idle)
    results.append(("odradek dev broker alone", f"{a:,.0f} msgs/s"))
    results.append(("odradek dev, services idle", f"{b:,.0f} msgs/s ({b / a:.2f}x of alone)"))
    for name, value in results:
        print(f"{name:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
