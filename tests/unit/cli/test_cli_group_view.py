from __future__ import annotations

import pytest

from odradek.cli.group_view import (
    Coordinator,
    GroupListing,
    GroupView,
    MemberView,
    PartitionLag,
    describe_doc,
    lag_table,
    list_doc,
    parse_state,
    render_describe_text,
    render_list_text,
)
from odradek.model.topic_partition import TopicPartition as TP

MEMBER = MemberView("m-1", None, "cli-1", "/127.0.0.1", (TP("t", 0), TP("t", 1)))


def test_lag_is_log_end_minus_committed_over_committed_and_assigned_partitions() -> None:
    committed = {TP("t", 0): 40, TP("u", 0): 9, TP("v", 0): 12}
    ends = {TP("t", 0): 42, TP("t", 1): 7, TP("u", 0): 9, TP("v", 0): 10}
    assert lag_table(committed, ends, [MEMBER]) == (
        PartitionLag(TP("t", 0), 40, 42, 2, MEMBER),
        PartitionLag(TP("t", 1), None, 7, None, MEMBER),
        PartitionLag(TP("u", 0), 9, 9, 0, None),
        PartitionLag(TP("v", 0), 12, 10, -2, None),  # not clamped, as kafka-consumer-groups.sh
    )


def test_unknown_log_end_gives_unknown_lag() -> None:
    assert lag_table({TP("t", 0): 1}, {}, []) == (PartitionLag(TP("t", 0), 1, None, None, None),)


def test_parse_state() -> None:
    assert parse_state("stable") == "STABLE"
    assert parse_state("PreparingRebalance") == "PREPARING_REBALANCING"
    assert parse_state("EMPTY") == "EMPTY"
    with pytest.raises(ValueError, match="unknown group state 'sleepy'"):
        parse_state("sleepy")


def view() -> GroupView:
    offsets = lag_table({TP("t", 0): 40}, {TP("t", 0): 42, TP("t", 1): 7}, [MEMBER])
    return GroupView(
        "billing", "Stable", "classic", "range", Coordinator(1, "127.0.0.1", 9092), (MEMBER,), offsets
    )


def test_describe_text() -> None:
    assert render_describe_text([view()]) == (
        "GROUP: billing  STATE: Stable  TYPE: classic  PROTOCOL: range  COORDINATOR: 1 (127.0.0.1:9092)"
        "  MEMBERS: 1  TOTAL-LAG: 2\n"
        "\n"
        "TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST        CLIENT-ID\n"
        "t      0          40              42              2    m-1          /127.0.0.1  cli-1\n"
        "t      1          -               7               -    m-1          /127.0.0.1  cli-1\n"
        "\n"
        "MEMBER-ID  GROUP-INSTANCE-ID  CLIENT-ID  HOST        ASSIGNMENT\n"
        "m-1        -                  cli-1      /127.0.0.1  t-0,t-1\n"
    )


def test_describe_json() -> None:
    doc = describe_doc([view()])
    group = doc["groups"][0]  # type: ignore[index]
    assert group["total_lag"] == 2
    assert group["coordinator"] == {"id": 1, "host": "127.0.0.1", "port": 9092}
    assert group["members"] == [
        {
            "member_id": "m-1",
            "group_instance_id": None,
            "client_id": "cli-1",
            "host": "/127.0.0.1",
            "assignment": [{"topic": "t", "partition": 0}, {"topic": "t", "partition": 1}],
        }
    ]
    assert group["offsets"][1] == {
        "topic": "t",
        "partition": 1,
        "current_offset": None,
        "log_end_offset": 7,
        "lag": None,
        "member_id": "m-1",
        "client_id": "cli-1",
        "host": "/127.0.0.1",
    }


def test_list_renderings() -> None:
    groups = [
        GroupListing("a", "Empty", "classic", False),
        GroupListing("long-name", "Stable", "consumer", False),
    ]
    assert render_list_text(groups) == (
        "GROUP      STATE   TYPE\na          Empty   classic\nlong-name  Stable  consumer\n"
    )
    assert list_doc(groups[:1]) == {
        "groups": [{"group": "a", "state": "Empty", "type": "classic", "simple": False}]
    }
