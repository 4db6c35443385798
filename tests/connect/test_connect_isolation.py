"""Adding, pausing or breaking one connector never restarts another; a task that kills its own
process fails alone and is restarted (standalone worker, real broker)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from connect_helpers import wait_for

from odradek.connect.api.connector import SourceConnector, SourceTask, Task
from odradek.connect.api.records import SourceRecord
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


class CrashingSource(SourceConnector):
    """Its task kills its own interpreter (as a crashing C extension would) on the first poll."""

    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[Task]:
        return CrashingTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        return None


class CrashingTask(SourceTask):
    def start(self, props: Mapping[str, str]) -> None:
        return None

    def poll(self) -> list[SourceRecord]:
        os._exit(3)

    def stop(self) -> None:
        return None


def test_a_task_that_kills_its_process_fails_alone_and_restarts(
    standalone, topic_name: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.txt"
    source.write_text("a\n")
    herder = standalone()
    herder.put_connector_config(
        "steady",
        {"connector.class": "FileStreamSource", "file": str(source), "topic": topic_name},
        allow_replace=False,
    )
    herder.put_connector_config(
        "crash",
        {
            "connector.class": f"{__name__}.CrashingSource",
            "odradek.restart.backoff.initial.ms": "200",
            "odradek.restart.backoff.max.ms": "400",
        },
        allow_replace=False,
    )
    steady = ConnectorTaskId("steady", 0)
    wait_for(
        lambda: (t := herder.connector_status("steady")["tasks"]) and t[0]["state"] == "RUNNING",
        what="steady running",
    )
    runner = herder.tasks[steady]
    status = wait_for(
        lambda: (
            (t := herder.connector_status("crash")["tasks"])
            and t[0].get("odradek.restart.attempts", 0) >= 2
            and t[0]
        ),
        what="crashing task failed and restarted",
    )
    assert "exited with code 3" in status["trace"]
    assert herder.tasks[steady] is runner and runner.alive  # the worker and its other tasks are untouched
