"""The storage-relevant topic configs, with Kafka's defaults.

Field names are Kafka's config names in snake_case (`segment.bytes` -> `segment_bytes`). Another
component builds a `LogConfig` from broker defaults and topic overrides; storage only consumes it,
and `PartitionLog.update_config` applies a changed one live. `LONG_MAX` (Java's Long.MAX_VALUE) is
Kafka's "never" for the flush and compaction-lag settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LONG_MAX = (1 << 63) - 1
CREATE_TIME = "CreateTime"
LOG_APPEND_TIME = "LogAppendTime"


@dataclass(frozen=True, slots=True)
class LogConfig:
    """A log's settings (Kafka's topic configs: segments, retention, indexes, cleanup)."""

    segment_bytes: int = 1 << 30
    segment_ms: int = 7 * 24 * 3600 * 1000
    retention_ms: int = 7 * 24 * 3600 * 1000  # -1 = keep forever
    retention_bytes: int = -1  # -1 = no size limit
    index_interval_bytes: int = 4096
    segment_index_bytes: int = 10 * 1024 * 1024
    flush_messages: int = LONG_MAX
    flush_ms: int = LONG_MAX
    message_timestamp_type: str = CREATE_TIME
    message_timestamp_before_max_ms: int = LONG_MAX
    message_timestamp_after_max_ms: int = 3600 * 1000
    max_message_bytes: int = 1048588
    cleanup_policy: tuple[str, ...] = ("delete",)
    delete_retention_ms: int = 24 * 3600 * 1000
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = LONG_MAX
    min_cleanable_dirty_ratio: float = 0.5
    file_delete_delay_ms: int = 60_000
    min_insync_replicas: int = 1
    compression_type: str = "producer"  # batches are stored as produced; Fetch < v10 reads it (KIP-110)
    log_append_time: bool = field(init=False, repr=False, compare=False)
    """`message.timestamp.type` is LogAppendTime (derived, not a setting: read on every append)."""
    flush_on_messages: bool = field(init=False, repr=False, compare=False)
    """`flush.messages` was set: producers wait for fsync before being acknowledged (derived, not a
    setting: read on every append)."""

    def __post_init__(self) -> None:
        if self.message_timestamp_type not in (CREATE_TIME, LOG_APPEND_TIME):
            raise ValueError(
                f"message.timestamp.type must be CreateTime or LogAppendTime: {self.message_timestamp_type!r}"
            )
        if self.segment_bytes < 14 or self.segment_index_bytes < 4 or self.index_interval_bytes < 0:
            raise ValueError("segment.bytes, segment.index.bytes or index.interval.bytes out of range")
        object.__setattr__(self, "log_append_time", self.message_timestamp_type == LOG_APPEND_TIME)
        object.__setattr__(self, "flush_on_messages", self.flush_messages != LONG_MAX)

    @property
    def delete_enabled(self) -> bool:
        """Time/size retention applies (`cleanup.policy` contains `delete`)."""
        return "delete" in self.cleanup_policy

    @property
    def compact_enabled(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def flushes_itself(self) -> bool:
        """`flush.ms` or `flush.messages` set: the flusher must look at the log now and then."""
        return self.flush_ms != LONG_MAX or self.flush_messages != LONG_MAX
