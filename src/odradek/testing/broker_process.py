"""Run a real `odradek broker` in a subprocess for tests (clients talk to it over loopback).

The broker binds port 0 and logs the port it got, so parallel tests never race for ports.
`kill()` sends SIGKILL (crash tests); `stop()` SIGTERM (clean shutdown); `restart()` reuses the
same data directory and port. `limits` runs the broker under resource limits (e.g. a low
`RLIMIT_NOFILE`), to make it run out of something on purpose.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from odradek.testing.child_process import ChildProcess

START_TIMEOUT_S = 20.0


class BrokerProcess(ChildProcess):
    def __init__(
        self,
        data_dir: Path,
        overrides: Mapping[str, str] | None = None,
        port: int = 0,
        limits: Mapping[int, int] | None = None,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.start_timeout = start_timeout
        self.overrides = dict(overrides or {})
        self.port = port
        self.limits = dict(limits or {})  # resource.RLIMIT_* -> soft and hard limit of the broker
        self.metrics_port: int | None = None
        self.listener_ports: dict[str, int] = {}
        """The port each listener bound (by listener name), once started."""
        self._started = threading.Event()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def bootstrap_for(self, listener: str) -> str:
        return f"127.0.0.1:{self.listener_ports[listener]}"

    def start(self) -> BrokerProcess:
        args = ["--log-level", "INFO", "broker"]
        if "listeners" not in self.overrides:
            args += ["--listeners", f"PLAINTEXT://127.0.0.1:{self.port}"]
        args += ["--log-dirs", str(self.data_dir)]
        for name, value in self.overrides.items():
            args += ["--override", f"{name}={value}"]
        self._started.clear()
        self._spawn(args, preexec_fn=self._apply_limits if self.limits else None)
        if not self._started.wait(self.start_timeout):
            self.kill()
            raise RuntimeError("broker did not start:\n" + "\n".join(self.lines[-30:]))
        return self

    def _apply_limits(self) -> None:
        for which, value in self.limits.items():
            resource.setrlimit(which, (value, value))

    def open_files(self) -> int:
        """Descriptors the broker holds now."""
        assert self.proc is not None
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def _on_line(self, line: str) -> None:
        try:
            msg = json.loads(line).get("msg", "")
        except ValueError:
            return
        if msg.startswith("listening on "):
            name = msg[len("listening on ") :].split("://", 1)[0]
            port = int(msg.rsplit(":", 1)[1])
            self.listener_ports[name] = port
            if name == "PLAINTEXT" or len(self.listener_ports) == 1:
                self.port = port
        elif msg.startswith("metrics on http://"):
            self.metrics_port = int(msg.rsplit(":", 1)[1].split("/", 1)[0])
        elif msg.startswith("broker ") and " started in " in msg:
            self._started.set()

    def restart(self, kill: bool = False) -> BrokerProcess:
        if kill:
            self.kill()
        else:
            self.stop()
        time.sleep(0.05)
        return self.start()
