"""Run a real `odradek connect distributed` worker in a subprocess (crash tests kill it -9), or
with `standalone=[worker.properties, connector files...]` an `odradek connect standalone` one.

The worker listens on a port chosen here (its URL is its worker id) and logs
`serving connect on URL` once its REST API answers; `url` is then usable.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ConnectWorkerProcess:
    def __init__(
        self,
        bootstrap: str,
        group_id: str = "",
        overrides: Mapping[str, str] | None = None,
        standalone: Sequence[Path] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.standalone = [str(p) for p in standalone] if standalone is not None else None
        self.overrides = dict(overrides or {})
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._started = threading.Event()
        self._pump_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker_id(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ConnectWorkerProcess:
        cmd = [
            sys.executable,
            "-m",
            "odradek",
            "--log-level",
            "INFO",
            "connect",
            *(["standalone", *self.standalone] if self.standalone is not None else ["distributed"]),
            "--bootstrap",
            self.bootstrap,
            *(["--group-id", self.group_id] if self.standalone is None else []),
            "--listen",
            f"127.0.0.1:{self.port}",
        ]
        for name, value in self.overrides.items():
            cmd += ["--override", f"{name}={value}"]
        self._started.clear()
        self.proc = subprocess.Popen(
            cmd,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._pump_thread = threading.Thread(target=self._pump, args=(self.proc,), daemon=True)
        self._pump_thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            self.kill()
            raise RuntimeError("connect worker did not start:\n" + "\n".join(self.lines[-30:]))
        return self

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip())
            try:
                msg = json.loads(line).get("msg", "")
            except ValueError:
                continue
            if msg.startswith("serving connect on "):
                self._started.set()

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc is None:
            return 0
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._close()
        return code

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self._close()

    def _close(self) -> None:
        if self._pump_thread is not None:
            self._pump_thread.join(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None
