"""Synchronous offset commits, odradek against Tansu in short alternating windows (a benchmark, not a test).

    python bench/commit_rounds.py --tansu /path/to/tansu [--rounds 12] [--reps 1] [--commit-seconds 2]
                                  [--warmup-seconds 2] [--placement free|same|split] [--out commits.jsonl]

Starts one odradek broker (fresh data directory) and one Tansu, on free loopback ports, for the whole
run, and one librdkafka consumer for each (`groups_bench.py`'s member: a fresh topic of six
partitions, a fresh group, its assignment awaited), both in this process. Each consumer first
commits for ``--warmup-seconds`` unmeasured (first-use work such as lazy imports stays out of the
figures). Then every round runs ``--reps`` windows of ``--commit-seconds`` of synchronous commits
against each broker (`groups_bench.commit_loop`: librdkafka's ``commit(asynchronous=False)``, one
partition after the other, the next commit sent once the answer to the one before is in), odradek
first in odd rounds and Tansu first in even ones, so that a drift of the machine's speed within a
round cancels over two. Between windows both consumers poll, to stay within ``max.poll.interval.ms``;
at the end the last commit of each reads back (OffsetFetch). Nothing is pinned to a CPU unless
``--placement`` asks, and then both brokers alike: ``same`` puts brokers and clients on one CPU,
``split`` the brokers on one and the clients on another. One commit in flight is a ping-pong whose
speed on a small VM depends on that placement more than on either broker (a CPU that goes idle
between requests is halted and must be woken by the other), and an idle machine tends to split
them, a busy one to share: ``--placement`` shows each case on its own.

On a shared machine the speed changes from minute to minute: windows a few seconds apart see about
the same machine, so the figure that counts is the ratio of each round's two rates (odradek's mean
rate over Tansu's in that round), and the headline is the median of those ratios, with the middle
half and the extremes of them beside it. Broker CPU per commit (the broker process's user + system
time from /proc, in 10 ms ticks, over the window's commits) moves much less with load than wall time.

Output. On stdout (and appended to ``--out``) one JSON line per window::

    {"type": "commits", "broker": "odradek", "round": 3, "rep": 0, "placement": "free",
     "utc": "05:40:12", "load": 2.1, "commits": 4123.4, "commit_cpu_us": 108.2}

(``commits``: commits per second; ``load``: the 1-minute load average as the window started; a window
that failed has ``"failed": "<error>"`` instead of the figures.) On stderr one line per round, then a
summary::

    synchronous commits: 12 alternating rounds, 1 window(s) of 2.0 s per broker each, placement free;
    load 1.9-2.4
      odradek  commits/s mean   4100  median   4150   broker CPU per commit mean  110  median  108 us
      tansu    commits/s mean   4000  median   4020   broker CPU per commit mean  115  median  112 us
      odradek / Tansu, median of the 12 round ratios: 1.03x (middle half 0.97x-1.08x, all 0.85x-1.20x)
      odradek / Tansu by all windows' rates: 1.02x by the mean, 1.03x by the median;
      broker CPU per commit 0.96x (medians)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient
from groups_bench import (
    PARTITIONS,
    CommitLoop,
    check_last_commit,
    commit_loop,
    counts,
    member,
    new_topic,
    poll_until,
)

ROOT = Path(__file__).resolve().parent.parent
SIDES = ("odradek", "tansu")


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


@contextmanager
def running_broker(side: str, tansu: str) -> Iterator[tuple[str, int]]:
    """A fresh broker on a free port, stopped (SIGTERM) on the way out: its bootstrap and pid."""
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
            yield f"127.0.0.1:{port}", broker.pid
        finally:
            broker.send_signal(signal.SIGTERM)
            try:
                broker.wait(30)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait()


def place(placement: str, broker_pids: list[int]) -> None:
    """Pins every broker (all their threads) and this process (the consumers' librdkafka threads too)
    the same way for both brokers: ``same``: all on the first CPU; ``split``: the brokers on the
    first, the clients on the second; ``free`` leaves the scheduler to choose (the default). Threads
    started later inherit the affinity of the thread that starts them."""
    if placement == "free":
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 and placement == "split":
        raise SystemExit("--placement split needs two CPUs")
    brokers, clients = {cpus[0]}, {cpus[0] if placement == "same" else cpus[1]}
    for pid, wanted in [*((p, brokers) for p in broker_pids), (os.getpid(), clients)]:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                os.sched_setaffinity(int(task.name), wanted)
            except ProcessLookupError:  # the thread ended meanwhile
                continue


@dataclass
class Side:
    """One broker with its committing consumer, and the windows measured against it."""

    name: str
    pid: int
    consumer: Consumer
    topic: str
    next_offset: int = 1
    windows: list[dict[str, Any]] = field(default_factory=list)
    last: CommitLoop | None = None

    def commit_for(self, seconds: float) -> dict[str, float]:
        loop = commit_loop(self.consumer, self.topic, seconds, self.pid, self.next_offset)
        self.next_offset = loop.last.offset + 1
        self.last = loop
        return {"commits": loop.rate, "commit_cpu_us": loop.cpu_us}


@contextmanager
def committing_member(side: str, bootstrap: str, pid: int, timeout: float = 60.0) -> Iterator[Side]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = new_topic(admin, "rounds")
    consumer = member(bootstrap, f"g-{topic}", 0, "classic")
    try:
        consumer.subscribe([topic])
        poll_until([consumer], lambda: counts([consumer]) == [PARTITIONS], timeout)
        yield Side(side, pid, consumer, topic)
    finally:
        consumer.close()


def spread(ratios: list[float]) -> str:
    """The middle half and the extremes of the round ratios."""
    if len(ratios) < 2:
        return ""
    low, _, high = statistics.quantiles(ratios, n=4, method="inclusive")
    return f" (middle half {low:.2f}x-{high:.2f}x, all {min(ratios):.2f}x-{max(ratios):.2f}x)"


def summary(sides: dict[str, Side], ratios: list[float], args: argparse.Namespace) -> list[str]:
    windows = [w for s in sides.values() for w in s.windows]
    loads = [w["load"] for w in windows]
    lines = [
        f"synchronous commits: {args.rounds} alternating rounds, {args.reps} window(s) of "
        f"{args.commit_seconds:.1f} s per broker each, placement {args.placement}"
        + (f"; load {min(loads):.1f}-{max(loads):.1f}" if loads else "")
    ]
    rates: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for name, side in sides.items():
        rates[name] = [w["commits"] for w in side.windows if "commits" in w]
        cpus[name] = [w["commit_cpu_us"] for w in side.windows if "commit_cpu_us" in w]
        if not rates[name]:
            lines.append(f"  {name:8} no successful window")
            continue
        lines.append(
            f"  {name:8} commits/s mean {statistics.fmean(rates[name]):6.0f}  median "
            f"{statistics.median(rates[name]):6.0f}   broker CPU per commit mean "
            f"{statistics.fmean(cpus[name]):4.0f}  median {statistics.median(cpus[name]):4.0f} us"
        )
    if ratios:
        lines.append(
            f"  odradek / Tansu, median of the {len(ratios)} round ratios: "
            f"{statistics.median(ratios):.2f}x" + spread(ratios)
        )
    if all(rates.get(name) for name in SIDES):
        a, b = rates["odradek"], rates["tansu"]
        cpu = statistics.median(cpus["odradek"]) / statistics.median(cpus["tansu"])
        lines.append(
            f"  odradek / Tansu by all windows' rates: {statistics.fmean(a) / statistics.fmean(b):.2f}x "
            f"by the mean, {statistics.median(a) / statistics.median(b):.2f}x by the median; "
            f"broker CPU per commit {cpu:.2f}x (medians)"
        )
    return lines


def run_round(
    round_: int, sides: dict[str, Side], args: argparse.Namespace, sink: IO[str] | None
) -> float | None:
    """One round: `reps` windows against each broker, in this round's order; the ratio of the mean rates."""
    order = SIDES if round_ % 2 else tuple(reversed(SIDES))
    for name in order:
        side = sides[name]
        for rep in range(args.reps):
            for other in sides.values():
                other.consumer.poll(0)  # (max.poll.interval.ms)
            entry: dict[str, Any] = {
                "type": "commits",
                "broker": name,
                "round": round_,
                "rep": rep,
                "placement": args.placement,
                "utc": time.strftime("%H:%M:%S", time.gmtime()),
                "load": float(Path("/proc/loadavg").read_text().split()[0]),
            }
            try:
                entry.update({k: round(v, 4) for k, v in side.commit_for(args.commit_seconds).items()})
            except Exception as exc:  # a failed commit: recorded, the round has no ratio
                entry["failed"] = str(exc)
            side.windows.append(entry)
            line = json.dumps(entry)
            print(line, flush=True)
            if sink is not None:
                sink.write(line + "\n")
    means = {}
    for name, side in sides.items():
        this_round = [w for w in side.windows if w["round"] == round_]
        if any("failed" in w for w in this_round) or not this_round:
            return None
        means[name] = statistics.fmean(w["commits"] for w in this_round)
    return means["odradek"] / means["tansu"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tansu", required=True, help="the Tansu binary")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--reps", type=int, default=1, help="commit windows per broker per round")
    parser.add_argument("--commit-seconds", type=float, default=2.0, help="the length of one window")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="unmeasured commits first")
    parser.add_argument("--out", type=Path, help="also append the JSON lines here")
    parser.add_argument(
        "--placement",
        choices=("free", "same", "split"),
        default="free",
        help="CPUs of brokers and clients, the same for both brokers (see place())",
    )
    args = parser.parse_args()
    ratios: list[float] = []
    with ExitStack() as stack:
        sink = stack.enter_context(args.out.open("a")) if args.out else None
        sides: dict[str, Side] = {}
        for name in SIDES:
            bootstrap, pid = stack.enter_context(running_broker(name, args.tansu))
            sides[name] = stack.enter_context(committing_member(name, bootstrap, pid))
        place(args.placement, [side.pid for side in sides.values()])
        for side in sides.values():
            side.commit_for(args.warmup_seconds)
        for round_ in range(1, args.rounds + 1):
            ratio = run_round(round_, sides, args, sink)
            if ratio is not None:
                ratios.append(ratio)
                print(f"round {round_}: odradek / Tansu {ratio:.2f}x", file=sys.stderr, flush=True)
        print("\n" + "\n".join(summary(sides, ratios, args)), file=sys.stderr)
        for side in sides.values():
            if side.last is not None:
                check_last_commit(side.consumer, side.last)  # raises if the broker lost it
    return 0


if __name__ == "__main__":
    sys.exit(main())
