"""KIP-618: a source connector with its own `offsets.storage.topic` (distributed worker) keeps its
offsets there, copies them to the worker's topic, and the offsets REST API reads them back; with
exactly-once sources the offsets go to its topic inside the task's transactions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from connect_helpers import read_all, tasks_stopped, wait_for

from odradek.connect.runtime.config_records import TargetState
from odradek.connect.runtime.herder import HerderOffsets


def offsets_in(bootstrap: str, topic: str, key: bytes) -> list[dict]:
    committed = {"isolation.level": "read_committed"}
    return [json.loads(m.value()) for m in read_all(bootstrap, topic, **committed) if m.key() == key]


@pytest.mark.parametrize("eos", ["disabled", "enabled"])
def test_a_connector_with_its_own_offsets_topic(
    distributed, bootstrap: str, topic_name: str, tmp_path: Path, eos: str
) -> None:
    herder = distributed(**{"exactly.once.source.support": eos})
    source = tmp_path / "in.txt"
    source.write_text("a\nbb\n")
    own = f"{topic_name}-offsets"
    herder.put_connector_config(
        "src",
        {
            "connector.class": "FileStreamSource",
            "file": str(source),
            "topic": topic_name,
            "offsets.storage.topic": own,
        },
        allow_replace=False,
    )
    key = json.dumps(["src", {"filename": str(source)}], separators=(",", ":")).encode()
    wait_for(
        lambda: {"position": 5} in offsets_in(bootstrap, own, key), what="the offset in the connector's topic"
    )
    worker_topic = herder.s.offsets_topic
    assert worker_topic and worker_topic != own
    wait_for(
        lambda: {"position": 5} in offsets_in(bootstrap, worker_topic, key),
        what="a copy in the worker's topic",
    )
    herder.set_target_state("src", TargetState.STOPPED)
    wait_for(lambda: tasks_stopped(herder, "src"), what="stopped")
    assert HerderOffsets(herder).get("src")["offsets"] == [
        {"partition": {"filename": str(source)}, "offset": {"position": 5}}
    ]
