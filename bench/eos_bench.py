#!/usr/bin/env python3
"""Exactly-once throughput sanity check (not a test): what idempotence and transactions cost.

Starts one odradek broker (a subprocess on a fresh data directory) and, with confluent-kafka on one
partition, 1 KiB records and acks=all, measures:

    plain          enable.idempotence=false (librdkafka pipelines without limit)
    plain-5        the same with max.in.flight=5, the most an idempotent producer may have
    idempotent     enable.idempotence=true
    transactional  transactional.id set, one commit per 1,000 records

and prints msgs/s for each and the ratios to plain and to plain-5. Each scenario gets its own topic;
between plain-5 and idempotent only the broker's per-batch producer-state check (and librdkafka's
sequence bookkeeping) differs.

    PYTHONPATH=src python bench/eos_bench.py [--messages 100000]
    PYTHONPATH=src python bench/eos_bench.py --bootstrap 127.0.0.1:29192   # any running broker (Tansu)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.testing.broker_process import BrokerProcess

RECORD = b"x" * 1024
TXN_SIZE = 1000
BASE = {"acks": "all", "linger.ms": 5, "batch.size": 1_000_000, "queue.buffering.max.messages": 500_000}


def produce(producer: Producer, topic: str, count: int) -> None:
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, RECORD, partition=0)
                break
            except BufferError:
                producer.poll(0.01)


def run(bootstrap: str, name: str, count: int, extra: dict[str, object]) -> float:
    topic = f"bench-{name}-{time.monotonic_ns()}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, **BASE, **extra})
    transactional = "transactional.id" in extra
    if transactional:
        producer.init_transactions(30)
    else:
        # outside the timed window: connecting, and for an idempotent producer librdkafka's first
        # InitProducerId, which it sends only after a 500 ms timer
        producer.produce(topic, RECORD, partition=0)
        if producer.flush(30) != 0:
            sys.exit(f"{name}: warm-up record undelivered")
    started = time.perf_counter()
    if transactional:
        for start in range(0, count, TXN_SIZE):
            producer.begin_transaction()
            produce(producer, topic, min(TXN_SIZE, count - start))
            producer.commit_transaction(60)
    else:
        produce(producer, topic, count)
        if producer.flush(120) != 0:
            sys.exit(f"{name}: undelivered records")
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--bootstrap", help="measure this running broker instead of starting odradek")
    args = parser.parse_args()
    scenarios = {
        "plain": {"enable.idempotence": False},
        "plain-5": {"enable.idempotence": False, "max.in.flight": 5},
        "idempotent": {"enable.idempotence": True},
        "transactional": {"transactional.id": f"bench-txn-{time.monotonic_ns()}"},
    }
    if args.bootstrap:
        rates = {name: run(args.bootstrap, name, args.messages, extra) for name, extra in scenarios.items()}
    else:
        with tempfile.TemporaryDirectory() as data, BrokerProcess(Path(data)) as broker:
            rates = {
                name: run(broker.bootstrap, name, args.messages, extra) for name, extra in scenarios.items()
            }
    for name, rate in rates.items():
        print(f"{name:14s} {rate:12,.0f} msgs/s  {rate * len(RECORD) / 2**20:8.1f} MiB/s")
    for name in ("idempotent", "transactional"):
        for base in ("plain", "plain-5"):
            print(f"{name} / {base}: {rates[name] / rates[base]:.2f}")


if __name__ == "__main__":
    main()
