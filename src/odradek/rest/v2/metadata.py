"""v2 metadata: ``/topics``, ``/topics/{t}``, partitions and their offsets, ``/brokers``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import ConfigResource, OffsetSpec, PartitionMetadata, ResourceType
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.rest import errors
from odradek.rest.responses import v2_json
from odradek.rest.service import RestProxy

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    partitions: dict[int, PartitionMetadata]


def proxy_of(request: Request) -> RestProxy:
    """The request's user's proxy (HTTP Basic, `rest.auth`), or the process's."""
    proxy: RestProxy = getattr(request.state, "proxy", None) or request.app.state.proxy
    return proxy


async def topic_or_404(proxy: RestProxy, name: str) -> TopicInfo:
    topic = await proxy.admin.topic(name)
    if topic is None:
        raise errors.topic_not_found(name)
    return TopicInfo(name, topic.partitions)


def partition_or_404(topic: TopicInfo, partition: int) -> PartitionMetadata:
    meta = topic.partitions.get(partition)
    if meta is None:
        raise errors.partition_not_found(topic.name, partition)
    return meta


def partition_json(p: PartitionMetadata) -> dict[str, Any]:
    isr = set(p.isrs)
    return {
        "partition": p.id,
        "leader": p.leader,
        "replicas": [{"broker": b, "leader": b == p.leader, "in_sync": b in isr} for b in p.replicas],
    }


async def list_topics(request: Request) -> Response:
    metadata = await proxy_of(request).admin.metadata(fresh=True)
    return v2_json(sorted(name for name in metadata.topics if name not in INTERNAL_TOPICS))


async def get_topic(request: Request) -> Response:
    proxy = proxy_of(request)
    name = request.path_params["topic"]
    topic = await topic_or_404(proxy, name)
    try:
        configs = await proxy.admin.describe_configs(ConfigResource(ResourceType.TOPIC, name))
    except KafkaException as exc:
        raise errors.kafka_error(exc) from None
    return v2_json(
        {
            "name": name,
            "configs": {k: v.value for k, v in sorted(configs.items())},
            "partitions": [partition_json(topic.partitions[p]) for p in sorted(topic.partitions)],
        }
    )


async def list_partitions(request: Request) -> Response:
    topic = await topic_or_404(proxy_of(request), request.path_params["topic"])
    return v2_json([partition_json(topic.partitions[p]) for p in sorted(topic.partitions)])


async def get_partition(request: Request) -> Response:
    topic = await topic_or_404(proxy_of(request), request.path_params["topic"])
    return v2_json(partition_json(partition_or_404(topic, request.path_params["partition"])))


async def partition_offsets(request: Request) -> Response:
    proxy = proxy_of(request)
    topic = await topic_or_404(proxy, request.path_params["topic"])
    partition = partition_or_404(topic, request.path_params["partition"]).id
    earliest, latest = await offsets(proxy, topic.name, partition)
    return v2_json({"beginning_offset": earliest, "end_offset": latest})


async def offsets(proxy: RestProxy, topic: str, partition: int) -> tuple[int, int]:
    tp = [(topic, partition)]
    try:
        earliest = await proxy.admin.list_offsets(tp, OffsetSpec.earliest())  # type: ignore[no-untyped-call]
        latest = await proxy.admin.list_offsets(tp, OffsetSpec.latest())  # type: ignore[no-untyped-call]
    except KafkaException as exc:
        raise errors.kafka_error(exc) from None
    return earliest[(topic, partition)], latest[(topic, partition)]


async def list_brokers(request: Request) -> Response:
    metadata = await proxy_of(request).admin.metadata(fresh=True)
    return v2_json({"brokers": sorted(metadata.brokers)})


ROUTES = [
    Route("/topics", list_topics, methods=["GET"]),
    Route("/topics/{topic}", get_topic, methods=["GET"]),
    Route("/topics/{topic}/partitions", list_partitions, methods=["GET"]),
    Route("/topics/{topic}/partitions/{partition:int}", get_partition, methods=["GET"]),
    Route("/topics/{topic}/partitions/{partition:int}/offsets", partition_offsets, methods=["GET"]),
    Route("/brokers", list_brokers, methods=["GET"]),
]
