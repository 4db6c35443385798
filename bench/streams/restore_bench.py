#!/usr/bin/env python3
"""Restore benchmark: how long a task's RocksDB state takes to come back from its changelog.

Fills a changelog partition with `--size-mb` of state (distinct keys, 1 KiB values) on a real
odradek broker, then runs the runtime's `StateRestorer` into a fresh RocksDB store (no checkpoint:
the whole changelog), and again from a checkpoint one `--tail-percent` before the end (a restart:
only the tail). Target (issue 15): 1 GB of state in at most 30 s from checkpoint plus tail.

    python bench/streams/restore_bench.py --size-mb 1024
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.streams import Serdes, Stores
from odradek.streams.runtime.restore import RestoreJob, StateRestorer
from odradek.streams.state.factory import open_store
from odradek.testing.broker_process import BrokerProcess

VALUE = b"v" * 1024


def fill(bootstrap: str, topic: str, records: int) -> float:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.size": 4_000_000,
            "compression.type": "none",
            "queue.buffering.max.kbytes": 1_048_576,
        }
    )
    started = time.perf_counter()
    for i in range(records):
        key = b"key-%09d" % i
        while True:
            try:
                producer.produce(topic, VALUE, key, partition=0)
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush()
    return time.perf_counter() - started


def restore(bootstrap: str, topic: str, state_dir: Path, start: int) -> tuple[float, int, int]:
    store = open_store(Stores.key_value("state", Serdes.BYTES, Serdes.BYTES), state_dir)
    restorer = StateRestorer({"bootstrap.servers": bootstrap, "group.id": "restore-bench"}, "restorer")
    restorer.start()
    job = RestoreJob("0_0", {(topic, 0): store}, {(topic, 0): start})
    started = time.perf_counter()
    restorer.submit(job)
    while not job.done:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    restorer.stop()
    if job.error is not None:
        raise SystemExit(f"restore failed: {job.error}")
    count = store.approximate_num_entries()
    store.close()
    return elapsed, job.restored, count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--tail-percent", type=float, default=1.0)
    args = parser.parse_args()
    records = args.size_mb * 1024 * 1024 // (len(VALUE) + 13)
    tmp = Path(tempfile.mkdtemp(prefix="restore-bench-"))
    try:
        with BrokerProcess(tmp / "broker", {"num.partitions": "1"}) as broker:
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            topic = "restore-bench-state-changelog"
            for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
                future.result()
            fill_s = fill(broker.bootstrap, topic, records)
            full_s, restored, _ = restore(broker.bootstrap, topic, tmp / "state", 0)
            tail_start = int(records * (1 - args.tail_percent / 100))
            tail_s, tail_restored, _ = restore(broker.bootstrap, topic, tmp / "state", tail_start)
        mb = records * (len(VALUE) + 13) / 1e6
        print(
            json.dumps(
                {
                    "state_mb": round(mb),
                    "records": records,
                    "fill_s": round(fill_s, 1),
                    "full_restore_s": round(full_s, 2),
                    "full_restore_mb_per_s": round(mb / full_s, 1),
                    "full_restore_records": restored,
                    "tail_percent": args.tail_percent,
                    "checkpoint_plus_tail_s": round(tail_s, 2),
                    "tail_records": tail_restored,
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
