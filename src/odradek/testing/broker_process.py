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
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

START_TIMEOUT_S = 20.0


class BrokerProcess:
    def __init__(
        self,
        data_dir: Path,
        overrides: Mapping[str, str] | None = None,
        port: int = 0,
        limits: Mapping[int, int] | None = None,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        self.data_dir = data_dir
        self.start_timeout = start_timeout
        self.overrides = dict(overrides or {})
        self.port = port
        self.limits = dict(limits or {})  # resource.RLIMIT_* -> soft and hard limit of the broker
        self.metrics_port: int | None = None
        self.listener_ports: dict[str, int] = {}
        """The port each listener bound (by listener name), once started."""
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._started = threading.Event()
        self._pump_thread: threading.Thread | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def bootstrap_for(self, listener: str) -> str:
        return f"127.0.0.1:{self.listener_ports[listener]}"

    def start(self) -> BrokerProcess:
        cmd = [sys.executable, "-m", "odradek", "--log-level", "INFO", "broker"]
        if "listeners" not in self.overrides:
            cmd += ["--listeners", f"PLAINTEXT://127.0.0.1:{self.port}"]
        cmd += ["--log-dirs", str(self.data_dir)]
        for name, value in self.overrides.items():
            cmd += ["--override", f"{name}={value}"]
        self._started.clear()
        self.lines = []
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            _dies_with_this_process() + cmd,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
            preexec_fn=self._apply_limits if self.limits else None,  # noqa: PLW1509 (setrlimit only)
        )
        self._pump_thread = threading.Thread(target=self._pump, args=(self.proc,), daemon=True)
        self._pump_thread.start()
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

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip())
            try:
                msg = json.loads(line).get("msg", "")
            except ValueError:
                continue
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

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._close()
        return code

    def _close(self) -> None:
        if self._pump_thread is not None:
            self._pump_thread.join(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self._close()

    def restart(self, kill: bool = False) -> BrokerProcess:
        if kill:
            self.kill()
        else:
            self.stop()
        time.sleep(0.05)
        return self.start()

    def __enter__(self) -> BrokerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _dies_with_this_process() -> list[str]:
    """A prefix giving the broker a parent-death signal (util-linux `setpriv`), so a test run that
    is itself killed does not leave its brokers running. Only from the main thread: the signal
    follows the thread that started the child, and a helper thread ending must not kill a broker."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return []
    return [setpriv, "--pdeathsig=SIGKILL", "--"]
