"""Run an odradek HTTP service (``odradek rest-proxy …``) in a subprocess for tests.

The service listens on port 0 and announces its URL through the readiness pipe of
`odradek.process.readiness`, exactly as under `odradek dev`, so parallel tests never race for
ports. `kill()` sends SIGKILL (instance-loss tests), `stop()` SIGTERM.
"""

from __future__ import annotations

from collections.abc import Sequence

from odradek.testing.child_process import ChildProcess

START_TIMEOUT_S = 30.0


class ServiceProcess(ChildProcess):
    def __init__(self, command: Sequence[str], log_level: str = "WARNING") -> None:
        super().__init__()
        self.command = list(command)
        self.log_level = log_level
        self.url = ""

    def start(self) -> ServiceProcess:
        args = ["--log-level", self.log_level, *self.command]
        self.url = str(self._spawn_service(args, START_TIMEOUT_S)["url"])
        return self

    def stop(self, timeout: float = 10.0) -> int:
        return super().stop(timeout)


def rest_proxy(bootstrap: str, *extra: str) -> ServiceProcess:
    return ServiceProcess(["rest-proxy", "--bootstrap", bootstrap, "--listen", "127.0.0.1:0", *extra])
