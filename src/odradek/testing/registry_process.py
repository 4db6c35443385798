"""Run a real `odradek registry` in a subprocess for tests, on a free port.

The registry announces its URL through the supervisor's readiness handshake
(`odradek.process.readiness`), so tests never guess ports. `kill()` sends SIGKILL (failover tests),
`stop()` SIGTERM.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from odradek.testing.child_process import ChildProcess

START_TIMEOUT_S = 30.0


class RegistryProcess(ChildProcess):
    def __init__(
        self,
        bootstrap: str,
        overrides: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        listen: str = "127.0.0.1:0",
    ) -> None:
        super().__init__(log_path)
        self.bootstrap = bootstrap
        self.listen = listen
        self.overrides = dict(overrides or {})
        self.url = ""

    def start(self) -> RegistryProcess:
        args = ["registry", "--bootstrap", self.bootstrap, "--listen", self.listen]
        for name, value in self.overrides.items():
            args += ["--override", f"{name}={value}"]
        self.url = str(self._spawn_service(args, START_TIMEOUT_S)["url"])
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
