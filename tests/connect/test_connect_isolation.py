"""Adding, pausing or breaking one connector never restarts another (standalone worker, real broker)."""

from __future__ import annotations

from pathlib import Path

from connect_helpers import wait_for

from odradek.connect.runtime.config_records import TargetState
from odradek.connect.runtime.task_runner import ConnectorTaskId


def test_a_new_or_failing_connector_leaves_the_others_running(
    standalone, topic_name: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.txt"
    source.write_text("a\n")
    herder = standalone()
    herder.put_connector_config(
        "first",
        {"connector.class": "FileStreamSource", "file": str(source), "topic": topic_name},
        allow_replace=False,
    )
    first = ConnectorTaskId("first", 0)
    wait_for(
        lambda: first in herder.tasks and herder.connector_status("first")["tasks"][0]["state"] == "RUNNING",
        what="first running",
    )
    runner = herder.tasks[first]
    herder.put_connector_config(
        "second",
        {"connector.class": "FileStreamSource", "file": str(source), "topic": topic_name + "-2"},
        allow_replace=False,
    )
    herder.put_connector_config(
        "broken",
        {
            "connector.class": "FileStreamSink",
            "topics": topic_name,
            "file": str(tmp_path / "no-such-dir" / "out.txt"),
        },
        allow_replace=False,
    )
    wait_for(
        lambda: (
            herder.connector_status("second")["tasks"]
            and herder.connector_status("second")["tasks"][0]["state"] == "RUNNING"
        ),
        what="second running",
    )
    wait_for(
        lambda: (
            herder.connector_status("broken")["tasks"]
            and herder.connector_status("broken")["tasks"][0]["state"] == "FAILED"
        ),
        what="broken failed",
    )
    herder.set_target_state("second", TargetState.PAUSED)
    wait_for(
        lambda: herder.connector_status("second")["connector"]["state"] == "PAUSED", what="second paused"
    )
    assert herder.tasks[first] is runner and runner.alive  # never restarted
