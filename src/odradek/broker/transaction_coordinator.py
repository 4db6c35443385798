"""The transaction coordinator inside a broker: `__transaction_state`, markers and producer id blocks.

`BrokerTransactionCoordinator` owns the transaction coordinator service (`TransactionCoordinatorService`
on the shared `CoordinatorRuntime`) and gives it what it needs, implemented over this broker's own
partitions:

    log              `PartitionCoordinatorLog` over `__transaction_state`: appends as the partition's
                     leader; answers wait until the partition's high watermark passes the records
    write_markers    one COMMIT/ABORT control batch per partition of the transaction
                     (`Partition.append_marker_as_leader`: producer-state epoch checks, `.txnindex` for
                     aborts), each waited for until committed (the produce purgatory, as an acks=all
                     produce); a `__consumer_offsets` partition loaded by the group coordinator gets its
                     marker through the group coordinator's runtime, which applies it to the
                     transaction's pending offsets (TxnOffsetCommit) once committed. Partitions led
                     by other brokers get theirs through WriteTxnMarkers (`txn_marker_channel.py`,
                     batched per broker); their leaders write them with `write_markers_here`, as this
                     broker does for its own
    allocate_block   a producer id block from the metadata log (`ProducerIdsRecord`), so ids never
                     repeat across restarts

The service (and with it the transaction coordinator's modules and message schemas) is created when
it is first needed: at start if `__transaction_state` exists or the broker is in a ZooKeeper cluster
(where a producer id block is a compare-and-set round trip, taken ahead of need as Kafka does), else
at the first InitProducerId (idempotent or transactional) or FindCoordinator for a transactional id;
a service started by a request fetches its first producer id block before answering. The next block
is fetched in the background once 90% of the current one is used (`producer_ids.py`).

`__transaction_state` is created on first use (FindCoordinator TRANSACTION, InitProducerId with a
transactional id) with Kafka's internal-topic settings, and every partition is loaded (its records
replayed up to the log end, as for groups) at creation and at broker start, and again whenever one
was unloaded; the coordinator epoch of a partition is its leader epoch. Transactional ids hash over
the topic's real partition count once it exists (as in Kafka), so a later change of
`transaction.state.log.num.partitions` does not move them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from odradek.broker.coordinator_loader import (
    BackgroundLoads,
    create_coordinator_topic,
    led_partitions,
    load_in_parallel,
)
from odradek.coordinator.partitioning import coordinator_partition
from odradek.metadata.config_resolution import broker_config_value
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import TopicPartition
from odradek.storage.errors import StorageError

if TYPE_CHECKING:
    from odradek.broker.app import Broker
    from odradek.broker.txn_marker_channel import MarkerChannelManager
    from odradek.broker.txn_verification import RemoteVerifier
    from odradek.coordinator.transaction.config import TransactionConfig
    from odradek.coordinator.transaction.producer_ids import ProducerIdBlock
    from odradek.coordinator.transaction.results import MarkerToWrite
    from odradek.coordinator.transaction.service import TransactionCoordinatorService
    from odradek.replication.partition import Partition

log = logging.getLogger("odradek.broker.transactions")
MARKER_TIMEOUT_MS = 30_000
"""How long a marker may wait to be committed before its write is retried (Kafka's request timeout)."""
MARKER_SLACK_MS = 5_000
"""What a WriteTxnMarkers to another broker may take beyond that before the connection is dropped."""
MARKER_SEND_TIMEOUT_S = (MARKER_TIMEOUT_MS + MARKER_SLACK_MS) / 1000
#: What partition verification (KIP-890 part 1) answers while the transaction's state is in flux or the
#: coordinator moves: retriable; Produce answers it as NOT_ENOUGH_REPLICAS, TxnOffsetCommit as
#: COORDINATOR_NOT_AVAILABLE, so that clients of either API retry.
RETRIABLE_VERIFICATION_ERRORS = frozenset(
    {
        ErrorCode.CONCURRENT_TRANSACTIONS,
        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        ErrorCode.NOT_COORDINATOR,
    }
)


class BrokerTransactionCoordinator:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._service: TransactionCoordinatorService | None = None
        self._marker_channels: MarkerChannelManager | None = None
        self._verifier: RemoteVerifier | None = None
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._starting: asyncio.Task[None] | None = None
        self._started = False
        self._background = BackgroundLoads()
        self._loading: asyncio.Task[ErrorCode] | None = None

    def _transaction_config(self) -> TransactionConfig:
        from odradek.coordinator.transaction.config import TransactionConfig
        from odradek.coordinator.transaction.metadata import TV_0

        config = self.broker.config
        num_partitions = config.int_value("transaction.state.log.num.partitions")
        topic = self.broker.image.topic(TRANSACTION_STATE_TOPIC_NAME)
        if topic is not None and topic.partitions:
            # ids hash over the topic's real partition count (as in Kafka), whatever the config says now
            num_partitions = len(topic.partitions)
        return TransactionConfig(
            transaction_max_timeout_ms=config.int_value("transaction.max.timeout.ms"),
            transactional_id_expiration_ms=config.int_value("transactional.id.expiration.ms"),
            num_partitions=num_partitions,
            offsets_topic_num_partitions=config.int_value("offsets.topic.num.partitions"),
            transaction_version=TV_0,  # `transaction.version` is not finalized above 0 (docs/exactly-once.md)
            abort_timed_out_transaction_cleanup_interval_ms=config.int_value(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms"
            ),
            remove_expired_transactional_id_cleanup_interval_ms=config.int_value(
                "transaction.remove.expired.transaction.cleanup.interval.ms"
            ),
        )

    @property
    def service(self) -> TransactionCoordinatorService:
        """The service, created on first use (see the module doc); `ensure_started` starts it."""
        if self._service is None:
            from odradek.broker.coordinator_log import PartitionCoordinatorLog
            from odradek.coordinator.transaction.service import TransactionCoordinatorService

            broker = self.broker
            log_ = PartitionCoordinatorLog(
                broker.partitions, TRANSACTION_STATE_TOPIC_NAME, broker.clock, broker.flusher
            )
            self._service = TransactionCoordinatorService(
                self._transaction_config(), broker.clock, log_, self._write_markers, self._allocate_block
            )
        return self._service

    @property
    def marker_channels(self) -> MarkerChannelManager:
        """Where markers for partitions led by other brokers go (on the inter-broker listener)."""
        if self._marker_channels is None:
            from odradek.broker.txn_marker_channel import MarkerChannelManager

            broker = self.broker
            self._marker_channels = MarkerChannelManager(
                broker.config.node_id, MARKER_SEND_TIMEOUT_S, broker.inter_broker.connect
            )
        return self._marker_channels

    @property
    def verifier(self) -> RemoteVerifier:
        """KIP-890 verification asked of the coordinator on another broker."""
        if self._verifier is None:
            from odradek.broker.txn_verification import RemoteVerifier

            broker = self.broker
            self._verifier = RemoteVerifier(
                broker.config.node_id, MARKER_SEND_TIMEOUT_S, broker.inter_broker.connect
            )
        return self._verifier

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._started = True
        if self.broker.image.topic(TRANSACTION_STATE_TOPIC_NAME) is not None:
            await self.service.start()
            # Loaded in the background: the broker serves meanwhile (FindCoordinator waits for it,
            # requests sent straight to a partition still loading get COORDINATOR_LOAD_IN_PROGRESS).
            self._readying()
        elif self.broker.config.zookeeper_connect is not None:
            # A cluster broker takes its first producer id block now, in the background, as Kafka's
            # does: a block is a compare-and-set round trip to ZooKeeper (and the service's first
            # import), which the first idempotent producer would otherwise wait for.
            self._starting = asyncio.get_running_loop().create_task(self._start_service())

    async def ensure_started(self) -> None:
        """Create and start the service if it is not yet (the first InitProducerId, transactional or
        idempotent, of a broker without `__transaction_state`), with its first block of producer ids."""
        starting = self._starting
        if starting is not None and not starting.done():
            # started at start (a cluster broker) or by another request: its first block may still
            # be on its way, which this request's InitProducerId waits for
            await asyncio.shield(starting)
            return
        if self._service is not None and self._service.runtime.started:
            return
        # In a task of its own, shared and shielded (as `ensure_ready`): a client disconnecting
        # while its InitProducerId waits must not cancel the start half-way.
        task = self._starting
        if task is None or task.done():
            task = self._starting = asyncio.get_running_loop().create_task(self._start_service())
        await asyncio.shield(task)

    async def _start_service(self) -> None:
        service = self.service
        if not service.runtime.started and self._started:
            await service.start(wait_for_ids=True)

    async def stop(self) -> None:
        self._started = False
        await self._background.stop()
        for task in (self._loading, self._starting):
            if task is not None:
                task.cancel()
                await asyncio.wait([task])
        self._loading = self._starting = None
        if self._service is not None:
            await self._service.stop()
        if self._marker_channels is not None:
            await self._marker_channels.stop()
        if self._verifier is not None:
            await self._verifier.stop()

    async def loaded(self) -> None:
        """Until the loading started at start is over."""
        if self._loading is not None:
            await asyncio.wait([self._loading])

    @property
    def ready(self) -> bool:
        return self._ready

    async def ensure_ready(self) -> ErrorCode:
        """Create `__transaction_state` if needed and load what is not loaded; NO_ERROR once serving.

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
            self.broker, TRANSACTION_STATE_TOPIC_NAME
        )

    def follow_leadership(self) -> None:
        """Stop serving the `__transaction_state` partitions this broker no longer leads; load the
        ones it leads now, in the background."""
        led = led_partitions(self.broker, TRANSACTION_STATE_TOPIC_NAME)
        loaded = self._service.runtime.partitions() if self._service is not None else []
        for index in loaded:
            if index not in led:
                self.service.unload(index)
                log.info(
                    "no longer the transaction coordinator of %s-%d", TRANSACTION_STATE_TOPIC_NAME, index
                )
        if self._started and not led <= set(loaded):
            self._background.start(self.ensure_ready)

    async def _make_ready(self) -> ErrorCode:
        if not self._started:
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        broker = self.broker
        if broker.image.topic(TRANSACTION_STATE_TOPIC_NAME) is None:
            created = await create_coordinator_topic(broker, TRANSACTION_STATE_TOPIC_NAME)
            if created is None:
                return ErrorCode.COORDINATOR_NOT_AVAILABLE
        await self.ensure_started()
        loaded = set(self.service.runtime.partitions())
        todo = []
        for index in sorted(led_partitions(broker, TRANSACTION_STATE_TOPIC_NAME)):
            if index in loaded:
                continue
            partition = broker.partitions.leader(TRANSACTION_STATE_TOPIC_NAME, index)
            if isinstance(partition, ErrorCode):
                return ErrorCode.COORDINATOR_NOT_AVAILABLE
            todo.append((index, partition))
        if not await load_in_parallel(functools.partial(self.service.load, in_thread=True), todo):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        self._ready = True
        return ErrorCode.NO_ERROR

    # --- what the service calls --------------------------------------------------------------
    async def _write_markers(self, marker: MarkerToWrite) -> Mapping[TopicPartition, ErrorCode]:
        """Markers on the partitions this broker leads, written here; on those other brokers lead,
        sent to them (WriteTxnMarkers, batched per broker), all at once. Partitions whose leader
        is unknown answer NOT_LEADER_OR_FOLLOWER: the service retries them after a backoff."""
        from odradek.broker.txn_marker_channel import Markers

        image = self.broker.image
        me = self.broker.config.node_id
        errors: dict[TopicPartition, ErrorCode] = {}
        local: list[TopicPartition] = []
        remote: dict[BrokerId, list[TopicPartition]] = {}
        for tp in marker.partitions:
            topic = image.topic(tp.topic)
            registration = None if topic is None else topic.partitions.get(tp.partition)
            if registration is None or registration.leader == me:
                local.append(tp)  # an unknown partition answers UNKNOWN_TOPIC_OR_PARTITION there
            elif registration.leader in image.brokers:
                remote.setdefault(registration.leader, []).append(tp)
            else:
                errors[tp] = ErrorCode.NOT_LEADER_OR_FOLLOWER
        sends = [
            self.marker_channels.send(
                leader,
                self.broker.inter_broker.endpoint(image.brokers[leader]),
                Markers(
                    marker.producer_id,
                    marker.producer_epoch,
                    marker.committed,
                    marker.coordinator_epoch,
                    frozenset(tps),
                ),
            )
            for leader, tps in remote.items()
        ]
        if local:
            sends.append(
                self.write_markers_here(
                    marker.producer_id,
                    marker.producer_epoch,
                    marker.committed,
                    marker.coordinator_epoch,
                    local,
                )
            )
        for result in await asyncio.gather(*sends):
            errors.update(result)
        return errors

    async def write_markers_here(
        self,
        producer_id: int,
        producer_epoch: int,
        committed: bool,
        coordinator_epoch: int,
        partitions: Iterable[TopicPartition],
    ) -> dict[TopicPartition, ErrorCode]:
        """Write one transaction's markers on partitions this broker leads, each answered once
        committed (the coordinator's own markers, and WriteTxnMarkers from another broker's)."""
        from odradek.protocol.records import CONTROL_ABORT, CONTROL_COMMIT
        from odradek.storage.producer_state import EndTxnMarker

        broker = self.broker
        groups = broker.groups.service
        content = EndTxnMarker(CONTROL_COMMIT if committed else CONTROL_ABORT, coordinator_epoch)
        errors: dict[TopicPartition, ErrorCode] = {}
        written = []
        now = broker.clock.now_ms()
        for tp in partitions:
            if tp.topic == GROUP_METADATA_TOPIC_NAME and groups.is_active(tp.partition):
                # the group coordinator's pending transactional offsets become committed, or vanish
                errors[tp] = await groups.complete_transaction(
                    tp.partition, producer_id, producer_epoch, committed, coordinator_epoch
                )
                continue
            partition = broker.partitions.leader(tp.topic, tp.partition)
            if isinstance(partition, ErrorCode):
                errors[tp] = partition
                continue
            try:
                info = partition.append_marker_as_leader(producer_id, producer_epoch, content, now)
            except StorageError as exc:
                errors[tp] = exc.error_code
                continue
            errors[tp] = ErrorCode.NO_ERROR
            written.append((partition, info.last_offset))
        for partition, last_offset in written:
            errors[partition.tp] = await self._committed(partition, last_offset)
        return errors

    async def _committed(self, partition: Partition, last_offset: int) -> ErrorCode:
        """Wait until the marker is committed (as an acks=all produce would), and fsynced if asked."""
        from odradek.broker.delayed_produce import DelayedProduce, ProduceWait
        from odradek.protocol.messages.produce import PartitionProduceResponse

        result = PartitionProduceResponse(index=partition.tp.partition)
        delayed = DelayedProduce([ProduceWait(partition, last_offset + 1, result)])
        if not self.broker.produce_purgatory.try_complete_else_watch(delayed, MARKER_TIMEOUT_MS):
            await delayed.wait()
        if result.error_code != ErrorCode.NO_ERROR:
            return ErrorCode(result.error_code)
        try:
            await self.broker.wait_flushed(partition, last_offset)
        except StorageError as exc:
            return exc.error_code
        return ErrorCode.NO_ERROR

    async def _allocate_block(self) -> ProducerIdBlock:
        from odradek.coordinator.transaction.producer_ids import ProducerIdBlock
        from odradek.metadata.controller.brokers import allocate_producer_ids

        node = BrokerId(self.broker.config.node_id)
        block = await self.broker.run_controller(lambda image: allocate_producer_ids(image, node))
        return ProducerIdBlock(block.first_producer_id, block.size)

    # --- produce-path verification (KIP-890 part 1) ------------------------------------------
    def verification_enabled(self) -> bool:
        broker = self.broker
        value = broker_config_value(
            broker.image, broker.config.static, "transaction.partition.verification.enable"
        )
        return bool(value)

    def coordinated_here(self, transactional_id: str) -> bool:
        """Is this broker the coordinator of `transactional_id` (or would it be: the topic does not
        exist yet, or its partition has no leader)?"""
        return self._coordinator_of(transactional_id) is None

    def _coordinator_of(self, transactional_id: str) -> BrokerId | None:
        """The other broker leading the id's `__transaction_state` partition, else None."""
        topic = self.broker.image.topic(TRANSACTION_STATE_TOPIC_NAME)
        if topic is None or not topic.partitions:
            return None
        leader = topic.partitions[coordinator_partition(transactional_id, len(topic.partitions))].leader
        return None if leader in (self.broker.config.node_id, -1) else leader

    async def verify(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: list[TopicPartition],
        *,
        add: bool = False,
    ) -> dict[TopicPartition, ErrorCode]:
        """KIP-890 part 1: are `partitions` in the transaction? Asked of the coordinator, here or on
        the broker leading the id's `__transaction_state` partition (AddPartitionsToTxn v4). `add`
        (part 2, a transaction version 2 producer's Produce v12+): add them first (v5)."""
        leader = self._coordinator_of(transactional_id)
        if leader is None:
            if add:
                from odradek.coordinator.transaction.metadata import TV_2

                error = await self.service.add_partitions(
                    transactional_id, producer_id, producer_epoch, partitions, TV_2
                )
                if error is not ErrorCode.NO_ERROR:
                    return dict.fromkeys(partitions, error)
            return self.service.verify_partitions(transactional_id, producer_id, producer_epoch, partitions)
        registration = self.broker.image.brokers.get(leader)
        if registration is None:
            return dict.fromkeys(partitions, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        return await self.verifier.verify(
            leader,
            self.broker.inter_broker.endpoint(registration),
            transactional_id,
            producer_id,
            producer_epoch,
            partitions,
            add=add,
        )
