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

`--bytecodes` prints instead the Python bytecode instructions and calls per request (`sys.settrace`):
figures that do not move with the machine's load, for comparing two versions of the code (system
calls such as the first append's `open` are not in them). `--profile` prints the top functions of a
cProfile run of the first round (cProfile's own overhead inflates every figure in it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import produce
from odradek.protocol.records import build_batch
from odradek.testing.in_process import InMemoryConnection, InProcessBroker
from odradek.testing.raw_client import decode_response, encode_request

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
    counts = {"opcode": 0, "call": 0}

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event in counts:
            counts[event] += 1
        return tracer

    protocol = conn.protocol
    for start in range(0, len(frames), pipeline):
        data = b"".join(frames[start : start + pipeline])
        buf = protocol.get_buffer(-1)
        if len(buf) < len(data):
            raise RuntimeError("a pipeline larger than the connection's receive buffer")
        buf[: len(data)] = data
        sys.settrace(tracer)
        try:
            protocol.buffer_updated(len(data))
        finally:
            sys.settrace(None)
        if protocol.pending or protocol.busy is not None:
            raise RuntimeError("a request was not answered inside buffer_updated")
    return counts["opcode"] / len(frames), counts["call"] / len(frames)


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
    args = parser.parse_args()
    overrides = dict(o.split("=", 1) for o in args.override)
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


if __name__ == "__main__":
    main()
