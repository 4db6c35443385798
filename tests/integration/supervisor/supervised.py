"""Test helpers: run a supervisor in a subprocess and watch what it prints and starts."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
LINE = re.compile(r"^  (\S+)\s+(\S+)\s+(.*)$")


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Supervised:
    """A supervisor process; ``ready`` lines arrive as (time, name, address, description)."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[tuple[float, str, str, str]] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._pumps = [
            threading.Thread(target=self._pump_out, daemon=True),
            threading.Thread(target=self._pump_err, daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    @classmethod
    def toys(
        cls, data_dir: Path, services: dict[str, list[str]], initial_backoff_s: float = 0.5
    ) -> Supervised:
        config = {"data_dir": str(data_dir), "services": services, "initial_backoff_s": initial_backoff_s}
        return cls([sys.executable, str(HERE / "run_supervisor.py"), json.dumps(config)])

    def _pump_out(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            match = LINE.match(raw.rstrip("\n"))
            if match:
                with self._changed:
                    self.lines.append((time.monotonic(), *match.groups()))  # type: ignore[arg-type]
                    self._changed.notify_all()

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr.append(raw.rstrip("\n"))

    def wait_lines(self, name: str, count: int, timeout: float = 30.0) -> list[tuple[float, str, str, str]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [line for line in self.lines if line[1] == name]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(
                        f"{name}: {len(found)} of {count} ready lines; stderr:\n"
                        + "\n".join(self.stderr[-30:])
                    )
                self._changed.wait(min(left, 0.2))

    def address(self, name: str) -> str:
        return self.wait_lines(name, 1)[-1][2]

    def pid_of(self, name: str) -> int:
        if name == "broker":
            self.address("broker")
            for child in children_of(self.proc.pid):
                if "broker" in Path(f"/proc/{child}/cmdline").read_text().split("\0"):
                    return child
            raise AssertionError("no broker child")
        return int(httpx.get(self.address(name) + "/hello", timeout=5).json()["pid"])

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> float:
        """Signal the supervisor; seconds until it and all its children are gone."""
        children = children_of(self.proc.pid)
        start = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        while any(alive(pid) for pid in children) and time.monotonic() - start < timeout:
            time.sleep(0.02)
        elapsed = time.monotonic() - start
        self._close()
        return elapsed

    def _close(self) -> None:
        for pump in self._pumps:
            pump.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def kill_all(self) -> None:
        children = children_of(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._close()
