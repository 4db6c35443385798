"""An `odradek sql-server` subprocess for the SQL broker tests, and small HTTP helpers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from odradek.testing.child_process import ChildProcess

SQL_BROKER = {
    "num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "group.consumer.heartbeat.interval.ms": "500",
    "group.consumer.min.heartbeat.interval.ms": "500",
    # a killed server's members leave its queries' groups after 6 s, not 45 s
    "group.consumer.session.timeout.ms": "6000",
    "group.consumer.min.session.timeout.ms": "6000",
}


class SqlServerProcess(ChildProcess):
    """`odradek sql-server` on a free port; it announces its URL (through the supervisor's
    readiness pipe) once its command topic has been replayed."""

    def __init__(
        self,
        bootstrap: str,
        state_dir: Path,
        service_id: str = "default_",
        overrides: dict[str, str] | None = None,
    ) -> None:
        super().__init__(log_path=state_dir.parent / f"sql-server-{state_dir.name}.log")
        self.overrides = dict(overrides or {})
        self.bootstrap = bootstrap
        self.state_dir = state_dir
        self.service_id = service_id
        self.url = ""

    def start(self, timeout_s: float = 60.0) -> SqlServerProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        args = [
            "--log-level", "WARNING", "sql-server",
            "--bootstrap", self.bootstrap, "--listen", "127.0.0.1:0",
            "--service-id", self.service_id, "--state-dir", str(self.state_dir),
            "--override", "ksql.streams.auto.offset.reset=earliest",
        ]  # fmt: skip
        for name, value in self.overrides.items():
            args += ["--override", f"{name}={value}"]
        self.url = str(self._spawn_service(args, timeout_s)["url"])
        return self

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
