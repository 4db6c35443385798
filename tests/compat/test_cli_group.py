"""`odradek group ...` against a real broker: lag after commits, reset-offsets plans and their execution."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from confluent_kafka import Consumer

pytestmark = pytest.mark.compat

# Accepted by every Kafka-compatible broker and quick to settle: the range assignor is the one all
# brokers know; a short session lets a group come back to Empty soon after a test's consumer left.
GROUP_FLAGS = ("-X", "partition.assignment.strategy=range", "-X", "session.timeout.ms=6000")
ONE_PER_BATCH = ("-X", "batch.num.messages=1")


def prepare(run_cli: Any, topic: str, records: int) -> None:
    assert run_cli("topic", "create", topic, "--partitions", "1").code == 0
    stdin = b"".join(b"%d\n" % i for i in range(records))
    assert run_cli("produce", topic, *ONE_PER_BATCH, stdin=stdin).code == 0


def describe(run_cli: Any, group: str) -> dict[str, Any]:
    result = run_cli("group", "describe", group, "--output", "json")
    assert result.code == 0, result.err
    doc: dict[str, Any] = json.loads(result.out)["groups"][0]
    return doc


def offsets(run_cli: Any, group: str) -> list[tuple[int, int | None, int | None, int | None]]:
    return [
        (o["partition"], o["current_offset"], o["log_end_offset"], o["lag"])
        for o in describe(run_cli, group)["offsets"]
    ]


def consume_and_commit(run_cli: Any, topic: str, group: str, count: int) -> bytes:
    result = run_cli(
        "consume", topic, "--group", group, "--from-beginning", "--count", str(count), *GROUP_FLAGS
    )
    assert result.code == 0, result.err
    out: bytes = result.out
    return out


def test_describe_shows_lag_after_a_commit(run_cli: Any, topic_name: str) -> None:
    group = f"g-{topic_name}"
    prepare(run_cli, topic_name, 10)
    assert consume_and_commit(run_cli, topic_name, group, 4) == b"0\n1\n2\n3\n"

    doc = describe(run_cli, group)
    assert (doc["group"], doc["state"], doc["members"], doc["total_lag"]) == (group, "Empty", [], 6)
    assert offsets(run_cli, group) == [(0, 4, 10, 6)]
    text = run_cli("group", "describe", group).out.decode().splitlines()
    assert text[0].startswith(f"GROUP: {group}  STATE: Empty  ")
    assert text[2].split() == [
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]
    assert text[3].split() == [topic_name, "0", "4", "10", "6", "-", "-", "-"]
    assert group in run_cli("group", "list").out.decode().split()
    listed = json.loads(run_cli("group", "list", "--output", "json").out)["groups"]
    assert [g["group"] for g in listed if g["group"] == group] == [group]

    # A second consumer in the same group resumes after the commit.
    assert consume_and_commit(run_cli, topic_name, group, 2) == b"4\n5\n"
    assert offsets(run_cli, group) == [(0, 6, 10, 4)]


def test_reset_offsets_plans_then_executes(run_cli: Any, topic_name: str) -> None:
    group = f"g-{topic_name}"
    prepare(run_cli, topic_name, 10)
    consume_and_commit(run_cli, topic_name, group, 6)

    plan = run_cli("group", "reset-offsets", "--group", group, "--topic", topic_name, "--to-earliest")
    assert plan.code == 0, plan.err
    assert plan.out.decode().splitlines()[1].split() == [group, topic_name, "0", "6", "0"]
    assert plan.err == "Dry run: nothing changed (add --execute to apply).\n"
    assert offsets(run_cli, group) == [(0, 6, 10, 4)]

    def reset(*how: str) -> dict[str, Any]:
        result = run_cli(
            "group", "reset-offsets", "--group", group, "--all-topics", *how, "--execute", "--output", "json"
        )
        assert result.code == 0, result.err
        doc: dict[str, Any] = json.loads(result.out)
        return doc

    assert reset("--shift-by", "-2") == {
        "group": group,
        "executed": True,
        "partitions": [{"topic": topic_name, "partition": 0, "current_offset": 6, "new_offset": 4}],
    }
    assert offsets(run_cli, group) == [(0, 4, 10, 6)]
    assert reset("--shift-by", "-100")["partitions"][0]["new_offset"] == 0  # clamped to the log start
    assert reset("--to-offset", "99")["partitions"][0]["new_offset"] == 10  # clamped to the log end
    assert reset("--to-datetime", "2000-01-01T00:00:00Z")["partitions"][0]["new_offset"] == 0
    assert reset("--to-offset", "7")["partitions"][0]["new_offset"] == 7
    assert offsets(run_cli, group) == [(0, 7, 10, 3)]
    # The group's next consumer starts at the new offset.
    assert consume_and_commit(run_cli, topic_name, group, 1) == b"7\n"


@pytest.mark.beyond_tansu  # Tansu answers ListOffsets for a future timestamp with offset 0
def test_reset_to_a_future_datetime_goes_to_the_log_end(run_cli: Any, topic_name: str) -> None:
    group = f"g-{topic_name}"
    prepare(run_cli, topic_name, 5)
    consume_and_commit(run_cli, topic_name, group, 1)
    result = run_cli(
        "group", "reset-offsets", "--group", group, "--all-topics", "--to-datetime", "2999-01-01T00:00:00Z",
        "--output", "json",
    )  # fmt: skip
    assert json.loads(result.out)["partitions"][0]["new_offset"] == 5


@contextmanager
def live_member(bootstrap: str, group: str, topic: str, **config: Any) -> Iterator[Consumer]:
    """A consumer that has joined `group` (and been assigned `topic`'s partitions) until the block ends."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "partition.assignment.strategy": "range",
            "session.timeout.ms": 6000,
            **config,
        }
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(0.2)
        assert consumer.assignment(), "the consumer never joined"
        yield consumer
    finally:
        consumer.close()


def test_reset_refuses_a_group_with_live_members(run_cli: Any, bootstrap: str, topic_name: str) -> None:
    group = f"g-{topic_name}"
    prepare(run_cli, topic_name, 3)
    with live_member(bootstrap, group, topic_name):
        refused = run_cli(
            "group", "reset-offsets", "--group", group, "--topic", topic_name, "--to-earliest", "--execute"
        )
        assert refused.code == 1
        assert refused.err == (
            f"odradek: error: offsets of group '{group}' can only be reset while it is inactive "
            "(Empty or Dead), but its state is Stable: stop its consumers first\n"
        )
    assert offsets(run_cli, group) == []


@pytest.mark.beyond_tansu  # Tansu deletes groups that still have members
def test_delete_refuses_a_group_with_live_members(run_cli: Any, bootstrap: str, topic_name: str) -> None:
    group = f"g-{topic_name}"
    prepare(run_cli, topic_name, 1)
    with live_member(bootstrap, group, topic_name):
        refused = run_cli("group", "delete", group)
        assert refused.code == 1
        assert refused.err.startswith(f"odradek: error: group {group}: NON_EMPTY_GROUP: ")


@pytest.mark.beyond_tansu  # Tansu's DescribeGroups lists no members
def test_describe_shows_members_and_assignments(run_cli: Any, bootstrap: str, topic_name: str) -> None:
    group = f"g-{topic_name}"
    prepare(run_cli, topic_name, 3)
    with live_member(bootstrap, group, topic_name, **{"client.id": "lag-test"}):
        doc = describe(run_cli, group)
        assert (doc["state"], doc["protocol"]) == ("Stable", "range")
        [member] = doc["members"]
        assert member["client_id"] == "lag-test"
        assert member["assignment"] == [{"topic": topic_name, "partition": 0}]
        assert [
            (o["partition"], o["current_offset"], o["log_end_offset"], o["client_id"]) for o in doc["offsets"]
        ] == [(0, None, 3, "lag-test")]


def test_delete_an_empty_group(run_cli: Any, topic_name: str) -> None:
    group = f"g-{topic_name}"
    prepare(run_cli, topic_name, 2)
    consume_and_commit(run_cli, topic_name, group, 1)
    deleted = run_cli("group", "delete", group)
    assert (deleted.code, deleted.out) == (0, f"Deleted group {group}.\n".encode())
    assert offsets(run_cli, group) == []
