"""The admin handlers' own logic, without sockets: paging, refusals, epoch checks, log levels."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.broker.authorized_operations import CLUSTER_OPERATIONS, OMITTED, authorized_operations, bit_field
from odradek.broker.handlers.delete_records import delete_before
from odradek.broker.handlers.delete_topics import delete_unless_internal
from odradek.broker.handlers.describe_log_dirs import describe as describe_log_dirs
from odradek.broker.handlers.describe_topic_partitions import describe as describe_topic_partitions
from odradek.broker.handlers.offset_for_leader_epoch import end_offset
from odradek.broker.log_levels import alter_broker_loggers, describe_broker_loggers, level_name
from odradek.metadata.controller.brokers import bootstrap_single_node
from odradek.metadata.controller.configs import AlterableConfig
from odradek.metadata.controller.topics import CreatableTopic, DeleteTopicRef, create_topics
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import RemoveTopicRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.protocol import codec
from odradek.protocol.messages import describe_topic_partitions as dtp
from odradek.protocol.messages import offset_for_leader_epoch as ofle
from odradek.protocol.records import build_batch, validate_batches
from odradek.replication.partition import Partition
from odradek.replication.replica_set import LeaderAndIsr
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogDirDescription
from odradek.storage.partition_log import PartitionLog

STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})


def image_with(*topics: tuple[str, int]) -> ClusterImage:
    rng = random.Random(7)
    image = replay(
        ClusterImage.EMPTY,
        bootstrap_single_node(ClusterImage.EMPTY, BrokerId(1), "h", 9092, rack=None, rng=rng),
    )
    result = create_topics(
        image, STATIC, [CreatableTopic(name, n, 1) for name, n in topics], validate_only=False, rng=rng
    )
    return replay(image, result.records)


# --- DescribeTopicPartitions paging -------------------------------------------------------


def page(
    image: ClusterImage, names: list[str], limit: int, cursor: tuple[str, int] | None = None
) -> tuple[list[tuple[str | None, int, list[int]]], tuple[str, int] | None]:
    request = dtp.DescribeTopicPartitionsRequest(
        topics=[dtp.TopicRequest(n) for n in names],
        response_partition_limit=limit,
        cursor=None if cursor is None else dtp.Cursor(*cursor),
    )
    encoded = codec.encode_bytes(dtp.RESPONSE, 0, describe_topic_partitions(image, request))
    response, _ = codec.decode(dtp.RESPONSE, 0, encoded)  # partitions are answered as cached bytes
    topics = [(t.name, t.error_code, [p.partition_index for p in t.partitions]) for t in response.topics]
    next_cursor = response.next_cursor
    return topics, None if next_cursor is None else (next_cursor.topic_name, next_cursor.partition_index)


def test_pages_cut_inside_a_topic_and_resume_at_the_cursor() -> None:
    image = image_with(("a", 3), ("b", 2))
    assert page(image, ["b", "a"], 2) == ([("a", 0, [0, 1])], ("a", 2))
    assert page(image, ["b", "a"], 2, ("a", 2)) == ([("a", 0, [2]), ("b", 0, [0])], ("b", 1))
    assert page(image, ["b", "a"], 2, ("b", 1)) == ([("b", 0, [1])], None)


def test_a_full_page_at_a_topic_boundary_points_at_the_next_topic() -> None:
    image = image_with(("a", 2), ("b", 1))
    assert page(image, [], 2) == ([("a", 0, [0, 1])], ("b", 0))
    assert page(image, [], 2, ("b", 0)) == ([("b", 0, [0])], None)


def test_missing_topics_are_errors_only_when_named() -> None:
    image = image_with(("a", 1))
    assert page(image, ["a", "zz", "bad name"], 10) == (
        [("a", 0, [0]), ("bad name", ErrorCode.INVALID_TOPIC_EXCEPTION, []), ("zz", 3, [])],
        None,
    )
    assert page(image, [], 10) == ([("a", 0, [0])], None)


def test_a_cursor_outside_the_topic_list_is_an_invalid_request() -> None:
    image = image_with(("a", 1), ("b", 1))
    assert page(image, ["a"], 10, ("b", 0)) == ([("a", ErrorCode.INVALID_REQUEST, [])], None)


def test_the_page_size_is_capped_at_kafkas_default_limit() -> None:
    image = image_with(("big", 2001))
    topics, cursor = page(image, ["big"], 5000)
    assert len(topics[0][2]) == 2000
    assert cursor == ("big", 2000)


# --- DeleteTopics ----------------------------------------------------------------------------


def test_internal_topics_are_refused_and_not_removed() -> None:
    image = image_with(("__consumer_offsets", 1), ("plain", 1))
    offsets_id = image.topics_by_name["__consumer_offsets"].topic_id
    plain_id = image.topics_by_name["plain"].topic_id
    result = delete_unless_internal(
        image, STATIC, [DeleteTopicRef("plain"), DeleteTopicRef(topic_id=offsets_id)]
    )
    assert result.records == (RemoveTopicRecord(plain_id),)
    assert [(r.name, r.error_code) for r in result.response] == [
        ("plain", ErrorCode.NO_ERROR),
        ("__consumer_offsets", ErrorCode.INVALID_TOPIC_EXCEPTION),
    ]


# --- DeleteRecords and OffsetForLeaderEpoch over a real partition log -----------------------


@pytest.fixture
def partition(tmp_path: Path) -> Iterator[Partition]:
    tp = TopicPartition("t", 0)
    log = PartitionLog.create(tmp_path / "t-0", tp, uuid.uuid4(), LogConfig(), now_ms=0)
    yield Partition(tp, uuid.uuid4(), log, BrokerId(1), LeaderAndIsr.single(BrokerId(1)))
    log.close()


def lead(partition: Partition, epoch: int) -> None:
    partition.become(LeaderAndIsr.single(BrokerId(1), Epoch(epoch)))


def follow(partition: Partition) -> None:
    epoch = partition.replicas.state.leader_epoch
    partition.become(LeaderAndIsr(BrokerId(2), epoch, (BrokerId(1), BrokerId(2)), (BrokerId(2),)))


def append(partition: Partition, count: int, epoch: int) -> None:
    lead(partition, epoch)
    data = bytearray(build_batch([(None, b"v", [], 1000)] * count))
    partition.append_as_leader(data, validate_batches(data), now_ms=0)


def test_delete_records_moves_the_log_start_offset(partition: Partition) -> None:
    append(partition, 5, 0)
    doomed: list[Path] = []
    assert delete_before(partition, "t", 3, 0, doomed) == (ErrorCode.NO_ERROR, 3)
    assert delete_before(partition, "t", 1, 0, doomed) == (ErrorCode.NO_ERROR, 3)  # never moves back
    assert delete_before(partition, "t", -1, 0, doomed) == (ErrorCode.NO_ERROR, 5)  # the high watermark
    assert partition.log.log_start_offset == 5


@pytest.mark.parametrize(
    ("offset", "error"),
    [(6, ErrorCode.OFFSET_OUT_OF_RANGE), (-2, ErrorCode.OFFSET_OUT_OF_RANGE)],
)
def test_delete_records_out_of_range(partition: Partition, offset: int, error: ErrorCode) -> None:
    append(partition, 5, 0)
    assert delete_before(partition, "t", offset, 0, []) == (error, -1)
    assert partition.log.log_start_offset == 0


def test_delete_records_refusals(partition: Partition) -> None:
    append(partition, 2, 0)
    assert delete_before(partition, "__consumer_offsets", 1, 0, []) == (ErrorCode.INVALID_TOPIC_EXCEPTION, -1)
    assert delete_before(None, "t", 1, 0, []) == (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1)
    partition.log.update_config(LogConfig(cleanup_policy=("compact",)))
    assert delete_before(partition, "t", 1, 0, []) == (ErrorCode.POLICY_VIOLATION, -1)
    partition.log.update_config(LogConfig())
    follow(partition)
    assert delete_before(partition, "t", 1, 0, []) == (ErrorCode.NOT_LEADER_OR_FOLLOWER, -1)


def epoch_end(
    partition: Partition | None, epoch: int, current: int = -1, only_leader: bool = True
) -> tuple[int, int, int]:
    requested = ofle.OffsetForLeaderPartition(partition=0, current_leader_epoch=current, leader_epoch=epoch)
    result = end_offset(partition, requested, only_leader)
    return result.error_code, result.leader_epoch, result.end_offset


def test_offset_for_leader_epoch_ends_of_epochs(partition: Partition) -> None:
    append(partition, 3, 0)
    append(partition, 4, 2)
    assert epoch_end(partition, 0) == (0, 0, 3)
    assert epoch_end(partition, 1) == (0, 0, 3)  # the largest epoch <= 1 is 0, which ends at 3
    assert epoch_end(partition, 2) == (0, 2, 7)  # the current epoch ends at the log end offset
    assert epoch_end(partition, 5) == (0, -1, -1)


def test_offset_for_leader_epoch_fencing(partition: Partition) -> None:
    lead(partition, 3)
    assert epoch_end(partition, 0, current=2)[0] == ErrorCode.FENCED_LEADER_EPOCH
    assert epoch_end(partition, 0, current=4)[0] == ErrorCode.UNKNOWN_LEADER_EPOCH
    assert epoch_end(None, 0)[0] == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    follow(partition)
    assert epoch_end(partition, 0, current=3)[0] == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert epoch_end(partition, 0, current=3, only_leader=False)[0] == ErrorCode.NO_ERROR


# --- DescribeLogDirs -------------------------------------------------------------------------


def test_log_dirs_keep_only_the_wanted_partitions() -> None:
    dirs = [
        LogDirDescription(Path("/a"), {TopicPartition("x", 1): 10, TopicPartition("x", 0): 5}, 100, 50),
        LogDirDescription(Path("/b"), {TopicPartition("y", 0): 7}, 100, 50),
    ]
    every = describe_log_dirs(dirs, None)
    assert [
        (
            d.log_dir,
            [(t.name, [(p.partition_index, p.partition_size) for p in t.partitions]) for t in d.topics],
        )
        for d in every
    ] == [
        ("/a", [("x", [(0, 5), (1, 10)])]),
        ("/b", [("y", [(0, 7)])]),
    ]
    assert (every[0].total_bytes, every[0].usable_bytes) == (100, 50)
    some = describe_log_dirs(dirs, {TopicPartition("x", 1)})
    assert [(d.log_dir, [(t.name, len(t.partitions)) for t in d.topics]) for d in some] == [
        ("/a", [("x", 1)]),
        ("/b", []),
    ]


# --- authorized operations -------------------------------------------------------------------


def test_authorized_operations_bit_field() -> None:
    # bits 5 (CREATE) and 7-12 (ALTER ... IDEMPOTENT_WRITE)
    assert bit_field(CLUSTER_OPERATIONS) == 0b1_1111_1010_0000
    assert authorized_operations(False, CLUSTER_OPERATIONS) == OMITTED


# --- BROKER_LOGGER ---------------------------------------------------------------------------


@pytest.fixture
def test_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("odradek.test_admin_levels")
    yield logger
    logger.setLevel(logging.NOTSET)


def test_broker_logger_set_and_delete(test_logger: logging.Logger) -> None:
    name = test_logger.name
    changes = [AlterableConfig(name, 0, "TRACE")]
    assert alter_broker_loggers(1, "1", changes, validate_only=True).error_code == ErrorCode.NO_ERROR
    assert test_logger.level == logging.NOTSET
    assert alter_broker_loggers(1, "1", changes, validate_only=False).error_code == ErrorCode.NO_ERROR
    described = describe_broker_loggers(1, "1", [name])
    assert [(e.name, e.value) for e in described.configs] == [(name, "TRACE")]
    assert alter_broker_loggers(1, "1", [AlterableConfig(name, 1, None)], validate_only=False).error_code == 0
    assert test_logger.level == logging.NOTSET


@pytest.mark.parametrize(
    ("resource", "change", "error", "message"),
    [
        (
            "2",
            AlterableConfig("root", 0, "INFO"),
            ErrorCode.INVALID_REQUEST,
            "Unexpected broker id, expected 1 but received 2",
        ),
        ("", AlterableConfig("root", 0, "INFO"), ErrorCode.INVALID_REQUEST, "Broker id must not be empty"),
        (
            "1",
            AlterableConfig("no.such.logger", 0, "INFO"),
            ErrorCode.INVALID_CONFIG,
            "Logger no.such.logger does not exist!",
        ),
        (
            "1",
            AlterableConfig("root", 1, None),
            ErrorCode.INVALID_REQUEST,
            "Removing the log level of the root logger is not allowed",
        ),
        (
            "1",
            AlterableConfig("root", 2, "INFO"),
            ErrorCode.INVALID_REQUEST,
            "APPEND operation is not allowed for the BROKER_LOGGER resource",
        ),
        (
            "1",
            AlterableConfig("root", 0, None),
            ErrorCode.INVALID_REQUEST,
            "Null value not supported for : root",
        ),
        (
            "1",
            AlterableConfig("root", 0, "LOUD"),
            ErrorCode.INVALID_CONFIG,
            "Cannot set the log level of root to LOUD as it is not a supported log level. "
            "Valid log levels are FATAL, ERROR, WARN, INFO, DEBUG, TRACE",
        ),
    ],
)
def test_broker_logger_refusals(
    resource: str, change: AlterableConfig, error: ErrorCode, message: str
) -> None:
    root_level = logging.getLogger().level
    result = alter_broker_loggers(1, resource, [change], validate_only=False)
    assert (result.error_code, result.error_message) == (error, message)
    assert logging.getLogger().level == root_level


def test_a_bad_change_applies_none_of_the_resource(test_logger: logging.Logger) -> None:
    changes = [AlterableConfig(test_logger.name, 0, "DEBUG"), AlterableConfig("root", 0, "LOUD")]
    assert alter_broker_loggers(1, "1", changes, validate_only=False).error_code == ErrorCode.INVALID_CONFIG
    assert test_logger.level == logging.NOTSET


@pytest.mark.parametrize(
    ("level", "name"), [(5, "TRACE"), (10, "DEBUG"), (15, "DEBUG"), (30, "WARN"), (50, "FATAL"), (0, "TRACE")]
)
def test_level_names(level: int, name: str) -> None:
    assert level_name(level) == name
