"""Follower fetchers: this broker copies the partitions it follows from their leaders (Kafka's
ReplicaFetcherManager and ReplicaFetcherThread, as asyncio tasks).

`ReplicaFetcherManager` is a metadata publisher (it runs after the partitions followed the image):
every hosted partition this broker replicates but does not lead is assigned to the fetcher of its
leader, with the leader epoch it follows. There is one `ReplicaFetcher` per source broker: one task,
one connection (`broker_client.py`), and each round batches all its ready partitions into one
request. A partition whose leader or leader epoch changed starts over in `TRUNCATING`.

A round is an OffsetForLeaderEpoch for the partitions that must first find where their log agrees
with the leader's (then truncate, `replication/truncation.py`), and a Fetch (v15, `replica_state`
with this broker's id, topic ids) from the log end offset of the others. Fetches go through an
incremental fetch session (KIP-227, `replication/fetch_session.py`): the first one names every
partition, later ones only those whose fetch offset (or epoch, ...) moved and those no longer
fetched, and the leader answers only partitions with news; a session the leader lost
(FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH) or a broken connection makes the next
fetch a full one again, which opens a new session. The
leader answers a follower's fetch once it has data past that offset or after
`replica.fetch.wait.max.ms`; the follower appends the batches as bytes and takes the leader's high
watermark (`replication/follower.py`). Partition errors back that partition off for
`replica.fetch.backoff.ms`; a connection error backs the whole fetcher off and reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from odradek.broker.broker_client import BrokerAuthenticationError, BrokerConnectionError
from odradek.broker.config import BrokerConfig
from odradek.broker.inter_broker import InterBrokerConnector
from odradek.metadata.image import BrokerRegistration, ClusterImage
from odradek.metadata.store import MetadataChange
from odradek.model.clock import Clock
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.replication.fetch_session import FetchPosition, FollowerFetchSession, PartitionKey
from odradek.replication.follower import FetchState, FollowedPartition
from odradek.replication.manager import PartitionManager
from odradek.replication.throttle import ReplicationThrottle
from odradek.storage.log_manager import remove_paths

if TYPE_CHECKING:  # (imported when a broker first follows a partition: a single node never does)
    from odradek.protocol.messages import fetch as fetch_msg
    from odradek.protocol.messages import offset_for_leader_epoch as epoch_msg

log = logging.getLogger("odradek.broker.replica_fetcher")

FETCH_VERSION = 15
OFFSET_FOR_LEADER_EPOCH_VERSION = 4
IDLE_WAIT_S = 1.0
THROTTLED_WAIT_S = 0.1
"""How long a fetcher whose every ready partition is throttled waits before it looks again."""
_REFUSALS = frozenset({ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED})
_SESSION_ERRORS = frozenset({ErrorCode.FETCH_SESSION_ID_NOT_FOUND, ErrorCode.INVALID_FETCH_SESSION_EPOCH})


@dataclass(frozen=True, slots=True)
class FetcherSettings:
    """The replica fetcher's Fetch request settings (Kafka's replica.fetch.* configs)."""

    node_id: int
    max_wait_ms: int
    min_bytes: int
    partition_max_bytes: int
    response_max_bytes: int
    backoff_ms: int
    socket_timeout_ms: int

    @classmethod
    def of(cls, config: BrokerConfig) -> FetcherSettings:
        return cls(
            node_id=config.node_id,
            max_wait_ms=config.int_value("replica.fetch.wait.max.ms"),
            min_bytes=config.int_value("replica.fetch.min.bytes"),
            partition_max_bytes=config.int_value("replica.fetch.max.bytes"),
            response_max_bytes=config.int_value("replica.fetch.response.max.bytes"),
            backoff_ms=config.int_value("replica.fetch.backoff.ms"),
            socket_timeout_ms=config.int_value("replica.socket.timeout.ms"),
        )


class ReplicaFetcher:
    """Fetches every partition this broker follows from one leader."""

    def __init__(
        self,
        source: BrokerRegistration,
        connector: InterBrokerConnector,
        settings: FetcherSettings,
        clock: Clock,
        throttle: ReplicationThrottle | None = None,
    ) -> None:
        self.source = source.broker_id
        self.throttle = throttle or ReplicationThrottle(settings.node_id)
        self.endpoint = connector.endpoint(source)
        self.settings = settings
        self.clock = clock
        self.partitions: dict[TopicPartition, FollowedPartition] = {}
        self.session = FollowerFetchSession()
        """The incremental fetch session (KIP-227) with this leader."""
        self._topic_ids: dict[str, uuid.UUID] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.refused: ErrorCode | None = None
        """Why the leader refused this broker in the last round (its login, or its requests), if it did."""
        timeout_s = (settings.socket_timeout_ms + settings.max_wait_ms) / 1000
        self._connection = connector.connection(source, f"broker-{settings.node_id}-fetcher", timeout_s)

    # --- assignment (from the manager) -------------------------------------------------------------
    def add(self, followed: FollowedPartition) -> None:
        self.partitions[followed.partition.tp] = followed
        self._wake.set()

    def remove(self, tp: TopicPartition) -> None:
        self.partitions.pop(tp, None)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"replica-fetcher-{self.source}"
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True  # the loop also checks it: Python 3.11's wait_for can swallow a cancel
        self._wake.set()
        if task is not None:
            task.cancel()
            # not `await task` under suppress(CancelledError): that would also swallow a cancellation
            # of the caller (the metadata publishing task being stopped), which then never ends
            await asyncio.wait([task])
        await self._connection.close()

    # --- the loop ----------------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            now = self.clock.now_ms()
            ready = [f for f in self.partitions.values() if f.ready(now)]
            if not ready:
                await self._idle(now)
                continue
            try:
                truncating = [f for f in ready if f.state is FetchState.TRUNCATING]
                if truncating:
                    await self._truncate(truncating)
                fetching = [f for f in ready if f.state is FetchState.FETCHING]
                if fetching:
                    await self._fetch(fetching)
            except BrokerAuthenticationError as exc:
                if self.refused is not ErrorCode.SASL_AUTHENTICATION_FAILED:
                    log.error(
                        "fetcher from broker %d: the inter-broker login was refused: %s", self.source, exc
                    )
                self.refused = ErrorCode.SASL_AUTHENTICATION_FAILED
                await asyncio.sleep(self.settings.backoff_ms / 1000)
            except BrokerConnectionError as exc:
                log.warning("fetcher from broker %d: %s; retrying", self.source, exc)
                await asyncio.sleep(self.settings.backoff_ms / 1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fetcher from broker %d failed a round", self.source)
                await asyncio.sleep(self.settings.backoff_ms / 1000)

    async def _idle(self, now: int) -> None:
        delays = [f.delayed_until_ms - now for f in self.partitions.values()]
        timeout = min([IDLE_WAIT_S, *(d / 1000 for d in delays)])
        self._wake.clear()
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait([woken], timeout=max(timeout, 0.001))
        finally:
            woken.cancel()

    def _current(self, followed: FollowedPartition) -> bool:
        """Still assigned (the manager may have replaced or removed it while a request was out)."""
        return self.partitions.get(followed.partition.tp) is followed

    async def _remove_doomed(self, followed: FollowedPartition) -> None:
        doomed: list[Path] = followed.doomed
        if doomed:
            followed.doomed = []
            await asyncio.to_thread(remove_paths, doomed)

    async def _truncate(self, truncating: list[FollowedPartition]) -> None:
        from odradek.protocol.messages import offset_for_leader_epoch as epoch_msg

        asking: dict[tuple[str, int], FollowedPartition] = {}
        topics: dict[str, epoch_msg.OffsetForLeaderTopic] = {}
        for followed in truncating:
            if followed.skip_truncation():
                followed.state = FetchState.FETCHING
                continue
            tp = followed.partition.tp
            asking[tp.topic, tp.partition] = followed
            topic = topics.setdefault(tp.topic, epoch_msg.OffsetForLeaderTopic(topic=tp.topic))
            topic.partitions.append(
                epoch_msg.OffsetForLeaderPartition(
                    partition=tp.partition,
                    current_leader_epoch=followed.leader_epoch,
                    leader_epoch=followed.epoch_to_ask(),
                )
            )
        if not asking:
            return
        request = epoch_msg.OffsetForLeaderEpochRequest(
            replica_id=self.settings.node_id, topics=list(topics.values())
        )
        response = await self._connection.call(
            ApiKey.OFFSET_FOR_LEADER_EPOCH, OFFSET_FOR_LEADER_EPOCH_VERSION, request
        )
        self._note_refusal({r.error_code for t in response.topics for r in t.partitions})
        now = self.clock.now_ms()
        for topic_result in response.topics:
            for result in topic_result.partitions:
                followed_ = asking.get((topic_result.topic, result.partition))
                if followed_ is None or not self._current(followed_):
                    continue
                followed_.apply_epoch_end(
                    result.error_code, result.leader_epoch, result.end_offset, now, self.settings.backoff_ms
                )
                await self._remove_doomed(followed_)

    def _note_refusal(self, errors: set[int]) -> None:
        """Log (once per change) that the leader refuses this broker: it authorizes a follower as
        any client, and a follower's requests need CLUSTER_ACTION on the cluster."""
        refused = next((ErrorCode(e) for e in errors if e in _REFUSALS), None)
        if refused is not None and self.refused is None:
            log.error(
                "fetcher from broker %d: refused with %s: this broker's inter-broker principal needs "
                "CLUSTER_ACTION on the cluster there (an ACL, or super.users)",
                self.source,
                refused.name,
            )
        self.refused = refused

    async def _fetch(self, fetching: list[FollowedPartition]) -> None:
        from odradek.protocol.messages import fetch as fetch_msg

        settings = self.settings
        throttled = self._throttled(fetching)
        if throttled:
            exceeded = self.throttle.follower.exceeded(self.clock.now_ms())
            fetching = [f for f in fetching if not exceeded or f.partition.tp not in throttled]
            if not fetching:  # only throttled partitions, and their quota is used up: wait a little
                await asyncio.sleep(THROTTLED_WAIT_S)
                return
        by_key: dict[tuple[uuid.UUID, int], FollowedPartition] = {}
        positions: dict[PartitionKey, FetchPosition] = {}
        topic_ids = self._topic_ids
        max_bytes = settings.partition_max_bytes
        for followed in fetching:
            partition = followed.partition
            tp = partition.tp
            by_key[partition.topic_id, tp.partition] = followed
            topic_ids[tp.topic] = partition.topic_id
            log_ = partition.log
            positions[tp.topic, tp.partition] = FetchPosition(
                log_.log_end_offset,
                followed.leader_epoch,
                log_.latest_epoch,
                log_.log_start_offset,
                max_bytes,
            )
        session = self.session.build(positions)
        topics: dict[str, fetch_msg.FetchTopic] = {}
        for key in session.send:
            name, index = key
            topic = topics.get(name)
            if topic is None:
                topic = topics[name] = fetch_msg.FetchTopic(topic=name, topic_id=topic_ids[name])
            position = positions[key]
            topic.partitions.append(
                fetch_msg.FetchPartition(
                    partition=index,
                    current_leader_epoch=position.current_leader_epoch,
                    fetch_offset=position.fetch_offset,
                    last_fetched_epoch=position.last_fetched_epoch,
                    log_start_offset=position.log_start_offset,
                    partition_max_bytes=position.max_bytes,
                )
            )
        forgotten: dict[str, fetch_msg.ForgottenTopic] = {}
        for name, index in session.forgotten:
            gone = forgotten.get(name)
            if gone is None:
                gone = forgotten[name] = fetch_msg.ForgottenTopic(topic=name, topic_id=topic_ids[name])
            gone.partitions.append(index)
        request = fetch_msg.FetchRequest(
            replica_id=settings.node_id,
            replica_state=fetch_msg.ReplicaState(replica_id=settings.node_id),
            max_wait_ms=settings.max_wait_ms,
            min_bytes=settings.min_bytes,
            max_bytes=settings.response_max_bytes,
            session_id=session.session_id,
            session_epoch=session.session_epoch,
            topics=list(topics.values()),
            forgotten_topics_data=list(forgotten.values()),
        )
        try:
            response = await self._connection.call(ApiKey.FETCH, FETCH_VERSION, request)
        except BaseException:
            self.session.reset()  # the leader may or may not have taken the request
            raise
        if not self.session.on_response(response.error_code, response.session_id):
            if response.error_code in _SESSION_ERRORS:  # the next round opens a new session
                log.info("fetch session with broker %d lost: error %d", self.source, response.error_code)
                return
            log.warning("fetch from broker %d failed: error %d", self.source, response.error_code)
            await asyncio.sleep(settings.backoff_ms / 1000)
            return
        self._note_refusal({d.error_code for t in response.responses for d in t.partitions})
        now = self.clock.now_ms()
        for topic_response in response.responses:
            for data in topic_response.partitions:
                followed_ = by_key.get((topic_response.topic_id, data.partition_index))
                if followed_ is None or not self._current(followed_):
                    continue
                if data.error_code:
                    tp = followed_.partition.tp
                    self.session.failed((tp.topic, tp.partition))
                if data.records and followed_.partition.tp in throttled:
                    self.throttle.follower.record(len(data.records), now)
                followed_.apply_fetched(
                    data.error_code,
                    data.records,
                    data.high_watermark,
                    data.log_start_offset,
                    now,
                    settings.backoff_ms,
                )
                await self._remove_doomed(followed_)

    def _throttled(self, fetching: list[FollowedPartition]) -> set[TopicPartition]:
        """The partitions a reassignment's throttle applies to (`replication/throttle.py`): named in
        `follower.replication.throttled.replicas` for this broker and out of the ISR."""
        throttle = self.throttle
        if not throttle.active:
            return set()
        node = BrokerId(self.settings.node_id)
        return {
            f.partition.tp
            for f in fetching
            if throttle.follower_throttled(
                f.partition.tp.topic, f.partition.tp.partition, node in f.partition.replicas.isr
            )
        }


class ReplicaFetcherManager:
    """Keeps one fetcher per leader this broker follows, in line with the metadata image."""

    name = "replica fetchers"

    def __init__(
        self,
        partitions: PartitionManager,
        settings: FetcherSettings,
        clock: Clock,
        connector: InterBrokerConnector | None = None,
    ) -> None:
        self._partitions = partitions
        self.connector = connector or InterBrokerConnector("PLAINTEXT")
        self.settings = settings
        self.clock = clock
        self.fetchers: dict[BrokerId, ReplicaFetcher] = {}
        self._stopped = False

    async def publish(self, change: MetadataChange) -> None:
        await self.follow(change.after)

    async def follow(self, image: ClusterImage) -> None:
        if self._stopped:  # the broker is stopping: a late image starts nothing
            return
        wanted: dict[BrokerId, dict[TopicPartition, int]] = {}
        node = self._partitions.node_id
        for partition in self._partitions:
            leader = partition.leader
            if partition.is_leader or partition.deleted or leader < 0 or leader == node:
                continue
            if leader not in image.brokers:
                continue
            wanted.setdefault(leader, {})[partition.tp] = partition.leader_epoch
        for source, fetcher in list(self.fetchers.items()):
            registration = image.brokers.get(source)
            endpoint = None if registration is None else self.connector.endpoint(registration)
            if source not in wanted or endpoint != fetcher.endpoint:
                del self.fetchers[source]
                await fetcher.stop()
        for source, partitions in wanted.items():
            found = self.fetchers.get(source)
            if found is not None:
                fetcher = found
            else:
                fetcher = ReplicaFetcher(
                    image.brokers[source],
                    self.connector,
                    self.settings,
                    self.clock,
                    self._partitions.throttle,
                )
                self.fetchers[source] = fetcher
                fetcher.start()
            for tp in [tp for tp in fetcher.partitions if tp not in partitions]:
                fetcher.remove(tp)
            for tp, epoch in partitions.items():
                current = fetcher.partitions.get(tp)
                hosted = self._partitions.get(tp.topic, tp.partition)
                assert hosted is not None
                if current is None or current.leader_epoch != epoch or current.partition is not hosted:
                    fetcher.add(FollowedPartition(hosted, epoch))

    def following(self) -> dict[TopicPartition, FollowedPartition]:
        return {tp: f for fetcher in self.fetchers.values() for tp, f in fetcher.partitions.items()}

    async def stop(self) -> None:
        self._stopped = True
        fetchers, self.fetchers = self.fetchers, {}
        for fetcher in fetchers.values():
            await fetcher.stop()
