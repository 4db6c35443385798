"""The group coordinator inside a broker: `__consumer_offsets`, its loading and its topics view.

`BrokerGroupCoordinator` owns the group coordinator service (`GroupCoordinatorService` on the shared
`CoordinatorRuntime`) and gives it what it needs, implemented over this broker's own partitions:

    log      `PartitionCoordinatorLog` over `__consumer_offsets`: appends as the partition's leader,
             the partition's high watermark and its listener (answers wait for the commit). A
             refused append makes the runtime drop the shard, and this class loads it again from the
             log the next time a client looks the coordinator up (`ensure_ready`).
    topics   `ImageTopics`, a `TopicsView` over the broker's current metadata image.

`__consumer_offsets` is created on first use (FindCoordinator for a group) with Kafka's internal-topic
settings (`offsets.topic.num.partitions`, compacted), and every partition is loaded — its records
replayed up to the log end (`coordinator_loader.entries`), the part above the high watermark as
pending — at creation and at broker start, at the partition's leader epoch. The number of shards is
the topic's real partition count, as in Kafka, which keeps `offsets.topic.num.partitions` only for
creating it. While the topic is being created or loaded, `ensure_ready` callers wait; a failure to
create it answers COORDINATOR_NOT_AVAILABLE (retriable).

When topics are deleted, the broker calls `on_topics_deleted` (as Kafka's metadata publisher calls
its group coordinator's onPartitionsDeleted): every loaded shard writes tombstones for the offsets
of those topics before the deletion is answered. When topics are created or deleted, it calls
`on_topics_changed` (Kafka's onNewMetadataImage): every loaded shard resolves its groups' regex
subscriptions again and bumps the epoch of the groups whose topics changed.

The service (and with it the group coordinator's modules and message schemas) is created when it is
first needed: at start if `__consumer_offsets` exists, else at the first group request or
FindCoordinator. Until then no group can exist, and a request reaching the service before any
partition is loaded answers NOT_COORDINATOR, as Kafka's does.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from odradek.broker.coordinator_loader import (
    BackgroundLoads,
    create_coordinator_topic,
    led_partitions,
    load_in_parallel,
)
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.security.acl import AclOperation, ResourceType

if TYPE_CHECKING:
    from odradek.broker.app import Broker
    from odradek.broker.context import RequestContext
    from odradek.coordinator.context import RequestContext as CoordinatorContext
    from odradek.coordinator.group.config import GroupCoordinatorConfig
    from odradek.coordinator.group.service import GroupCoordinatorService
    from odradek.coordinator.group.topics import TopicInfo
    from odradek.metadata.image import TopicImage

log = logging.getLogger("odradek.broker.groups")
MINUTE_MS = 60_000


def coordinator_config(broker: Broker, num_partitions: int | None = None) -> GroupCoordinatorConfig:
    """Kafka's group coordinator settings from the broker's configuration."""
    from odradek.coordinator.group.config import GroupCoordinatorConfig

    config = broker.config
    return GroupCoordinatorConfig(
        offsets_topic_num_partitions=num_partitions or config.int_value("offsets.topic.num.partitions"),
        group_min_session_timeout_ms=config.int_value("group.min.session.timeout.ms"),
        group_max_session_timeout_ms=config.int_value("group.max.session.timeout.ms"),
        group_initial_rebalance_delay_ms=config.int_value("group.initial.rebalance.delay.ms"),
        group_max_size=config.int_value("group.max.size"),
        consumer_group_session_timeout_ms=config.int_value("group.consumer.session.timeout.ms"),
        consumer_group_heartbeat_interval_ms=config.int_value("group.consumer.heartbeat.interval.ms"),
        consumer_group_max_size=config.int_value("group.consumer.max.size"),
        consumer_group_assignors=tuple(str(a) for a in _list(config.value("group.consumer.assignors"))),
        offsets_retention_ms=config.int_value("offsets.retention.minutes") * MINUTE_MS,
        offsets_retention_check_interval_ms=config.int_value("offsets.retention.check.interval.ms"),
        offset_metadata_max_bytes=config.int_value("offset.metadata.max.bytes"),
    )


def _list(value: object) -> tuple[object, ...]:
    assert isinstance(value, list | tuple), value
    return tuple(value)


def coordinator_context(ctx: RequestContext) -> CoordinatorContext:
    """Who asked, as the coordinator wants it (the host as Kafka shows it: "/" + ip), and with an
    authorizer which topics the principal may describe (regex subscriptions match only those)."""
    authorizer = ctx.ports.authorizer
    if not authorizer.enabled:
        # The usual case: the same few (client, host, version) ask again and again (a consumer's
        # synchronous commits); the frozen context is shared instead of built per request.
        key = (ctx.client_id, ctx.client_host, ctx.api_version)
        found = _CONTEXTS.get(key)
        if found is None:
            if len(_CONTEXTS) >= _MAX_CONTEXTS:
                _CONTEXTS.clear()
            found = _CONTEXTS[key] = _context_type()(
                ctx.client_id or "", "/" + ctx.client_host, ctx.api_version, None
            )
        return found

    def may_describe(topic: str) -> bool:
        return bool(authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (topic,)))

    return _context_type()(ctx.client_id or "", "/" + ctx.client_host, ctx.api_version, may_describe)


_CONTEXTS: dict[tuple[str | None, str, int], CoordinatorContext] = {}
_MAX_CONTEXTS = 4096


@functools.cache
def _context_type() -> type[CoordinatorContext]:
    from odradek.coordinator.context import RequestContext as CoordinatorContext

    return CoordinatorContext


class ImageTopics:
    """`TopicsView` over the broker's current metadata image (read afresh on every call)."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    def topic(self, name: str) -> TopicInfo | None:
        return _info(self._broker.image.topic(name))

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicInfo | None:
        return _info(self._broker.image.topics_by_id.get(topic_id))

    def topic_names(self) -> Iterable[str]:
        return self._broker.image.topics_by_name.keys()


def _info(topic: TopicImage | None) -> TopicInfo | None:
    from odradek.coordinator.group.topics import TopicInfo

    return None if topic is None else TopicInfo(topic.topic_id, topic.name, len(topic.partitions))


class BrokerGroupCoordinator:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._service: GroupCoordinatorService | None = None
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._loading: asyncio.Task[ErrorCode] | None = None
        self._started = False
        self._background = BackgroundLoads()

    @property
    def service(self) -> GroupCoordinatorService:
        """The service, created on first use (see the module doc); `_make_ready` starts it."""
        if self._service is None:
            self._service = self._new_service(coordinator_config(self.broker))
        return self._service

    def _new_service(self, config: GroupCoordinatorConfig) -> GroupCoordinatorService:
        from odradek.broker.coordinator_log import PartitionCoordinatorLog
        from odradek.coordinator.group.service import GroupCoordinatorService

        broker = self.broker
        log_ = PartitionCoordinatorLog(
            broker.partitions, GROUP_METADATA_TOPIC_NAME, broker.clock, broker.flusher
        )
        topics = ImageTopics(broker)
        return GroupCoordinatorService.create(broker.clock, log_, topics, config, broker.rng)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = True
        if self.broker.image.topic(GROUP_METADATA_TOPIC_NAME) is not None:
            # Loaded in the background: the broker serves meanwhile (FindCoordinator waits for it,
            # requests sent straight to a partition still loading get COORDINATOR_LOAD_IN_PROGRESS).
            self._readying()

    async def stop(self) -> None:
        """Stop timers and unload every shard (parked requests answer NOT_COORDINATOR)."""
        self._started = False
        await self._background.stop()
        loading, self._loading = self._loading, None
        if loading is not None:
            loading.cancel()
            await asyncio.wait([loading])
        if self._service is not None:
            await self._service.stop()

    async def loaded(self) -> None:
        """Until the loading started at start is over."""
        if self._loading is not None:
            await asyncio.wait([self._loading])

    @property
    def ready(self) -> bool:
        return self._ready

    async def ensure_ready(self) -> ErrorCode:
        """Create `__consumer_offsets` if needed and load what is not loaded; NO_ERROR once serving.

        The work runs in a task of its own, shared by every caller and shielded from them: a client
        that disconnects while its FindCoordinator waits must not cancel a load half-way."""
        if self._ready and self._all_loaded():
            return ErrorCode.NO_ERROR
        return await asyncio.shield(self._readying())

    def _readying(self) -> asyncio.Task[ErrorCode]:
        task = self._loading
        if task is None or task.done():
            task = self._loading = asyncio.get_running_loop().create_task(self._make_ready_locked())
        return task

    async def _make_ready_locked(self) -> ErrorCode:
        async with self._ready_lock:
            return await self._make_ready()

    def _all_loaded(self) -> bool:
        return self._service is not None and set(self._service.runtime.partitions()) == led_partitions(
            self.broker, GROUP_METADATA_TOPIC_NAME
        )

    def follow_leadership(self) -> None:
        """After a metadata change: stop serving the partitions this broker no longer leads (their
        groups answer NOT_COORDINATOR, clients find the new coordinator), and load the ones it leads
        now, in the background (clients are sent here by any broker's FindCoordinator)."""
        if not self._started:
            return
        led = led_partitions(self.broker, GROUP_METADATA_TOPIC_NAME)
        loaded = self._service.runtime.partitions() if self._service is not None else []
        for index in loaded:
            if index not in led:
                self.service.unload(index)
                log.info("no longer the group coordinator of %s-%d", GROUP_METADATA_TOPIC_NAME, index)
        if not led <= set(loaded):
            self._background.start(self.ensure_ready)

    async def _make_ready(self) -> ErrorCode:
        if not self._started:
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        broker = self.broker
        topic = broker.image.topic(GROUP_METADATA_TOPIC_NAME)
        if topic is None:
            topic = await create_coordinator_topic(broker, GROUP_METADATA_TOPIC_NAME)
            if topic is None:
                return ErrorCode.COORDINATOR_NOT_AVAILABLE
        count = len(topic.partitions)
        if self._service is None:
            self._service = self._new_service(coordinator_config(broker, count))
        if count != self._service.config.offsets_topic_num_partitions:
            # The shards must follow the topic as it is, whatever the config says now.
            await self._service.stop()
            self._service = self._new_service(coordinator_config(broker, count))
        await self._service.start()  # (a no-op once started)
        loaded = set(self.service.runtime.partitions())
        todo = []
        for index in sorted(led_partitions(broker, GROUP_METADATA_TOPIC_NAME)):
            if index in loaded:
                continue
            partition = broker.partitions.leader(GROUP_METADATA_TOPIC_NAME, index)
            if isinstance(partition, ErrorCode):
                return ErrorCode.COORDINATOR_NOT_AVAILABLE
            todo.append((index, partition))
        if not await load_in_parallel(functools.partial(self.service.load, in_thread=True), todo):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        self._ready = True
        return ErrorCode.NO_ERROR

    async def on_topics_deleted(self, topics: Collection[str]) -> None:
        """Topics were deleted: drop their groups' offsets (tombstones in `__consumer_offsets`)."""
        if not self._started or not topics or self._service is None:
            return
        dropped = await self.service.on_topics_deleted(topics)
        if dropped:
            log.info("deleted %d committed offsets of deleted topics %s", dropped, sorted(topics))

    async def on_topics_changed(self, created: Collection[str], deleted: Collection[str]) -> None:
        """Topics were created or deleted: resolve the groups' regex subscriptions again, so that a
        new matching topic is assigned at the members' next heartbeat."""
        if not self._started or not (created or deleted) or self._service is None:
            return
        bumped = await self.service.on_topics_changed()
        if bumped:
            log.info("%d consumer groups have new regex subscription topics", bumped)
