#!/usr/bin/env python3
"""Cluster figures: three odradek brokers as separate processes on a real ZooKeeper.

* throughput: acks=all 1 KiB records (librdkafka, idempotent), RF=3 / min.insync.replicas=2 against
  RF=1 on the same three brokers, with the brokers' CPU seconds per 1,000 records;
* latency: end-to-end (produce -> consumer poll) p50/p99 at a steady 1,000 msgs/s, acks=all, RF=3
  against RF=1, with warmed-up clients, at `linger.ms=0` (as the single-node latency row) and at
  librdkafka's default `linger.ms=5`; also produce -> acknowledgement, and broker CPU per record;
* catch-up: a follower that missed `--catchup-mb` MiB (written while it was down) comes back; the
  time from its restart until it is in the ISR again gives the catch-up rate (MB/s), with the CPU
  the leader and follower spent (user and system: the follower's system time is the kernel's copies
  of the bytes, its user time the Python work per fetch round). `--only catch-up` runs just this.

Needs the Debian package `zookeeper` (`make test` installs it). Wall figures are only meaningful on
an idle machine; CPU per record survives a loaded one. Never part of `make test`.

    python bench/cluster_bench.py --records 50000 --catchup-mb 1024
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from confluent_kafka import OFFSET_END, Consumer, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.testing.fault_cluster import FaultCluster, wait_for

MiB = 1 << 20
VALUE = b"x" * 1024


def create(cluster: FaultCluster, name: str, partitions: int, rf: int, min_isr: int) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    config = {"min.insync.replicas": str(min_isr)}
    for future in admin.create_topics([NewTopic(name, partitions, rf, config=config)]).values():
        future.result(timeout=30)

    def everywhere() -> bool:
        md = admin.list_topics(name, timeout=10).topics[name]
        return len(md.partitions) == partitions and all(len(p.isrs) == rf for p in md.partitions.values())

    wait_for(everywhere, 60, f"{name} in sync")


def cpu_total(cluster: FaultCluster) -> float:
    return sum(cluster.cpu_seconds().values())


def throughput(cluster: FaultCluster, topic: str, records: int) -> dict[str, float]:
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap(),
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.size": 1 << 20,
        }
    )
    cpu, started = cpu_total(cluster), time.monotonic()
    for i in range(records):
        while True:
            try:
                producer.produce(topic, value=VALUE, partition=i % 3)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0
    elapsed, cpu = time.monotonic() - started, cpu_total(cluster) - cpu
    return {
        "records_per_s": records / elapsed,
        "MB_per_s": records * len(VALUE) / MiB / elapsed,
        "broker_cpu_ms_per_1k_records": cpu * 1000 / (records / 1000),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of `values` (sorted), in milliseconds."""
    return values[max(0, int(len(values) * q) - 1)] * 1000


def latency(cluster: FaultCluster, topic: str, rate: int, seconds: float, linger_ms: int) -> dict[str, float]:
    """Steady-state produce-to-consume latency at `rate` msgs/s, as a user's long-lived clients see it.

    Both clients are warmed up first (one record through every partition): the idempotent
    producer's first InitProducerId (librdkafka waits for a broker connection, and the broker
    fetches its first producer id block) and the consumer's first fetches are start-up, not the
    latency of a running pipeline (so is the consumer's first offset commit, which creates
    `__consumer_offsets`: it is made before timing); timed from a cold producer, the first ~0.5 s
    of records queue behind it and alone make up the p99. The consumer keeps librdkafka's default
    `fetch.wait.max.ms` (500 ms): its fetch waits at the log end and the broker answers it when
    the high watermark moves. Reports produce-to-acknowledged and produce-to-consumed percentiles
    and the brokers' CPU per record over the timed run (which survives a loaded machine).
    """
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap(),
            "group.id": f"bench-{topic}-{linger_ms}",
            # no commits while timed: the first one creates __consumer_offsets (50 partitions x 3
            # replicas); it is made in the warm-up instead, so the cluster is the one a user has
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in range(3)])
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap(),
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": linger_ms,
        }
    )
    for p in range(3):  # warm-up: producer id, connections, the consumer at the log end
        producer.produce(topic, key=b"-1", value=b"warm-up", partition=p)
    assert producer.flush(60) == 0
    warm, deadline = 0, time.monotonic() + 60
    while warm < 3 and time.monotonic() < deadline:
        msg = consumer.poll(0.1)
        if msg is not None and msg.error() is None:
            warm += 1
    consumer.commit(asynchronous=False)
    count = int(rate * seconds)
    sent_at = [0.0] * count
    acked_at: dict[int, float] = {}
    latencies: list[float] = []

    def acked(err: object, msg: Message) -> None:
        if err is None:
            acked_at[int(msg.key())] = time.monotonic()

    def consume(timeout: float) -> None:
        msg = consumer.poll(timeout)
        if msg is not None and msg.error() is None and (i := int(msg.key())) >= 0:
            latencies.append(time.monotonic() - sent_at[i])

    cpu = cpu_total(cluster)
    started = time.monotonic()
    for i in range(count):
        due = started + i / rate
        while (now := time.monotonic()) < due:
            consume(max(0.0, min(due - now, 0.001)))
        sent_at[i] = time.monotonic()
        producer.produce(topic, key=str(i).encode(), value=VALUE, partition=i % 3, on_delivery=acked)
        producer.poll(0)
    producer.flush(30)
    deadline = time.monotonic() + 30
    while len(latencies) < count and time.monotonic() < deadline:
        consume(0.1)
    cpu = cpu_total(cluster) - cpu
    consumer.close()
    latencies.sort()
    acks = sorted(t - sent_at[i] for i, t in acked_at.items())
    return {
        "linger_ms": linger_ms,
        "received": len(latencies),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99),
        "ack_p50_ms": statistics.median(acks) * 1000,
        "ack_p99_ms": percentile(acks, 0.99),
        "broker_cpu_us_per_record": cpu * 1e6 / count,
    }


def catch_up(cluster: FaultCluster, mb: int) -> dict[str, float]:
    topic = "catch-up"
    create(cluster, topic, 1, 3, 1)
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    leader = admin.list_topics(topic, timeout=10).topics[topic].partitions[0].leader
    follower = next(b for b in cluster.ids if b != leader)
    cluster.kill(follower)

    def out_of_isr() -> bool:
        return follower not in admin.list_topics(topic, timeout=10).topics[topic].partitions[0].isrs

    wait_for(out_of_isr, 120, "the killed follower out of the ISR")
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap(without=follower),
            "acks": "1",
            "linger.ms": 20,
            "batch.size": 1 << 20,
            "compression.type": "none",
        }
    )
    value = b"y" * (16 * 1024)
    for _ in range(mb * MiB // len(value)):
        while True:
            try:
                producer.produce(topic, value=value, partition=0)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(600) == 0
    cluster.start_broker(follower)
    cpu, started = cluster.cpu_seconds(), time.monotonic()
    split = user_system(cluster)

    def in_isr() -> bool:
        return follower in admin.list_topics(topic, timeout=10).topics[topic].partitions[0].isrs

    wait_for(in_isr, 1800, "the follower back in the ISR")
    elapsed = time.monotonic() - started
    after = cluster.cpu_seconds()
    spent = {b: after[b] - cpu.get(b, 0.0) for b in (leader, follower)}
    split_after = user_system(cluster)
    user = {b: split_after[b][0] - split[b][0] for b in (leader, follower)}
    return {
        "MiB": mb,
        "seconds": elapsed,
        "MB_per_s": mb / elapsed,
        "leader_cpu_s": spent[leader],
        "follower_cpu_s": spent[follower],
        "leader_user_s": user[leader],
        "follower_user_s": user[follower],
        "MB_per_follower_cpu_s": mb / max(spent[follower], 1e-9),
    }


def user_system(cluster: FaultCluster) -> dict[int, tuple[float, float]]:
    """User and system CPU seconds of each running broker so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for b, proc in cluster.brokers.items():
        if proc.proc is not None:
            fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[b] = (int(fields[11]) / ticks, int(fields[12]) / ticks)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=50_000, help="1 KiB records per throughput run")
    parser.add_argument("--rate", type=int, default=1000, help="msgs/s of the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each latency run")
    parser.add_argument(
        "--catchup-mb", type=int, default=128, help="MiB the follower misses (1024 for the README)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--only",
        action="append",
        choices=("throughput", "latency", "catch-up"),
        help="run only these scenarios (repeatable; default: all)",
    )
    args = parser.parse_args()
    results: dict[str, object] = {}
    only = set(args.only or ("throughput", "latency", "catch-up"))
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp:
        cluster = FaultCluster(Path(tmp), proxies=False).start()
        try:
            create(cluster, "rf3", 3, 3, 2)
            create(cluster, "rf1", 3, 1, 1)
            if "throughput" in only:
                for topic in ("rf1", "rf3"):
                    results[f"throughput_{topic}"] = throughput(cluster, topic, args.records)
                    print(topic, "throughput", json.dumps(results[f"throughput_{topic}"]), flush=True)
                rf3 = results["throughput_rf3"]["records_per_s"]  # type: ignore[index]
                rf1 = results["throughput_rf1"]["records_per_s"]  # type: ignore[index]
                results["rf3_over_rf1"] = rf3 / rf1
            if "latency" in only:
                for linger_ms, suffix in ((0, ""), (5, "_linger5")):
                    for topic in ("rf1", "rf3"):
                        key = f"latency_{topic}{suffix}"
                        results[key] = latency(cluster, topic, args.rate, args.seconds, linger_ms)
                        print(topic, "latency", json.dumps(results[key]), flush=True)
            if "catch-up" in only:
                results["catch_up"] = catch_up(cluster, args.catchup_mb)
                print("catch-up", json.dumps(results["catch_up"]), flush=True)
        finally:
            cluster.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
