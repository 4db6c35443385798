"""`odradek dev` supervises one Connect worker; the README's curl recipes run against it."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from connect_helpers import wait_for

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "supervisor"))
from supervised import Supervised

README = Path(__file__).parents[2] / "README.md"


def readme_recipes() -> list[str]:
    """The shell commands of the README's Connect curl recipes (between the connect-recipes markers)."""
    text = README.read_text()
    block = text.split("<!-- connect-recipes:begin -->", 1)[1].split("<!-- connect-recipes:end -->", 1)[0]
    commands: list[str] = []
    for code in re.findall(r"```sh\n(.*?)```", block, re.S):
        current = ""
        for line in code.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
            if not line.endswith("\\"):
                commands.append(current.strip())
                current = ""
    return commands


def test_odradek_dev_runs_connect_and_the_readme_recipes_work(tmp_path: Path) -> None:
    sup = Supervised([
        sys.executable, "-m", "odradek", "--log-level", "WARNING", "dev",
        "--listeners", "PLAINTEXT://127.0.0.1:0", "--metrics-port", "0",
        "--override", "group.initial.rebalance.delay.ms=0",  # groups (sinks, workers) form at once
        "--log-dirs", str(tmp_path / "data"), "--port", "connect=0", "--port", "registry=0",
        "--without", "rest", "--without", "sql",
    ])  # fmt: skip
    assert shutil.which("curl"), "curl is missing: `make test` installs it"
    try:
        # generous waits: the whole dev stack starts here, on a CI machine that may be busy
        assert sup.wait_lines("connect", 1, timeout=120)[0][3] == "Kafka Connect"
        url = sup.address("connect")
        wait_for(
            lambda: httpx.get(url + "/health", timeout=5).status_code == 200,
            timeout=120,
            what="connect healthy",
        )
        assert httpx.get(url + "/", timeout=5).json()["kafka_cluster_id"]
        (tmp_path / "input.txt").write_text("hello\nworld\n")
        for recipe in readme_recipes():
            command = recipe.replace("http://localhost:8083", url).replace(
                "/tmp/input.txt", str(tmp_path / "input.txt")
            )
            command = command.replace("/tmp/output.txt", str(tmp_path / "output.txt"))
            result = subprocess.run(
                shlex.split(command), capture_output=True, text=True, timeout=60, check=False
            )
            assert result.returncode == 0, f"{command}: {result.stderr}"
            if "output.txt" in command and "POST" in command:
                wait_for(
                    lambda: (
                        (tmp_path / "output.txt").exists()
                        and (tmp_path / "output.txt").read_text() == "hello\nworld\n"
                    ),
                    timeout=120,
                    what="sink output",
                )
        # Avro through the registry odradek dev runs: source → topic (Avro) → sink
        registry = sup.wait_lines("registry", 1, timeout=120)[-1][2]
        (tmp_path / "avro-in.txt").write_text("one\ntwo\n")
        avro = {
            "value.converter": "io.confluent.connect.avro.AvroConverter",
            "value.converter.schema.registry.url": registry,  # a port-0 registry: not known when connect starts
        }
        for name, config in (
            (
                "avro-in",
                {
                    "connector.class": "FileStreamSource",
                    "file": str(tmp_path / "avro-in.txt"),
                    "topic": "avro-lines",
                    **avro,
                },
            ),
            (
                "avro-out",
                {
                    "connector.class": "FileStreamSink",
                    "file": str(tmp_path / "avro-out.txt"),
                    "topics": "avro-lines",
                    **avro,
                },
            ),
        ):
            answer = httpx.post(url + "/connectors", json={"name": name, "config": config}, timeout=30)
            assert answer.status_code == 201, answer.text
        wait_for(
            lambda: (
                (tmp_path / "avro-out.txt").exists()
                and (tmp_path / "avro-out.txt").read_text() == "one\ntwo\n"
            ),
            timeout=120,
            what="Avro round trip",
        )
        assert "avro-lines-value" in httpx.get(registry + "/subjects", timeout=10).json()
        sup.stop(signal.SIGINT, timeout=60)  # raises if the stack is not gone in time
    finally:
        sup.kill_all()
