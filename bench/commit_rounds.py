"""Synchronous offset commits, odradek against Tansu in alternating rounds (a benchmark, not a test).

    python bench/commit_rounds.py --tansu /path/to/tansu [--rounds 4] [--reps 3] [--commit-seconds 4]
                                  [--out commits.jsonl]

Each round starts a fresh odradek broker (fresh data directory) and a fresh Tansu on free loopback
ports, one after the other (odradek first in odd rounds, Tansu first in even ones), runs
`groups_bench.py --only commits --broker-pid` against each (one consumer committing one partition
at a time with librdkafka's synchronous `commit()`, the next commit sent once the answer is in), and
stops the broker. On a shared machine the speed changes from minute to minute, so the figures that
count are the ratios of runs in the same round, and the broker CPU per commit (process CPU time,
which load changes much less than wall time).

Prints one JSON line per run (also to `--out`) and a summary: mean and median commits/s and broker
CPU per commit per broker, the odradek / Tansu ratio of each round and overall.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def broker_command(side: str, port: int, data: str, tansu: str) -> list[str]:
    if side == "tansu":
        url = f"tcp://127.0.0.1:{port}"
        return [tansu, "broker", "--listener-url", url, "--advertised-listener-url", url]
    odradek = shutil.which("odradek", path=str(ROOT / ".venv" / "bin"))
    base = [odradek] if odradek else [sys.executable, "-m", "odradek"]
    return [*base, "broker", "--listeners", f"PLAINTEXT://127.0.0.1:{port}", "--log-dirs", data]


def run_side(side: str, tansu: str, reps: int, seconds: float) -> list[dict[str, float]]:
    """One fresh broker: groups_bench's commits scenario `reps` times; one dict per rep."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"commit-rounds-{side}-") as data:
        broker = subprocess.Popen(
            broker_command(side, port, data, tansu),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=data,
        )
        try:
            wait_listening(port, broker)
            bench = [
                sys.executable,
                str(ROOT / "bench" / "groups_bench.py"),
                "--only",
                "commits",
                "--reps",
                str(reps),
                "--commit-seconds",
                str(seconds),
                "--broker-pid",
                str(broker.pid),
                "--bootstrap",
                f"127.0.0.1:{port}",
                "--label",
                side,
            ]
            out = subprocess.run(bench, capture_output=True, text=True, check=False).stdout
        finally:
            broker.send_signal(signal.SIGTERM)
            try:
                broker.wait(30)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait()
    runs: dict[int, dict[str, float]] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            for name in ("commits", "commit_cpu_us"):
                if name in entry:
                    runs.setdefault(entry["rep"], {})[name] = entry[name]
    return [runs[rep] for rep in sorted(runs) if "commits" in runs[rep]]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tansu", required=True, help="the Tansu binary")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3, help="commit loops per broker per round")
    parser.add_argument("--commit-seconds", type=float, default=4.0)
    parser.add_argument("--out", type=Path, help="also append the JSON lines here")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"odradek": [], "tansu": []}
    ratios: list[float] = []
    sink = args.out.open("a") if args.out else None
    try:
        for round_ in range(1, args.rounds + 1):
            order = ("odradek", "tansu") if round_ % 2 else ("tansu", "odradek")
            means: dict[str, float] = {}
            for side in order:
                started = time.strftime("%H:%M:%S", time.gmtime())
                load = Path("/proc/loadavg").read_text().split()[0]
                runs = run_side(side, args.tansu, args.reps, args.commit_seconds)
                for rep, run in enumerate(runs):
                    line = json.dumps(
                        {
                            "type": "commits",
                            "broker": side,
                            "round": round_,
                            "rep": rep,
                            "utc": started,
                            "load": float(load),
                            **run,
                        }
                    )
                    print(line, flush=True)
                    if sink is not None:
                        sink.write(line + "\n")
                results[side].extend(runs)
                if runs:
                    means[side] = statistics.fmean(r["commits"] for r in runs)
            if len(means) == 2:
                ratios.append(means["odradek"] / means["tansu"])
                print(f"round {round_}: odradek / Tansu {ratios[-1]:.2f}x", file=sys.stderr, flush=True)
    finally:
        if sink is not None:
            sink.close()
    print(f"\nsynchronous commits, {args.rounds} alternating rounds x {args.reps} runs", file=sys.stderr)
    for side, runs in results.items():
        if not runs:
            print(f"  {side:8} no successful run", file=sys.stderr)
            continue
        rates = [r["commits"] for r in runs]
        cpu = [r["commit_cpu_us"] for r in runs if "commit_cpu_us" in r]
        cpu_text = f"   broker CPU per commit median {statistics.median(cpu):6.0f} us" if cpu else ""
        mean, median = statistics.fmean(rates), statistics.median(rates)
        print(
            f"  {side:8} commits/s mean {mean:8.0f}  median {median:8.0f}" + cpu_text,
            file=sys.stderr,
        )
    if results["odradek"] and results["tansu"]:
        mean = statistics.fmean(r["commits"] for r in results["odradek"]) / statistics.fmean(
            r["commits"] for r in results["tansu"]
        )
        median = statistics.median(r["commits"] for r in results["odradek"]) / statistics.median(
            r["commits"] for r in results["tansu"]
        )
        print(
            f"  odradek / Tansu: {mean:.2f}x by the mean, {median:.2f}x by the median; per round "
            + ", ".join(f"{r:.2f}x" for r in ratios),
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
