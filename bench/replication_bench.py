#!/usr/bin/env python3
"""Replication figures with three odradek brokers in one process (`odradek.testing.cluster.LocalCluster`).

* catch-up: a follower that missed `--mb` MiB (written while it was down, 1 MiB batches) comes back;
  the time until its log end equals the leader's gives the catch-up rate (MB/s);
* acks=all throughput of 1 KiB records with librdkafka, RF=3 / min.insync.replicas=2 against RF=1
  on the same brokers.

The brokers share one Python process (one GIL), so these are lower bounds for brokers running as
separate processes, which need the ZooKeeper-backed metadata store (`odradek cluster up`). Never
part of `make test`.

    python bench/replication_bench.py --mb 256 --records 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from confluent_kafka import Producer

from odradek.protocol.records import build_batch, validate_batches
from odradek.replication.partition import Partition
from odradek.testing.cluster import LocalCluster

MiB = 1 << 20


def catch_up(cluster: LocalCluster, mb: int) -> tuple[float, float]:
    """(MB/s wall, MB per CPU second of the whole process: leader and follower together)."""
    cluster.create_topic("catch-up", [(1, 2)])
    cluster.stop_broker(2)
    batch = build_batch([(None, b"x" * (16 * 1024 - 40), [], 1000)] * 64)

    def write(p: Partition) -> int:
        for _ in range(mb):
            data = bytearray(batch)
            p.append_as_leader(data, validate_batches(data), now_ms=0)
        return p.log.log_end_offset

    end: int = cluster.partition(1, "catch-up")(write)
    size: int = cluster.partition(1, "catch-up")(lambda p: p.log.size_in_bytes)
    started, cpu = time.monotonic(), time.process_time()
    cluster.start_broker(2)
    cluster.wait_for(
        lambda: cluster.partition(2, "catch-up")(lambda p: p.log.log_end_offset) == end,
        timeout_s=600,
        what="catch-up",
    )
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    return size / MiB / elapsed, size / MiB / cpu


def throughput(cluster: LocalCluster, topic: str, records: int) -> float:
    producer = Producer(
        {"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 5, "batch.size": 1 << 20}
    )
    value = b"v" * 1024
    started = time.monotonic()
    for _ in range(records):
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(300) == 0
    return records / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalCluster(Path(tmp), 3) as cluster:
        rate, per_cpu = catch_up(cluster, args.mb)
        print(f"follower catch-up: {args.mb} MiB at {rate:.0f} MB/s wall, {per_cpu:.0f} MB per CPU second")
        if args.skip_throughput:
            return
        cluster.create_topic("rf1", [(3,)])
        cluster.create_topic("rf3", [(3, 1, 2)], {"min.insync.replicas": "2"})
        rf1 = throughput(cluster, "rf1", args.records)
        rf3 = throughput(cluster, "rf3", args.records)
        print(f"acks=all 1 KiB: RF=1 {rf1:,.0f} msg/s, RF=3 {rf3:,.0f} msg/s, ratio {rf3 / rf1:.2f}")


if __name__ == "__main__":
    main()
