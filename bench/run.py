#!/usr/bin/env python3
"""`make bench`: odradek against the peer broker Tansu, same harness, same machine, same run.

Uses the shared kbench harness (`../shared/bench`, or $ODRADEK_BENCH_HARNESS): its `setup.sh`
provides a venv with confluent-kafka and the Tansu binary; `run_broker.py` starts a broker, waits
for its first Metadata answer (startup time), runs the scenarios, records RSS and broker CPU, and
stops it. Each broker gets a fresh process (and odradek a fresh data directory) per run; the
scenarios interleave so both see the same machine conditions. At the end a table gives, per
scenario and metric, the median of each broker and the ratio odradek / Tansu.

    python bench/run.py                       # all scenarios, 1 run each
    python bench/run.py --quick               # smoke: 10% counts
    python bench/run.py --scenarios tput-1KiB-none latency-1KiB --runs 3
    python bench/run.py --summarize bench-results/2026-11-25T1200   # re-print a stored run
    python bench/run.py --no-scale            # without the scale part (bench/scale_bench.py)

After the kbench scenarios comes the scale part (`bench/scale_bench.py`: 20,000 partitions, restarts
clean and after kill -9, coordinator loading, 10,000 connections), odradek and Tansu where it applies;
`--quick` runs it at 2,000 partitions and 1,000 connections. Last come synchronous offset commits
(`bench/commit_rounds.py`): odradek and Tansu in alternating rounds of short windows, commits/s and
broker CPU per commit, the ratio of each round and their median (`--no-commits` leaves them out).

Benchmarks are never part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROKER_FIELDS = ("startup_metadata_s", "rss_idle_kib", "peak_rss_kib", "broker_cpu_s")
# metrics where smaller is better (the ratio is then inverted in the verdict column)
LOWER_IS_BETTER = ("lat_", "_us_msg", "startup", "rss", "join_s", "cpu_s")


def harness_dir() -> Path:
    env = os.environ.get("ODRADEK_BENCH_HARNESS")
    path = Path(env) if env else ROOT.parent / "shared" / "bench"
    if not (path / "kbench.py").exists():
        sys.exit(f"benchmark harness not found at {path}; set ODRADEK_BENCH_HARNESS to the kbench folder")
    return path


def setup(harness: Path) -> tuple[str, str]:
    out = subprocess.run(
        ["bash", str(harness / "setup.sh")], capture_output=True, text=True, check=True
    ).stdout
    paths = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return paths["python"].strip(), paths["tansu"].strip()


def run_one(
    harness: Path, python: str, name: str, port: int, kbench_args: str, out_dir: Path, cmd: list[str]
) -> None:
    subprocess.run(
        [
            python,
            str(harness / "run_broker.py"),
            "--name",
            name,
            "--port",
            str(port),
            "--python",
            python,
            "--out-dir",
            str(out_dir),
            "--kbench-args",
            kbench_args,
            "--",
            *cmd,
        ],
        check=False,
    )


def load(path: Path) -> tuple[dict[tuple[str, str], list[float]], dict[str, list[float]]]:
    metrics: dict[tuple[str, str], list[float]] = {}
    broker: dict[str, list[float]] = {}
    if not path.exists():
        return metrics, broker
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("type") == "result" and rec.get("ok"):
            for key, value in (rec.get("metrics") or {}).items():
                if isinstance(value, int | float):
                    metrics.setdefault((rec["scenario"], key), []).append(float(value))
        elif rec.get("type") == "broker":
            for key in BROKER_FIELDS:
                if isinstance(rec.get(key), int | float):
                    broker.setdefault(key, []).append(float(rec[key]))
    return metrics, broker


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def summarize(out_dir: Path) -> None:
    ours, our_broker = load(out_dir / "odradek.jsonl")
    peer, peer_broker = load(out_dir / "tansu.jsonl")
    rows = []
    for key in sorted(set(ours) | set(peer)):
        a = statistics.median(ours[key]) if key in ours else None
        b = statistics.median(peer[key]) if key in peer else None
        rows.append((key[0], key[1], a, b))
    for key in BROKER_FIELDS:
        a = statistics.median(our_broker[key]) if key in our_broker else None
        b = statistics.median(peer_broker[key]) if key in peer_broker else None
        rows.append(("broker", key, a, b))
    width = max([len(r[0]) for r in rows] + [8])
    print(f"\n{'scenario':<{width}}  {'metric':<24} {'odradek':>12} {'tansu':>12} {'ratio':>7}  better")
    for scenario, metric, a, b in rows:
        ratio = a / b if a is not None and b else None
        lower = any(tag in metric for tag in LOWER_IS_BETTER)
        if ratio is None or ratio == 1:
            verdict = ""
        else:
            verdict = "odradek" if (ratio < 1) == lower else "tansu"
        print(
            f"{scenario:<{width}}  {metric:<24} {fmt(a):>12} {fmt(b):>12} "
            f"{(f'{ratio:.2f}x' if ratio else '-'):>7}  {verdict}"
        )
    print(f"\nresults: {out_dir}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", nargs="+", default=["all"])
    parser.add_argument("--runs", type=int, default=1, help="fresh-broker runs per broker")
    parser.add_argument("--quick", action="store_true", help="10%% message counts, for a smoke run")
    parser.add_argument("--only", choices=("odradek", "tansu"), help="run one broker only")
    parser.add_argument("--summarize", type=Path, help="print the table of a stored results folder")
    parser.add_argument("--no-scale", action="store_true", help="leave out bench/scale_bench.py")
    parser.add_argument("--no-commits", action="store_true", help="leave out bench/commit_rounds.py")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return 0
    harness = harness_dir()
    python, tansu = setup(harness)
    out_dir = ROOT / "bench-results" / time.strftime("%Y-%m-%dT%H%M")
    out_dir.mkdir(parents=True, exist_ok=True)
    kbench_args = f"--reps 1 --scenarios {' '.join(args.scenarios)}" + (" --scale 0.1" if args.quick else "")
    odradek = shutil.which("odradek", path=str(ROOT / ".venv" / "bin")) or "odradek"
    for run in range(args.runs):
        if args.only != "tansu":
            with tempfile.TemporaryDirectory(prefix="odradek-bench-") as data:
                cmd = [odradek, "broker", "--listeners", "PLAINTEXT://127.0.0.1:{port}", "--log-dirs", data]
                run_one(harness, python, "odradek", 29092, kbench_args, out_dir, cmd)
        if args.only != "odradek":
            url = "tcp://127.0.0.1:{port}"
            cmd = [tansu, "broker", "--listener-url", url, "--advertised-listener-url", url]
            run_one(harness, python, "tansu", 29192, kbench_args, out_dir, cmd)
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    (out_dir / "command.txt").write_text(shlex.join(sys.argv) + "\n")
    summarize(out_dir)
    if not args.no_scale:
        scale = [
            sys.executable,
            str(ROOT / "bench" / "scale_bench.py"),
            "--out",
            str(out_dir / "scale.jsonl"),
        ]
        if args.only != "odradek":
            scale += ["--tansu", tansu]
        if args.quick:
            scale += ["--partitions", "2000", "--checkpoints", "1000", "--connections", "1000"]
            scale += ["--offset-commits", "10000", "--idle-s", "30"]
        subprocess.run(scale, check=False)
    if not args.no_commits and args.only is None:
        commits = [sys.executable, str(ROOT / "bench" / "commit_rounds.py"), "--tansu", tansu]
        commits += ["--out", str(out_dir / "commits.jsonl")]
        if args.quick:
            commits += ["--rounds", "2", "--reps", "1"]
        subprocess.run(commits, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
