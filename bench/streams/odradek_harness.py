"""odradek.streams side of the streams benchmark: the same workloads as `quix_harness.py`, on the
processing layer only (deserialized dict values handed to the source node, real RocksDB stores,
commit every 10,000 records, no Kafka I/O). Prints one JSON line per workload.

`cache=on` is odradek's default (an operator forwards the latest update per key at each commit, as
Kafka Streams' record cache); `cache=off` forwards every update, as Quix's `.current()` does.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from odradek.streams import Record, Serdes, StreamsBuilder, StreamsConfig, TimeWindows
from odradek.streams.engine.task import Task
from odradek.streams.state.factory import open_store

COMMIT_EVERY = 10_000
KEYS = [f"key-{i}".encode() for i in range(1000)]


class _Discard:
    def send(self, *args: Any) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return 1


def build(name: str) -> StreamsBuilder:
    b = StreamsBuilder()
    s = b.stream("in", key_serde=Serdes.BYTES)
    if name == "stateless":
        s.filter(lambda k, v: v["n"] % 2 == 0).map_values(lambda v: {**v, "doubled": v["n"] * 2}).foreach(
            lambda k, v: None
        )
    elif name == "count":
        s.group_by_key().count(materialized="c").to_stream().foreach(lambda k, v: None)
    elif name == "tumbling":
        s.group_by_key().windowed_by(TimeWindows.tumbling(10_000)).count(
            materialized="w"
        ).to_stream().foreach(lambda k, v: None)
    elif name == "hopping":
        s.group_by_key().windowed_by(TimeWindows.hopping(10_000, 1_000)).count(
            materialized="w"
        ).to_stream().foreach(lambda k, v: None)
    else:
        raise SystemExit(f"unknown workload {name}")
    return b


def make_task(name: str, cache: bool, state_dir: Path) -> Task:
    topology = build(name).build()
    config = StreamsConfig(
        {
            "application.id": "bench",
            "default.key.serde": "bytes",
            "default.value.serde": "json",
            "statestore.cache.max.records": 10_000 if cache else 0,
        }
    )
    stores = {
        n: open_store(spec, state_dir, Serdes.BYTES, Serdes.JSON, 100_000)
        for n, spec in topology.stores.items()
    }
    nodes = list(topology.nodes)
    return Task("0_0", topology, nodes, stores, _Discard(), config, lambda: 0, lambda t: t)


def processing(name: str, records: int, cache: bool) -> dict[str, Any]:
    state_dir = Path(tempfile.mkdtemp(prefix="odradek-bench-"))
    try:
        task = make_task(name, cache, state_dir)
        values = [{"n": i, "payload": "x" * 16} for i in range(records)]
        process = task.process_record
        started = time.perf_counter()
        cpu_started = time.process_time()
        for i in range(records):
            process("in", Record(KEYS[i % 1000], values[i], i))
            if (i + 1) % COMMIT_EVERY == 0:
                task.commit()
        task.commit()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        task.close()
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    return {
        "peer": "odradek" if cache else "odradek-nocache",
        "layer": "processing",
        "workload": name,
        "records": records,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "records_per_s": records / elapsed,
        "records_per_cpu_s": records / cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workloads", default="stateless,count,tumbling,hopping")
    parser.add_argument("--cache", choices=("on", "off", "both"), default="both")
    args = parser.parse_args()
    for name in args.workloads.split(","):
        for cache in {"on": [True], "off": [False], "both": [True, False]}[args.cache]:
            if name == "stateless" and not cache:
                continue
            print(json.dumps(processing(name, args.records, cache)), flush=True)


if __name__ == "__main__":
    main()
