"""How the internal topics are created when a coordinator first needs them.

Partition count, replication factor and configs come from the broker configs, as in Kafka:
`__consumer_offsets` is compacted with the producer's compression and `offsets.topic.segment.bytes`;
`__transaction_state` is compacted, uncompressed, never elects an unclean leader, and uses
`transaction.state.log.min.isr` and `transaction.state.log.segment.bytes`.
"""

from __future__ import annotations

from odradek.metadata.config_resolution import broker_config_value
from odradek.metadata.controller.topics import CreatableTopic
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME


def internal_topic(image: ClusterImage, static: StaticBrokerConfig, name: str) -> CreatableTopic | None:
    """The CreateTopics entry for internal topic `name`, or None if it is not one we create."""

    def value(config: str) -> str:
        return str(broker_config_value(image, static, config))

    if name == GROUP_METADATA_TOPIC_NAME:
        return CreatableTopic(
            name,
            int(value("offsets.topic.num.partitions")),
            int(value("offsets.topic.replication.factor")),
            configs=(
                ("cleanup.policy", "compact"),
                ("compression.type", "producer"),
                ("segment.bytes", value("offsets.topic.segment.bytes")),
            ),
        )
    if name == TRANSACTION_STATE_TOPIC_NAME:
        return CreatableTopic(
            name,
            int(value("transaction.state.log.num.partitions")),
            int(value("transaction.state.log.replication.factor")),
            configs=(
                ("cleanup.policy", "compact"),
                ("compression.type", "uncompressed"),
                ("min.insync.replicas", value("transaction.state.log.min.isr")),
                ("segment.bytes", value("transaction.state.log.segment.bytes")),
                ("unclean.leader.election.enable", "false"),
            ),
        )
    return None
