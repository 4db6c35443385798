"""Builders for the log cleaner tests: compacted logs, keyed batches, what a consumer would read."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from storage_helpers import NOW, TOPIC_ID, append, read_all

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import BatchHeader, BatchSpec, build_batch, iter_headers, iter_records
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog

TP = TopicPartition("users", 0)
DAY = 86_400_000
KV = tuple[bytes | None, bytes | None]


class Rec(NamedTuple):
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]


def compact_config(**overrides: Any) -> LogConfig:
    settings: dict[str, Any] = {
        "cleanup_policy": ("compact",),
        "min_cleanable_dirty_ratio": 0.01,
        "segment_bytes": 600,
        "index_interval_bytes": 100,
    }
    settings.update(overrides)
    return LogConfig(**settings)


def compacted_log(
    directory: Path, tp: TopicPartition = TP, **overrides: Any
) -> tuple[LogManager, PartitionLog]:
    manager = LogManager([directory])
    log = manager.create_partition(tp, uuid.uuid5(TOPIC_ID, tp.topic), compact_config(**overrides), NOW)
    return manager, log


def reload(directory: Path, *, clean: bool = True, **overrides: Any) -> tuple[LogManager, PartitionLog]:
    """Open the log directory again (as after a restart); `clean=False` recovers everything."""
    manager = LogManager([directory])
    if not clean:
        (directory / ".kafka_cleanshutdown").unlink(missing_ok=True)
    manager.load(lambda topic: compact_config(**overrides), NOW)
    log = manager.get(TP)
    assert log is not None
    log.high_watermark = log.log_end_offset
    return manager, log


def produce(
    log: PartitionLog,
    pairs: Sequence[KV],
    *,
    ts: int = NOW,
    compression: int = 0,
    spec: BatchSpec | None = None,
    headers: list[tuple[str, bytes | None]] | None = None,
    now_ms: int = NOW,
) -> int:
    """Append one batch of (key, value) records, timestamps ts, ts+1...; returns its first offset."""
    records = [(k, v, list(headers or []), ts + i) for i, (k, v) in enumerate(pairs)]
    info, _ = append(log, build_batch(records, spec or BatchSpec(compression=compression)), now_ms=now_ms)
    log.high_watermark = log.log_end_offset
    return info.first_offset


def produce_each(log: PartitionLog, pairs: Sequence[KV], *, ts: int = NOW, **kwargs: Any) -> list[int]:
    """One batch per record, timestamps ts, ts+1...; returns their offsets."""
    return [produce(log, [pair], ts=ts + i, **kwargs) for i, pair in enumerate(pairs)]


def records(log: PartitionLog) -> list[Rec]:
    data = read_all(log)
    return [
        Rec(r.offset, r.timestamp, r.key, r.value, r.headers)
        for pos, h in iter_headers(data)
        for r in iter_records(data, pos, h)
    ]


def batch_headers(log: PartitionLog) -> list[BatchHeader]:
    return [h for _, h in iter_headers(read_all(log))]


def latest_per_key(recs: Sequence[Rec]) -> dict[bytes | None, Rec]:
    """What a consumer reading from the start ends up with: the last record of each key."""
    out: dict[bytes | None, Rec] = {}
    for r in recs:
        out[r.key] = r
    return out


def copy_dir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
