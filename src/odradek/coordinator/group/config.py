"""The group coordinator's settings, named and defaulted as Kafka's broker configs."""

from __future__ import annotations

from dataclasses import dataclass

from odradek.coordinator.group.assignors import DEFAULT_SERVER_ASSIGNOR, SERVER_ASSIGNORS

_INT_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class GroupCoordinatorConfig:
    offsets_topic_num_partitions: int = 50
    """``offsets.topic.num.partitions``: how many shards; must never change once groups exist."""
    group_min_session_timeout_ms: int = 6_000
    group_max_session_timeout_ms: int = 1_800_000
    group_initial_rebalance_delay_ms: int = 3_000
    """Time a new (Empty) classic group waits for more members before its first rebalance completes."""
    group_max_size: int = _INT_MAX
    classic_new_member_join_timeout_ms: int = 300_000
    """How long a new member's parked JoinGroup may wait (Kafka's fixed 5 minutes)."""
    consumer_group_session_timeout_ms: int = 45_000
    consumer_group_heartbeat_interval_ms: int = 5_000
    consumer_group_max_size: int = _INT_MAX
    consumer_group_assignors: tuple[str, ...] = (DEFAULT_SERVER_ASSIGNOR, "range")
    """``group.consumer.assignors``: the server assignors offered; the first is the default."""
    consumer_group_regex_refresh_interval_ms: int = 10_000
    """How often every regex subscription is resolved again (Kafka's fixed 10 s batch interval); topic
    creation and deletion refresh them at once anyway."""
    offsets_retention_ms: int = 7 * 24 * 60 * 60_000
    """``offsets.retention.minutes`` in milliseconds."""
    offsets_retention_check_interval_ms: int = 600_000
    offset_metadata_max_bytes: int = 4_096
    """``offset.metadata.max.bytes``: longer commit metadata is refused (OFFSET_METADATA_TOO_LARGE)."""

    def __post_init__(self) -> None:
        unknown = [name for name in self.consumer_group_assignors if name not in SERVER_ASSIGNORS]
        if unknown or not self.consumer_group_assignors:
            raise ValueError(f"unknown or no server assignors: {unknown}")
