"""Names on disk: Kafka's log directory layout, byte for byte.

One log directory (an entry of `log.dirs`)::

    <log.dir>/
      .kafka_cleanshutdown                 written on clean close, deleted after the next load
      recovery-point-offset-checkpoint     offsets below which each partition is fsynced
      log-start-offset-checkpoint          each partition's log start offset (DeleteRecords, retention)
      replication-offset-checkpoint        each partition's high watermark
      cleaner-offset-checkpoint            each compacted partition's first dirty offset (log_cleaner.py)
      <topic>-<partition>/                 one partition (topic names never contain '/', may contain '-')
        00000000000000000000.log           record batches, exactly as on the wire after restamping
        00000000000000000000.index         sparse offset -> position index (offset_index.py)
        00000000000000000000.timeindex     sparse timestamp -> offset index (time_index.py)
        00000000000000001234.log ...       next segment, named by its base offset (20 digits)
        leader-epoch-checkpoint            leader epoch -> start offset (leader_epoch_cache.py)
        partition.metadata                 topic id (checkpoints.py)
      <topic>-<partition>.<uuidhex>-delete/   a deleted partition awaiting removal

Transient suffixes: `.deleted` (a segment file renamed before removal), `.tmp` (a checkpoint or
snapshot being replaced, `atomic_file.py`), and the cleaner's `.cleaned` (a segment being written)
and `.swap` (a cleaned segment being swapped in), appended to a segment file's name
(`00000000000000000000.log.swap`, see `segment_swap.py`). Later additions keep Kafka's names:
`.txnindex` beside each segment and `<offset>.snapshot` producer-state snapshots.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from odradek.model.topic_partition import TopicPartition

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"
TXN_INDEX_SUFFIX = ".txnindex"
SNAPSHOT_SUFFIX = ".snapshot"
SEGMENT_SUFFIXES = (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX)
DELETED_SUFFIX = ".deleted"
TMP_SUFFIX = ".tmp"
CLEANED_SUFFIX = ".cleaned"
SWAP_SUFFIX = ".swap"
DELETE_DIR_SUFFIX = "-delete"

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
REPLICATION_OFFSET_CHECKPOINT = "replication-offset-checkpoint"
CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint"
LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint"
PARTITION_METADATA = "partition.metadata"

_SEGMENT_NAME = re.compile(r"^(\d{20})(\.[a-z]+)$")
_PARTITION_DIR = re.compile(r"^(.+)-(\d+)$")


def segment_path(directory: Path, base_offset: int, suffix: str) -> Path:
    return directory / f"{base_offset:020d}{suffix}"


def segment_file(directory: Path, base_offset: int, suffix: str) -> str:
    """`segment_path` as a string, without building a Path (hot at startup: thousands of files)."""
    return f"{os.fspath(directory)}/{base_offset:020d}{suffix}"


def parse_segment_name(name: str) -> tuple[int, str] | None:
    """`00000000000000001234.log` -> (1234, ".log"); None for anything else."""
    m = _SEGMENT_NAME.match(name)
    return (int(m.group(1)), m.group(2)) if m else None


def partition_dir_name(tp: TopicPartition) -> str:
    return f"{tp.topic}-{tp.partition}"


def parse_partition_dir(name: str) -> TopicPartition | None:
    """`orders-3` -> TopicPartition("orders", 3); None for `-delete`/`-future`/`-stray` and other names."""
    m = _PARTITION_DIR.match(name)
    return TopicPartition(m.group(1), int(m.group(2))) if m else None


def is_deleted_partition_dir(name: str) -> bool:
    return name.endswith(DELETE_DIR_SUFFIX) and "." in name
