"""`odradek topic ...` against a real broker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from odradek.cli.main import main

pytestmark = pytest.mark.compat


def describe(run_cli: Any, topic: str) -> dict[str, object]:
    result = run_cli("topic", "describe", topic, "--output", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert len(doc["topics"]) == 1
    topic_doc: dict[str, object] = doc["topics"][0]
    return topic_doc


def test_create_list_describe_delete(run_cli: Any, topic_name: str) -> None:
    created = run_cli("topic", "create", topic_name, "--partitions", "3", "--replication-factor", "1")
    assert (created.code, created.out) == (0, f"Created topic {topic_name}.\n".encode())

    again = run_cli("topic", "create", topic_name, "--partitions", "3")
    assert again.code == 1
    assert again.err.startswith(f"odradek: error: topic {topic_name}: TOPIC_ALREADY_EXISTS: ")
    assert again.err.count("\n") == 1
    assert run_cli("topic", "create", topic_name, "--if-not-exists").code == 0

    listed = run_cli("topic", "list")
    assert topic_name in listed.out.decode().splitlines()
    listed_json = json.loads(run_cli("topic", "list", "--output", "json").out)
    assert {"name": topic_name, "partitions": 3, "internal": False} in listed_json["topics"]

    doc = describe(run_cli, topic_name)
    assert (doc["name"], doc["partition_count"], doc["replication_factor"], doc["internal"]) == (
        topic_name, 3, 1, False,
    )  # fmt: skip
    partitions = doc["partitions"]
    assert isinstance(partitions, list)
    assert [p["partition"] for p in partitions] == [0, 1, 2]
    for p in partitions:
        assert p["leader"] is not None and p["replicas"] == [p["leader"]] and p["isr"] == [p["leader"]]
        assert (p["log_start_offset"], p["log_end_offset"]) == (0, 0)

    text = run_cli("topic", "describe", topic_name).out.decode().splitlines()
    assert text[0].startswith(f"Topic: {topic_name}\tTopicId: ")
    assert "\tPartitionCount: 3\tReplicationFactor: 1\t" in text[0]
    assert len(text) == 4 and text[1].startswith(f"\tTopic: {topic_name}\tPartition: 0\tLeader: ")

    deleted = run_cli("topic", "delete", topic_name)
    assert (deleted.code, deleted.out) == (0, f"Deleted topic {topic_name}.\n".encode())
    gone = run_cli("topic", "describe", topic_name)
    assert gone.code == 1 and "UNKNOWN_TOPIC_OR_PART" in gone.err
    assert run_cli("topic", "delete", topic_name, "--if-exists").code == 0
    missing = run_cli("topic", "delete", topic_name)
    assert missing.code == 1 and f"topic {topic_name}: UNKNOWN_TOPIC_OR_PART" in missing.err


def test_describe_reports_log_offsets(run_cli: Any, topic_name: str) -> None:
    assert run_cli("topic", "create", topic_name, "--partitions", "1").code == 0
    # One record per batch: the test is about the CLI, not about a broker's ListOffsets on big batches.
    produced = run_cli("produce", topic_name, "-X", "batch.num.messages=1", stdin=b"a\nb\nc\n")
    assert produced.code == 0, produced.err
    partitions = describe(run_cli, topic_name)["partitions"]
    assert isinstance(partitions, list)
    assert (partitions[0]["log_start_offset"], partitions[0]["log_end_offset"]) == (0, 3)


@pytest.mark.beyond_tansu
def test_configs_alter_and_show(run_cli: Any, topic_name: str) -> None:
    created = run_cli(
        "topic", "create", topic_name, "--partitions", "1", "--config", "cleanup.policy=compact"
    )
    assert created.code == 0, created.err
    # Exact keys are not asserted: a broker's static settings (server.properties) also show.
    configs = describe(run_cli, topic_name)["configs"]
    assert isinstance(configs, dict)
    assert (configs.get("cleanup.policy"), configs.get("retention.ms")) == ("compact", None)

    altered = run_cli(
        "topic", "alter-config", topic_name, "--set", "retention.ms=123456", "--delete", "cleanup.policy"
    )
    assert altered.code == 0, altered.err
    changes = "set retention.ms=123456, deleted cleanup.policy"
    assert altered.out == f"Altered configs of topic {topic_name}: {changes}.\n".encode()
    configs = describe(run_cli, topic_name)["configs"]
    assert isinstance(configs, dict)
    assert (configs.get("cleanup.policy"), configs.get("retention.ms")) == (None, "123456")

    bad = run_cli("topic", "alter-config", topic_name, "--set", "retention.ms=soon")
    assert bad.code == 1 and "INVALID_CONFIG" in bad.err


@pytest.mark.beyond_tansu
def test_add_partitions(run_cli: Any, topic_name: str) -> None:
    assert run_cli("topic", "create", topic_name, "--partitions", "1").code == 0
    grown = run_cli("topic", "add-partitions", topic_name, "--total", "4")
    assert (grown.code, grown.out) == (0, f"Topic {topic_name} now has 4 partitions.\n".encode())
    assert describe(run_cli, topic_name)["partition_count"] == 4
    shrink = run_cli("topic", "add-partitions", topic_name, "--total", "2")
    assert shrink.code == 1 and "INVALID_PARTITIONS" in shrink.err


@pytest.mark.beyond_tansu
def test_validate_only_creates_nothing(run_cli: Any, topic_name: str) -> None:
    checked = run_cli("topic", "create", topic_name, "--partitions", "2", "--validate-only")
    assert (checked.code, checked.out) == (
        0,
        f"Topic {topic_name} can be created (validate only).\n".encode(),
    )
    assert topic_name not in run_cli("topic", "list").out.decode().splitlines()


def test_unreachable_cluster_fails_fast_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topic", "list", "-b", "127.0.0.1:1", "--timeout", "20"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("odradek: error: _ALL_BROKERS_DOWN: cannot reach 127.0.0.1:1 (last error: ")
    assert err.count("\n") == 1
