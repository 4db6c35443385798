#!/usr/bin/env python3
"""REST proxy benchmark: HTTP produce and consume through `odradek rest-proxy` against the same
work done by confluent-kafka talking Kafka directly, on one broker, same machine, same run.

    python bench/rest_bench.py            # about a minute
    python bench/rest_bench.py --quick    # smoke
    python bench/rest_bench.py --only produce --records 100000   # the produce scenarios only

Scenarios (1 KiB JSON records):
* v2 produce: POST /topics/{t}, 100 records per request, C keep-alive connections in parallel;
  records/s and p99 request latency.
* v3 streaming produce: chunked POST …/records, records as NDJSON lines, reports read back while
  sending; records/s and p99 per-record latency (send to delivery report).
* v2 consume / SSE consume: records/s reading a filled topic; p99 end-to-end latency (record
  timestamp to arrival at the HTTP client) at a paced 2,000 records/s.
* direct: confluent-kafka producer and consumer doing the same.
* idle consumer instance memory: proxy RSS growth per v2 consumer instance (created, subscribed,
  one fetch), averaged over 200 instances.

For each HTTP scenario it also prints CPU microseconds per record: of the proxy process (all its
threads, and in parentheses its event-loop thread alone), of the broker and of this load
generator. CPU per record holds on a busy machine where records/s does not; the "idle estimate"
is the least of 1e6 / (event-loop µs) and 2 cores / (proxy + broker + load generator µs), an
upper bound by CPU alone (it ignores waits such as linger.ms with few requests in flight).

The HTTP client is a minimal asyncio HTTP/1.1 client with pre-built requests, so the load generator
costs little CPU next to the proxy. Benchmarks are never part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from odradek.testing.broker_process import BrokerProcess  # noqa: E402
from odradek.testing.service_process import rest_proxy  # noqa: E402

VALUE = {"id": 0, "payload": "x" * 990}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
V2_JSON = "application/vnd.kafka.json.v2+json"


def p99(samples: list[float]) -> float:
    if not samples:
        return float("nan")
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000


class Http:
    """One keep-alive HTTP/1.1 connection: send a request, read one response."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    async def open(self) -> Http:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 24)
        return self

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        chunked = False
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        body = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]

    def close(self) -> None:
        self.writer.close()


def request(method: str, path: str, host: str, body: bytes = b"", ctype: str = "", accept: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    if ctype:
        lines.append(f"Content-Type: {ctype}")
    if accept:
        lines.append(f"Accept: {accept}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def v2_produce(url: str, topic: str, total: int, conns: int) -> dict[str, float]:
    body = json.dumps({"records": [{"value": VALUE}] * 100}).encode()
    host = urlsplit(url).netloc
    raw = request("POST", f"/topics/{topic}", host, body, V2_JSON)
    per_conn = total // 100 // conns
    latencies: list[float] = []

    async def worker() -> None:
        http = await Http(url).open()
        for _ in range(per_conn):
            t0 = time.perf_counter()
            status, _ = await http.request(raw)
            latencies.append(time.perf_counter() - t0)
            assert status == 200, status
        http.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    elapsed = time.perf_counter() - start
    return {"records_s": per_conn * conns * 100 / elapsed, "p99_ms": p99(latencies)}


async def v3_stream(url: str, cluster: str, topic: str, total: int, streams: int) -> dict[str, float]:
    line = json.dumps({"value": {"type": "JSON", "data": VALUE}}).encode() + b"\n"
    host = urlsplit(url).netloc
    per_stream = total // streams
    latencies: list[float] = []

    async def one() -> None:
        http = await Http(url).open()
        head = (
            f"POST /v3/clusters/{cluster}/topics/{topic}/records HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        http.writer.write(head)
        sent: list[float] = []

        async def send() -> None:
            batch = line * 100
            chunk = f"{len(batch):x}\r\n".encode() + batch + b"\r\n"
            for _ in range(per_stream // 100):
                now = time.perf_counter()
                sent.extend([now] * 100)
                http.writer.write(chunk)
                await http.writer.drain()
            http.writer.write(b"0\r\n\r\n")

        async def receive() -> None:
            await http.reader.readuntil(b"\r\n\r\n")
            got = 0
            buf = b""
            while got < per_stream:
                size = int((await http.reader.readuntil(b"\r\n")).strip(), 16)
                data = await http.reader.readexactly(size + 2)
                if size == 0:
                    break
                buf += data[:-2]
                *done, buf = buf.split(b"\n")
                now = time.perf_counter()
                for report in done:
                    assert b'"error_code":200' in report, report[:200]
                    latencies.append(now - sent[got])
                    got += 1

        await asyncio.gather(send(), receive())
        http.close()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(streams)))
    elapsed = time.perf_counter() - start
    return {"records_s": per_stream * streams / elapsed, "p99_ms": p99(latencies)}


async def v2_consume(url: str, topic: str, total: int, paced: Producer | None = None) -> dict[str, float]:
    host = urlsplit(url).netloc
    http = await Http(url).open()
    group = f"bench-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"name": "c", "format": "json", "auto.offset.reset": "earliest"}).encode()
    status, _ = await http.request(
        request("POST", f"/consumers/{group}", host, body, "application/vnd.kafka.v2+json")
    )
    assert status == 200
    base = f"/consumers/{group}/instances/c"
    sub = json.dumps({"topics": [topic]}).encode()
    await http.request(request("POST", base + "/subscription", host, sub, "application/vnd.kafka.v2+json"))
    raw = request("GET", base + "/records?max_bytes=4000000&timeout=1000", host, accept=V2_JSON)
    got, latencies = 0, []
    start = time.perf_counter()
    while got < total:
        status, data = await http.request(raw)
        now_ms = time.time() * 1000
        records = json.loads(data)
        got += len(records)
        latencies += [(now_ms - r["timestamp"]) / 1000 for r in records]
    elapsed = time.perf_counter() - start
    await http.request(request("DELETE", base, host))
    http.close()
    return {"records_s": total / elapsed, "p99_ms": p99(latencies)}


async def sse_consume(url: str, cluster: str, topic: str, total: int) -> dict[str, float]:
    host = urlsplit(url).netloc
    http = await Http(url).open()
    group = f"bench-sse-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"topics": [topic], "format": "JSON", "auto.offset.reset": "earliest"}).encode()
    status, data = await http.request(
        request(
            "POST",
            f"/v3/clusters/{cluster}/consumer-groups/{group}/consumers",
            host,
            body,
            "application/json",
        )
    )
    assert status == 201, data
    cursor = json.loads(data)["cursor"]
    path = f"/v3/clusters/{cluster}/consumer-groups/{group}/records?cursor={cursor}"
    http.writer.write(request("GET", path, host, accept="text/event-stream"))
    await http.reader.readuntil(b"\r\n\r\n")
    got, latencies, buf = 0, [], b""
    seconds: dict[str, int] = {}
    start = time.perf_counter()
    while got < total:
        size = int((await http.reader.readuntil(b"\r\n")).strip(), 16)
        buf += (await http.reader.readexactly(size + 2))[:-2]
        *events, buf = buf.split(b"\n\n")
        now = time.time()
        for event in events:
            at = event.find(b"data: ")
            if at < 0:
                continue
            ts = event[event.index(b'"timestamp":"', at) + 13 :][:23].decode()
            second = seconds.get(ts[:19])
            if second is None:
                second = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
                seconds[ts[:19]] = second
            latencies.append(now - second - int(ts[20:23]) / 1000)
            got += 1
    elapsed = time.perf_counter() - start
    http.close()
    return {"records_s": total / elapsed, "p99_ms": p99(latencies)}


def direct_produce(bootstrap: str, topic: str, total: int) -> dict[str, float]:
    value = json.dumps(VALUE).encode()
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "enable.idempotence": True}
    )
    latencies: list[float] = []

    def done(_err: object, _msg: object, t0: float = 0.0) -> None:
        latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    for _ in range(total):
        t0 = time.perf_counter()
        while True:
            try:
                producer.produce(topic, value, on_delivery=lambda e, m, t0=t0: done(e, m, t0))
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    return {"records_s": total / (time.perf_counter() - start), "p99_ms": p99(latencies)}


def direct_consume(bootstrap: str, topic: str, total: int) -> dict[str, float]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    got, latencies = 0, []
    start = time.perf_counter()
    while got < total:
        # consume(n, timeout) waits for n messages or the timeout: keep the wait short, as the
        # proxy's consumers do, so the direct client's latency is not the batching wait
        for msg in consumer.consume(1000, 0.05):
            if msg.error() is None:
                json.loads(msg.value() or b"null")
                latencies.append(time.time() - msg.timestamp()[1] / 1000)
                got += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    return {"records_s": total / elapsed, "p99_ms": p99(latencies)}


def paced(bootstrap: str, topic: str, rate: int, seconds: float) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    value = json.dumps(VALUE).encode()
    interval = 1.0 / rate
    next_at = time.perf_counter()
    for _ in range(int(rate * seconds)):
        producer.produce(topic, value)
        producer.poll(0)
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    producer.flush(10)


async def latency_run(consume: object, bootstrap: str, topic: str, rate: int, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    pacer = loop.run_in_executor(None, paced, bootstrap, topic, rate, seconds)
    result = await consume  # type: ignore[misc]
    await pacer
    return float(result["p99_ms"])


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def idle_memory(url: str, pid: int, topic: str, count: int) -> float:
    host = urlsplit(url).netloc
    http = await Http(url).open()
    v2 = "application/vnd.kafka.v2+json"
    before = rss_kib(pid)
    for i in range(count):
        group = f"bench-idle-{i}"
        body = json.dumps({"name": "c", "format": "binary", "auto.offset.reset": "latest"}).encode()
        await http.request(request("POST", f"/consumers/{group}", host, body, v2))
        await http.request(
            request(
                "POST",
                f"/consumers/{group}/instances/c/subscription",
                host,
                json.dumps({"topics": [topic]}).encode(),
                v2,
            )
        )
        await http.request(request("GET", f"/consumers/{group}/instances/c/records?timeout=10", host))
    await asyncio.sleep(5)
    after = rss_kib(pid)
    http.close()
    return (after - before) / count


def measured(pids: dict[str, int], records: int, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    """``run()``'s result plus CPU microseconds per record of the proxy and the broker (by pid)
    and of this load generator while it ran. CPU per record holds on a loaded machine, where wall
    throughput does not: on an idle machine, the proxy's event loop (one thread) and the 2 cores
    shared by everything bound the throughput (see `idle_estimate`)."""
    before = {name: cpu_s(pid) for name, pid in pids.items()}
    client0 = time.process_time()
    loop0 = thread_cpu_s(pids["proxy"], pids["proxy"])
    result = run()
    for name, pid in pids.items():
        result[f"{name}_us"] = (cpu_s(pid) - before[name]) / records * 1e6
    result["loop_us"] = (thread_cpu_s(pids["proxy"], pids["proxy"]) - loop0) / records * 1e6
    result["client_us"] = (time.process_time() - client0) / records * 1e6
    return result


def thread_cpu_s(pid: int, tid: int) -> float:
    """CPU seconds of one thread (the proxy's main thread runs its event loop)."""
    fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def idle_estimate(r: dict[str, float], cores: int = 2) -> float:
    """Records/s an idle machine with ``cores`` allows by CPU alone: the least of what the event
    loop thread can do on one core and what all processes together can do on all cores."""
    total = r["proxy_us"] + r["broker_us"] + r["client_us"]
    return min(1e6 / r["loop_us"], cores * 1e6 / total)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only",
        choices=("produce", "consume", "memory"),
        action="append",
        help="run only these scenario groups (repeatable; default: all)",
    )
    parser.add_argument("--records", type=int, help="records per throughput scenario")
    args = parser.parse_args()
    groups = set(args.only or ("produce", "consume", "memory"))
    total = args.records or (20_000 if args.quick else 200_000)
    idle: float | None = None
    with tempfile.TemporaryDirectory() as tmp, BrokerProcess(Path(tmp), {"num.partitions": "1"}) as broker:
        bootstrap = broker.bootstrap
        admin = AdminClient({"bootstrap.servers": bootstrap})
        topics = {
            name: f"bench-{name}"
            for name in ("v2", "v3", "direct", "lat-v2", "lat-sse", "lat-direct", "idle")
        }
        for f in admin.create_topics([NewTopic(t, 1, 1) for t in topics.values()]).values():
            f.result(30)
        results: dict[str, dict[str, float]] = {}
        with rest_proxy(bootstrap) as proxy:
            cluster = json.loads(
                __import__("urllib.request").request.urlopen(proxy.url + "/v3/clusters").read()
            )["data"][0]["cluster_id"]
            assert broker.proc is not None
            pids = {"proxy": proxy.pid, "broker": broker.proc.pid}
            if "produce" in groups or "consume" in groups:
                results["direct produce"] = direct_produce(bootstrap, topics["direct"], total)
            if "produce" in groups:
                results["v2 produce (100/request)"] = measured(
                    pids, total, lambda: asyncio.run(v2_produce(proxy.url, topics["v2"], total, 8))
                )
                results["v3 streaming produce"] = measured(
                    pids,
                    total,
                    lambda: asyncio.run(v3_stream(proxy.url, cluster, topics["v3"], total, 4)),
                )
            if "consume" in groups:
                if "produce" not in groups:  # fill the topics the consumers read
                    direct_produce(bootstrap, topics["v2"], total)
                    direct_produce(bootstrap, topics["v3"], total)
                results["direct consume"] = direct_consume(bootstrap, topics["direct"], total)
                results["v2 consume"] = measured(
                    pids, total, lambda: asyncio.run(v2_consume(proxy.url, topics["v2"], total))
                )
                results["SSE consume"] = measured(
                    pids,
                    total,
                    lambda: asyncio.run(sse_consume(proxy.url, cluster, topics["v3"], total)),
                )
                rate, seconds = 2000, (2 if args.quick else 5)
                n = rate * seconds
                for name, topic, make in (
                    ("direct consume", "lat-direct", None),
                    ("v2 consume", "lat-v2", "v2"),
                    ("SSE consume", "lat-sse", "sse"),
                ):
                    if make is None:
                        coro = asyncio.to_thread(direct_consume, bootstrap, topics[topic], n)
                    elif make == "v2":
                        coro = v2_consume(proxy.url, topics[topic], n)
                    else:
                        coro = sse_consume(proxy.url, cluster, topics[topic], n)
                    results[name]["p99_ms"] = asyncio.run(
                        latency_run(coro, bootstrap, topics[topic], rate, seconds)
                    )
            if "memory" in groups:
                idle = asyncio.run(
                    idle_memory(proxy.url, proxy.pid, topics["idle"], 50 if args.quick else 200)
                )
    load = os.getloadavg()[0]
    print(f"{'scenario':32} {'records/s':>10} {'p99 ms':>8}   CPU µs per record: proxy (loop) broker client")
    for name, r in results.items():
        cpu = ""
        if "proxy_us" in r:
            cpu = (
                f"   {r['proxy_us']:5.1f} ({r['loop_us']:4.1f}) {r['broker_us']:6.1f} {r['client_us']:6.1f}"
                f"   idle estimate {idle_estimate(r):,.0f}/s"
            )
        print(f"{name:32} {r['records_s']:10,.0f} {r['p99_ms']:8.1f}{cpu}")
    if idle is not None:
        print(f"idle v2 consumer instance: {idle:,.0f} KiB of proxy RSS each")
    print(f"load average (1 min) at the end: {load:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
