"""Builders shared by the storage tests: batches, logs, appends, reopening."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import BatchHeader, BatchSpec, build_batch, iter_headers, validate_batches
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import AppendInfo, Fsync, PartitionLog

NOW = 1_700_000_000_000
TP = TopicPartition("orders", 0)
TOPIC_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def batch(
    count: int = 1,
    ts: int = NOW,
    value_size: int = 10,
    *,
    ts_step: int = 1,
    compression: int = 0,
    timestamps: list[int] | None = None,
) -> bytes:
    stamps = timestamps if timestamps is not None else [ts + i * ts_step for i in range(count)]
    records = [(b"k%d" % i, bytes([i % 251]) * value_size, [], t) for i, t in enumerate(stamps)]
    return build_batch(records, BatchSpec(compression=compression))


def append(log: PartitionLog, raw: bytes, epoch: int = 0, now_ms: int = NOW) -> tuple[AppendInfo, bytes]:
    """Append like the broker does; returns the info and the bytes as restamped."""
    buf = bytearray(raw)
    info = log.append(buf, validate_batches(buf), epoch, now_ms)
    return info, bytes(buf)


def new_log(directory: Path, now_ms: int = NOW, fsync: Fsync | None = None, **config: Any) -> PartitionLog:
    extra = {"fsync": fsync} if fsync else {}
    return PartitionLog.create(
        directory / "orders-0", TP, TOPIC_ID, LogConfig(**config), now_ms=now_ms, **extra
    )


def reopen(
    log: PartitionLog,
    *,
    clean: bool,
    recovery_point: int = 0,
    log_start_offset: int = 0,
    high_watermark: int = 0,
    now_ms: int = NOW,
    config: LogConfig | None = None,
) -> PartitionLog:
    log.close()
    return PartitionLog.load(
        log.directory,
        log.tp,
        config or log.config,
        recovery_point=recovery_point,
        log_start_offset=log_start_offset,
        high_watermark=high_watermark,
        clean=clean,
        now_ms=now_ms,
    )


def headers_of(data: bytes) -> list[BatchHeader]:
    return [h for _, h in iter_headers(data)]


def read_all(log: PartitionLog, start: int | None = None) -> bytes:
    result = log.read(log.log_start_offset if start is None else start, 1 << 40, log.log_end_offset)
    return b"".join(result.chunks)
