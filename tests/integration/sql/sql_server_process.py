"""An `odradek sql-server` subprocess for the SQL broker tests, and small HTTP helpers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

SQL_BROKER = {
    "num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "group.consumer.heartbeat.interval.ms": "500",
    "group.consumer.min.heartbeat.interval.ms": "500",
    # a killed server's members leave its queries' groups after 6 s, not 45 s
    "group.consumer.session.timeout.ms": "6000",
    "group.consumer.min.session.timeout.ms": "6000",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SqlServerProcess:
    def __init__(
        self,
        bootstrap: str,
        state_dir: Path,
        service_id: str = "default_",
        port: int | None = None,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.bootstrap = bootstrap
        self.state_dir = state_dir
        self.service_id = service_id
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = state_dir.parent / f"sql-server-{self.port}.log"

    def start(self, timeout_s: float = 60.0) -> SqlServerProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "odradek", "--log-level", "WARNING", "sql-server",
            "--bootstrap", self.bootstrap, "--listen", f"127.0.0.1:{self.port}",
            "--service-id", self.service_id, "--state-dir", str(self.state_dir),
            "--override", "ksql.streams.auto.offset.reset=earliest",
        ]  # fmt: skip
        for name, value in self.overrides.items():
            cmd += ["--override", f"{name}={value}"]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sql-server exited: {self.log.read_text()[-3000:]}")
            try:
                if (
                    httpx.get(self.url + "/info", timeout=2).json()["KsqlServerInfo"]["serverStatus"]
                    == "RUNNING"
                ):
                    return self
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"sql-server did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> SqlServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP --------------------------------------------------------------------------------------------

    def ksql(self, text: str, **body: Any) -> httpx.Response:
        return httpx.post(self.url + "/ksql", json={"ksql": text, **body}, timeout=120)

    def ok(self, text: str) -> list[dict[str, Any]]:
        resp = self.ksql(text)
        assert resp.status_code == 200, resp.text
        return list(resp.json())

    def query_stream(
        self, sql: str, accept: str = "application/vnd.ksqlapi.delimited.v1", **props: Any
    ) -> list[Any]:
        resp = httpx.post(
            self.url + "/query-stream",
            json={"sql": sql, "properties": props},
            headers={"Accept": accept},
            timeout=120,
        )
        assert resp.status_code == 200, resp.text
        if accept == "application/json":
            return list(resp.json())
        return [json.loads(line) for line in resp.text.splitlines() if line.strip()]

    def wait_rows(self, sql: str, count: int, timeout_s: float = 60.0) -> list[Any]:
        deadline = time.monotonic() + timeout_s
        rows: list[Any] = []
        while time.monotonic() < deadline:
            rows = self.query_stream(sql)[1:]
            if len(rows) >= count:
                return rows
            time.sleep(0.5)
        raise AssertionError(f"{sql}: {len(rows)} rows, wanted {count}: {rows[:5]}")
