"""`odradek connect standalone worker.properties connector files…` as a real process: connectors
from a properties file and a JSON file run; after a restart the worker runs its files' connectors
again and resumes from its offsets file (no line copied twice), while a connector created over
REST is gone (Kafka's standalone keeps REST-made configs in memory); bad connector files are
refused with a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
from connect_helpers import wait_for

from odradek.testing.connect_worker import ConnectWorkerProcess


def test_standalone_runs_its_files_and_resumes_after_a_restart(
    bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join(f"line-{i}\n" for i in range(50)))
    worker = tmp_path / "worker.properties"
    worker.write_text(
        f"offset.storage.file.filename={tmp_path / 'offsets.json'}\noffset.flush.interval.ms=200\n"
        "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
        "value.converter=org.apache.kafka.connect.storage.StringConverter\n"
    )
    source_props = tmp_path / "source.properties"
    source_props.write_text(
        f"name=file-source\nconnector.class=FileStreamSource\nfile={source}\ntopic={topic_name}\n"
    )
    sink_json = tmp_path / "sink.json"
    sink_json.write_text(
        json.dumps(
            {
                "name": "file-sink",
                "config": {"connector.class": "FileStreamSink", "file": str(sink), "topics": topic_name},
            }
        )
    )
    files = [worker, source_props, sink_json]

    def lines() -> list[str]:
        return sink.read_text().splitlines() if sink.exists() else []

    first = ConnectWorkerProcess(bootstrap, standalone=files).start()
    try:
        wait_for(lambda: len(lines()) >= 50, timeout=60, what="the first 50 lines")
        created = httpx.post(
            f"{first.url}/connectors",
            json={
                "name": "rest-made",
                "config": {"connector.class": "VerifiableSource", "topic": f"{topic_name}-v"},
            },
            timeout=10,
        )
        assert created.status_code == 201
        offsets = tmp_path / "offsets.json"
        wait_for(lambda: offsets.exists() and "file-source" in offsets.read_text(), what="offsets file")
        httpx.delete(f"{first.url}/connectors/rest-made", timeout=10)
    finally:
        assert first.stop() == 0
    with source.open("a") as f:
        f.write("after-restart\n")
    second = ConnectWorkerProcess(bootstrap, standalone=files).start()
    try:
        wait_for(lambda: lines()[-1:] == ["after-restart"], timeout=60, what="the line written while down")
        assert sorted(httpx.get(f"{second.url}/connectors", timeout=10).json()) == [
            "file-sink",
            "file-source",
        ]
    finally:
        second.stop()
    assert lines() == [f"line-{i}" for i in range(50)] + ["after-restart"]


def test_bad_connector_files_are_refused(bootstrap: str, tmp_path: Path) -> None:
    worker = tmp_path / "worker.properties"
    worker.write_text(f"offset.storage.file.filename={tmp_path / 'offsets.json'}\n")
    nameless = tmp_path / "nameless.properties"
    nameless.write_text("connector.class=FileStreamSource\n")
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x", ')
    for bad, message in (
        (nameless, "needs 'name'"),
        (broken, "not valid JSON"),
        (tmp_path / "nope", "cannot read"),
    ):
        run = subprocess.run(
            [sys.executable, "-m", "odradek", "connect", "standalone", str(worker), str(bad), "--bootstrap", bootstrap,
             "--listen", "127.0.0.1:0"],
            check=False, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode != 0 and message in run.stderr, run.stderr
