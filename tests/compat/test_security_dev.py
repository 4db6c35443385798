"""`odradek dev --secure`: a SASL_SSL broker with a generated CA, an admin super user and printed
client settings that work as printed; the services get them too (see docs/security.md): here the
SQL server runs a persistent query (exactly-once streams application), a push query and a pull
query over SASL_SSL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, Producer

from odradek.cli.command_config import read_command_config

pytestmark = pytest.mark.compat


def test_dev_secure_broker_with_printed_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odradek",
            "dev",
            "--secure",
            *("--without", "registry", "--without", "rest", "--without", "connect"),
            *("--port", "sql=0"),
            "--listeners",
            "PLAINTEXT://127.0.0.1:0",
            "--log-dirs",
            str(data),
            "--override",
            "odradek.metrics.port=0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(line.strip().startswith("sql ") for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        text = "".join(lines)
        assert "secure: SASL_SSL, super user admin" in text, text
        bootstrap = next(line.split()[1] for line in lines if line.strip().startswith("broker "))
        settings = read_command_config(data / "security" / "client.properties")
        assert settings["security.protocol"] == "SASL_SSL" and settings["sasl.username"] == "admin"
        assert (data / "security" / "admin.password").stat().st_mode & 0o077 == 0
        config = {"bootstrap.servers": bootstrap, **settings}
        producer = Producer(config)
        producer.produce("secure-dev", b"hello")
        assert producer.flush(30) == 0
        consumer = Consumer({**config, "group.id": "secure-dev", "auto.offset.reset": "earliest"})
        consumer.subscribe(["secure-dev"])
        try:
            message = None
            end = time.monotonic() + 30
            while message is None and time.monotonic() < end:
                message = consumer.poll(1)
            assert message is not None and message.value() == b"hello"
        finally:
            consumer.close()
        anonymous = Producer(
            {
                "bootstrap.servers": bootstrap,
                "security.protocol": "SSL",
                "ssl.ca.location": settings["ssl.ca.location"],
            }
        )
        anonymous.produce("secure-dev", b"x")
        assert anonymous.flush(2) == 1  # not SASL: the listener does not serve it
        sql = next(line.split()[1] for line in lines if line.strip().startswith("sql "))
        sql_over_sasl_ssl(sql)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()


def sql_over_sasl_ssl(url: str) -> None:
    def ksql(statement: str) -> None:
        body = {"ksql": statement, "streamsProperties": {"ksql.streams.auto.offset.reset": "earliest"}}
        response = httpx.post(f"{url}/ksql", json=body, timeout=60)
        assert response.status_code == 200, response.text

    ksql(
        "CREATE STREAM clicks (id INT) WITH (kafka_topic='secure_clicks', value_format='JSON', partitions=1);"
    )
    ksql("INSERT INTO clicks (id) VALUES (7);")
    ksql("CREATE TABLE click_counts AS SELECT id, COUNT(*) AS n FROM clicks GROUP BY id;")
    push = {
        "sql": "SELECT * FROM clicks EMIT CHANGES LIMIT 1;",
        "properties": {"auto.offset.reset": "earliest"},
    }
    with httpx.stream("POST", f"{url}/query-stream", json=push, timeout=60) as response:
        assert [line for line in response.iter_lines() if line][1:] == ["[7]"]
    deadline = time.monotonic() + 60
    rows: list[str] = []
    while time.monotonic() < deadline and rows != ["[7,1]"]:
        pull = {"sql": "SELECT * FROM click_counts WHERE id=7;"}
        rows = [
            line
            for line in httpx.post(f"{url}/query-stream", json=pull, timeout=60).text.splitlines()
            if line
        ][1:]
        time.sleep(0.2)
    assert rows == ["[7,1]"]
    shown = httpx.post(f"{url}/ksql", json={"ksql": "SHOW PROPERTIES;"}, timeout=60).text
    assert "sasl" not in shown
