"""FileStream source → topic → FileStream sink through a standalone worker on a real broker."""

from __future__ import annotations

import json
from pathlib import Path

from connect_helpers import read_topic, wait_for


def test_file_pipeline_standalone(standalone, bootstrap: str, topic_name: str, tmp_path: Path) -> None:
    source_file = tmp_path / "in.txt"
    sink_file = tmp_path / "out.txt"
    source_file.write_text("".join(f"line-{i}\n" for i in range(100)))
    herder = standalone()
    herder.put_connector_config(
        "src",
        {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "file": str(source_file),
            "topic": topic_name,
        },
        allow_replace=False,
    )
    herder.put_connector_config(
        "snk",
        {
            "connector.class": "FileStreamSink",
            "file": str(sink_file),
            "topics": topic_name,
        },
        allow_replace=False,
    )
    wait_for(
        lambda: sink_file.exists() and len(sink_file.read_text().splitlines()) >= 100, what="sink output"
    )
    assert sink_file.read_text().splitlines() == [f"line-{i}" for i in range(100)]
    with source_file.open("a") as f:
        f.write("late\n")
    wait_for(lambda: sink_file.read_text().splitlines()[-1:] == ["late"], what="appended line")
    status = herder.connector_status("src")
    assert status["connector"]["state"] == "RUNNING" and status["tasks"][0]["state"] == "RUNNING"
    wait_for(
        lambda: (tmp_path / "offsets.json").exists() and json.loads((tmp_path / "offsets.json").read_text()),
        what="offsets file",
    )
    stored = json.loads((tmp_path / "offsets.json").read_text())
    assert stored == {
        json.dumps(["src", {"filename": str(source_file)}], separators=(",", ":")): {
            "position": source_file.stat().st_size
        }
    }
    assert len(read_topic(bootstrap, topic_name, 101)) == 101


def test_source_creates_its_topic_with_the_matching_group_kip_158(
    standalone, bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    source_file = tmp_path / "in.txt"
    source_file.write_bytes(b"plain\r\ncaf\xc3\xa9\nnot utf-8 \xff\n")
    herder = standalone()
    base = {"connector.class": "FileStreamSource", "file": str(source_file), "topic": topic_name}
    invalid = herder.validate({**base, "name": "src", "topic.creation.default.partitions": "3"})
    assert invalid["error_count"] == 1  # the default group's replication factor is required
    herder.put_connector_config(
        "src",
        {
            **base,
            "topic.creation.default.replication.factor": "-1",
            "topic.creation.default.partitions": "1",
            "topic.creation.groups": "short",
            "topic.creation.short.include": f"{topic_name}.*",
            "topic.creation.short.partitions": "3",
            "topic.creation.short.retention.ms": "3600000",
        },
        allow_replace=False,
    )
    admin = AdminClient({"bootstrap.servers": bootstrap})
    records = read_topic(bootstrap, topic_name, 3)
    # a chunk that is not all UTF-8 takes the per-record path: replaced characters, same lines
    assert sorted(r.value() for r in records) == sorted(
        [b"plain", "café".encode(), "not utf-8 \ufffd".encode()]
    )
    topic = admin.list_topics(timeout=10).topics[topic_name]
    assert len(topic.partitions) == 3
    resource = ConfigResource("topic", topic_name)
    configs = admin.describe_configs([resource])[resource].result(10)
    assert configs["retention.ms"].value == "3600000"
