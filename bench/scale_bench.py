#!/usr/bin/env python3
"""Scale: one odradek broker with many partitions and many connections (`make bench`, scale part).

    python bench/scale_bench.py                          # 20,000 partitions, 10,000 connections
    python bench/scale_bench.py --partitions 2000 --connections 1000 --runs 1   # a quick look

Each run starts a fresh broker subprocess on a fresh data directory and measures, in order:

* `create_1000_s`: CreateTopics of one 1,000-partition topic (median over the topics created), and
  `delete_1000_s`: DeleteTopics of one such topic;
* `metadata_all_ms`: a Metadata request for all topics, sent to the answer's last byte (median of
  20), and `describe_topic_partitions_all_ms`: DescribeTopicPartitions over every partition, all
  pages (median of 5);
* `produce_one_each_s`: librdkafka writing one record to every partition (acks=all) and
  `produce_broker_cpu_s`, the broker's CPU for it;
* `rss_idle_mb` and `rss_per_partition_kb` (RSS over an empty broker's, per partition);
* `stop_s` (SIGTERM to exit), `restart_clean_s` (start to the first Metadata answer after a clean
  stop), `restart_kill9_s` (the same after `kill -9` with every partition written since the last
  checkpoint, so every partition is recovered);
* on a second broker: `conn_rss_per_conn_kb` (RSS growth per idle connection, each having sent one
  ApiVersions), and `burst_1000_s` / `burst_failures` (1,000 clients connecting and sending
  ApiVersions at once).

The machine is shared: run it when it is quiet and use `--runs 3` (medians are printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, create_topics, delete_topics, describe_topic_partitions
from odradek.protocol.messages import metadata as metadata_msg
from odradek.testing.raw_client import RawClient, decode_response, encode_request

PARTITIONS_PER_TOPIC = 1000
START_TIMEOUT_S = 120
SIZE = struct.Struct(">i")


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Broker:
    """An `odradek broker` subprocess on a fixed data directory; restarts keep its port."""

    started: ClassVar[list[Broker]] = []  # killed if a run fails half-way

    def __init__(self, data_dir: Path, overrides: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.overrides = overrides
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start and return the seconds to the first Metadata answer."""
        if self.port == 0:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "odradek", "--log-level", "WARNING", "broker"]
        cmd += ["--listeners", f"PLAINTEXT://127.0.0.1:{self.port}", "--log-dirs", str(self.data_dir)]
        for name, value in self.overrides.items():
            cmd += ["--override", f"{name}={value}"]
        started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)  # inherits our raised fd limit
        Broker.started.append(self)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}")
            if time.monotonic() - started > START_TIMEOUT_S:
                self.kill()
                raise RuntimeError(f"broker did not answer Metadata within {START_TIMEOUT_S} s")
            try:
                with RawClient.connect(self.bootstrap, timeout=30) as client:
                    client.call(ApiKey.METADATA, 12, metadata_msg.MetadataRequest(topics=[]))
                return time.monotonic() - started
            except OSError:
                time.sleep(0.005)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_s(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> float:
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=300)
        return time.monotonic() - started

    def kill(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def timed_call(client: RawClient, key: ApiKey, version: int, request: Any) -> tuple[float, bytes]:
    """Seconds from sending to the last byte of the answer (the client decodes nothing)."""
    started = time.perf_counter()
    client.send(key, version, request)
    frame = client.recv_frame()
    return time.perf_counter() - started, frame


def create_topics_timed(client: RawClient, names: list[str], partitions: int) -> list[float]:
    times = []
    for name in names:
        topic = create_topics.CreatableTopic(name=name, num_partitions=partitions, replication_factor=1)
        request = create_topics.CreateTopicsRequest(topics=[topic], timeout_ms=600_000)
        elapsed, frame = timed_call(client, ApiKey.CREATE_TOPICS, 7, request)
        created = decode_response(ApiKey.CREATE_TOPICS, 7, frame)[1]
        assert [t.error_code for t in created.topics] == [0], created.topics[0].error_message
        times.append(elapsed)
    return times


def describe_all_partitions(client: RawClient) -> tuple[float, int]:
    started = time.perf_counter()
    cursor = None
    count = 0
    while True:
        request = describe_topic_partitions.DescribeTopicPartitionsRequest(
            topics=[], response_partition_limit=2000, cursor=cursor
        )
        response = client.call(ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, request)
        count += sum(len(t.partitions) for t in response.topics)
        if response.next_cursor is None:
            return time.perf_counter() - started, count
        cursor = response.next_cursor


def produce_one_each(bootstrap: str, topics: list[str], partitions: int) -> float:
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 50,
            "queue.buffering.max.messages": 1 << 20,
        }
    )
    producer.list_topics(timeout=30)
    failures = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failures.append(err)

    started = time.perf_counter()
    for topic in topics:
        for partition in range(partitions):
            producer.produce(topic, b"v", partition=partition, on_delivery=delivered)
    remaining = producer.flush(300)
    elapsed = time.perf_counter() - started
    if failures or remaining:
        raise RuntimeError(f"{len(failures)} failed deliveries, {remaining} undelivered: {failures[:3]}")
    return elapsed


def partition_run(args: argparse.Namespace, work: Path) -> dict[str, float]:
    result: dict[str, float] = {}
    try:
        _partition_run(args, work, result)
    finally:
        for broker in Broker.started:
            broker.kill()
    return result


def _partition_run(args: argparse.Namespace, work: Path, result: dict[str, float]) -> None:
    empty = Broker(work / "empty", {})
    empty.start()
    time.sleep(0.5)
    rss_empty = empty.rss_mb()
    empty.stop()

    broker = Broker(work / "data", {})
    broker.start()
    topics = [f"scale-{i}" for i in range(args.partitions // PARTITIONS_PER_TOPIC)]
    with RawClient.connect(broker.bootstrap, timeout=600) as client:
        times = create_topics_timed(client, topics, PARTITIONS_PER_TOPIC)
        result["create_1000_s"] = statistics.median(times)
        create_topics_timed(client, ["scale-doomed"], PARTITIONS_PER_TOPIC)
        doomed = [delete_topics.DeleteTopicState(name="scale-doomed")]
        request = delete_topics.DeleteTopicsRequest(topics=doomed, timeout_ms=600_000)
        result["delete_1000_s"], frame = timed_call(client, ApiKey.DELETE_TOPICS, 6, request)
        deleted = decode_response(ApiKey.DELETE_TOPICS, 6, frame)[1]
        assert [r.error_code for r in deleted.responses] == [0], deleted
        all_topics = metadata_msg.MetadataRequest(topics=None, allow_auto_topic_creation=False)
        latencies = [timed_call(client, ApiKey.METADATA, 12, all_topics)[0] for _ in range(20)]
        result["metadata_all_ms"] = statistics.median(latencies) * 1000
        described = [describe_all_partitions(client) for _ in range(5)]
        result["describe_topic_partitions_all_ms"] = statistics.median(t for t, _ in described) * 1000
        assert all(n >= args.partitions for _, n in described), described
    cpu = broker.cpu_s()
    result["produce_one_each_s"] = produce_one_each(broker.bootstrap, topics, PARTITIONS_PER_TOPIC)
    result["produce_broker_cpu_s"] = broker.cpu_s() - cpu
    time.sleep(1.0)
    result["rss_idle_mb"] = broker.rss_mb()
    result["rss_per_partition_kb"] = (result["rss_idle_mb"] - rss_empty) * 1024 / args.partitions
    result["stop_s"] = broker.stop()
    result["restart_clean_s"] = broker.start()
    result["rss_after_clean_restart_mb"] = broker.rss_mb()
    produce_one_each(broker.bootstrap, topics, PARTITIONS_PER_TOPIC)  # every log dirty
    broker.kill()
    result["restart_kill9_s"] = broker.start()
    with RawClient.connect(broker.bootstrap, timeout=60) as client:
        response = client.call(ApiKey.METADATA, 12, metadata_msg.MetadataRequest(topics=None))
        hosted = sum(len(t.partitions) for t in response.topics if t.name.startswith("scale-"))
        assert hosted == args.partitions, hosted
    broker.stop()


async def _connect_and_hello(port: int, limit_s: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    async with asyncio.timeout(limit_s):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = encode_request(
            ApiKey.API_VERSIONS,
            3,
            api_versions.ApiVersionsRequest(client_software_name="tests", client_software_version="1"),
            1,
        )
        writer.write(SIZE.pack(len(body)) + body)
        size = SIZE.unpack(await reader.readexactly(4))[0]
        await reader.readexactly(size)
    return reader, writer


async def _open_many(port: int, count: int, batch: int) -> list[asyncio.StreamWriter]:
    writers = []
    for start in range(0, count, batch):
        pairs = await asyncio.gather(
            *(_connect_and_hello(port, 30) for _ in range(min(batch, count - start)))
        )
        writers += [w for _, w in pairs]
    return writers


async def _burst(port: int, count: int) -> tuple[float, int]:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_connect_and_hello(port, 10) for _ in range(count)), return_exceptions=True
    )
    elapsed = time.perf_counter() - started
    failures = sum(1 for r in results if isinstance(r, BaseException))
    for r in results:
        if not isinstance(r, BaseException):
            r[1].close()
    return elapsed, failures


def connection_run(args: argparse.Namespace, work: Path) -> dict[str, float]:
    result: dict[str, float] = {}
    try:
        _connection_run(args, work, result)
    finally:
        for broker in Broker.started:
            broker.kill()
    return result


def _connection_run(args: argparse.Namespace, work: Path, result: dict[str, float]) -> None:
    broker = Broker(work / "conns", {})
    broker.start()
    time.sleep(0.5)

    async def main() -> None:
        # warm up the broker's connection path so the baseline has the allocator pools it needs
        for w in await _open_many(broker.port, 100, 100):
            w.close()
        await asyncio.sleep(0.5)
        before = broker.rss_mb()
        writers = await _open_many(broker.port, args.connections, 500)
        await asyncio.sleep(1.0)
        result["conn_rss_per_conn_kb"] = (broker.rss_mb() - before) * 1024 / args.connections
        result["conn_rss_mb"] = broker.rss_mb()
        for w in writers:
            w.close()
        await asyncio.sleep(1.0)
        result["burst_1000_s"], failures = await _burst(broker.port, 1000)
        result["burst_failures"] = failures

    asyncio.run(main())
    broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partitions", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", choices=("partitions", "connections"), default=None)
    parser.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    args = parser.parse_args()
    raise_fd_limit()
    runs: list[dict[str, float]] = []
    for run in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="odradek-scale-"))
        try:
            result: dict[str, float] = {}
            if args.only in (None, "partitions"):
                result |= partition_run(args, work)
            if args.only in (None, "connections"):
                result |= connection_run(args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps({"run": run, **result}), flush=True)
        if args.out is not None:
            with args.out.open("a") as f:
                f.write(json.dumps({"type": "scale", "run": run, **result}) + "\n")
        runs.append(result)
    what = f"{args.partitions} partitions, {args.connections} connections"
    print(f"\nscale ({what}), median of {len(runs)} run(s):")
    for key in runs[0]:
        values = [r[key] for r in runs if key in r]
        print(
            f"  {key:34s} {statistics.median(values):12.3f}   (min {min(values):.3f}, max {max(values):.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
