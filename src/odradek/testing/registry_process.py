"""Run a real `odradek registry` in a subprocess for tests, on a free port.

The registry announces its URL through the supervisor's readiness handshake
(`odradek.process.readiness`), so tests never guess ports. `kill()` sends SIGKILL (failover tests),
`stop()` SIGTERM.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from odradek.process import readiness

START_TIMEOUT_S = 30.0


class RegistryProcess:
    def __init__(
        self,
        bootstrap: str,
        overrides: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        listen: str = "127.0.0.1:0",
    ) -> None:
        self.bootstrap = bootstrap
        self.listen = listen
        self.overrides = dict(overrides or {})
        self.log_path = log_path
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RegistryProcess:
        cmd = [
            sys.executable,
            "-m",
            "odradek",
            "registry",
            "--bootstrap",
            self.bootstrap,
            "--listen",
            self.listen,
        ]
        for name, value in self.overrides.items():
            cmd += ["--override", f"{name}={value}"]
        read_fd, write_fd = os.pipe()
        env = {**os.environ, readiness.ENV: str(write_fd)}
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                cmd, env=env, pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=log
            )
        finally:
            os.close(write_fd)
            if log is not subprocess.DEVNULL:
                log.close()  # type: ignore[union-attr]
        try:
            ready, _, _ = select.select([read_fd], [], [], START_TIMEOUT_S)
            line = os.read(read_fd, readiness.MAX_ANNOUNCEMENT) if ready else b""
        finally:
            os.close(read_fd)
        announcement = readiness.parse(line) if line else None
        if announcement is None:
            self.kill()
            raise RuntimeError(f"registry did not start (log: {self.log_path})")
        self.url = str(announcement["url"])
        return self

    def wait_primary(self, timeout: float = 30.0) -> None:
        """Until this instance takes writes (a config read-modify-write round trip works)."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = httpx.put(f"{self.url}/mode/__probe__", json={"mode": "READWRITE"}, timeout=5)
                if r.status_code == 200:
                    httpx.delete(f"{self.url}/mode/__probe__", timeout=5)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("registry never took writes")

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def __enter__(self) -> RegistryProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
