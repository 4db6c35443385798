from __future__ import annotations

import uuid
from collections.abc import Callable

from odradek.metadata.controller import DeleteTopicRef, delete_topics
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import RemoveTopicRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode as E
from odradek.model.topic_partition import ZERO_UUID

UNKNOWN_ID = uuid.UUID(int=12345)


def test_delete_by_name_and_by_id(
    cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage], static: StaticBrokerConfig
) -> None:
    image = with_topic(with_topic(cluster(1), "a", configs={"retention.ms": "5"}), "b", seed=1)
    a, b = image.topic("a"), image.topic("b")
    assert a is not None and b is not None
    result = delete_topics(image, static, [DeleteTopicRef("a"), DeleteTopicRef(topic_id=b.topic_id)])
    assert result.records == (RemoveTopicRecord(a.topic_id), RemoveTopicRecord(b.topic_id))
    assert [(r.name, r.topic_id, r.error_code, r.error_message) for r in result.response] == [
        ("a", a.topic_id, E.NO_ERROR, None),
        ("b", b.topic_id, E.NO_ERROR, None),
    ]
    after = replay(image, result.records)
    assert after.topics_by_name == {}
    assert after.topic_configs == {}


def test_errors(
    cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage], static: StaticBrokerConfig
) -> None:
    image = with_topic(cluster(1), "a")
    a = image.topic("a")
    assert a is not None
    result = delete_topics(
        image,
        static,
        [
            DeleteTopicRef("missing"),
            DeleteTopicRef(topic_id=UNKNOWN_ID),
            DeleteTopicRef("a", a.topic_id),
            DeleteTopicRef(),
            DeleteTopicRef("dup"),
            DeleteTopicRef("dup"),
            DeleteTopicRef(topic_id=a.topic_id),
            DeleteTopicRef(topic_id=a.topic_id),
        ],
    )
    assert result.records == ()
    assert [(r.name, r.topic_id, r.error_code, r.error_message) for r in result.response] == [
        (
            "missing",
            ZERO_UUID,
            E.UNKNOWN_TOPIC_OR_PARTITION,
            "This server does not host this topic-partition.",
        ),
        (None, UNKNOWN_ID, E.UNKNOWN_TOPIC_ID, "This server does not host this topic ID."),
        ("a", a.topic_id, E.INVALID_REQUEST, "You may not specify both topic name and topic id."),
        (None, ZERO_UUID, E.INVALID_REQUEST, "Neither topic name nor id were specified."),
        ("dup", ZERO_UUID, E.INVALID_REQUEST, "Duplicate topic name."),
        (None, a.topic_id, E.INVALID_REQUEST, "Duplicate topic id."),
    ]


def test_same_topic_by_name_and_by_id_is_removed_once(
    cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage], static: StaticBrokerConfig
) -> None:
    image = with_topic(cluster(1), "a")
    a = image.topic("a")
    assert a is not None
    result = delete_topics(image, static, [DeleteTopicRef("a"), DeleteTopicRef(topic_id=a.topic_id)])
    assert result.records == (RemoveTopicRecord(a.topic_id),)
    assert [r.error_code for r in result.response] == [E.NO_ERROR, E.NO_ERROR]


def test_deletion_disabled(
    cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage]
) -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1", "delete.topic.enable": "false"})
    image = with_topic(cluster(1), "a")
    result = delete_topics(image, static, [DeleteTopicRef("a")])
    assert result.records == ()
    assert [(r.name, r.error_code, r.error_message) for r in result.response] == [
        ("a", E.TOPIC_DELETION_DISABLED, "Topic deletion is disabled.")
    ]
