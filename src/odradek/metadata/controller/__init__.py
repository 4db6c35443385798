"""The controller: pure decisions over the cluster image that return records and responses.

Each operation takes the current `ClusterImage` (and the broker's static config, and a seeded
`random.Random` where Kafka uses randomness) and returns a `ControllerResult(records, response)`;
it never changes the image. The shell appends the records through the `MetadataStore` and answers
after they are durable.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

# The operations are imported on first use (a broker's start needs few of them).
_MODULES = {
    "AlterConfigOp": "configs",
    "AlterConfigPolicy": "configs",
    "AlterConfigsResource": "configs",
    "AlterConfigsResourceResult": "configs",
    "AlterableConfig": "configs",
    "ApiError": "result",
    "ControllerResult": "result",
    "CreatableReplicaAssignment": "topics",
    "CreatableTopic": "topics",
    "CreatePartitionsResult": "partitions",
    "CreatePartitionsTopic": "partitions",
    "CreateTopicPolicy": "topics",
    "CreateTopicPolicyRequest": "topics",
    "CreateTopicResult": "topics",
    "DeleteTopicRef": "topics",
    "DeleteTopicResult": "topics",
    "IncrementalAlterConfigsResource": "configs",
    "ProducerIdBlock": "brokers",
    "allocate_producer_ids": "brokers",
    "alter_configs": "configs",
    "bootstrap_single_node": "brokers",
    "create_partitions": "partitions",
    "create_topics": "topics",
    "delete_topics": "topics",
    "fence_broker": "brokers",
    "incremental_alter_configs": "configs",
    "internal_topic": "internal_topics",
    "new_cluster_id": "brokers",
    "register_broker": "brokers",
    "unregister_broker": "brokers",
}


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
