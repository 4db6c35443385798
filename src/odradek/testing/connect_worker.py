"""Run a real `odradek connect distributed` worker in a subprocess (crash tests kill it -9), or
with `standalone=[worker.properties, connector files...]` an `odradek connect standalone` one.

The worker listens on a port chosen here (its URL is its worker id) and logs
`serving connect on URL` once its REST API answers; `url` is then usable.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from odradek.testing.child_process import ChildProcess

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ConnectWorkerProcess(ChildProcess):
    def __init__(
        self,
        bootstrap: str,
        group_id: str = "",
        overrides: Mapping[str, str] | None = None,
        standalone: Sequence[Path] | None = None,
    ) -> None:
        super().__init__()
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.standalone = [str(p) for p in standalone] if standalone is not None else None
        self.overrides = dict(overrides or {})
        self.port = free_port()
        self._started = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker_id(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ConnectWorkerProcess:
        args = [
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
            args += ["--override", f"{name}={value}"]
        self._started.clear()
        self._spawn(args)
        if not self._started.wait(START_TIMEOUT_S):
            self.kill()
            raise RuntimeError("connect worker did not start:\n" + "\n".join(self.lines[-30:]))
        return self

    def _on_line(self, line: str) -> None:
        try:
            msg = json.loads(line).get("msg", "")
        except ValueError:
            return
        if msg.startswith("serving connect on "):
            self._started.set()

    def stop(self, timeout: float = 20.0) -> int:
        return super().stop(timeout)
