"""odradek.streams end to end through a broker: read `--records` 1 KiB JSON records from `--topic`,
run the workload, write to `--out-topic`; the time from `start()` until every input record is
processed and committed (startup included, as for the peer). Prints one JSON line, with the process
CPU time and the stream threads' own CPU time (from /proc on Linux): CPU per record is the figure
that survives a loaded machine."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid

from odradek.streams import KafkaStreams, Serdes, StreamsBuilder


def thread_cpu_seconds(native_id: int | None) -> float | None:
    """CPU time (user + system) of one thread of this process, or None where /proc has no such file."""
    try:
        with open(f"/proc/self/task/{native_id}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--out-topic", required=True)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--workload", default="stateless")
    args = parser.parse_args()
    builder = StreamsBuilder()
    stream = builder.stream(args.topic, value_serde=Serdes.JSON)
    if args.workload == "stateless":
        stream.filter(lambda k, v: v["n"] % 2 == 0).map_values(lambda v: {**v, "doubled": v["n"] * 2}).to(
            args.out_topic, value_serde=Serdes.JSON
        )
    else:
        stream.group_by_key().count(materialized="counts").to_stream().to(
            args.out_topic, value_serde=Serdes.LONG
        )
    streams = KafkaStreams(
        builder.build(),
        {
            "application.id": f"bench-{uuid.uuid4().hex[:6]}",
            "bootstrap.servers": args.bootstrap,
            "state.dir": tempfile.mkdtemp(prefix="odradek-e2e-"),
            "default.key.serde": "bytes",
            "commit.interval.ms": 5000,
            "max.poll.records": 5000,
        },
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    streams.start()
    try:
        while True:
            processed = sum(t.processed for t in streams.threads)
            if processed >= args.records:
                break
            if streams.error is not None:
                raise SystemExit(f"failed: {streams.error}")
            time.sleep(0.01)
        for thread in streams.threads:  # the last output acknowledged, the offsets committed
            thread.last_commit_ms = 0
        while any(t.commits == 0 or t.lag.get((args.topic, 0), 1) > 0 for t in streams.threads):
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        thread_cpus = [thread_cpu_seconds(getattr(t._thread, "native_id", None)) for t in streams.threads]
    finally:
        streams.close()
    print(
        json.dumps(
            {
                "peer": "odradek",
                "layer": "e2e",
                "workload": args.workload,
                "records": args.records,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "records_per_s": args.records / elapsed,
                "records_per_cpu_s": args.records / cpu,
                "cpu_us_per_record": cpu * 1e6 / args.records,
                "stream_thread_cpu_us_per_record": (
                    sum(c or 0.0 for c in thread_cpus) * 1e6 / args.records
                    if None not in thread_cpus
                    else None
                ),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
