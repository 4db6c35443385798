"""`odradek partitions reassign`'s pure parts: Kafka's JSON file, the throttle configs, the messages."""

from __future__ import annotations

import json

import pytest

from odradek.cli.errors import CliError
from odradek.cli.reassign_plan import (
    Move,
    brokers_taking_part,
    current_plan,
    parse_plan,
    render_list,
    render_verify,
    throttled_replicas,
)


def test_kafkas_file_is_read() -> None:
    text = json.dumps(
        {
            "version": 1,
            "partitions": [
                {"topic": "a", "partition": 0, "replicas": [2, 3], "log_dirs": ["any", "any"]},
                {"topic": "a", "partition": 1, "replicas": [3]},
            ],
        }
    )
    assert parse_plan(text) == [Move("a", 0, (2, 3)), Move("a", 1, (3,))]


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        ("nope", "not JSON"),
        ('{"version": 1}', "partitions"),
        ('{"version": 2, "partitions": []}', "version"),
        ('{"partitions": [{"topic": "a", "partition": 0}]}', "topic, partition and replicas"),
        ('{"partitions": [{"topic": "a", "partition": 0, "replicas": []}]}', "non-empty"),
        ('{"partitions": [{"topic": "a", "partition": 0, "replicas": [1, 1]}]}', "twice"),
        ('{"partitions": [{"topic": "a", "partition": 0, "replicas": [1], "log_dirs": ["/d"]}]}', "any"),
        ('{"partitions": []}', "no partitions"),
    ],
)
def test_a_bad_file_says_what_is_wrong(doc: str, says: str) -> None:
    with pytest.raises(CliError, match=says):
        parse_plan(doc)


def test_throttle_configs_follow_kafkas_tool() -> None:
    moves = [Move("a", 0, (2, 3)), Move("a", 1, (1, 3))]
    current = {("a", 0): [1, 2], ("a", 1): [1, 3]}
    assert throttled_replicas(moves, current) == {
        "a": {
            "leader.replication.throttled.replicas": "0:1,0:2,1:1,1:3",
            "follower.replication.throttled.replicas": "0:3",
        }
    }
    assert brokers_taking_part(moves, current) == [1, 2, 3]
    assert json.loads(current_plan({("a", 0): [1, 2]})) == {
        "version": 1,
        "partitions": [{"topic": "a", "partition": 0, "replicas": [1, 2], "log_dirs": ["any", "any"]}],
    }


def test_messages() -> None:
    assert render_list([]) == "No partition reassignment is in progress.\n"
    assert render_list([("a", 0, [1, 2, 3], [3], [1])]) == (
        "Current partition reassignments:\na-0: replicas: 1,2,3. adding: 3. removing: 1.\n"
    )
    move = Move("a", 0, (2, 3))
    assert render_verify([(move, "complete"), (move, "in progress"), (move, "1,2")]) == (
        "Status of partition reassignment:\n"
        "Reassignment of partition a-0 is complete.\n"
        "Reassignment of partition a-0 is still in progress.\n"
        "There is no active reassignment of partition a-0, but replica set is 1,2 rather than 2,3.\n"
    )
