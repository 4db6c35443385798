from __future__ import annotations

from collections.abc import Callable

from odradek.metadata.image import ClusterImage
from odradek.metadata.log_config_builder import LOG_CONFIG_FIELDS, log_config_kwargs, log_config_kwargs_for
from odradek.metadata.static_config import StaticBrokerConfig


def test_defaults(static: StaticBrokerConfig) -> None:
    assert log_config_kwargs_for(ClusterImage.EMPTY, static, {}) == {
        "segment_bytes": 1073741824,
        "segment_ms": 604800000,
        "retention_ms": 604800000,
        "retention_bytes": -1,
        "index_interval_bytes": 4096,
        "segment_index_bytes": 10485760,
        "flush_messages": 9223372036854775807,
        "flush_ms": 9223372036854775807,
        "message_timestamp_type": "CreateTime",
        "message_timestamp_before_max_ms": 9223372036854775807,
        "message_timestamp_after_max_ms": 3600000,
        "max_message_bytes": 1048588,
        "cleanup_policy": ("delete",),
        "delete_retention_ms": 86400000,
        "min_compaction_lag_ms": 0,
        "max_compaction_lag_ms": 9223372036854775807,
        "min_cleanable_dirty_ratio": 0.5,
        "file_delete_delay_ms": 60000,
        "min_insync_replicas": 1,
        "compression_type": "producer",
    }


def test_overrides_and_broker_defaults(
    cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage]
) -> None:
    static = StaticBrokerConfig.from_properties(
        {
            "node.id": "1",
            "log.retention.hours": "1",
            "log.roll.hours": "2",
            "log.message.timestamp.after.max.ms": "5000",
        }
    )
    image = with_topic(
        cluster(1),
        "t",
        configs={
            "cleanup.policy": "compact",
            "min.cleanable.dirty.ratio": "0.1",
            "message.timestamp.type": "LogAppendTime",
            "message.timestamp.before.max.ms": "60000",
        },
    )
    kwargs = log_config_kwargs(image, static, "t")
    assert kwargs["retention_ms"] == 3_600_000
    assert kwargs["segment_ms"] == 7_200_000
    assert kwargs["cleanup_policy"] == ("compact",)
    assert kwargs["min_cleanable_dirty_ratio"] == 0.1
    assert kwargs["message_timestamp_type"] == "LogAppendTime"
    assert kwargs["message_timestamp_before_max_ms"] == 60_000
    assert kwargs["message_timestamp_after_max_ms"] == 5_000
    assert set(kwargs) == set(LOG_CONFIG_FIELDS)
