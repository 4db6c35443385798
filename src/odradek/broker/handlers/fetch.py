"""Fetch (1), v4-v18: read whole batches as bytes, long-poll for data, incremental sessions.

Limits follow Kafka: the response carries at most ``max_bytes`` and each partition at most its
``partition_max_bytes``, except that the first batch of the first partition with data is always
returned whole, so a consumer never stalls behind one large batch. When less than ``min_bytes``
is available the request waits up to ``max_wait_ms`` in the fetch purgatory (`DelayedFetch`): the
high watermark (or last stable offset) of any of its partitions moving wakes it at once (no polling)
and it reads again, and an error on any partition answers immediately.

Per partition: UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID for v13+), NOT_LEADER_OR_FOLLOWER,
FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when the client's ``current_leader_epoch`` is older /
newer than ours, OFFSET_OUT_OF_RANGE outside [log start, log end]. ``read_uncommitted`` reads up
to the high watermark, ``read_committed`` up to the last stable offset (LSO), with the aborted
transactions overlapping the returned batches (from the segments' `.txnindex`), so the consumer
drops their records itself.

Authorization: READ on each topic (TOPIC_AUTHORIZATION_FAILED on its partitions); a fetch with a
replica id (a follower's) needs CLUSTER_ACTION on the cluster.

A follower's fetch (``replica_id``, or ``replica_state.replica_id`` from v15) first tells each
partition how far that follower got (`Partition.record_follower_fetch`: its fetch offset is its log
end offset, so the high watermark may advance and acks=all produces complete), then reads up to the
log end whatever the isolation level, long-polls on the log end rather than the high watermark,
and is not counted against client quotas. A reassignment's throttle (`replication/throttle.py`):
a partition named in `leader.replication.throttled.replicas` for this broker, fetched by a follower
outside the ISR, gets no records while `leader.replication.throttled.rate` is used up, and what it
gets is counted against that rate.

Fetch from follower (KIP-392): a consumer's fetch from v11 (which carries its ``client.rack``) may
be served by a follower, up to the follower's high watermark (last stable offset), with the same
leader-epoch checks. With ``replica.selector.class`` set to Kafka's ``RackAwareReplicaSelector``, the
leader answers a consumer in another rack with ``preferred_read_replica`` (an in-sync replica in the
consumer's rack that has the fetch offset: `replication/read_replica.py`) and no records; the
consumer then fetches from that replica.

Quota: the response's bytes count against ``consumer_byte_rate``; a fetch that would exceed it is
answered empty with ``throttle_time_ms`` (its bytes given back), and ``max_bytes`` is capped to what
one quota window allows, as Kafka does.

Version gate (KIP-110): a client below Fetch v10 cannot read zstd. As in Kafka, a topic whose
``compression.type`` is ``zstd`` answers it UNSUPPORTED_COMPRESSION_TYPE; and since odradek stores
batches as produced, the data itself is checked too (one header read per returned batch, only for
these old versions): the client gets the batches before the first zstd one, or
UNSUPPORTED_COMPRESSION_TYPE when that one is the first it asked for.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.delayed_fetch import DelayedFetch, visible_end
from odradek.broker.fetch_sessions import PartitionKey, SessionContext, SessionPartition, changed
from odradek.broker.leader_hints import LeaderHints, not_hosted_error
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.fetch import FETCH_ZSTD_SINCE, before_first_zstd_batch, write_fetch_response
from odradek.protocol.fetch_request import parse_fetch_request
from odradek.protocol.messages import fetch as msg
from odradek.protocol.schema import Chunk
from odradek.replication.partition import Partition
from odradek.replication.read_replica import ReplicaView, preferred_read_replica
from odradek.security.acl import AclOperation, ResourceType
from odradek.storage.errors import StorageError

if TYPE_CHECKING:
    from odradek.broker.ports import BrokerPorts

READ_COMMITTED = 1


@dataclass(slots=True)
class Wanted:
    key: PartitionKey
    topic_id: uuid.UUID
    fetch_offset: int
    max_bytes: int
    current_leader_epoch: int


def handle(
    ctx: RequestContext, request: msg.FetchRequest
) -> msg.FetchResponse | Awaitable[msg.FetchResponse]:
    ports = ctx.ports
    version = ctx.api_version
    wanted, unknown_ids = _resolve(ports, request, version)
    session_ctx: SessionContext | None = None
    if version >= 7:
        requested = {
            w.key: SessionPartition(w.fetch_offset, w.max_bytes, w.current_leader_epoch) for w in wanted
        }
        forgotten = _forgotten(ports, request, version)
        session_ctx = ports.fetch_sessions.begin(
            request.session_id, request.session_epoch, requested, forgotten
        )
        if session_ctx.error != ErrorCode.NO_ERROR:
            return msg.FetchResponse(error_code=session_ctx.error, session_id=0)
        if session_ctx.incremental and session_ctx.session is not None:
            wanted = [
                Wanted(key, _topic_id(ports, key[0]), sp.fetch_offset, sp.max_bytes, sp.current_leader_epoch)
                for key, sp in session_ctx.session.partitions.items()
            ]
    denied = _denied_topics(ctx, request, wanted)
    replica = replica_id(request, version)
    if replica < 0:  # replication is not throttled by client quotas
        quota_bytes = ports.quotas.fetch_max_bytes(ctx)
        if quota_bytes is not None and quota_bytes < request.max_bytes:
            request.max_bytes = max(1, int(quota_bytes))
    reads = _read_all(ports, wanted, request, version, denied, replica)
    total = sum(r.size for r in reads)
    has_error = any(r.error for r in reads) or bool(unknown_ids)
    if total >= request.min_bytes or request.max_wait_ms <= 0 or has_error or not wanted:
        return _respond(ctx, request, version, reads, unknown_ids, session_ctx)
    return _wait_and_respond(ctx, request, version, wanted, unknown_ids, session_ctx, denied)


FETCH_FROM_FOLLOWER_SINCE = 11  # KIP-392: the request carries the consumer's rack
LEADER_HINT_ERRORS = frozenset({ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.FENCED_LEADER_EPOCH})


def replica_id(request: msg.FetchRequest, version: int) -> int:
    """The follower's broker id (v15+: in ``replica_state``), or -1 for a consumer."""
    return request.replica_state.replica_id if version >= 15 else request.replica_id


def _denied_topics(ctx: RequestContext, request: msg.FetchRequest, wanted: list[Wanted]) -> set[str]:
    """Topics this fetch may not read: a follower's fetch (a replica id) needs CLUSTER_ACTION on the
    cluster, or every topic is refused (CVE-2018-1288); a consumer's needs READ on each topic."""
    authorizer = ctx.ports.authorizer
    if not authorizer.enabled:
        return set()
    names = {w.key[0] for w in wanted}
    if replica_id(request, ctx.api_version) >= 0:  # no READ on the topics needed then, as in Kafka
        return set() if authorizer.authorize_cluster(ctx, AclOperation.CLUSTER_ACTION) else names
    return {n for n in names if not authorizer.authorize(ctx, AclOperation.READ, ResourceType.TOPIC, n)}


async def _wait_and_respond(
    ctx: RequestContext,
    request: msg.FetchRequest,
    version: int,
    wanted: list[Wanted],
    unknown_ids: list[tuple[uuid.UUID, list[int]]],
    session_ctx: SessionContext | None,
    denied: set[str],
) -> msg.FetchResponse:
    ports = ctx.ports
    loop = asyncio.get_running_loop()
    deadline = loop.time() + request.max_wait_ms / 1000
    committed = request.isolation_level == READ_COMMITTED
    replica = replica_id(request, version)
    follower = replica >= 0
    while True:
        seen = []
        for w in wanted:
            partition = ports.partitions.get(*w.key)
            if partition is not None:
                seen.append((partition, visible_end(partition, committed, follower), partition.is_leader))
        delayed = DelayedFetch(seen, committed, follower)
        remaining_ms = int((deadline - loop.time()) * 1000)
        if not ports.purgatories.fetch.try_complete_else_watch(delayed, remaining_ms):
            await delayed.wait()
        reads = _read_all(ports, wanted, request, version, denied, replica)
        total = sum(r.size for r in reads)
        if total >= request.min_bytes or any(r.error for r in reads) or loop.time() >= deadline:
            return _respond(ctx, request, version, reads, unknown_ids, session_ctx)


@dataclass(slots=True)
class Read:
    wanted: Wanted
    error: int = 0
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1
    chunks: list[Chunk] | None = None
    size: int = 0
    aborted: list[msg.AbortedTransaction] | None = None  # READ_COMMITTED: overlapping aborted txns
    preferred_read_replica: int = -1  # KIP-392: read from this replica instead (no records here)


def _read_all(
    ports: BrokerPorts,
    wanted: list[Wanted],
    request: msg.FetchRequest,
    version: int,
    denied: set[str],
    replica: int = -1,
) -> list[Read]:
    """Read each wanted partition. A follower's fetch (`replica` >= 0) first tells the partition
    how far that follower got (its fetch offset is its log end offset: the high watermark may move
    and the follower may join the ISR), then reads up to the log end, whatever the isolation."""
    reads = []
    remaining = request.max_bytes
    total = 0
    committed = request.isolation_level == READ_COMMITTED and replica < 0
    now_ms = ports.clock.now_ms() if replica >= 0 else 0
    throttle = ports.partitions.throttle if replica >= 0 else None
    if throttle is not None and not throttle.active:
        throttle = None
    from_follower = replica < 0 and version >= FETCH_FROM_FOLLOWER_SINCE
    regions = replica >= 0 and version >= FETCH_ZSTD_SINCE  # a follower's batches go out by sendfile
    selector = _read_replica_selector(ports) if from_follower and request.rack_id else None
    for w in wanted:
        read = Read(w)
        reads.append(read)
        if w.key[0] in denied:
            read.error = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            continue
        partition = _readable(ports, w, from_follower)
        if isinstance(partition, ErrorCode):
            read.error = not_hosted_error(ports, w.key[0], w.key[1], partition)
            continue
        log = partition.log
        if replica >= 0:
            partition.record_follower_fetch(BrokerId(replica), w.fetch_offset, now_ms)
        if version < FETCH_ZSTD_SINCE and log.config.compression_type == "zstd":
            read.error = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE  # Kafka's rule, from the topic config
            continue
        read.high_watermark = log.high_watermark
        read.last_stable_offset = partition.last_stable_offset
        read.log_start_offset = log.log_start_offset
        if selector is not None and partition.is_leader:
            read.preferred_read_replica = _preferred(
                ports, partition, selector, request.rack_id, w.fetch_offset
            )
            if read.preferred_read_replica >= 0:
                continue  # no records: the consumer goes to that replica
        throttled = throttle is not None and throttle.leader_throttled(
            w.key[0], w.key[1], BrokerId(replica) in partition.replicas.isr
        )
        if throttled and throttle is not None and throttle.leader.exceeded(now_ms):
            continue  # a reassignment's throttle (KIP-73): nothing for this follower this time
        if replica >= 0:
            max_offset = log.log_end_offset
        else:
            max_offset = read.last_stable_offset if committed else read.high_watermark
        budget = min(w.max_bytes, remaining)
        try:
            result = log.read(w.fetch_offset, budget, max_offset, total == 0, regions)
        except StorageError as exc:
            read.error = exc.error_code
            continue
        read.chunks = list(result.chunks)
        read.size = result.size
        if version < FETCH_ZSTD_SINCE and read.size:
            _hold_back_zstd(read)
        if committed:
            # bounded by the LSO (the read never passes it): a superset of what the batches need
            read.aborted = _aborted_transactions(partition, w.fetch_offset, max_offset) if result.size else []
        total += read.size
        remaining = max(0, remaining - read.size)
        if throttled and throttle is not None:
            throttle.leader.record(read.size, now_ms)
    return reads


def _readable(ports: BrokerPorts, w: Wanted, from_follower: bool) -> Partition | ErrorCode:
    """The partition if this broker may serve the fetch: its leader; for a consumer's fetch v11+
    (KIP-392) a follower too, with the same leader-epoch checks."""
    found = ports.partitions.leader(*w.key, w.current_leader_epoch)
    if not from_follower or found is not ErrorCode.NOT_LEADER_OR_FOLLOWER:
        return found
    partition = ports.partitions.get(*w.key)
    if partition is None or partition.deleted or partition.leader_epoch < 0:
        return ErrorCode.NOT_LEADER_OR_FOLLOWER
    epoch = w.current_leader_epoch
    if epoch >= 0 and epoch != partition.leader_epoch:
        return (
            ErrorCode.FENCED_LEADER_EPOCH
            if epoch < partition.leader_epoch
            else ErrorCode.UNKNOWN_LEADER_EPOCH
        )
    return partition


def _read_replica_selector(ports: BrokerPorts) -> str | None:
    value = ports.config.value("replica.selector.class")
    return str(value) if value else None


def _preferred(ports: BrokerPorts, partition: Partition, selector: str, rack: str, fetch_offset: int) -> int:
    """KIP-392: the replica the consumer in `rack` should read from, or -1 (this leader)."""
    brokers = ports.metadata.image.brokers
    me = brokers.get(BrokerId(ports.node.node_id))
    leader = ReplicaView(
        BrokerId(ports.node.node_id), None if me is None else me.rack, partition.log.log_end_offset
    )
    followers = []
    for broker, progress in partition.replicas.followers.items():
        registration = brokers.get(broker)
        if broker in partition.replicas.isr and registration is not None and not registration.fenced:
            followers.append(ReplicaView(broker, registration.rack, progress.log_end_offset))
    chosen = preferred_read_replica(selector, rack, fetch_offset, leader, followers)
    return -1 if chosen is None else int(chosen)


def _hold_back_zstd(read: Read) -> None:
    """A client below Fetch v10 cannot read zstd (KIP-110): it gets the batches before the first
    zstd one, or UNSUPPORTED_COMPRESSION_TYPE when that is the first batch it asked for."""
    assert read.chunks is not None
    cut = before_first_zstd_batch(read.chunks)
    if cut is None:
        return
    read.chunks, read.size = cut
    if not read.size:
        read.error = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
        read.high_watermark = read.last_stable_offset = read.log_start_offset = -1


def _aborted_transactions(
    partition: Partition, fetch_offset: int, upper_bound: int
) -> list[msg.AbortedTransaction]:
    return [
        msg.AbortedTransaction(producer_id=a.producer_id, first_offset=a.first_offset)
        for a in partition.log.aborted_transactions(fetch_offset, upper_bound)
    ]


def _respond(
    ctx: RequestContext,
    request: msg.FetchRequest,
    version: int,
    reads: list[Read],
    unknown_ids: list[tuple[uuid.UUID, list[int]]],
    session_ctx: SessionContext | None,
) -> msg.FetchResponse:
    ports = ctx.ports
    response_session = session_ctx.response_session_id if session_ctx is not None else 0
    replicating = replica_id(request, version) >= 0  # not a client: no client quota
    throttle = 0 if replicating else ports.quotas.record_fetch(ctx, sum(r.size for r in reads))
    if throttle > 0:  # KIP-219: an empty answer now, the data after the throttle
        return msg.FetchResponse(throttle_time_ms=throttle, session_id=response_session)
    session = session_ctx.session if session_ctx is not None else None
    incremental = session_ctx is not None and session_ctx.incremental
    topics: dict[str, msg.FetchableTopicResponse] = {}
    responses: list[msg.FetchableTopicResponse] = []
    committed = request.isolation_level == READ_COMMITTED
    hints: LeaderHints | None = None  # KIP-951 (v16+): where the leaders of misdirected partitions are
    for read in reads:
        w = read.wanted
        if session is not None:
            cached = session.partitions.get(w.key)
            if cached is not None:
                keep = changed(
                    cached,
                    read.size > 0,
                    read.error,
                    read.high_watermark,
                    read.last_stable_offset,
                    read.log_start_offset,
                )
                if incremental and not keep:
                    continue
        topic = topics.get(w.key[0])
        if topic is None:
            topic = msg.FetchableTopicResponse(topic=w.key[0], topic_id=w.topic_id)
            topics[w.key[0]] = topic
            responses.append(topic)
        data = msg.PartitionData(
            partition_index=w.key[1],
            error_code=read.error,
            high_watermark=read.high_watermark,
            last_stable_offset=read.last_stable_offset,
            log_start_offset=read.log_start_offset,
            records=read.chunks if read.chunks else b"",
            preferred_read_replica=read.preferred_read_replica,
        )
        data.aborted_transactions = (read.aborted or []) if committed else None
        if read.error in LEADER_HINT_ERRORS:
            hints = hints or LeaderHints(ctx)
            data.current_leader = msg.LeaderIdAndEpoch(*hints.current_leader(*w.key))
        topic.partitions.append(data)
        if read.size:
            ports.stats.on_fetched(w.key[0], read.size)
    for topic_id, partitions in unknown_ids:
        responses.append(
            msg.FetchableTopicResponse(
                topic_id=topic_id,
                partitions=[
                    msg.PartitionData(partition_index=p, error_code=ErrorCode.UNKNOWN_TOPIC_ID, records=b"")
                    for p in partitions
                ],
            )
        )
    response = msg.FetchResponse(session_id=response_session, responses=responses)
    if hints is not None:
        response.node_endpoints = [msg.NodeEndpoint(*endpoint) for endpoint in hints.node_endpoints()]
    return response


def _topic_id(ports: BrokerPorts, name: str) -> uuid.UUID:
    return ports.partitions.topic_id(name) or ZERO_UUID


def _resolve(
    ports: BrokerPorts, request: msg.FetchRequest, version: int
) -> tuple[list[Wanted], list[tuple[uuid.UUID, list[int]]]]:
    wanted: list[Wanted] = []
    unknown: list[tuple[uuid.UUID, list[int]]] = []
    for topic in request.topics:
        if version >= 13:
            name = ports.partitions.topic_name(topic.topic_id)
            if name is None:  # not hosted here: the metadata may still know it (on other brokers)
                known = ports.metadata.image.topics_by_id.get(topic.topic_id)
                name = None if known is None else known.name
            if name is None:
                unknown.append((topic.topic_id, [p.partition for p in topic.partitions]))
                continue
            topic_id = topic.topic_id
        else:
            name = topic.topic
            topic_id = _topic_id(ports, name)
        for p in topic.partitions:
            wanted.append(
                Wanted(
                    (name, p.partition),
                    topic_id,
                    p.fetch_offset,
                    p.partition_max_bytes,
                    p.current_leader_epoch,
                )
            )
    return wanted, unknown


def _forgotten(ports: BrokerPorts, request: msg.FetchRequest, version: int) -> list[PartitionKey]:
    keys: list[PartitionKey] = []
    for topic in request.forgotten_topics_data:
        name = ports.partitions.topic_name(topic.topic_id) if version >= 13 else topic.topic
        if name is not None:
            keys.extend((name, p) for p in topic.partitions)
    return keys


SPEC = ApiSpec(
    ApiKey.FETCH,
    4,
    18,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    decode=parse_fetch_request,
    encode=write_fetch_response,
    notes=(
        "long polling woken by appends; max_bytes/partition limits with the first-batch rule; "
        "KIP-227 sessions; read_committed up to the LSO; zstd data only to v10+; v13+ topic ids; "
        "followers' fetches (replica id / v15 replica_state) advance the high watermark and the ISR"
    ),
)
