"""The group coordinator inside a broker: `__consumer_offsets`, its loading, appends and topics view.

`BrokerGroupCoordinator` owns the pure-core shell (`GroupCoordinatorService`) and gives it what it
needs, implemented over this broker's own partitions (single node):

    append   the records of one coordinator operation as one uncompressed, non-transactional record
             batch, appended to the `__consumer_offsets` partition as its leader (the partition moves
             its high watermark and wakes what waits on it); it returns None (written) unless the
             topic sets `flush.messages` (then an awaitable that waits for the fsync). A refused
             append (`StorageError`, e.g. a record above `max.message.bytes`) comes back as a failed
             awaitable; the runtime then drops the shard and this class reloads it from the log the
             next time a client looks the coordinator up (`ensure_ready`).
    topics   `ImageTopics`, a `TopicsView` over the broker's current metadata image.

`__consumer_offsets` is created on first use (FindCoordinator for a group) with Kafka's internal-topic
settings (`offsets.topic.num.partitions`, compacted), and every partition is loaded — its records
replayed, one `LogRecord` per record (with the producer id of a transactional batch) and one
`TransactionMarker` per control record — at creation and at broker start. The number of shards is
the topic's real partition count, as in Kafka, which keeps `offsets.topic.num.partitions` only for
creating it. While the topic is being created or loaded, `ensure_ready` callers wait; a failure to
create it answers COORDINATOR_NOT_AVAILABLE (retriable).

When topics are deleted, the broker calls `on_topics_deleted` (as Kafka's metadata publisher calls
its group coordinator's onPartitionsDeleted): every loaded shard writes tombstones for the offsets
of those topics before the deletion is answered. When topics are created or deleted, it calls
`on_topics_changed` (Kafka's onNewMetadataImage): every loaded shard resolves its groups' regex
subscriptions again and bumps the epoch of the groups whose topics changed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Collection, Iterable, Iterator
from typing import TYPE_CHECKING

from odradek.broker.coordinator_loader import batches, create_coordinator_topic
from odradek.coordinator.context import RequestContext as CoordinatorContext
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.service import GroupCoordinatorService
from odradek.coordinator.group.topics import TopicInfo
from odradek.coordinator.shard import LogEntry, LogRecord, TransactionMarker
from odradek.metadata.image import TopicImage
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.protocol.primitives import ProtocolError
from odradek.protocol.records import (
    CONTROL_COMMIT,
    BatchSpec,
    build_batch,
    control_type,
    iter_records,
    read_header,
)
from odradek.storage.errors import StorageError
from odradek.storage.partition_log import PartitionLog
from odradek.storage.producer_state import AppendOrigin

if TYPE_CHECKING:
    from odradek.broker.app import Broker
    from odradek.broker.context import RequestContext

log = logging.getLogger("odradek.broker.groups")
MINUTE_MS = 60_000


def coordinator_config(broker: Broker, num_partitions: int | None = None) -> GroupCoordinatorConfig:
    """Kafka's group coordinator settings from the broker's configuration."""
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
    """Who asked, as the coordinator wants it (the host as Kafka shows it: "/" + ip)."""
    return CoordinatorContext(ctx.client_id or "", "/" + ctx.client_host, ctx.api_version)


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
    return None if topic is None else TopicInfo(topic.topic_id, topic.name, len(topic.partitions))


class BrokerGroupCoordinator:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.service = self._new_service(coordinator_config(broker))
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._started = False

    def _new_service(self, config: GroupCoordinatorConfig) -> GroupCoordinatorService:
        broker = self.broker
        topics = ImageTopics(broker)
        return GroupCoordinatorService.create(broker.clock, self._append, topics, config, broker.rng)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.service.start()
        self._started = True
        if self.broker.image.topic(GROUP_METADATA_TOPIC_NAME) is not None:
            await self.ensure_ready()

    async def stop(self) -> None:
        """Stop timers and unload every shard (parked requests answer NOT_COORDINATOR)."""
        self._started = False
        await self.service.stop()

    @property
    def ready(self) -> bool:
        return self._ready

    async def ensure_ready(self) -> ErrorCode:
        """Create `__consumer_offsets` if needed and load what is not loaded; NO_ERROR once serving."""
        if self._ready and self._all_loaded():
            return ErrorCode.NO_ERROR
        async with self._ready_lock:
            return await self._make_ready()

    def _all_loaded(self) -> bool:
        return len(self.service.runtime.partitions()) == self.service.config.offsets_topic_num_partitions

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
        if count != self.service.config.offsets_topic_num_partitions:
            # The shards must follow the topic as it is, whatever the config says now.
            await self.service.stop()
            self.service = self._new_service(coordinator_config(broker, count))
            self.service.start()
        loaded = set(self.service.runtime.partitions())
        for index in range(count):
            if index in loaded:
                continue
            partition = broker.partitions.leader(GROUP_METADATA_TOPIC_NAME, index)
            if isinstance(partition, ErrorCode):
                return ErrorCode.COORDINATOR_NOT_AVAILABLE
            try:
                self.service.load(index, list(log_entries(partition.log)))
            except StorageError:
                log.exception("loading %s failed", partition.tp)
                return ErrorCode.COORDINATOR_NOT_AVAILABLE
            await asyncio.sleep(0)  # let other requests run between partitions
        self._ready = True
        return ErrorCode.NO_ERROR

    async def on_topics_deleted(self, topics: Collection[str]) -> None:
        """Topics were deleted: drop their groups' offsets (tombstones in `__consumer_offsets`)."""
        if not self._started or not topics:
            return
        dropped = await self.service.on_topics_deleted(topics)
        if dropped:
            log.info("deleted %d committed offsets of deleted topics %s", dropped, sorted(topics))

    async def on_topics_changed(self, created: Collection[str], deleted: Collection[str]) -> None:
        """Topics were created or deleted: resolve the groups' regex subscriptions again, so that a
        new matching topic is assigned at the members' next heartbeat."""
        if not self._started or not (created or deleted):
            return
        bumped = await self.service.on_topics_changed()
        if bumped:
            log.info("%d consumer groups have new regex subscription topics", bumped)

    # --- what the service calls --------------------------------------------------------------

    def _append(
        self,
        index: int,
        records: list[tuple[bytes, bytes | None]],
        producer: tuple[int, int] | None = None,
    ) -> Awaitable[None] | None:
        """Append now; None when done, an awaitable when the topic wants an fsync first.

        With `producer` (TxnOffsetCommit), the records go in a transactional batch of that producer id
        and epoch, appended as the coordinator's (`AppendOrigin.COORDINATOR`: epoch checked, no
        sequence), so the partition's producer state holds the transaction open until its marker.

        Done at once, the runtime answers without another trip through the event loop (it only waits
        for appends still running). A failure comes back in a failed awaitable, never raised here, so
        that the runtime handles it as a failed append.
        """
        broker = self.broker
        try:
            partition = broker.partitions.get(GROUP_METADATA_TOPIC_NAME, index)
            if partition is None or not partition.is_leader:
                raise StorageError(f"{GROUP_METADATA_TOPIC_NAME}-{index} is not hosted here")
            now = broker.clock.now_ms()
            spec = BatchSpec()
            if producer is not None:
                spec = BatchSpec(producer_id=producer[0], producer_epoch=producer[1], is_transactional=True)
            batch = bytearray(build_batch([(key, value, [], now) for key, value in records], spec))
            info = partition.append_as_leader(batch, [read_header(batch)], now, AppendOrigin.COORDINATOR)
        except Exception as exc:
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed
        if partition.log.config.flush_on_messages:
            return asyncio.ensure_future(broker.wait_flushed(partition, info.last_offset))
        return None


def log_entries(log_: PartitionLog) -> Iterator[LogEntry]:
    """What a shard replays: every record and transaction marker up to the log end, in offset order.

    A record that cannot be parsed is skipped with a warning, so that one bad record never keeps a
    whole partition's groups from loading.
    """
    for chunk, pos, header in batches(log_, log_.log_end_offset):
        try:
            records = list(iter_records(chunk, pos, header))
        except ProtocolError:
            log.warning("skipping an unreadable batch of %s at %d", log_.tp, header.base_offset)
            continue
        producer_id = header.producer_id if header.is_transactional else -1
        for record in records:
            if record.offset < log_.log_start_offset:
                continue
            if header.is_control:
                kind = control_type(record.key)
                if kind >= 0:
                    yield TransactionMarker(header.producer_id, kind == CONTROL_COMMIT)
            elif record.key is not None:
                yield LogRecord(record.key, record.value, producer_id)
