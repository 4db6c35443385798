"""The supervisor with real processes: a real broker and toy HTTP services (built on odradek.http)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from supervised import Supervised, alive, children_of

from odradek.supervisor.services import DEV_SERVICES

STOP_BUDGET_S = 5.0


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[list[Supervised]]:
    started: list[Supervised] = []
    yield started
    for sup in started:
        sup.kill_all()


def start(started: list[Supervised], tmp_path: Path, services: dict[str, list[str]]) -> Supervised:
    sup = Supervised.toys(tmp_path, services)
    started.append(sup)
    sup.wait_lines("broker", 1)
    return sup


def test_a_killed_service_is_restarted_with_growing_back_off(
    supervised: list[Supervised], tmp_path: Path
) -> None:
    sup = start(supervised, tmp_path, {"a": []})
    address = sup.address("a")
    broker_pid = sup.pid_of("broker")
    first = sup.pid_of("a")
    killed = time.monotonic()
    os.kill(first, signal.SIGKILL)
    ready = sup.wait_lines("a", 2)[-1]
    assert ready[0] - killed >= 0.5
    assert ready[2] == address  # back on the same port
    assert ready[3] == "toy a (restarted)"
    second = sup.pid_of("a")
    assert second != first
    killed = time.monotonic()
    os.kill(second, signal.SIGKILL)
    ready = sup.wait_lines("a", 3)[-1]
    assert ready[0] - killed >= 1.0  # the second crash in a row waits twice as long
    assert sup.pid_of("broker") == broker_pid
    assert httpx.get(address + "/health", timeout=5).json()["status"] == "UP"


def test_sigint_stops_services_then_the_broker_within_5_s(
    supervised: list[Supervised], tmp_path: Path
) -> None:
    record = tmp_path / "a.jsonl"
    sup = start(supervised, tmp_path, {"a": ["--record", str(record)], "b": []})
    sup.wait_lines("a", 1)
    sup.wait_lines("b", 1)
    children = children_of(sup.proc.pid)
    assert len(children) == 3
    assert sup.stop(signal.SIGINT) <= STOP_BUDGET_S
    assert sup.proc.returncode == 0
    assert not any(alive(pid) for pid in children)
    events = [json.loads(line) for line in record.read_text().splitlines()]
    assert events[-1]["event"] == "stopping"
    assert events[-1]["broker_alive"] is True  # services stop while the broker still serves
    assert (tmp_path / "broker" / ".kafka_cleanshutdown").exists()  # the broker stopped cleanly


def test_sigterm_kills_a_service_that_ignores_it_within_5_s(
    supervised: list[Supervised], tmp_path: Path
) -> None:
    sup = start(supervised, tmp_path, {"stubborn": ["--ignore-term"]})
    sup.wait_lines("stubborn", 1)
    children = children_of(sup.proc.pid)
    assert sup.stop(signal.SIGTERM) <= STOP_BUDGET_S
    assert not any(alive(pid) for pid in children)
    assert (tmp_path / "broker" / ".kafka_cleanshutdown").exists()


def test_the_broker_survives_crashing_services(supervised: list[Supervised], tmp_path: Path) -> None:
    sup = start(supervised, tmp_path, {"crashy": ["--crash-after", "0.2"], "failing": ["--fail-start"]})
    broker_pid = sup.pid_of("broker")
    bootstrap = sup.address("broker")
    topic = "supervised"
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(100):
        producer.produce(topic, value=b"%d" % i)
    assert producer.flush(15) == 0
    sup.wait_lines("crashy", 3, timeout=20)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got = 0
    deadline = time.monotonic() + 20
    while got < 100 and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got += 1
    consumer.close()
    assert got == 100
    assert sup.pid_of("broker") == broker_pid
    assert not [line for line in sup.lines if line[1] == "failing"]
    log = "\n".join(sup.stderr)
    assert "failing exited with code 2; restarting it in 0.5 s" in log
    assert "failing exited with code 2; restarting it in 1.0 s" in log
    assert sup.stop() <= STOP_BUDGET_S


def test_a_killed_broker_comes_back_on_its_port(supervised: list[Supervised], tmp_path: Path) -> None:
    sup = start(supervised, tmp_path, {"a": []})
    bootstrap = sup.address("broker")
    service = sup.pid_of("a")
    os.kill(sup.pid_of("broker"), signal.SIGKILL)
    assert sup.wait_lines("broker", 2)[-1][2] == bootstrap
    assert sup.pid_of("a") == service  # services are Kafka clients: they reconnect, never restart
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce("after-crash", b"x")
    assert producer.flush(15) == 0


def test_a_killed_supervisor_leaves_no_orphans(supervised: list[Supervised], tmp_path: Path) -> None:
    sup = start(supervised, tmp_path, {"a": []})
    sup.wait_lines("a", 1)
    children = children_of(sup.proc.pid)
    sup.proc.kill()
    sup.proc.wait()
    deadline = time.monotonic() + STOP_BUDGET_S
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in children)


def test_odradek_dev_prints_a_line_per_process_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    sup = Supervised(
        [
            sys.executable, "-m", "odradek", "--log-level", "WARNING", "dev",
            "--listeners", "PLAINTEXT://127.0.0.1:0", "--metrics-port", "0",
            "--log-dirs", str(tmp_path / "data"), "--port", "registry=0",
            # every other service stays out: none may take its well-known port in a test run
            *(arg for spec in DEV_SERVICES if spec.name != "registry" for arg in ("--without", spec.name)),
        ]
    )  # fmt: skip
    try:
        line = sup.wait_lines("broker", 1)[0]
        assert line[3].startswith("Kafka protocol  metrics http://127.0.0.1:")
        metrics = line[3].rsplit(" ", 1)[1]
        assert "odradek_requests_total" in httpx.get(metrics, timeout=5).text
        registry = sup.wait_lines("registry", 1)[0]
        assert registry[3] == "schema registry"
        assert httpx.get(registry[2] + "/subjects", timeout=10).json() == []
        assert sup.stop(signal.SIGINT) <= STOP_BUDGET_S
        assert sup.proc.returncode == 0
    finally:
        sup.kill_all()


def test_odradek_dev_refuses_unknown_services() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "odradek", "dev", "--without", "nonsense"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "unknown service" in result.stderr
