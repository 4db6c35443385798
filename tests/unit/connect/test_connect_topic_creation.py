"""KIP-158 topic creation settings: groups matched in order, the default group last, per-key errors."""

from __future__ import annotations

from odradek.connect.runtime.topic_creation import group_for, parse_groups, uses_topic_creation

BASE = {"connector.class": "FileStreamSource", "topic": "t"}


def test_no_topic_creation_keys_no_groups() -> None:
    assert not uses_topic_creation(BASE)
    assert parse_groups(BASE) == ([], {})


def test_groups_in_order_default_last_with_inherited_counts_and_topic_configs() -> None:
    groups, errors = parse_groups(
        {
            **BASE,
            "topic.creation.default.replication.factor": "-1",
            "topic.creation.default.partitions": "6",
            "topic.creation.default.cleanup.policy": "delete",
            "topic.creation.groups": "compacted, inorder",
            "topic.creation.compacted.include": "state-.*,config-.*",
            "topic.creation.compacted.exclude": "state-tmp.*",
            "topic.creation.compacted.cleanup.policy": "compact",
            "topic.creation.inorder.include": "orders",
            "topic.creation.inorder.partitions": "1",
        }
    )
    assert errors == {}
    assert [g.name for g in groups] == ["compacted", "inorder", "default"]
    compacted = group_for(groups, "state-1")
    assert compacted is not None and compacted.name == "compacted"
    assert (compacted.partitions, compacted.replication_factor) == (6, -1)
    assert compacted.configs == {"cleanup.policy": "compact"}
    tmp = group_for(groups, "state-tmp-1")
    assert tmp is not None and tmp.name == "default" and tmp.configs == {"cleanup.policy": "delete"}
    inorder = group_for(groups, "orders")
    assert inorder is not None and (inorder.name, inorder.partitions) == ("inorder", 1)
    other = group_for(groups, "orders-2")  # include is a full match
    assert other is not None and other.name == "default"


def test_errors_name_the_key() -> None:
    _, errors = parse_groups(
        {
            **BASE,
            "topic.creation.default.partitions": "0",
            "topic.creation.groups": "a",
            "topic.creation.a.include": "(",
            "topic.creation.b.partitions": "3",
            "topic.creation.default.include": "x",
        }
    )
    assert "Missing required configuration" in errors["topic.creation.default.replication.factor"][0]
    assert "must be -1" in errors["topic.creation.default.partitions"][0]
    assert "Invalid regex" in errors["topic.creation.a.include"][0]
    assert "not in topic.creation.groups" in errors["topic.creation.b.partitions"][0]
    assert "takes no include/exclude" in errors["topic.creation.default.include"][0]
