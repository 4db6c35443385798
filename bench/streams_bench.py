#!/usr/bin/env python3
"""`make bench-streams`: odradek.streams against Quix Streams, same workloads, same machine, same run.

Processing layer (no Kafka I/O, no serde, dict values, 1,000 keys, real RocksDB stores committed
every 10,000 records): stateless filter+map, keyed count, tumbling 10 s count, hopping 10 s / 1 s
count. The two harnesses run alternately in separate processes (Quix Streams lives in its own venv,
`bench/.venv-quix`, because it pins an older confluent-kafka); the table gives the median records
per CPU-second of each and the ratio. End to end (`--e2e`): 1 KiB JSON records through a real
odradek broker, stateless and keyed count, odradek and Quix reading the same pre-filled topic.

    python bench/streams_bench.py                 # processing layer, 3 runs
    python bench/streams_bench.py --e2e --e2e-records 600000   # startup weighs little at 600k
    python bench/streams_bench.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "streams"
QUIX_VENV = Path(os.environ.get("ODRADEK_QUIX_VENV", ROOT / "bench" / ".venv-quix"))
QUIX_VERSION = "3.28.1"
TARGETS = {"count": 2.0, "tumbling": 2.0, "hopping": 10.0}


def quix_python() -> str:
    python = QUIX_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {QUIX_VENV} with quixstreams=={QUIX_VERSION} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(QUIX_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"quixstreams=={QUIX_VERSION}"], check=True
        )
    return str(python)


def run_json(cmd: list[str]) -> list[dict[str, Any]]:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def processing(runs: int, records: int) -> list[dict[str, Any]]:
    quix = quix_python()
    results: list[dict[str, Any]] = []
    for i in range(runs):
        order = [
            ("odradek", [sys.executable, str(HERE / "odradek_harness.py")]),
            ("quix", [quix, str(HERE / "quix_harness.py"), "processing"]),
        ]
        if i % 2:
            order.reverse()
        for _, cmd in order:
            results += run_json([*cmd, "--records", str(records)])
    return results


def table(results: list[dict[str, Any]], layer: str, metric: str = "records_per_cpu_s") -> str:
    by: dict[tuple[str, str], list[float]] = {}
    for r in results:
        if r["layer"] == layer:
            by.setdefault((r["workload"], r["peer"]), []).append(r[metric])
    workloads = sorted({w for w, _ in by}, key=["stateless", "count", "tumbling", "hopping"].index)
    lines = [
        f"{layer}: records per CPU-second (median of {max(len(v) for v in by.values())} runs)",
        f"{'workload':<11}{'odradek':>12}{'(no cache)':>12}{'quixstreams':>13}{'ratio':>8}{'target':>8}",
    ]
    for w in workloads:
        ours = statistics.median(by.get((w, "odradek"), [0]))
        nocache = by.get((w, "odradek-nocache"))
        peer = statistics.median(by.get((w, "quixstreams"), [0]))
        ratio = ours / peer if peer else float("nan")
        target = TARGETS.get(w)
        nc = f"{statistics.median(nocache):>12,.0f}" if nocache else f"{'-':>12}"
        lines.append(
            f"{w:<11}{ours:>12,.0f}{nc}{peer:>13,.0f}{ratio:>7.1f}x"
            + (f"{'>= ' + format(target, 'g') + 'x':>8}" if target else "")
        )
    return "\n".join(lines)


# -- end to end ---------------------------------------------------------------------------------------


def e2e(records: int) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "src"))
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from odradek.testing.broker_process import BrokerProcess

    results: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        BrokerProcess(Path(tmp) / "broker", {"num.partitions": "1"}) as broker,
    ):
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        source = "bench-in"
        for f in admin.create_topics([NewTopic(source, 1, 1)]).values():
            f.result()
        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "batch.size": 1_000_000})
        pad = "x" * 960
        for i in range(records):
            value = json.dumps({"n": i, "user": f"u{i % 1000}", "pad": pad}).encode()
            while True:
                try:
                    producer.produce(source, value, f"u{i % 1000}".encode())
                    break
                except BufferError:
                    producer.poll(0.1)
        producer.flush()
        quix = quix_python()
        for workload in ("stateless", "count"):
            for peer in ("odradek", "quix"):
                out = f"out-{peer}-{workload}-{uuid.uuid4().hex[:6]}"
                for f in admin.create_topics([NewTopic(out, 1, 1)]).values():
                    f.result()
                if peer == "odradek":
                    cmd = [sys.executable, str(HERE / "odradek_e2e.py")]
                else:
                    cmd = [quix, str(HERE / "quix_harness.py"), "e2e"]
                cmd += [
                    "--bootstrap",
                    broker.bootstrap,
                    "--topic",
                    source,
                    "--out-topic",
                    out,
                    "--records",
                    str(records),
                    "--workload",
                    workload,
                ]
                results += run_json(cmd)
                time.sleep(1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--e2e", action="store_true", help="also end to end through a broker")
    parser.add_argument("--e2e-records", type=int, default=600_000)
    parser.add_argument("--quick", action="store_true", help="1 run, 20,000 records")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement there")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.records, args.e2e_records = 1, 20_000, 20_000
    results = processing(args.runs, args.records)
    print(table(results, "processing"))
    if args.e2e:
        e2e_results = e2e(args.e2e_records)
        results += e2e_results
        print()
        print(
            table(e2e_results, "e2e", "records_per_s").replace("records per CPU-second", "records per second")
        )
        print()
        print(
            table(e2e_results, "e2e").replace(
                "records per CPU-second", "records per CPU-second of the process"
            )
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
