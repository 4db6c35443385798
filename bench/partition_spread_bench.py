"""The broker's Python work for one record to each of many partitions, in process (not a test).

    PYTHONPATH=src python bench/partition_spread_bench.py [--partitions 20000] [--profile]

librdkafka sends one Produce request per partition (v10, acks=all, one batch of one record), so a
producer writing one record to each of 20,000 partitions is 20,000 requests, pipelined on one
connection. A real broker (`InProcessBroker`: real storage in a temporary directory, the real
handler table) holds `--partitions` partitions in topics of 1,000; each request is handed to the
connection as bytes, `--pipeline` requests at a time (as a socket read delivers them), and the
event loop runs until every answer is written. No syscalls besides storage's own (no sockets, no
epoll), so this is the part of the cost that the broker's code decides; `scale_bench.py` gives the
whole figure over TCP with librdkafka.

Three rounds, each printed in microseconds of process CPU per request:

* `first`: the first record of every partition (its first append: the active segment opened);
* `again`: one more record to every partition (segments open, up to `odradek.log.max.open.files`);
* `one partition`: as many requests to a single partition (the same request's cost without
  touching a new partition each time).

`--tcp` measures the same three rounds against an `odradek broker` subprocess over loopback, as the
broker's own CPU per request (user + system, from /proc), and prints them side by side for each
`--counts` (e.g. 20,000 and 2,000 partitions, a fresh broker each) and each way of sending:
`lone` (one request, its answer, the next: how librdkafka's requests reach a broker at 20,000
partitions, one Produce per partition) and `pipelined` (`--pipeline` requests per write). The open-file
limit is set to `--nofile` (20,000, as the issue's machine) so the file cache holds half of it
(`odradek.log.max.open.files` default): a round over 20,000 partitions closes one `.log` and opens
another on every append. `--gap-ms` spaces lone requests as a slow client does (each then meets an
idle broker), `--librdkafka` adds a round of confluent-kafka writing one record to every partition.
"No slow path per partition" reads off the table: `first/one` and `again/one` near 1.

`--bytecodes` prints instead the Python bytecode instructions and calls per request (`sys.settrace`):
figures that do not move with the machine's load, for comparing two versions of the code (system
calls such as the first append's `open` are not in them). `--profile` prints the top functions of a
cProfile run of the first round (cProfile's own overhead inflates every figure in it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bytecode_count import BytecodeCount

from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import create_topics, produce
from odradek.protocol.records import build_batch
from odradek.testing.in_process import InMemoryConnection, InProcessBroker
from odradek.testing.raw_client import ConnectionClosed, RawClient, decode_response, encode_request

PER_TOPIC = 1000
VERSION = 10  # librdkafka 2.x


def produce_frames(targets: list[tuple[str, int]], first_correlation: int) -> list[bytes]:
    """One Produce request per (topic, partition), as librdkafka sends them."""
    now = int(time.time() * 1000)
    batch = build_batch([(None, b"v", [], now)])
    frames = []
    for i, (topic, partition) in enumerate(targets):
        data = produce.PartitionProduceData(index=partition, records=batch)
        request = produce.ProduceRequest(
            acks=-1,
            timeout_ms=30_000,
            topic_data=[produce.TopicProduceData(name=topic, partition_data=[data])],
        )
        body = encode_request(ApiKey.PRODUCE, VERSION, request, first_correlation + i, client_id="rdkafka")
        frames.append(p.INT32.pack(len(body)) + body)
    return frames


async def send_all(conn: InMemoryConnection, frames: list[bytes], pipeline: int) -> float:
    """Process CPU seconds to hand every frame over (`pipeline` at a time) and have it answered."""
    protocol, transport = conn.protocol, conn.transport
    cpu = time.process_time()
    for start in range(0, len(frames), pipeline):
        data = b"".join(frames[start : start + pipeline])
        pos = 0
        while pos < len(data):
            buf = protocol.get_buffer(-1)
            n = min(len(buf), len(data) - pos)
            buf[:n] = data[pos : pos + n]
            pos += n
            protocol.buffer_updated(n)
        while protocol.pending or protocol.busy is not None:  # noqa: ASYNC110 - no extra wake-ups
            await asyncio.sleep(0)
        if transport.closed:
            raise RuntimeError("the broker closed the connection")
    return time.process_time() - cpu


def count_bytecodes(conn: InMemoryConnection, frames: list[bytes], pipeline: int) -> tuple[float, float]:
    """(bytecodes, Python calls) per request, over `frames` handed over `pipeline` at a time (each
    answered inside `buffer_updated`: no task)."""
    counter = BytecodeCount()
    protocol = conn.protocol
    for start in range(0, len(frames), pipeline):
        data = b"".join(frames[start : start + pipeline])
        buf = protocol.get_buffer(-1)
        if len(buf) < len(data):
            raise RuntimeError("a pipeline larger than the connection's receive buffer")
        buf[: len(data)] = data
        counter.run(protocol.buffer_updated, len(data))
        if protocol.pending or protocol.busy is not None:
            raise RuntimeError("a request was not answered inside buffer_updated")
    return counter.per(len(frames))


def check_answers(conn: InMemoryConnection, count: int) -> None:
    for _ in range(count):
        frame = conn.next_frame()
        assert frame is not None, "an answer is missing"
        response = decode_response(ApiKey.PRODUCE, VERSION, frame)[1]
        [topic] = response.responses
        [part] = topic.partition_responses
        assert part.error_code == 0, part


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partitions", type=int, default=20_000, help="a multiple of 1,000")
    parser.add_argument("--pipeline", type=int, default=32, help="requests per socket read")
    parser.add_argument("--bytecodes", action="store_true", help="count bytecodes and calls per request")
    parser.add_argument("--profile", action="store_true", help="cProfile the first round")
    parser.add_argument("--sort", default="tottime", help="cProfile order (tottime, cumulative...)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds on fresh partitions; best shown")
    parser.add_argument(
        "--dry", action="store_true", help="set up, send nothing (a baseline for instruction counts)"
    )
    parser.add_argument("--only", choices=("first", "again", "one partition"), default=None)
    parser.add_argument("--override", action="append", default=[], help="a broker config NAME=VALUE")
    parser.add_argument("--tcp", action="store_true", help="an odradek broker subprocess over loopback")
    parser.add_argument("--counts", default="20000,2000", help="--tcp: partition counts, a broker each")
    parser.add_argument("--nofile", type=int, default=20_000, help="--tcp: the broker's RLIMIT_NOFILE")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="--tcp: pause between lone requests")
    parser.add_argument("--librdkafka", action="store_true", help="--tcp: add a confluent-kafka round")
    args = parser.parse_args()
    overrides = dict(o.split("=", 1) for o in args.override)
    if args.tcp:
        tcp_main(args, overrides)
        return
    with tempfile.TemporaryDirectory(prefix="spread-bench-") as data:
        run(args, Path(data), overrides)


def run(args: argparse.Namespace, data: Path, overrides: dict[str, str]) -> None:
    best: dict[str, float] = {}
    with InProcessBroker(data, overrides) as broker:
        conn = broker.connect()
        correlation = 1
        for repeat in range(args.repeat):
            topics = [f"spread-{repeat}-{i}" for i in range(args.partitions // PER_TOPIC)]
            for name in topics:
                broker.create_topic(name, PER_TOPIC)
            targets = [(t, i) for t in topics for i in range(PER_TOPIC)]
            n = len(targets)
            rounds = {"first": targets, "again": targets, "one partition": [targets[0]] * n}
            for name, wanted in rounds.items():
                if args.dry or (args.only is not None and name not in (args.only, "first")):
                    continue
                frames = produce_frames(wanted, correlation)
                correlation += n
                profiler = cProfile.Profile() if args.profile and name == "first" and not repeat else None
                if profiler is not None:
                    profiler.enable()
                if args.bytecodes:
                    opcodes, calls = count_bytecodes(conn, frames, args.pipeline)
                    check_answers(conn, n)
                    print(f"{name:>14}: {opcodes:7.0f} bytecodes, {calls:5.0f} calls per request", flush=True)
                    continue
                cpu = broker.run(send_all(conn, frames, args.pipeline))
                if profiler is not None:
                    profiler.disable()
                check_answers(conn, n)
                best[name] = min(best.get(name, cpu), cpu)
                if profiler is not None:
                    pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
        conn.close()
    n = args.partitions
    for name, cpu in best.items():
        print(f"{name:>14}: {cpu * 1e6 / n:7.1f} us CPU per request (best of {args.repeat}, {n} requests)")


# --- over TCP ---------------------------------------------------------------------------------
class BrokerProcess:
    """`python -m odradek broker` on a free port and a fresh data directory."""

    def __init__(self, data: Path, overrides: dict[str, str]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "odradek", "--log-level", "WARNING", "broker"]
        cmd += ["--listeners", f"PLAINTEXT://127.0.0.1:{self.port}", "--log-dirs", str(data)]
        for name, value in overrides.items():
            cmd += ["--override", f"{name}={value}"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)  # inherits RLIMIT_NOFILE
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the broker did not start")
            try:
                self.client().close()
                return
            except (OSError, ConnectionClosed):
                time.sleep(0.02)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> RawClient:
        return RawClient.connect(self.bootstrap, timeout=600)

    def cpu_s(self) -> float:
        """User + system CPU seconds of the broker process (all its threads)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def send_over_tcp(client: RawClient, frames: list[bytes], window: int, gap_s: float) -> None:
    """`window` requests written at once, their answers read, the next `window`..."""
    for start in range(0, len(frames), window):
        chunk = frames[start : start + window]
        client.send_raw(b"".join(chunk))
        for _ in chunk:
            response = decode_response(ApiKey.PRODUCE, VERSION, client.recv_frame())[1]
            if response.responses[0].partition_responses[0].error_code != 0:
                raise RuntimeError(f"produce failed: {response}")
        if gap_s:
            time.sleep(gap_s)


def librdkafka_round(bootstrap: str, targets: list[tuple[str, int]]) -> None:
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 50, "message.timeout.ms": 900_000}
    )
    producer.list_topics(timeout=30)
    for topic, partition in targets:
        producer.produce(topic, b"v", partition=partition)
    if producer.flush(900):
        raise RuntimeError("librdkafka did not deliver every record")


def tcp_main(args: argparse.Namespace, overrides: dict[str, str]) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nofile = args.nofile if hard == resource.RLIM_INFINITY else min(args.nofile, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    sends = [("lone", 1), (f"pipelined {args.pipeline}", args.pipeline)]
    columns = ["first", "again", "one partition"] + (["librdkafka"] if args.librdkafka else [])
    gap = f", {args.gap_ms:g} ms between lone requests" if args.gap_ms else ""
    print(f"broker CPU per request (us, user + system), RLIMIT_NOFILE {nofile}{gap}", flush=True)
    heads = " ".join(f"{c:>13}" for c in columns)
    print(f"{'partitions':>10} {'requests':>12} {heads}   first/one  again/one")
    for count in (int(c) for c in args.counts.split(",")):
        for label, window in sends:
            with tempfile.TemporaryDirectory(prefix="spread-bench-") as data:
                figures = tcp_rounds(args, Path(data), overrides, count, window)
            cells = " ".join(f"{figures[c]:13.1f}" for c in columns)
            one = figures["one partition"]
            ratios = f"{figures['first'] / one:11.2f} {figures['again'] / one:10.2f}"
            load = os.getloadavg()[0]
            print(f"{count:>10} {label:>12} {cells} {ratios}   (load {load:.1f})", flush=True)


def tcp_rounds(
    args: argparse.Namespace, data: Path, overrides: dict[str, str], count: int, window: int
) -> dict[str, float]:
    broker = BrokerProcess(data, overrides)
    try:
        topics = [f"spread-{i}" for i in range(max(1, count // PER_TOPIC))]
        per_topic = min(count, PER_TOPIC)
        with broker.client() as client:
            for name in topics:
                topic = create_topics.CreatableTopic(
                    name=name, num_partitions=per_topic, replication_factor=1
                )
                request = create_topics.CreateTopicsRequest(topics=[topic], timeout_ms=600_000)
                created = client.call(ApiKey.CREATE_TOPICS, 7, request)
                assert [t.error_code for t in created.topics] == [0], created.topics
        targets = [(t, i) for t in topics for i in range(per_topic)]
        n = len(targets)
        gap_s = args.gap_ms / 1000 if window == 1 else 0.0
        figures: dict[str, float] = {}
        correlation = 1
        rounds = {"first": targets, "again": targets, "one partition": [targets[0]] * n}
        with broker.client() as client:
            for name, wanted in rounds.items():
                frames = produce_frames(wanted, correlation)
                correlation += n
                cpu = broker.cpu_s()
                send_over_tcp(client, frames, window, gap_s)
                figures[name] = (broker.cpu_s() - cpu) * 1e6 / n
        if args.librdkafka:
            cpu = broker.cpu_s()
            librdkafka_round(broker.bootstrap, targets)
            figures["librdkafka"] = (broker.cpu_s() - cpu) * 1e6 / n
        return figures
    finally:
        broker.close()


if __name__ == "__main__":
    main()
