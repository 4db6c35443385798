"""The broker's Python work per synchronous OffsetCommit, in process, without sockets (not a test).

    PYTHONPATH=src python bench/commit_bench.py [--commits 20000] [--version 9] [--profile]

A real broker (`InProcessBroker`: real storage in a temporary directory, the real handler table and
group coordinator) holds one stable classic group of one member (JoinGroup, SyncGroup). The member
commits one partition's offset per request, as librdkafka's synchronous `commit()` does: each
request is handed to the connection as bytes (`get_buffer`/`buffer_updated`, as a socket would)
and the event loop runs until its answer is written. No syscalls and no epoll, so this is the part
of a commit's cost that the broker's own code decides; `groups_bench.py --broker-pid` gives the
whole figure over TCP.

Prints the best of several rounds in microseconds per commit, wall clock and process CPU time (the
steadier figure on a shared machine); `--profile` also prints the top
functions of a cProfile run (cProfile's own overhead inflates every figure in it). `--bytecodes`
counts the Python bytecode instructions and calls one commit executes (`sys.settrace`): a figure
that does not move with the machine's load, for comparing two versions of the code; and how many of
them run before the answer is written (the client waits for those; the rest runs while it reads).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from bytecode_count import BytecodeCount

from odradek.model.errors import ErrorCode
from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import find_coordinator as fc
from odradek.protocol.messages import offset_commit as oc
from odradek.testing.fake_transport import FakeTransport
from odradek.testing.group_coordinator import join_request, sync_request
from odradek.testing.in_process import InMemoryConnection, InProcessBroker
from odradek.testing.raw_client import encode_request

TOPIC, PARTITIONS, GROUP = "bench", 6, "bench-group"
JOIN_V, SYNC_V = 9, 5


def stable_member(broker: InProcessBroker) -> tuple[InMemoryConnection, str, int]:
    conn = broker.connect()
    conn.call(ApiKey.FIND_COORDINATOR, 4, fc.FindCoordinatorRequest(key_type=0, coordinator_keys=[GROUP]))
    joined = conn.call(ApiKey.JOIN_GROUP, JOIN_V, join_request(GROUP, topics=(TOPIC,)))
    if joined.error_code == ErrorCode.MEMBER_ID_REQUIRED:
        joined = conn.call(ApiKey.JOIN_GROUP, JOIN_V, join_request(GROUP, joined.member_id, topics=(TOPIC,)))
    assert joined.error_code == 0, joined
    member, generation = joined.member_id, joined.generation_id
    synced = conn.call(ApiKey.SYNC_GROUP, SYNC_V, sync_request(GROUP, member, generation, {member: b"all"}))
    assert synced.error_code == 0, synced
    return conn, member, generation


def commit_frames(member: str, generation: int, version: int, count: int) -> list[bytes]:
    frames = []
    for i in range(count):
        request = oc.OffsetCommitRequest(
            group_id=GROUP,
            generation_id_or_member_epoch=generation,
            member_id=member,
            topics=[
                oc.OffsetCommitRequestTopic(
                    name=TOPIC, partitions=[oc.OffsetCommitRequestPartition(i % PARTITIONS, i + 1)]
                )
            ],
        )
        body = encode_request(ApiKey.OFFSET_COMMIT, version, request, i + 1, client_id="rdkafka")
        frames.append(p.INT32.pack(len(body)) + body)
    return frames


async def commit_all(conn: InMemoryConnection, frames: list[bytes]) -> tuple[float, float]:
    """Seconds (wall, and this process's CPU) to send every frame and get each answer before sending
    the next. On a shared machine the CPU figure is the steadier one."""
    protocol, written = conn.protocol, conn.transport.written
    started, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        answered = len(written)
        buf = protocol.get_buffer(len(frame))
        buf[: len(frame)] = frame
        protocol.buffer_updated(len(frame))
        while len(written) == answered:  # noqa: ASYNC110 - a busy wait: no extra wake-ups measured
            await asyncio.sleep(0)
    return time.perf_counter() - started, time.process_time() - cpu


def count_bytecodes(conn: InMemoryConnection, frames: list[bytes]) -> tuple[float, float, float]:
    """(bytecodes, Python calls, bytecodes before the answer's write) per commit, averaged over
    `frames` (each answered at once)."""
    counter = BytecodeCount(mark=FakeTransport.writelines.__code__)
    protocol, written = conn.protocol, conn.transport.written
    for frame in frames:
        answered = len(written)
        buf = protocol.get_buffer(len(frame))
        buf[: len(frame)] = frame
        counter.run(protocol.buffer_updated, len(frame))
        if len(written) == answered:
            raise RuntimeError("a commit was not answered inside buffer_updated")
    return (*counter.per(len(frames)), counter.before_mark / len(frames))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=20_000, help="commits per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--version", type=int, default=9, help="OffsetCommit version (2-10)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one round")
    parser.add_argument("--sort", default="tottime", help="cProfile order (tottime, cumulative...)")
    parser.add_argument("--bytecodes", action="store_true", help="count bytecodes per commit instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="commit-bench-") as data:
        overrides = {"group.initial.rebalance.delay.ms": "0"}
        with InProcessBroker(Path(data), overrides) as broker:
            broker.create_topic(TOPIC, PARTITIONS)
            conn, member, generation = stable_member(broker)
            frames = commit_frames(member, generation, args.version, args.commits)
            if args.bytecodes:
                half = max(1, len(frames) // 2)
                broker.run(commit_all(conn, frames[:half]))  # warm: caches, the segment's indexes
                ops, calls, before = count_bytecodes(conn, frames[half:][:20] or frames[:1])
                print(
                    f"OffsetCommit v{args.version}: {ops:.0f} bytecodes, {calls:.0f} calls per commit, "
                    f"{before:.0f} bytecodes before the answer's write"
                )
                return
            rounds = [broker.run(commit_all(conn, frames)) for _ in range(args.rounds)]
            wall, cpu = min(r[0] for r in rounds), min(r[1] for r in rounds)
            per = 1e6 / args.commits
            print(
                f"OffsetCommit v{args.version}: {wall * per:.1f} us per commit (in process), "
                f"{cpu * per:.1f} us CPU"
            )
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                broker.run(commit_all(conn, frames))
                profiler.disable()
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)


if __name__ == "__main__":
    main()
