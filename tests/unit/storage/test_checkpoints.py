from __future__ import annotations

import os
import uuid
from pathlib import Path

from odradek.model.topic_partition import TopicPartition
from odradek.storage.checkpoints import (
    read_offsets,
    read_partition_metadata,
    topic_id_from_str,
    topic_id_to_str,
    write_clean_shutdown,
    write_offsets,
    write_partition_metadata,
)
from odradek.storage.layout import parse_partition_dir, parse_segment_name, partition_dir_name


def test_offset_checkpoint_is_kafkas_text_format(tmp_path: Path) -> None:
    path = tmp_path / "recovery-point-offset-checkpoint"
    offsets = {TopicPartition("b-topic", 1): 42, TopicPartition("a.topic", 0): 7}
    write_offsets(path, offsets)
    assert path.read_text() == "0\n2\na.topic 0 7\nb-topic 1 42\n"
    assert read_offsets(path) == offsets
    assert os.listdir(tmp_path) == ["recovery-point-offset-checkpoint"]  # no .tmp left behind


def test_missing_or_malformed_checkpoints_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "cp"
    assert read_offsets(path) == {}
    for text in ("", "1\n0\n", "0\n2\na 0 1\n", "0\n1\na zero 1\n", "\xff"):
        path.write_text(text)
        assert read_offsets(path) == {}


def test_partition_metadata_holds_the_base64url_topic_id(tmp_path: Path) -> None:
    topic_id = uuid.UUID("de810f74-73f2-4722-82bc-1e1891ae5f66")
    assert topic_id_to_str(topic_id) == "3oEPdHPyRyKCvB4Yka5fZg"
    assert topic_id_from_str("3oEPdHPyRyKCvB4Yka5fZg") == topic_id
    path = tmp_path / "partition.metadata"
    write_partition_metadata(path, topic_id)
    assert path.read_text() == "version: 0\ntopic_id: 3oEPdHPyRyKCvB4Yka5fZg"
    assert read_partition_metadata(path) == topic_id
    path.write_text("version: 1\ntopic_id: 3oEPdHPyRyKCvB4Yka5fZg")
    assert read_partition_metadata(path) is None
    assert read_partition_metadata(tmp_path / "missing") is None


def test_clean_shutdown_marker(tmp_path: Path) -> None:
    path = tmp_path / ".kafka_cleanshutdown"
    write_clean_shutdown(path, 17)
    assert path.read_text() == '{"version":0,"brokerEpoch":17}'


def test_names() -> None:
    assert parse_segment_name("00000000000000001234.log") == (1234, ".log")
    assert parse_segment_name("00000000000000001234.timeindex") == (1234, ".timeindex")
    assert parse_segment_name("1234.log") is None
    assert parse_segment_name("00000000000000001234.log.deleted") is None
    assert parse_partition_dir("my-topic-12") == TopicPartition("my-topic", 12)
    assert parse_partition_dir("my-topic-12.0123456789abcdef0123456789abcdef-delete") is None
    assert parse_partition_dir("no_partition") is None
    assert partition_dir_name(TopicPartition("a.b-c", 3)) == "a.b-c-3"
