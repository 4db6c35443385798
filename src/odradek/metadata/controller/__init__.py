"""The controller: pure decisions over the cluster image that return records and responses.

Each operation takes the current `ClusterImage` (and the broker's static config, and a seeded
`random.Random` where Kafka uses randomness) and returns a `ControllerResult(records, response)`;
it never changes the image. The shell appends the records through the `MetadataStore` and answers
after they are durable.
"""

from __future__ import annotations

from odradek.metadata.controller.brokers import (
    ProducerIdBlock,
    allocate_producer_ids,
    bootstrap_single_node,
    fence_broker,
    new_cluster_id,
    register_broker,
    unregister_broker,
)
from odradek.metadata.controller.configs import (
    AlterableConfig,
    AlterConfigOp,
    AlterConfigPolicy,
    AlterConfigsResource,
    AlterConfigsResourceResult,
    IncrementalAlterConfigsResource,
    alter_configs,
    incremental_alter_configs,
)
from odradek.metadata.controller.internal_topics import internal_topic
from odradek.metadata.controller.partitions import (
    CreatePartitionsResult,
    CreatePartitionsTopic,
    create_partitions,
)
from odradek.metadata.controller.result import ApiError, ControllerResult
from odradek.metadata.controller.topics import (
    CreatableReplicaAssignment,
    CreatableTopic,
    CreateTopicPolicy,
    CreateTopicPolicyRequest,
    CreateTopicResult,
    DeleteTopicRef,
    DeleteTopicResult,
    create_topics,
    delete_topics,
)

__all__ = [
    "AlterConfigOp",
    "AlterConfigPolicy",
    "AlterConfigsResource",
    "AlterConfigsResourceResult",
    "AlterableConfig",
    "ApiError",
    "ControllerResult",
    "CreatableReplicaAssignment",
    "CreatableTopic",
    "CreatePartitionsResult",
    "CreatePartitionsTopic",
    "CreateTopicPolicy",
    "CreateTopicPolicyRequest",
    "CreateTopicResult",
    "DeleteTopicRef",
    "DeleteTopicResult",
    "IncrementalAlterConfigsResource",
    "ProducerIdBlock",
    "allocate_producer_ids",
    "alter_configs",
    "bootstrap_single_node",
    "create_partitions",
    "create_topics",
    "delete_topics",
    "fence_broker",
    "incremental_alter_configs",
    "internal_topic",
    "new_cluster_id",
    "register_broker",
    "unregister_broker",
]
