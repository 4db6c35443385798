#!/usr/bin/env python3
"""Scale: one odradek broker with many partitions and many connections (`make bench`, scale part).

    python bench/scale_bench.py                          # 20,000 partitions, 10,000 connections
    python bench/scale_bench.py --tansu /path/to/tansu   # the same create/Metadata figures on Tansu
    python bench/scale_bench.py --partitions 2000 --checkpoints 1000 --connections 1000   # a quick look

Each run starts a fresh broker subprocess on a fresh data directory, creates 1,000-partition topics
up to `--partitions`, and measures:

* `create_1000_s`: CreateTopics of one 1,000-partition topic (median over the topics created), and
  `delete_1000_s`: DeleteTopics of one such topic; `create_1000_cpu_s` and `delete_1000_cpu_s`: the
  broker's CPU seconds for them (what an idle machine's wall time approaches);
* `metadata_all_ms`: a Metadata request for all topics, sent to the answer's last byte (median of
  20), and `describe_topic_partitions_all_ms`: DescribeTopicPartitions over every partition, all
  pages (median of 5);
* `produce_one_each_s`: librdkafka writing one record to every partition (acks=all) and
  `produce_broker_cpu_s`, the broker's CPU for it;
* `idle_cpu_ms_per_s`: then, with every partition written once, the broker's CPU milliseconds per
  second while nobody sends anything for `--idle-s` seconds (its background passes: checkpoints,
  the log cleaner's and the ISR's timers...); `idle_empty_cpu_ms_per_s`, the same of the empty
  broker (30 s), and `idle_cpu_ns_per_partition_s`, the difference per partition (CPU nanoseconds
  per second per idle partition);
* `*_cpu_s` beside a start or restart: the broker's CPU seconds (its own and its recovery worker
  processes') up to that first answer, which a loaded machine inflates far less than the wall time;
* `startup_empty_s` (start of an empty broker, `python -m odradek broker`, to its first Metadata
  answer; odradek's bytecode is compiled first, as an installation does), `rss_empty_mb`,
  `rss_idle_mb` and `rss_per_partition_kb` (RSS over an empty broker's, per partition);
* at each checkpoint (`--checkpoints`, e.g. 5,000, and at `--partitions`), with one record just
  written to every partition: `stop_<n>_s` (SIGTERM to exit), `restart_clean_<n>_s` (start to the
  first Metadata answer after the clean stop), and `restart_kill9_<n>_s` (the same after `kill -9`
  with every partition written since the last checkpoint, so every partition is recovered);
* `coordinator_load_s`: after a clean restart of a broker whose `__consumer_offsets` holds
  `--offset-commits` commits, the time to the first answered OffsetFetch (the coordinator
  partitions load in worker threads while the broker already serves);
* on a second broker: `conn_rss_per_conn_kb` (RSS growth per idle connection, each having sent one
  ApiVersions), `conn_cpu_per_conn_ms` (the broker's CPU to accept a connection and answer its
  ApiVersions, over all of them), `burst_1000_s` / `burst_failures` (1,000 clients connecting and
  sending ApiVersions at once, each given 10 s) and `burst_cpu_per_conn_ms`;
* on a third broker with `max.connection.creation.rate` 250: `burst_1000_rate_250_s` and
  `burst_rate_250_failures` (the same burst, each client given 30 s as librdkafka's
  `socket.connection.setup.timeout.ms`: 750 of them wait in the backlog, so it takes at least 3 s,
  and none is refused).

With `--tansu PATH` the create, delete, Metadata and RSS figures are measured on the peer broker Tansu
too (memory storage: restarts do not apply) and printed with the ratio odradek / Tansu.

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
from odradek.protocol.messages import (
    api_versions,
    create_topics,
    delete_topics,
    describe_topic_partitions,
    find_coordinator,
    offset_commit,
    offset_fetch,
)
from odradek.protocol.messages import metadata as metadata_msg
from odradek.testing.raw_client import ConnectionClosed, RawClient, decode_response, encode_request

PARTITIONS_PER_TOPIC = 1000
EMPTY_IDLE_S = 30.0  # an empty broker's idle window (its figure is the baseline of the one per partition)
METADATA_VERSION = 12
START_TIMEOUT_S = 120
SIZE = struct.Struct(">i")


def compile_odradek() -> None:
    """Write odradek's bytecode first, as an installation's first start does: a start then measures
    the broker, not the compiler (with PYTHONDONTWRITEBYTECODE set, every start would compile every
    module and every dataclass method)."""
    import compileall

    import odradek

    compileall.compile_dir(str(Path(odradek.__file__).parent), quiet=1)
    # and the compiled dataclass methods a broker start keeps next to them (process/dataclass_cache.py)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    prime = "from odradek.cli.commands.broker import import_broker; import_broker()"
    subprocess.run([sys.executable, "-c", prime], env=env, check=True)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Broker:
    """An `odradek broker` subprocess on a fixed data directory; restarts keep its port."""

    started: ClassVar[list[Broker]] = []  # killed if a run fails half-way

    def __init__(self, data_dir: Path, overrides: dict[str, str], command: list[str] | None = None) -> None:
        self.data_dir = data_dir
        self.overrides = overrides
        self.command = command  # another broker's command line ({port} substituted), e.g. Tansu's
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_cpu_s = 0.0  # the broker's CPU from its start to its first Metadata answer

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start and return the seconds to the first Metadata answer."""
        if self.port == 0:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
        if self.command is not None:
            cmd = [part.replace("{port}", str(self.port)) for part in self.command]
        else:
            cmd = [sys.executable, "-m", "odradek", "--log-level", "WARNING", "broker"]
            cmd += ["--listeners", f"PLAINTEXT://127.0.0.1:{self.port}", "--log-dirs", str(self.data_dir)]
            for name, value in self.overrides.items():
                cmd += ["--override", f"{name}={value}"]
        started = time.monotonic()
        self.proc = subprocess.Popen(  # inherits our raised fd limit
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if self.command else None
        )
        Broker.started.append(self)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}")
            if time.monotonic() - started > START_TIMEOUT_S:
                self.kill()
                raise RuntimeError(f"broker did not answer Metadata within {START_TIMEOUT_S} s")
            try:
                with RawClient.connect(self.bootstrap, timeout=30) as client:
                    client.call(ApiKey.METADATA, METADATA_VERSION, metadata_msg.MetadataRequest(topics=[]))
                elapsed = time.monotonic() - started
                self.start_cpu_s = self.cpu_s()
                return elapsed
            except (OSError, ConnectionClosed):
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
        """CPU seconds of the broker and of its children that ended (recovery worker processes)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(n) for n in fields[11:15]) / os.sysconf("SC_CLK_TCK")

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


def create_topics_timed(
    client: RawClient,
    names: list[str],
    partitions: int,
    broker: Broker | None = None,
    cpu_times: list[float] | None = None,
) -> list[float]:
    """Seconds each CreateTopics took; with `broker` and `cpu_times`, also the broker's CPU for each."""
    times = []
    for name in names:
        topic = create_topics.CreatableTopic(name=name, num_partitions=partitions, replication_factor=1)
        request = create_topics.CreateTopicsRequest(topics=[topic], timeout_ms=600_000)
        cpu = broker.cpu_s() if broker is not None else 0.0
        elapsed, frame = timed_call(client, ApiKey.CREATE_TOPICS, 7, request)
        if broker is not None and cpu_times is not None:
            cpu_times.append(broker.cpu_s() - cpu)
        created = decode_response(ApiKey.CREATE_TOPICS, 7, frame)[1]
        assert [t.error_code for t in created.topics] == [0], created.topics[0].error_message
        times.append(elapsed)
    return times


def describe_all_partitions(client: RawClient) -> tuple[float, int]:
    """Seconds the broker took for every page (round trips only: the client decodes each answer
    after its clock stopped), and the partitions described."""
    elapsed = 0.0
    cursor = None
    count = 0
    while True:
        request = describe_topic_partitions.DescribeTopicPartitionsRequest(
            topics=[], response_partition_limit=2000, cursor=cursor
        )
        took, frame = timed_call(client, ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, request)
        elapsed += took
        response = decode_response(ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, frame)[1]
        count += sum(len(t.partitions) for t in response.topics)
        if response.next_cursor is None:
            return elapsed, count
        cursor = response.next_cursor


def produce_one_each(bootstrap: str, topics: list[str], partitions: int) -> float:
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 50,
            "queue.buffering.max.messages": 1 << 20,
            "message.timeout.ms": 900_000,  # a loaded machine: slow is measured, not failed
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
    remaining = producer.flush(900)
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
    result["startup_empty_s"] = empty.start()
    result["startup_empty_cpu_s"] = empty.start_cpu_s
    time.sleep(0.5)
    result["rss_empty_mb"] = empty.rss_mb()
    if args.idle_s > 0:
        result["idle_empty_cpu_ms_per_s"] = idle_cpu_ms_per_s(empty, min(args.idle_s, EMPTY_IDLE_S))
    empty.stop()

    broker = Broker(work / "data", {})
    broker.start()
    topics: list[str] = []
    create_times: list[float] = []
    create_cpu: list[float] = []
    checkpoints = sorted({c for c in args.checkpoints if c < args.partitions} | {args.partitions})
    for checkpoint in checkpoints:
        names = [f"scale-{i}" for i in range(len(topics), checkpoint // PARTITIONS_PER_TOPIC)]
        with RawClient.connect(broker.bootstrap, timeout=600) as client:
            create_times += create_topics_timed(client, names, PARTITIONS_PER_TOPIC, broker, create_cpu)
        topics += names
        if checkpoint == args.partitions:
            _serving_figures(args, broker, topics, result)
        else:
            produce_one_each(broker.bootstrap, topics, PARTITIONS_PER_TOPIC)
        print(f"so far: {json.dumps(result)}", file=sys.stderr, flush=True)
        _restart_figures(broker, topics, checkpoint, result)
        print(f"so far: {json.dumps(result)}", file=sys.stderr, flush=True)
    result["create_1000_s"] = statistics.median(create_times)
    result["create_1000_cpu_s"] = statistics.median(create_cpu)
    broker.stop()


def _serving_figures(
    args: argparse.Namespace, broker: Broker, topics: list[str], result: dict[str, float]
) -> None:
    with RawClient.connect(broker.bootstrap, timeout=600) as client:
        result |= create_delete_metadata(client, args.partitions, broker)
    cpu = broker.cpu_s()
    result["produce_one_each_s"] = produce_one_each(broker.bootstrap, topics, PARTITIONS_PER_TOPIC)
    result["produce_broker_cpu_s"] = broker.cpu_s() - cpu
    time.sleep(1.0)
    result["rss_idle_mb"] = broker.rss_mb()
    result["rss_per_partition_kb"] = (result["rss_idle_mb"] - result["rss_empty_mb"]) * 1024 / args.partitions
    if args.idle_s > 0:
        idle = idle_cpu_ms_per_s(broker, args.idle_s)
        result["idle_cpu_ms_per_s"] = idle
        above_empty = idle - result.get("idle_empty_cpu_ms_per_s", 0.0)
        result["idle_cpu_ns_per_partition_s"] = above_empty * 1e6 / args.partitions


def idle_cpu_ms_per_s(broker: Broker, seconds: float) -> float:
    """The broker's CPU milliseconds per second of wall time while nobody sends it anything: its
    background passes (checkpoints every 60 s, the log cleaner's and the ISR's every 15 s...).
    Clock ticks of /proc (10 ms), so a window of minutes."""
    cpu, started = broker.cpu_s(), time.monotonic()
    time.sleep(seconds)
    return (broker.cpu_s() - cpu) * 1000 / (time.monotonic() - started)


def create_delete_metadata(
    client: RawClient, expected: int, broker: Broker | None = None
) -> dict[str, float]:
    """delete_1000_s, metadata_all_ms and describe_topic_partitions_all_ms on a loaded broker (and
    with `broker`, delete_1000_cpu_s: its CPU seconds to the DeleteTopics answer)."""
    out: dict[str, float] = {}
    create_topics_timed(client, ["scale-doomed"], PARTITIONS_PER_TOPIC)
    doomed = [delete_topics.DeleteTopicState(name="scale-doomed")]
    request = delete_topics.DeleteTopicsRequest(topics=doomed, timeout_ms=600_000)
    cpu = broker.cpu_s() if broker is not None else 0.0
    out["delete_1000_s"], frame = timed_call(client, ApiKey.DELETE_TOPICS, 6, request)
    if broker is not None:
        out["delete_1000_cpu_s"] = broker.cpu_s() - cpu
    deleted = decode_response(ApiKey.DELETE_TOPICS, 6, frame)[1]
    assert [r.error_code for r in deleted.responses] == [0], deleted
    all_topics = metadata_msg.MetadataRequest(topics=None, allow_auto_topic_creation=False)
    latencies = [timed_call(client, ApiKey.METADATA, METADATA_VERSION, all_topics)[0] for _ in range(20)]
    out["metadata_all_ms"] = statistics.median(latencies) * 1000
    try:
        described = [describe_all_partitions(client) for _ in range(5)]
    except (OSError, ConnectionClosed, ValueError) as exc:  # a broker without DescribeTopicPartitions
        print(f"DescribeTopicPartitions not measured: {exc!r}", file=sys.stderr)
        return out
    if not all(n >= expected for _, n in described):  # a broker answering without every partition
        counts = [n for _, n in described]
        print(f"DescribeTopicPartitions not measured: {counts} partitions", file=sys.stderr)
        return out
    out["describe_topic_partitions_all_ms"] = statistics.median(t for t, _ in described) * 1000
    return out


def _restart_figures(broker: Broker, topics: list[str], partitions: int, result: dict[str, float]) -> None:
    """Stop and restarts with one record just written to every partition (see the module docstring)."""
    result[f"stop_{partitions}_s"] = broker.stop()
    result[f"restart_clean_{partitions}_s"] = broker.start()
    result[f"restart_clean_{partitions}_cpu_s"] = broker.start_cpu_s
    result[f"rss_after_clean_restart_{partitions}_mb"] = broker.rss_mb()
    produce_one_each(broker.bootstrap, topics, PARTITIONS_PER_TOPIC)  # every log dirty
    broker.kill()
    result[f"restart_kill9_{partitions}_s"] = broker.start()
    result[f"restart_kill9_{partitions}_cpu_s"] = broker.start_cpu_s
    with RawClient.connect(broker.bootstrap, timeout=60) as client:
        response = client.call(ApiKey.METADATA, METADATA_VERSION, metadata_msg.MetadataRequest(topics=None))
        hosted = sum(len(t.partitions) for t in response.topics if t.name.startswith("scale-"))
        assert hosted == partitions, hosted


def coordinator_run(args: argparse.Namespace, work: Path) -> dict[str, float]:
    result: dict[str, float] = {}
    try:
        _coordinator_run(args, work, result)
    finally:
        for broker in Broker.started:
            broker.kill()
    return result


def _commit(client: RawClient, group: str, offset: int) -> None:
    partition = offset_commit.OffsetCommitRequestPartition(partition_index=0, committed_offset=offset)
    request = offset_commit.OffsetCommitRequest(
        group_id=group,
        generation_id_or_member_epoch=-1,
        topics=[offset_commit.OffsetCommitRequestTopic(name="committed", partitions=[partition])],
    )
    response = client.call(ApiKey.OFFSET_COMMIT, 8, request)
    assert response.topics[0].partitions[0].error_code == 0, response


def _fetched(client: RawClient, group: str) -> tuple[int, int]:
    """(error code, committed offset) of the group's partition."""
    topic = offset_fetch.OffsetFetchRequestTopics(name="committed", partition_indexes=[0])
    request = offset_fetch.OffsetFetchRequest(
        groups=[offset_fetch.OffsetFetchRequestGroup(group_id=group, topics=[topic])]
    )
    group_answer = client.call(ApiKey.OFFSET_FETCH, 8, request).groups[0]
    if group_answer.error_code:
        return group_answer.error_code, -1
    return 0, group_answer.topics[0].partitions[0].committed_offset


def _coordinator_run(args: argparse.Namespace, work: Path, result: dict[str, float]) -> None:
    broker = Broker(work / "coordinators", {})
    broker.start()
    groups = [f"g{i}" for i in range(50)]
    with RawClient.connect(broker.bootstrap, timeout=600) as client:
        request = create_topics.CreateTopicsRequest(
            topics=[create_topics.CreatableTopic(name="committed", num_partitions=1, replication_factor=1)],
            timeout_ms=60_000,
        )
        client.call(ApiKey.CREATE_TOPICS, 7, request)
        find = find_coordinator.FindCoordinatorRequest(key_type=0, coordinator_keys=groups)
        while any(c.error_code for c in client.call(ApiKey.FIND_COORDINATOR, 4, find).coordinators):
            time.sleep(0.05)  # __consumer_offsets being created and loaded
        for n in range(args.offset_commits):
            _commit(client, groups[n % len(groups)], n)
    broker.stop()
    started = time.monotonic()
    result["coordinator_start_s"] = broker.start()
    last = groups[(args.offset_commits - 1) % len(groups)]
    errors: dict[int, int] = {}
    with RawClient.connect(broker.bootstrap, timeout=600) as client:
        while True:
            error, offset = _fetched(client, last)
            if error == 0:
                assert offset == args.offset_commits - 1, offset
                break
            errors[error] = errors.get(error, 0) + 1
            time.sleep(0.005)  # COORDINATOR_LOAD_IN_PROGRESS meanwhile
    result["coordinator_load_s"] = time.monotonic() - started
    result["coordinator_load_cpu_s"] = broker.cpu_s()
    print(f"OffsetFetch errors while loading: {errors}", file=sys.stderr)
    broker.stop()


def tansu_run(args: argparse.Namespace, tansu: str, work: Path) -> dict[str, float]:
    """The figures that apply to Tansu (memory storage): create, delete, Metadata, RSS."""
    result: dict[str, float] = {}
    url = "tcp://127.0.0.1:{port}"
    command = [tansu, "broker", "--listener-url", url, "--advertised-listener-url", url]
    try:
        empty = Broker(work / "tansu-empty", {}, command)
        result["startup_empty_s"] = empty.start()
        result["startup_empty_cpu_s"] = empty.start_cpu_s
        time.sleep(0.5)
        result["rss_empty_mb"] = empty.rss_mb()
        empty.kill()
        broker = Broker(work / "tansu", {}, command)
        broker.start()
        topics = [f"scale-{i}" for i in range(args.partitions // PARTITIONS_PER_TOPIC)]
        with RawClient.connect(broker.bootstrap, timeout=600) as client:
            result["create_1000_s"] = statistics.median(
                create_topics_timed(client, topics, PARTITIONS_PER_TOPIC)
            )
            result |= create_delete_metadata(client, args.partitions)
        time.sleep(1.0)
        result["rss_idle_mb"] = broker.rss_mb()
        result["rss_per_partition_kb"] = (
            (result["rss_idle_mb"] - result["rss_empty_mb"]) * 1024 / args.partitions
        )
    finally:
        for started in Broker.started:
            started.kill()
    return result


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


async def _burst(port: int, count: int, limit_s: float = 10.0) -> tuple[float, int]:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_connect_and_hello(port, limit_s) for _ in range(count)), return_exceptions=True
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
        before, cpu_before = broker.rss_mb(), broker.cpu_s()
        writers = await _open_many(broker.port, args.connections, 500)
        cpu_after = broker.cpu_s()
        await asyncio.sleep(1.0)
        result["conn_rss_per_conn_kb"] = (broker.rss_mb() - before) * 1024 / args.connections
        result["conn_rss_mb"] = broker.rss_mb()
        result["conn_cpu_per_conn_ms"] = (cpu_after - cpu_before) * 1000 / args.connections
        for w in writers:
            w.close()
        await asyncio.sleep(1.0)
        cpu_before = broker.cpu_s()
        result["burst_1000_s"], failures = await _burst(broker.port, 1000)
        result["burst_cpu_per_conn_ms"] = broker.cpu_s() - cpu_before  # seconds per 1,000: ms each
        result["burst_failures"] = failures

    asyncio.run(main())
    broker.stop()

    rated = Broker(work / "conns-rated", {"max.connection.creation.rate": "250"})
    rated.start()
    time.sleep(1.1)  # a full bucket

    async def rated_burst() -> None:
        result["burst_1000_rate_250_s"], failures = await _burst(rated.port, 1000, 30.0)
        result["burst_rate_250_failures"] = failures

    asyncio.run(rated_burst())
    rated.stop()


def print_table(
    args: argparse.Namespace, runs: list[dict[str, float]], peer_runs: list[dict[str, float]]
) -> None:
    what = f"{args.partitions} partitions, {args.connections} connections"
    print(f"\nscale ({what}), median of {len(runs)} run(s); ratio = odradek / Tansu (lower is better):")
    print(f"  {'figure':36s} {'odradek':>10s} {'min':>9s} {'max':>9s} {'tansu':>10s} {'ratio':>7s}")
    for key in runs[0]:
        values = [r[key] for r in runs if key in r]
        ours = statistics.median(values)
        theirs = [r[key] for r in peer_runs if key in r]
        peer = f"{statistics.median(theirs):10.3f}" if theirs else f"{'-':>10s}"
        ratio = (
            f"{ours / statistics.median(theirs):6.2f}x"
            if theirs and statistics.median(theirs)
            else f"{'-':>7s}"
        )
        print(f"  {key:36s} {ours:10.3f} {min(values):9.3f} {max(values):9.3f} {peer} {ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partitions", type=int, default=20_000)
    parser.add_argument(
        "--checkpoints",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[5_000],
        help="partition counts (comma-separated) where restarts are measured too, besides --partitions",
    )
    parser.add_argument(
        "--idle-s",
        type=float,
        default=120.0,
        help="seconds the broker with every partition written is left idle for idle_cpu_* (0: skip)",
    )
    parser.add_argument("--offset-commits", type=int, default=100_000)
    parser.add_argument("--tansu", default=None, help="the Tansu binary: measure it too and print ratios")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", choices=("partitions", "coordinators", "connections"), default=None)
    parser.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    args = parser.parse_args()
    raise_fd_limit()
    compile_odradek()
    runs: list[dict[str, float]] = []
    peer_runs: list[dict[str, float]] = []
    for run in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="odradek-scale-"))
        try:
            result: dict[str, float] = {}
            if args.only in (None, "partitions"):
                result |= partition_run(args, work)
            if args.only in (None, "coordinators"):
                result |= coordinator_run(args, work)
            if args.only in (None, "connections"):
                result |= connection_run(args, work)
            peer = (
                tansu_run(args, args.tansu, work) if args.tansu and args.only in (None, "partitions") else {}
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps({"run": run, **result, **{f"tansu_{k}": v for k, v in peer.items()}}), flush=True)
        if args.out is not None:
            with args.out.open("a") as f:
                f.write(json.dumps({"type": "scale", "run": run, **result}) + "\n")
                if peer:
                    f.write(json.dumps({"type": "scale-tansu", "run": run, **peer}) + "\n")
        runs.append(result)
        peer_runs.append(peer)
    print_table(args, runs, peer_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
