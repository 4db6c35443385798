"""From a topic's effective configs to the keyword arguments of `odradek.storage.log_config.LogConfig`.

The contract with the storage package: `LogConfig` is a frozen dataclass whose fields are the
snake_case names of the topic configs below, with typed values (ints, `message_timestamp_type` a
string, `cleanup_policy` a tuple of strings, `min_cleanable_dirty_ratio` a float). The shell builds
`LogConfig(**log_config_kwargs(image, static, topic))` and rebuilds it when the image changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from odradek.metadata.config_resolution import resolve_topic_configs
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig

# LogConfig field → topic config name.
LOG_CONFIG_FIELDS: dict[str, str] = {
    "segment_bytes": "segment.bytes",
    "segment_ms": "segment.ms",
    "retention_ms": "retention.ms",
    "retention_bytes": "retention.bytes",
    "index_interval_bytes": "index.interval.bytes",
    "segment_index_bytes": "segment.index.bytes",
    "flush_messages": "flush.messages",
    "flush_ms": "flush.ms",
    "message_timestamp_type": "message.timestamp.type",
    "message_timestamp_before_max_ms": "message.timestamp.before.max.ms",
    "message_timestamp_after_max_ms": "message.timestamp.after.max.ms",
    "max_message_bytes": "max.message.bytes",
    "cleanup_policy": "cleanup.policy",
    "delete_retention_ms": "delete.retention.ms",
    "min_compaction_lag_ms": "min.compaction.lag.ms",
    "max_compaction_lag_ms": "max.compaction.lag.ms",
    "min_cleanable_dirty_ratio": "min.cleanable.dirty.ratio",
    "file_delete_delay_ms": "file.delete.delay.ms",
    "min_insync_replicas": "min.insync.replicas",
    "compression_type": "compression.type",
}


def log_config_kwargs_for(
    image: ClusterImage, static: StaticBrokerConfig, overrides: Mapping[str, str]
) -> dict[str, object]:
    """LogConfig keyword arguments for a topic with these config overrides."""
    resolved = resolve_topic_configs(image, static, overrides)
    return {field: resolved[config].value for field, config in LOG_CONFIG_FIELDS.items()}


def log_config_kwargs(image: ClusterImage, static: StaticBrokerConfig, topic: str) -> dict[str, object]:
    """LogConfig keyword arguments for an existing topic."""
    return log_config_kwargs_for(image, static, image.topic_config_overrides(topic))
