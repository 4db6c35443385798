from __future__ import annotations

from odradek.cli.topic_view import (
    PartitionView,
    TopicListing,
    TopicView,
    describe_doc,
    list_doc,
    render_describe_text,
    render_list_text,
)

VIEW = TopicView(
    name="orders",
    topic_id="AAAAAAAAAAAAAAAAAAAAAQ",
    internal=False,
    partitions=(
        PartitionView(0, 1, (1, 2), (1, 2), 0, 42),
        PartitionView(1, None, (2, 1), (), None, None, elr=(2,), last_known_elr=(2,)),
    ),
    configs=(("cleanup.policy", "compact"), ("sasl.secret", None)),
)


def test_describe_text_follows_kafka_topics() -> None:
    assert render_describe_text([VIEW]) == (
        "Topic: orders\tTopicId: AAAAAAAAAAAAAAAAAAAAAQ\tPartitionCount: 2\tReplicationFactor: 2\t"
        "Configs: cleanup.policy=compact,sasl.secret=-\n"
        "\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1,2\t"
        "LogStartOffset: 0\tLogEndOffset: 42\n"
        "\tTopic: orders\tPartition: 1\tLeader: -\tReplicas: 2,1\tIsr: \tElr: 2\tLastKnownElr: 2\t"
        "LogStartOffset: -\tLogEndOffset: -\n"
    )


def test_describe_json() -> None:
    assert describe_doc([VIEW]) == {
        "topics": [
            {
                "name": "orders",
                "topic_id": "AAAAAAAAAAAAAAAAAAAAAQ",
                "internal": False,
                "partition_count": 2,
                "replication_factor": 2,
                "configs": {"cleanup.policy": "compact", "sasl.secret": None},
                "partitions": [
                    {"partition": 0, "leader": 1, "replicas": [1, 2], "isr": [1, 2],
                     "elr": None, "last_known_elr": None,
                     "log_start_offset": 0, "log_end_offset": 42},
                    {"partition": 1, "leader": None, "replicas": [2, 1], "isr": [],
                     "elr": [2], "last_known_elr": [2],
                     "log_start_offset": None, "log_end_offset": None},
                ],
            }
        ]
    }  # fmt: skip


def test_listing() -> None:
    topics = [TopicListing("a", 3, False), TopicListing("__consumer_offsets", 50, True)]
    assert render_list_text(topics) == "a\n__consumer_offsets\n"
    assert list_doc(topics) == {
        "topics": [
            {"name": "a", "partitions": 3, "internal": False},
            {"name": "__consumer_offsets", "partitions": 50, "internal": True},
        ]
    }


def test_empty_topic_has_no_replication_factor() -> None:
    assert TopicView("x", None, False, (), ()).replication_factor == 0
