"""A broker process: metadata store, partition logs, the Kafka listener, background work.

`Broker` is the composition root. Handlers do not see it: they get typed ports (`ports.py`:
partitions, metadata, coordinators, node, config...), some of which the broker implements itself
(`MetadataPort`, `NodePort`, `StatsPort`). It owns its background tasks (`start()`/`stop()`): the
log flusher, retention, the log cleaner (compacted topics), checkpoints, metadata publishing and the
metrics endpoint. Metadata changes go through `run_controller`, which computes records with a pure
controller function and applies them to the metadata store (durably, in a worker thread; fsync),
one change at a time; the store notifies its publishers (`metadata_publishing.py`: the hosted
partitions, the group coordinator), and the change is answered once they followed it. A change runs
in its own task, shielded from the request that asked for it: a client that disconnects mid-request
cancels its wait, never the change (once records are persisted, the hosted partitions must follow
them). The broker is also every partition's listener: a moved high watermark completes what waits
in its purgatories.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import itertools
import logging
import operator
import random
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from odradek.broker.authorization import BrokerAuthorizer
from odradek.broker.config import BrokerConfig
from odradek.broker.connection import SessionSettings
from odradek.broker.connection_quotas import (
    ConnectionLimits,
    IpCreationRates,
    listener_overrides,
    parse_overrides,
)
from odradek.broker.dispatcher import Dispatcher
from odradek.broker.fetch_sessions import FetchSessionCache
from odradek.broker.group_coordinator import BrokerGroupCoordinator
from odradek.broker.handlers import ENTRIES
from odradek.broker.inter_broker import InterBrokerConnector
from odradek.broker.isr_writer import StoreIsrWriter
from odradek.broker.keystore_update import KeystoreUpdateCheck
from odradek.broker.listener_security import SecurityContext, listener_security, parse_protocol_map
from odradek.broker.log_cleaner_service import LogCleanerService
from odradek.broker.metadata_publishing import (
    CoordinatorLeadershipPublisher,
    GroupTopicsPublisher,
    MetadataPublishing,
    PartitionPublisher,
)
from odradek.broker.metrics import BrokerMetrics, PartitionStat
from odradek.broker.metrics_http import MetricsEndpoint
from odradek.broker.partitions import new_local_partitions
from odradek.broker.periodic import Periodic
from odradek.broker.ports import BrokerPorts, Purgatories
from odradek.broker.purgatory import Purgatory
from odradek.broker.quotas import BrokerQuotas
from odradek.broker.replica_fetcher import FetcherSettings, ReplicaFetcherManager
from odradek.broker.schema_validation import SchemaValidation
from odradek.broker.server import KafkaServer
from odradek.broker.tls_reload import TlsReloadPublisher
from odradek.broker.transaction_coordinator import BrokerTransactionCoordinator
from odradek.metadata.config_resolution import broker_config_value
from odradek.metadata.controller.brokers import bootstrap_single_node, join_cluster
from odradek.metadata.controller.result import ControllerResult
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.local_store import LocalMetadataStore
from odradek.metadata.log_config_builder import log_config_kwargs
from odradek.metadata.records import MetadataRecord
from odradek.metadata.store import MetadataConflictError, MetadataStore
from odradek.model.clock import Clock, SystemClock
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages.api_versions import ApiVersion
from odradek.replication.isr import NO_ISR_WRITER, IsrWriter
from odradek.replication.manager import PartitionManager
from odradek.replication.partition import Partition
from odradek.security.sasl.scram_credentials import ScramCredential
from odradek.storage.errors import StorageError
from odradek.storage.flusher import LogFlusher
from odradek.storage.log_cleaner import CleanerConfig
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager, remove_paths

if TYPE_CHECKING:
    from odradek.broker.cluster_membership import ClusterMembership
    from odradek.broker.jwks import JwksRefresher
    from odradek.metadata.controller.topics import CreatableTopic, CreateTopicResult

log = logging.getLogger("odradek.broker")
_STORE_IMAGE = operator.attrgetter("store.image")
"""A started broker's current cluster image (`Broker.image` without a Python call)."""


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def connection_limits(config: BrokerConfig, inter_broker_listener: str) -> ConnectionLimits:
    """Kafka's connection limit configs; the per-listener ones are ``listener.name.<l>.`` prefixed."""
    props = config.static.values
    return ConnectionLimits(
        max_connections=config.int_value("max.connections"),
        max_connections_per_ip=config.int_value("max.connections.per.ip"),
        per_ip_overrides=parse_overrides(str(config.value("max.connections.per.ip.overrides") or "")),
        creation_rate=config.int_value("max.connection.creation.rate"),
        max_idle_ms=config.int_value("connections.max.idle.ms"),
        per_listener=listener_overrides(props, "max.connections", int),
        creation_rate_per_listener=listener_overrides(props, "max.connection.creation.rate", float),
        # as in Kafka, the inter-broker listener is protected only when there are others to limit
        inter_broker_listener=inter_broker_listener if len(config.listeners) > 1 else None,
    )


def _jwks_refresher(config: BrokerConfig) -> JwksRefresher | None:
    url = config.value("sasl.oauthbearer.jwks.endpoint.url")
    if not url:
        return None
    from odradek.broker.jwks import JwksRefresher
    from odradek.security.sasl.jwt_validation import SignedJwtValidator

    audience = config.value("sasl.oauthbearer.expected.audience") or ()
    assert isinstance(audience, tuple)
    issuer = config.value("sasl.oauthbearer.expected.issuer")
    template = SignedJwtValidator(
        SignedJwtValidator.empty().key_set,
        issuer=str(issuer) if issuer else None,
        audience=frozenset(str(a) for a in audience),
        principal_claim=str(config.value("sasl.oauthbearer.sub.claim.name") or "sub"),
        scope_claim=str(config.value("sasl.oauthbearer.scope.claim.name") or "scope"),
        clock_skew_ms=config.int_value("sasl.oauthbearer.clock.skew.seconds") * 1000,
    )
    return JwksRefresher(str(url), config.int_value("sasl.oauthbearer.jwks.endpoint.refresh.ms"), template)


T = TypeVar("T")
METADATA_DIR = "odradek-metadata"
CHECKPOINT_INTERVAL_MS = 60_000
MAX_CONFLICTS = 20


class Broker:
    def __init__(
        self,
        config: BrokerConfig,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        *,
        metadata_store: MetadataStore | None = None,
        isr_writer: IsrWriter | None = None,
    ) -> None:
        """`metadata_store`: the cluster's (shared in tests, ZooKeeper's in a cluster) instead of
        the single node's local one; the broker then only registers itself in it. `isr_writer`:
        where its partitions' ISR changes go (default: written to `metadata_store` by
        compare-and-set, `StoreIsrWriter`)."""
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.metrics = BrokerMetrics()
        self.logs = LogManager(
            list(config.log_dirs),
            max_open_files=config.int_value("odradek.log.max.open.files"),
            recovery_threads_per_dir=config.int_value("num.recovery.threads.per.data.dir"),
            cleaner_config=CleanerConfig(
                dedupe_buffer_size=config.int_value("log.cleaner.dedupe.buffer.size"),
                io_buffer_size=config.int_value("log.cleaner.io.buffer.size"),
                producer_id_expiration_ms=config.int_value("producer.id.expiration.ms"),
            ),
        )
        self.cleaner: LogCleanerService | None = None
        if config.bool_value("log.cleaner.enable") and config.int_value("log.cleaner.threads") > 0:
            self.cleaner = LogCleanerService(
                self.logs.cleaner, self.clock, config.int_value("log.cleaner.backoff.ms")
            )
        self.store: MetadataStore | None = None
        self._given_store = metadata_store
        self.cluster: ClusterMembership | None = None
        if config.zookeeper_connect is not None and metadata_store is None:
            from odradek.broker.cluster_membership import ClusterMembership  # (only in a ZooKeeper cluster)

            self.cluster = ClusterMembership(self)
        self.produce_purgatory: Purgatory[TopicPartition] = Purgatory("produce")
        self.fetch_purgatory: Purgatory[TopicPartition] = Purgatory("fetch")
        # what waits where, read on every append (a dict lookup instead of two calls)
        self._produce_waits = self.produce_purgatory.watchers
        self._fetch_waits = self.fetch_purgatory.watchers
        self.partitions = PartitionManager(
            self.logs, config.node_id, self.log_config, self.clock.now_ms, listeners=(self,)
        )
        if isr_writer is None and metadata_store is not None:
            isr_writer = StoreIsrWriter(
                metadata_store, threading.Lock(), self.partitions.isr_change_failed, config.static
            )
        if isr_writer is not None:
            self.partitions.isr_writer = isr_writer
        self.jwks = _jwks_refresher(config)
        self.listener_security = {
            listener.name: listener_security(
                config.static.values,
                listener.name,
                parse_protocol_map(str(config.value("listener.security.protocol.map") or "")),
                SecurityContext(
                    self._scram_credential,
                    self.clock.now_ms,
                    self.jwks.current if self.jwks is not None else (lambda: None),
                ),
            )
            for listener in config.listeners
        }
        self.inter_broker = InterBrokerConnector.of(
            config, self.listener_security, required=metadata_store is not None or self.cluster is not None
        )
        """Where every connection to another broker comes from (`inter_broker.py`)."""
        self.fetchers = ReplicaFetcherManager(
            self.partitions, FetcherSettings.of(config), self.clock, self.inter_broker
        )
        self.flusher = LogFlusher(self.logs, self.clock)
        self.fetch_sessions = FetchSessionCache(
            config.int_value("max.incremental.fetch.session.cache.slots"), self.rng
        )
        self.transactions = BrokerTransactionCoordinator(self)
        self.groups = BrokerGroupCoordinator(self)
        self.publishing = MetadataPublishing(
            [
                PartitionPublisher(self.partitions, config.static),
                self.fetchers,
                CoordinatorLeadershipPublisher(self.groups, self.transactions),
                GroupTopicsPublisher(self.groups),
            ]
        )
        self.publishing.publishers.append(
            TlsReloadPublisher(self.listener_security, config.static.values, config.node_id)
        )
        self.authorizer = BrokerAuthorizer(
            lambda: self.image,
            self.clock.now_ms,
            class_name=str(config.value("authorizer.class.name") or ""),
            super_users=config.static.get("super.users"),
            allow_everyone_if_no_acl_found=config.bool_value("allow.everyone.if.no.acl.found"),
            audit_path=str(config.value("odradek.authorizer.audit.log") or ""),
            audit_allowed=config.bool_value("odradek.authorizer.audit.allowed"),
            metrics=self.metrics,
        )
        self.quotas = BrokerQuotas(
            functools.partial(_STORE_IMAGE, self),  # `self.image` without two Python calls a request
            self.clock.now_ms,
            window_num=config.int_value("quota.window.num"),
            window_size_s=config.int_value("quota.window.size.seconds"),
            metrics=self.metrics,
        )
        registry_url = config.value("confluent.schema.registry.url")
        self.ports = BrokerPorts(
            partitions=self.partitions,
            metadata=self,
            groups=self.groups,
            transactions=self.transactions,
            node=self,
            config=config,
            clock=self.clock,
            fetch_sessions=self.fetch_sessions,
            purgatories=Purgatories(self.produce_purgatory, self.fetch_purgatory),
            flusher=self.flusher,
            log_dirs=self.logs,
            stats=self,
            authorizer=self.authorizer,
            quotas=self.quotas,
            schemas=SchemaValidation(registry_url if isinstance(registry_url, str) else None, self.clock),
            broker_config_check=KeystoreUpdateCheck(
                self.listener_security, config.static.values, config.node_id
            ),
        )
        self.dispatcher = Dispatcher(ENTRIES, self.ports, self.metrics)
        self.server = KafkaServer(
            self.dispatcher,
            config.int_value("socket.request.max.bytes"),
            self.metrics,
            connection_limits(config, self.inter_broker.listener),
            security=self.listener_security,
            settings=SessionSettings(
                pre_auth_max_request_size=config.int_value("sasl.server.max.receive.size"),
                max_reauth_ms=config.int_value("connections.max.reauth.ms"),
                failed_authentication_delay_ms=config.int_value("connection.failed.authentication.delay.ms"),
            ),
            tls_handshake_timeout_s=config.int_value("odradek.ssl.handshake.timeout.ms") / 1000,
            ip_creation_rate=IpCreationRates(lambda: self.image.security.client_quotas),
        )
        self.metrics_endpoint: MetricsEndpoint | None = None
        self._metadata_lock = asyncio.Lock()
        self._metadata_changes: set[asyncio.Task[Any]] = set()
        self._periodic: list[Periodic] = []
        self.started_at = 0.0
        self.unclean_start = False
        """The last shutdown was not clean (set when the logs load): see `unclean_shutdown_records`."""

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        started = time.monotonic()
        metadata_dir = self.config.log_dirs[0] / METADATA_DIR
        # Loading builds an object or ten per partition, all long-lived: collecting garbage while
        # the heap grows by hundreds of thousands of them only re-scans it (seconds at 20,000
        # partitions), so the collector waits until the broker is loaded.
        with paused_gc():
            if self._given_store is not None:
                self.store = self._given_store
            elif self.cluster is not None:
                self.store = await self.cluster.open_store()
                if self.partitions.isr_writer is NO_ISR_WRITER:  # ISR changes by compare-and-set in ZooKeeper
                    self.partitions.isr_writer = StoreIsrWriter(
                        self.store, threading.Lock(), self.partitions.isr_change_failed, self.config.static
                    )
            else:
                self.store = await asyncio.to_thread(LocalMetadataStore.open, metadata_dir)
            report = await asyncio.to_thread(self.logs.load, self.log_config, self.clock.now_ms())
            self.unclean_start = bool(report.unclean_dirs)
            if report.recovered:
                log.warning("recovered %d partitions after an unclean shutdown", len(report.recovered))
            if self.jwks is not None:
                await self.jwks.start()
            await self.publishing.start()
            self.store.subscribe(self.publishing)  # the partitions follow the image from now on
            await self.publishing.published(self.store.version)
            await self.server.start(list(self.config.listeners))
            host, port = self.advertised_endpoint()
            if self._given_store is not None:
                joined = join_cluster(
                    self.image,
                    BrokerId(self.config.node_id),
                    host,
                    port,
                    rack=self._rack(),
                    endpoints=self.advertised_endpoints(),
                    rng=self.rng,
                )
                await self.apply_metadata(self.unclean_shutdown_records(self.image) + joined.records)
            elif self.cluster is not None:
                await self.cluster.join()
            else:
                await self.apply_metadata(
                    bootstrap_single_node(
                        self.image, BrokerId(self.config.node_id), host, port, rack=self._rack(), rng=self.rng
                    )
                )
        await asyncio.to_thread(remove_paths, report.stale)
        await self.flusher.start()
        await self.transactions.start()
        await self.groups.start()
        self.metrics.watch_partitions(self._partition_stats)
        self.metrics.watch_queue_depth(self.server.queue_depth)
        self._periodic = [
            Periodic("retention", self.config.int_value("log.retention.check.interval.ms"), self._retention),
            Periodic("checkpoint", CHECKPOINT_INTERVAL_MS, self._checkpoint),
            Periodic(
                "producer-expiration",
                self.config.int_value("producer.id.expiration.check.interval.ms"),
                self._expire_producers,
            ),
            Periodic("isr-shrink", self._lag_max_ms // 2, self._shrink_isrs),
        ]
        for task in self._periodic:
            task.start()
        if self.cleaner is not None:
            self.cleaner.start()
        metrics_port = self.config.value("odradek.metrics.port")
        if isinstance(metrics_port, int) and metrics_port >= 0:
            self.metrics_endpoint = MetricsEndpoint(self.metrics)
            metrics_host = self.config.listeners[0].host or "0.0.0.0"
            await self.metrics_endpoint.start(metrics_host, metrics_port)
            log.info("metrics on http://%s:%d/metrics", metrics_host, self.metrics_endpoint.port)
        # What start built lives as long as the broker: the collector need not walk it again and
        # again (a full collection walks every object; 20,000 partitions are a million of them).
        gc.freeze()
        self.started_at = time.monotonic()
        log.info(
            "broker %d started in %.0f ms (%d partitions)",
            self.config.node_id,
            (self.started_at - started) * 1000,
            report.partitions,
        )

    async def coordinators_loaded(self) -> None:
        """Until both coordinators have loaded their partitions (start loads them in the background;
        tests that drive the loop by hand wait here)."""
        await self.groups.loaded()
        await self.transactions.loaded()

    async def stop(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()
        await self.server.stop()
        await self.fetchers.stop()
        if self.jwks is not None:
            await self.jwks.stop()
        await self.transactions.stop()
        await self.groups.stop()
        if self._metadata_changes:
            await asyncio.wait(self._metadata_changes)
        if self.store is not None:
            self.store.unsubscribe(self.publishing)
        await self.publishing.stop()
        if self.metrics_endpoint is not None:
            await self.metrics_endpoint.stop()
        if self.cleaner is not None:
            await self.cleaner.stop()
        for task in self._periodic:
            await task.stop()
        await self.flusher.stop()
        await asyncio.to_thread(self.logs.close)
        if self.store is not None and self._given_store is None:
            self.store.close()
        gc.unfreeze()
        log.info("broker %d stopped", self.config.node_id)

    # --- metadata ----------------------------------------------------------------------------

    @property
    def image(self) -> ClusterImage:
        assert self.store is not None, "broker not started"
        return self.store.image

    @property
    def node_id(self) -> int:
        return self.config.node_id

    def api_versions(self) -> list[ApiVersion]:
        return self.dispatcher.api_versions()

    def _scram_credential(self, user: str, mechanism: str) -> ScramCredential | None:
        """Read at each SCRAM login, so a credential changed a moment ago is the one checked."""
        return self.image.security.scram_credential(user, mechanism)

    def advertised_endpoint(self, listener_name: str | None = None) -> tuple[str, int]:
        advertised = self.config.advertised_listeners
        listener = next((a for a in advertised if a.name == listener_name), advertised[0])
        port = listener.port
        if port == 0:  # advertise the port the OS picked
            port = next(bound for lst, bound in self.server.bound if lst.name == listener.name)
        return listener.host or "127.0.0.1", port

    def advertised_endpoints(self) -> tuple[str, ...]:
        """``NAME://host:port`` for each advertised listener (what a registration lists)."""
        return tuple(
            "{}://{}:{}".format(listener.name, *self.advertised_endpoint(listener.name))
            for listener in self.config.advertised_listeners
        )

    def log_config(self, topic: str) -> LogConfig:
        return LogConfig(**log_config_kwargs(self.image, self.config.static, topic))  # type: ignore[arg-type]

    async def apply_metadata(self, records: Sequence[MetadataRecord]) -> None:
        async def apply() -> None:
            async with self._metadata_lock:
                await self._apply_locked(records)

        await self._run_shielded(apply())

    async def _run_shielded(self, change: Coroutine[Any, Any, T]) -> T:
        task = asyncio.get_running_loop().create_task(change)
        self._metadata_changes.add(task)
        task.add_done_callback(self._metadata_change_done)
        return await asyncio.shield(task)

    def _metadata_change_done(self, task: asyncio.Task[Any]) -> None:
        self._metadata_changes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # retrieved here so an abandoned change that failed is logged, not silently dropped
            log.error("metadata change failed", exc_info=task.exception())

    async def _apply_locked(
        self, records: Sequence[MetadataRecord], base: ClusterImage | None = None
    ) -> None:
        """Make the change durable, then wait until every publisher followed it.

        A change is applied whole or not at all: the directories of the partitions it creates here
        are made first (in a worker thread), the records written only once they all exist, and the
        directories removed again if the records cannot be written. Either failure (a full disk, too
        many open files) raises StorageError and leaves the metadata as it was. `base`: the image the
        records were computed on (a shared store refuses them if it has moved on).
        """
        store = self.store
        assert store is not None
        version = store.version
        if records:
            created = await self._make_partition_dirs(records, base)
            try:
                version = await asyncio.to_thread(self._apply_to_store, store, records, base)
            except OSError as exc:
                await asyncio.to_thread(self.logs.remove_partitions, created)
                raise StorageError(f"cannot write the metadata log: {exc}") from exc
            except BaseException:
                await asyncio.to_thread(self.logs.remove_partitions, created)
                raise
        await self.publishing.published(version)

    async def _make_partition_dirs(
        self, records: Sequence[MetadataRecord], base: ClusterImage | None = None
    ) -> list[tuple[TopicPartition, uuid.UUID]]:
        after = replay(self.image if base is None else base, records)
        new = new_local_partitions(self.partitions, after, records)
        if not new:
            return []
        configs: dict[str, LogConfig] = {}
        wanted = []
        for tp, record in new:
            config = configs.get(tp.topic)
            if config is None:
                kwargs = log_config_kwargs(after, self.config.static, tp.topic)
                config = configs[tp.topic] = LogConfig(**kwargs)  # type: ignore[arg-type]
            leads = record.leader == self.config.node_id
            wanted.append((tp, record.topic_id, config, record.leader_epoch if leads else -1))
        try:
            return await asyncio.to_thread(self.logs.create_partitions, wanted, self.clock.now_ms())
        except OSError as exc:
            raise StorageError(f"cannot create the partitions' directories: {exc}") from exc

    @staticmethod
    def _apply_to_store(
        store: MetadataStore, records: Sequence[MetadataRecord], base: ClusterImage | None
    ) -> int:
        store.apply(records, base=base)
        return store.version

    def _rack(self) -> str | None:
        rack = self.config.value("broker.rack")
        return str(rack) if rack else None

    def unclean_shutdown_records(self, image: ClusterImage) -> tuple[MetadataRecord, ...]:
        """After an unclean shutdown (a log directory without its clean-shutdown marker) this broker
        may have lost an unflushed tail: it leaves every ISR and ELR before it registers (KIP-966)."""
        if not self.unclean_start:
            return ()
        from odradek.metadata.controller.leader_election import unclean_shutdown_changes

        records = unclean_shutdown_changes(image, self.config.static, BrokerId(self.config.node_id))
        if records:
            log.warning(
                "broker %d shut down uncleanly: it leaves the ISR and eligible leader replicas of %d "
                "partition(s) until it has caught up again",
                self.config.node_id,
                len(records),
            )
        return records

    async def run_controller(self, operation: Callable[[ClusterImage], ControllerResult[T]]) -> T:
        """Compute a metadata change on the current image, persist it, apply it; return the response."""

        async def change() -> T:
            async with self._metadata_lock:
                for attempt in itertools.count(1):
                    base = self.image
                    result = operation(base)
                    try:
                        await self._apply_locked(result.records, base)
                    except MetadataConflictError:
                        if attempt >= MAX_CONFLICTS:
                            raise
                        continue  # another broker changed the znodes: compute again on the new image
                    return result.response
                raise AssertionError("unreachable")

        return await self._run_shielded(change())

    async def create_topics(
        self, topics: Sequence[CreatableTopic], validate_only: bool = False
    ) -> tuple[CreateTopicResult, ...]:
        """Kafka's answers per topic; if storage fails, the topics that would have been created get
        KAFKA_STORAGE_ERROR (none of them is created)."""
        from odradek.metadata.controller.topics import create_topics

        planned: tuple[CreateTopicResult, ...] = ()

        def plan(image: ClusterImage) -> ControllerResult[tuple[CreateTopicResult, ...]]:
            nonlocal planned
            result = create_topics(
                image, self.config.static, topics, validate_only=validate_only, rng=self.rng
            )
            planned = result.response
            return result

        try:
            return await self.run_controller(plan)
        except StorageError as exc:
            return tuple(
                replace(r, error_code=ErrorCode.KAFKA_STORAGE_ERROR, error_message=str(exc), configs=None)
                if r.error_code == ErrorCode.NO_ERROR
                else r
                for r in planned
            )

    async def wait_flushed(self, partition: Partition, last_offset: int) -> None:
        """After the broker itself appended (coordinator records, markers): wait for the fsync
        when the topic asks for it (`flush.messages`)."""
        if partition.log.config.flush_on_messages:
            await self.flusher.after_append(partition.tp, last_offset)

    # --- PartitionListener: what waits on partitions hears their commits ---------------------

    def on_high_watermark_updated(self, partition: Partition) -> None:
        tp = partition.tp
        if self._produce_waits.get(tp):
            self.produce_purgatory.check_and_complete(tp)
        if self._fetch_waits.get(tp):
            self.fetch_purgatory.check_and_complete(tp)

    def on_deleted(self, partition: Partition) -> None:
        self.produce_purgatory.check_and_complete(partition.tp)
        self.fetch_purgatory.check_and_complete(partition.tp)
        topic = partition.tp.topic
        if topic not in self.partitions.by_name:  # its last partition here: its counters go too
            self.metrics.forget_topic(topic)

    def on_replica_state_changed(self, partition: Partition) -> None:
        """A leader's log end moved (followers' fetches wake) or the leadership changed."""
        self.produce_purgatory.check_and_complete(partition.tp)
        self.fetch_purgatory.check_and_complete(partition.tp)

    def on_produced(self, topic: str, nbytes: int, nrecords: int) -> None:
        self.metrics.produced(topic, nbytes, nrecords)

    def on_batch_rewritten(self, fields: tuple[str, ...]) -> None:
        """A produced batch's header was repaired (protocol/batch_validation.py's rare path)."""
        for field in fields:
            self.metrics.batches_rewritten.labels(field).inc()

    def on_fetched(self, topic: str, nbytes: int) -> None:
        self.metrics.bytes_out.labels(topic).inc(nbytes)

    # --- background work ---------------------------------------------------------------------

    def _partition_stats(self) -> list[PartitionStat]:
        return [
            (tp.topic, tp.partition, lg.log_start_offset, lg.log_end_offset, lg.size_in_bytes)
            for tp, lg in self.logs.items()
        ]

    async def _retention(self) -> None:
        paths = self.logs.run_retention(self.clock.now_ms())
        if paths:
            await asyncio.to_thread(remove_paths, paths)

    async def _checkpoint(self) -> None:
        await asyncio.to_thread(self.logs.checkpoint)

    @property
    def _lag_max_ms(self) -> int:
        return self.config.int_value("replica.lag.time.max.ms")

    async def _shrink_isrs(self) -> None:
        self.partitions.shrink_isrs(self._lag_max_ms)

    async def _expire_producers(self) -> None:
        expiration_ms = broker_config_value(self.image, self.config.static, "producer.id.expiration.ms")
        assert isinstance(expiration_ms, int)
        now = self.clock.now_ms()
        for log_ in self.logs.logs():
            if not log_.closed:
                log_.remove_expired_producers(now, expiration_ms)
        self.partitions.remove_expired_verifications(expiration_ms)
