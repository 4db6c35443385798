"""Consumer group timings against any Kafka-compatible broker (odradek, Tansu, Apache Kafka...).

Not a test: prints one JSON line per measurement and a table of medians. Scenarios, each on a fresh
topic of 6 partitions and a fresh group, with librdkafka (confluent-kafka):

    stable-3     seconds from the first member's subscribe (its first JoinGroup follows at once) until
                 three members own two partitions each
    leave-1      with those three stable, seconds from one member's close() (LeaveGroup) until the
                 other two own three partitions each
    commits      synchronous OffsetCommits per second from one group member (each waits for its answer)
    commit_cpu_us   with ``--broker-pid``: the broker process's CPU time (user + system) per commit
                 during that loop, in microseconds

Members use ``session.timeout.ms=6000`` (the smallest Kafka accepts by default),
``heartbeat.interval.ms=500`` and the ``range`` assignor; with ``--protocol consumer`` they use
KIP-848 instead (server-side ``uniform`` assignor; brokers without it fail the scenario). A
scenario that does not finish within ``--timeout`` seconds counts as failed.

    python bench/groups_bench.py --bootstrap 127.0.0.1:9092 [--reps 5] [--protocol classic|consumer]
                                 [--only commits] [--broker-pid PID]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 6


class Failed(Exception):
    pass


CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int | None) -> float:
    """utime + stime of `pid` (0 without one)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def new_topic(admin: AdminClient, prefix: str) -> str:
    name = f"gbench-{prefix}-{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(name, PARTITIONS, 1)])[name].result(30)
    deadline = time.monotonic() + 10
    while len(admin.list_topics(name, timeout=5).topics[name].partitions) < PARTITIONS:
        if time.monotonic() > deadline:
            raise Failed(f"topic {name} has no metadata")
        time.sleep(0.05)
    return name


def member(bootstrap: str, group: str, index: int, protocol: str) -> Consumer:
    conf: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": f"c{index}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    if protocol == "consumer":
        conf["group.protocol"] = "consumer"
    else:
        conf.update(
            {
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
                "partition.assignment.strategy": "range",
            }
        )
    return Consumer(conf)


def counts(consumers: list[Consumer]) -> list[int]:
    return sorted(len(c.assignment()) for c in consumers)


def poll_until(consumers: list[Consumer], done: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            raise Failed(f"not reached in {timeout} s: {counts(consumers)}")
        for c in consumers:
            c.poll(0.01)
    return time.monotonic() - started


def stable_and_leave(bootstrap: str, admin: AdminClient, protocol: str, timeout: float) -> dict[str, float]:
    topic = new_topic(admin, "join")
    members = [member(bootstrap, f"g-{topic}", i, protocol) for i in range(3)]
    try:
        started = time.monotonic()
        for m in members:
            m.subscribe([topic])
        poll_until(members, lambda: counts(members) == [2, 2, 2], timeout)
        stable = time.monotonic() - started
        leaving = members.pop()
        started = time.monotonic()
        leaving.close()
        poll_until(members, lambda: counts(members) == [3, 3], timeout)
        return {"stable-3": stable, "leave-1": time.monotonic() - started}
    finally:
        for m in members:
            m.close()
        admin.delete_topics([topic])


def commits(
    bootstrap: str,
    admin: AdminClient,
    protocol: str,
    timeout: float,
    seconds: float,
    broker_pid: int | None = None,
) -> dict[str, float]:
    topic = new_topic(admin, "commit")
    consumer = member(bootstrap, f"g-{topic}", 0, protocol)
    try:
        consumer.subscribe([topic])
        poll_until([consumer], lambda: counts([consumer]) == [PARTITIONS], timeout)
        loop = commit_loop(consumer, topic, seconds, broker_pid)
        check_last_commit(consumer, loop)
        measured = {"commits": loop.rate}
        if broker_pid is not None:
            measured["commit_cpu_us"] = loop.cpu_us
        return measured
    finally:
        consumer.close()
        admin.delete_topics([topic])


@dataclass(frozen=True)
class CommitLoop:
    """One loop of synchronous commits: how many, in how long, and the broker's CPU time meanwhile."""

    commits: int
    seconds: float
    broker_cpu_s: float
    last: TopicPartition
    """The last commit (its topic, partition and offset)."""

    @property
    def rate(self) -> float:
        return self.commits / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.broker_cpu_s / self.commits * 1e6


def commit_loop(
    consumer: Consumer, topic: str, seconds: float, broker_pid: int | None = None, first_offset: int = 1
) -> CommitLoop:
    """Synchronous commits for `seconds`, one partition after the other (the offsets counting up from
    `first_offset`), each sent once the answer to the one before is in."""
    done, started, cpu = 0, time.monotonic(), process_cpu_s(broker_pid)
    while time.monotonic() - started < seconds:
        offset = first_offset + done
        consumer.commit(offsets=[TopicPartition(topic, done % PARTITIONS, offset)], asynchronous=False)
        done += 1
    elapsed = time.monotonic() - started
    cpu = process_cpu_s(broker_pid) - cpu
    last = TopicPartition(topic, (done - 1) % PARTITIONS, first_offset + done - 1)
    return CommitLoop(done, elapsed, cpu, last)


def check_last_commit(consumer: Consumer, loop: CommitLoop) -> None:
    """The loop's last commit reads back (OffsetFetch): the broker kept what it answered."""
    last = loop.last
    found = consumer.committed([TopicPartition(last.topic, last.partition)], timeout=10)
    if found[0].offset != last.offset:
        raise Failed(f"last commit reads back as {found[0].offset}, not {last.offset}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--protocol", choices=("classic", "consumer"), default="classic")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--commit-seconds", type=float, default=5.0)
    parser.add_argument("--label", default="", help="a name for this broker in the output")
    parser.add_argument("--only", choices=("groups", "commits"), help="run one of the two scenario sets")
    parser.add_argument("--broker-pid", type=int, help="report the broker's CPU per commit (same machine)")
    args = parser.parse_args()
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    results: dict[str, list[float]] = {"stable-3": [], "leave-1": [], "commits": [], "commit_cpu_us": []}
    failures: dict[str, int] = dict.fromkeys(results, 0)
    for rep in range(args.reps):
        runs: list[tuple[tuple[str, ...], Callable[[], dict[str, float]]]] = [
            (
                ("stable-3", "leave-1"),
                lambda: stable_and_leave(args.bootstrap, admin, args.protocol, args.timeout),
            ),
            (
                ("commits", "commit_cpu_us"),
                lambda: commits(
                    args.bootstrap, admin, args.protocol, args.timeout, args.commit_seconds, args.broker_pid
                ),
            ),
        ]
        if args.only:
            runs = [runs[0 if args.only == "groups" else 1]]
        for names, run in runs:
            try:
                measured = run()
            except Exception as exc:  # a broker without the feature, or a timeout: count and go on
                for name in names:
                    failures[name] += 1
                print(
                    json.dumps({"label": args.label, "rep": rep, "failed": list(names), "error": str(exc)}),
                    flush=True,
                )
                continue
            for name, value in measured.items():
                results[name].append(value)
                print(
                    json.dumps(
                        {"label": args.label, "protocol": args.protocol, "rep": rep, name: round(value, 4)}
                    ),
                    flush=True,
                )
    print(f"\n{args.label or args.bootstrap} ({args.protocol}), {args.reps} reps", file=sys.stderr)
    units = {"commits": "commits/s", "commit_cpu_us": "us"}
    for name, values in results.items():
        unit = units.get(name, "s")
        is_commit = name.startswith("commit")
        wanted = args.only is None or is_commit == (args.only == "commits")
        if not wanted or (name == "commit_cpu_us" and args.broker_pid is None):
            continue
        if values:
            print(
                f"  {name:13} median {statistics.median(values):10.3f} {unit}  "
                f"min {min(values):.3f}  max {max(values):.3f}  failed {failures[name]}",
                file=sys.stderr,
            )
        else:
            print(f"  {name:13} failed every run", file=sys.stderr)


if __name__ == "__main__":
    main()
