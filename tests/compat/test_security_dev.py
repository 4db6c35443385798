"""`odradek dev --secure`: a SASL_SSL broker with a generated CA, an admin super user and printed
client settings that work as printed (the services get them too: see docs/security.md)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

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
            "--without",
            "all",
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
        while time.monotonic() < deadline and not any(line.strip().startswith("broker ") for line in lines):
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
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
