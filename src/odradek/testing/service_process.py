"""Run an odradek HTTP service (``odradek rest-proxy …``) in a subprocess for tests.

The service listens on port 0 and announces its URL through the readiness pipe of
`odradek.process.readiness`, exactly as under `odradek dev`, so parallel tests never race for
ports. `kill()` sends SIGKILL (instance-loss tests), `stop()` SIGTERM.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from odradek.process import readiness

START_TIMEOUT_S = 30.0


class ServiceProcess:
    def __init__(self, command: Sequence[str], log_level: str = "WARNING") -> None:
        self.command = list(command)
        self.log_level = log_level
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.lines: list[str] = []
        self._pump_thread = threading.Thread()

    def start(self) -> ServiceProcess:
        read_fd, write_fd = os.pipe()
        env = {**os.environ, readiness.ENV: str(write_fd), "PYTHONUNBUFFERED": "1"}
        argv = [sys.executable, "-m", "odradek", "--log-level", self.log_level, *self.command]
        try:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                pass_fds=(write_fd,),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        finally:
            os.close(write_fd)
        self._pump_thread = threading.Thread(target=self._pump, args=(self.proc,), daemon=True)
        self._pump_thread.start()
        try:
            announcement = self._read_announcement(read_fd)
        finally:
            os.close(read_fd)
        if announcement is None:
            self.kill()
            raise RuntimeError("service did not start:\n" + "\n".join(self.lines[-30:]))
        self.url = str(announcement["url"])
        return self

    def _read_announcement(self, fd: int) -> dict[str, object] | None:
        data = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            data += chunk
        found = readiness.parse(data)
        return found

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        with proc.stderr:
            for line in proc.stderr:
                self.lines.append(line.rstrip())

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def stop(self, timeout_s: float = 10.0) -> int | None:
        self._signal(signal.SIGTERM, timeout_s)
        return None if self.proc is None else self.proc.returncode

    def _signal(self, sig: int, timeout_s: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._pump_thread.join(5)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def rest_proxy(bootstrap: str, *extra: str) -> ServiceProcess:
    return ServiceProcess(["rest-proxy", "--bootstrap", bootstrap, "--listen", "127.0.0.1:0", *extra])
