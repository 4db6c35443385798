"""Cluster metadata and administration through confluent-kafka's AdminClient, awaited on the loop.

AdminClient calls return ``concurrent.futures`` (awaited with `asyncio.wrap_future`); the one
blocking call, ``list_topics``, runs on a worker thread. Topic metadata is cached for
``METADATA_TTL_S`` so produce requests do not each ask the broker whether their topic exists; a
topic missing from the cache triggers one refresh before the proxy answers "not found" (a topic
created a moment ago is found).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ClusterMetadata,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    TopicMetadata,
)

METADATA_TTL_S = 5.0
REQUEST_TIMEOUT_S = 15.0
T = TypeVar("T")


async def wait(future: Future[T]) -> T:
    return await asyncio.wrap_future(future)


class AdminService:
    def __init__(self, config: Mapping[str, object]) -> None:
        self.config = dict(config)
        self._client: AdminClient | None = None
        self._metadata: ClusterMetadata | None = None
        self._metadata_at = 0.0
        self._refresh: asyncio.Task[ClusterMetadata] | None = None
        self._cluster_id: str | None = None

    @property
    def client(self) -> AdminClient:
        if self._client is None:  # created on first use: building the app connects to nothing
            self._client = AdminClient(self.config)  # type: ignore[arg-type]  # logger object
        return self._client

    # -- metadata ------------------------------------------------------------------------------

    async def metadata(self, *, fresh: bool = False) -> ClusterMetadata:
        if not fresh and self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL_S:
            return self._metadata
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.ensure_future(self._load_metadata())
        return await asyncio.shield(self._refresh)

    async def _load_metadata(self) -> ClusterMetadata:
        metadata = await asyncio.to_thread(self.client.list_topics, timeout=REQUEST_TIMEOUT_S)
        self._metadata, self._metadata_at = metadata, time.monotonic()
        return metadata

    async def topic(self, name: str) -> TopicMetadata | None:
        """The topic's metadata, or None if it does not exist (after one fresh look)."""
        metadata = await self.metadata()
        topic = metadata.topics.get(name)
        if topic is None or topic.error is not None:
            metadata = await self.metadata(fresh=True)
            topic = metadata.topics.get(name)
        if topic is None or topic.error is not None:
            return None
        return topic

    def forget_metadata(self) -> None:
        self._metadata = None

    async def cluster_id(self) -> str:
        if self._cluster_id is None:
            metadata = await self.metadata()
            self._cluster_id = metadata.cluster_id or "odradek"
        return self._cluster_id

    # -- configs --------------------------------------------------------------------------------

    async def describe_configs(self, resource: ConfigResource) -> dict[str, ConfigEntry]:
        futures = self.client.describe_configs([resource], request_timeout=REQUEST_TIMEOUT_S)
        result: dict[str, ConfigEntry] = await wait(futures[resource])
        return result

    async def alter_configs(
        self,
        resource: ConfigResource,
        changes: Sequence[tuple[str, str | None, AlterConfigOpType]],
        validate_only: bool = False,
    ) -> None:
        entries = [
            ConfigEntry(name, value, incremental_operation=operation) for name, value, operation in changes
        ]
        target = ConfigResource(resource.restype, resource.name, incremental_configs=entries)
        futures = self.client.incremental_alter_configs(
            [target], validate_only=validate_only, request_timeout=REQUEST_TIMEOUT_S
        )
        await wait(next(iter(futures.values())))

    # -- topics ---------------------------------------------------------------------------------

    async def create_topic(self, topic: NewTopic, validate_only: bool = False) -> None:
        futures = self.client.create_topics(
            [topic], validate_only=validate_only, request_timeout=REQUEST_TIMEOUT_S
        )
        await wait(futures[topic.topic])
        self.forget_metadata()

    async def delete_topic(self, name: str) -> None:
        futures = self.client.delete_topics([name], request_timeout=REQUEST_TIMEOUT_S)
        await wait(futures[name])
        self.forget_metadata()

    async def create_partitions(self, name: str, count: int) -> None:
        futures = self.client.create_partitions(
            [NewPartitions(name, count)], request_timeout=REQUEST_TIMEOUT_S
        )
        await wait(futures[name])
        self.forget_metadata()

    # -- offsets --------------------------------------------------------------------------------

    async def list_offsets(
        self, partitions: Sequence[tuple[str, int]], spec: OffsetSpec, isolation_committed: bool = False
    ) -> dict[tuple[str, int], int]:
        from confluent_kafka import IsolationLevel

        request = {TopicPartition(t, p): spec for t, p in partitions}
        if not request:
            return {}
        isolation = IsolationLevel.READ_COMMITTED if isolation_committed else IsolationLevel.READ_UNCOMMITTED
        futures = self.client.list_offsets(
            request, isolation_level=isolation, request_timeout=REQUEST_TIMEOUT_S
        )
        out: dict[tuple[str, int], int] = {}
        for tp, future in futures.items():
            info: Any = await wait(future)
            out[(tp.topic, tp.partition)] = int(info.offset)
        return out

    # -- groups ---------------------------------------------------------------------------------

    async def list_groups(self) -> list[Any]:
        result: Any = await wait(self.client.list_consumer_groups(request_timeout=REQUEST_TIMEOUT_S))
        return list(result.valid)

    async def describe_group(self, group: str) -> Any:
        futures = self.client.describe_consumer_groups([group], request_timeout=REQUEST_TIMEOUT_S)
        return await wait(futures[group])

    async def committed_offsets(self, group: str) -> dict[tuple[str, int], int]:
        futures = self.client.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=REQUEST_TIMEOUT_S
        )
        result: Any = await wait(futures[group])
        return {
            (tp.topic, tp.partition): tp.offset
            for tp in result.topic_partitions
            if tp.error is None and tp.offset >= 0
        }


def is_kafka_error(exc: BaseException) -> bool:
    return isinstance(exc, KafkaException)
