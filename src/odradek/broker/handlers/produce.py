"""Produce (0), v3-v13: validate batches as bytes, append, answer.

A request with a transactional batch but no ``transactional_id`` is refused as a whole:
TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition (Kafka's KafkaApis, before anything else).

Authorization (with an authorizer): WRITE on the ``transactional_id`` (else
TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition) and WRITE on each topic (else
TOPIC_AUTHORIZATION_FAILED on its partitions, before anything else is looked at). The request's
bytes count against the client's ``producer_byte_rate`` (`broker/quotas.py`).

Per partition, in Kafka's order: unknown topic/partition (UNKNOWN_TOPIC_OR_PARTITION, or
UNKNOWN_TOPIC_ID for v13), batch lengths that do not fit (CORRUPT_MESSAGE), not exactly one v2
batch (INVALID_RECORD), a zstd batch below v7 (UNSUPPORTED_COMPRESSION_TYPE), invalid ``acks``
(INVALID_REQUIRED_ACKS), internal topic
(INVALID_TOPIC_EXCEPTION), not the leader (NOT_LEADER_OR_FOLLOWER), acks=all with fewer in-sync
replicas than ``min.insync.replicas`` (NOT_ENOUGH_REPLICAS), batch above ``max.message.bytes``
(MESSAGE_TOO_LARGE), CRC (CORRUPT_MESSAGE), then the batch header against itself and the topic
(protocol/batch_validation.py, whose docstring has the table of what is checked in O(1), what is
recomputed on the rare path and what is trusted): control batches, record count and last offset
delta, codec, producer fields, timestamp type, and CreateTime timestamps against
`message.timestamp.before.max.ms` / `message.timestamp.after.max.ms` (INVALID_TIMESTAMP with
Kafka's record errors); a batch whose header lies about its timestamps is repaired in place and
counted in ``odradek_batches_rewritten_total``. Then a record without a key on a compacted topic
(INVALID_RECORD, with one ``record_errors`` entry per such record, as Kafka's LogValidator),
transaction verification, then the append. The size is checked before the CRC so an oversized batch
costs no checksum. Work per partition is a header unpack, a few comparisons and one CRC32C over the
batch in C: records are never decoded, except on the rare path and on compacted topics
(``cleanup.policy`` with ``compact``), whose records are walked (decompressed if needed) to check
their keys, as Kafka does.

Idempotence and transactions (storage/producer_state.py) are checked inside the append, per batch
header: OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE; a retry of one of
the producer's last 5 batches is answered with its original offsets and writes nothing.

Broker-side schema validation (``confluent.value.schema.validation`` /
``confluent.key.schema.validation``, broker/schema_validation.py) runs last before the append, only
on topics that set it: a record without a registered schema id for the topic's subject refuses the
batch (INVALID_RECORD with record errors). A request carrying ids the broker has not looked up yet
waits for the registry first (off the event loop).

Transaction verification (KIP-890 part 1, `transaction.partition.verification.enable`): the first
transactional batch of a transaction on a partition must belong to a partition the coordinator has
in the transaction. v3-v11 ask the coordinator synchronously (this broker is the coordinator);
v12+ (transaction version 2 clients, which never send AddPartitionsToTxn) add the partition to the
transaction and are answered after that; both check again right before appending. A partition not
in the transaction gets TRANSACTION_ABORTABLE (v11+) or INVALID_TXN_STATE; a fenced producer gets
INVALID_PRODUCER_EPOCH; a coordinator that cannot answer yet gets the retriable NOT_ENOUGH_REPLICAS,
as Kafka maps them. In a cluster, when the transaction's coordinator is another broker, v3-v11 ask
it with AddPartitionsToTxn v4 `verify_only` (`txn_verification.py`, Kafka's AddPartitionsToTxnManager)
and append once it answered; v12+ (transaction version 2) have the leader add the partitions with
AddPartitionsToTxn v5 (without `verify_only`) and append once the coordinator has them. Each
verification takes the producer's verification state on the partition (Kafka's
VerificationStateEntry, `Partition.start_verification`), which lasts until the transaction starts
there, its marker is appended, or `producer.id.expiration.ms` passes: a marker of the producer's
transaction appended while the coordinator answers voids the answer (INVALID_TXN_STATE), and a
batch above the lowest sequence that asked gets OUT_OF_ORDER_SEQUENCE_NUMBER.

With acks=all, the answer waits in the produce purgatory until the high watermark passes every
written batch (`DelayedProduce`: NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank meanwhile,
REQUEST_TIMED_OUT after the request's ``timeout_ms``); on a single node it completes inside the
append, so the answer is still sent at once. A request that waits after appending is returned as
`AfterAppend`: the connection handles the client's next Produce requests meanwhile and answers in
order (docs/adr/0008-pipelined-produce-answers.md). With acks=0 there is no response; as in Kafka, an error
then closes the connection so the client notices. When the topic sets ``flush.messages``, the answer
also waits for the fsync (group commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.delayed_produce import DelayedProduce, ProduceWait
from odradek.broker.dispatcher import AfterAppend, CloseConnection
from odradek.broker.leader_hints import LeaderHints, not_hosted_error
from odradek.broker.schema_validation import NO_FLAGS
from odradek.broker.transaction_coordinator import RETRIABLE_VERIFICATION_ERRORS
from odradek.coordinator.transaction.metadata import TV_2
from odradek.coordinator.transaction.results import error_for_client
from odradek.metadata.topic_names import is_internal
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.batch_validation import Rejection, Rewritten, check_produce_batch, check_produce_gate
from odradek.protocol.messages import produce as msg
from odradek.protocol.produce import has_transactional_batch, parse_produce_request, write_produce_response
from odradek.protocol.raw_records import records_without_key
from odradek.protocol.records import (
    BatchHeader,
    CorruptBatchError,
    UnsupportedMagicError,
    crc_of,
    validate_batches,
)
from odradek.replication.partition import Partition, VerificationGuard
from odradek.security.acl import AclOperation, ResourceType
from odradek.storage.errors import StorageError

if TYPE_CHECKING:
    from odradek.broker.ports import BrokerPorts

Pending = list[tuple[TopicPartition, int, msg.PartitionProduceResponse]]
VALID_ACKS = (0, 1, -1)
ONE_BATCH = "Produce requests must have exactly one record batch per partition"
ADD_PARTITIONS_SINCE = 12  # Produce v12+: the broker adds the partition to the transaction (TV2)
_NOT_LEADER = int(ErrorCode.NOT_LEADER_OR_FOLLOWER)


@dataclass(slots=True)
class Unverified:
    """A transactional batch waiting for the coordinator to add its partition (v12+)."""

    partition: Partition
    records: memoryview
    header: BatchHeader
    result: msg.PartitionProduceResponse


def handle(
    ctx: RequestContext, request: msg.ProduceRequest
) -> msg.ProduceResponse | Awaitable[msg.ProduceResponse | None] | None:
    ports = ctx.ports
    if ports.schemas.any_topic(ports.metadata.image.topic_configs):  # one cheap test when no topic asks
        missing = _uncached_schema_ids(ctx, request)
        if missing:
            return _lookup_then_handle(ctx, request, missing)
    return _handle(ctx, request)


def _handle(
    ctx: RequestContext, request: msg.ProduceRequest
) -> msg.ProduceResponse | Awaitable[msg.ProduceResponse | None] | None:
    ports = ctx.ports
    acks = request.acks
    now = ports.clock.now_ms()
    by_id = ctx.api_version >= 13
    responses: list[msg.TopicProduceResponse] = []
    durable: Pending = []
    waits: list[ProduceWait] = []
    unverified: list[Unverified] = []
    remote: list[Unverified] = []  # to verify with a transaction coordinator on another broker
    results: list[msg.PartitionProduceResponse] = []
    if request.transactional_id is None and has_transactional_batch(request):
        return _refuse_all(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    ports.quotas.record_produce(ctx, _request_bytes(request))
    authorizer = ports.authorizer
    if request.transactional_id is not None and not authorizer.authorize(
        ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id
    ):
        return _refuse_all(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    for topic in request.topic_data:
        name = _topic_name(ports, topic.topic_id) if by_id else topic.name
        out = msg.TopicProduceResponse(name=topic.name, topic_id=topic.topic_id)
        responses.append(out)
        allowed = name is None or authorizer.authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, name)
        for part in topic.partition_data:
            result = msg.PartitionProduceResponse(index=part.index, base_offset=-1)
            out.partition_responses.append(result)
            results.append(result)
            if not allowed:
                result.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
                continue
            checked = _validate(ports, name, by_id, part, acks, now, ctx.api_version, result)
            if checked is None:
                continue
            partition, header = checked
            records = part.records
            assert isinstance(records, memoryview)
            if not _schemas_valid(ports, partition, records, header, result):
                continue
            if _needs_verification(ports, partition, header):
                if ctx.api_version >= ADD_PARTITIONS_SINCE:
                    unverified.append(Unverified(partition, records, header, result))
                    continue
                txn_id = request.transactional_id
                if txn_id is not None and not ports.transactions.coordinated_here(txn_id):
                    remote.append(Unverified(partition, records, header, result))
                    continue
                if not _verified(ctx, txn_id, partition, header, result):
                    continue
            _write(ports, partition, records, header, now, result, durable, waits if acks == -1 else None)
    response = msg.ProduceResponse(responses=responses)
    for result in results:  # (a plain loop: no generator per request)
        if result.error_code == _NOT_LEADER:
            _add_leader_hints(ctx, responses, response)
            break
    if unverified:
        return _add_then_write(ctx, request, unverified, durable, waits, response, results)
    if remote:
        return _verify_remotely_then_write(ctx, request, remote, durable, waits, response, results)
    return _finish(ports, request, durable, waits, response, results)


def _request_bytes(request: msg.ProduceRequest) -> int:
    """The record bytes a producer quota counts (plain loops: the usual request has one partition)."""
    size = 0
    for topic in request.topic_data:
        for part in topic.partition_data:
            if part.records is not None:
                size += len(part.records)
    return size


def _schemas_valid(
    ports: BrokerPorts,
    partition: Partition,
    records: memoryview,
    header: BatchHeader,
    result: msg.PartitionProduceResponse,
) -> bool:
    """Broker-side schema validation (broker/schema_validation.py), for topics that ask for it."""
    flags = ports.schemas.flags(ports.metadata.image.topic_configs, partition.tp.topic)
    if flags == NO_FLAGS:
        return True
    rejection = ports.schemas.check(partition.tp.topic, records, header, flags)
    if rejection is None:
        return True
    result.error_code, result.error_message = rejection.error_code, rejection.message
    result.record_errors = [msg.BatchIndexAndErrorMessage(i, text) for i, text in rejection.record_errors]
    return False


def _uncached_schema_ids(ctx: RequestContext, request: msg.ProduceRequest) -> set[tuple[int, str]]:
    """Schema ids in batches of validated topics that the broker has not looked up yet."""
    ports = ctx.ports
    configs = ports.metadata.image.topic_configs
    wanted: set[tuple[int, str]] = set()
    for topic in request.topic_data:
        name = ports.partitions.topic_name(topic.topic_id) if ctx.api_version >= 13 else topic.name
        flags = ports.schemas.flags(configs, name) if name is not None else NO_FLAGS
        if flags == NO_FLAGS or name is None:
            continue
        for part in topic.partition_data:
            header = _single_batch(part.records)
            if isinstance(header, BatchHeader) and isinstance(part.records, memoryview):
                wanted |= ports.schemas.ids_of(name, part.records, header, flags)
    return ports.schemas.uncached(wanted)


async def _lookup_then_handle(
    ctx: RequestContext, request: msg.ProduceRequest, ids: set[tuple[int, str]]
) -> msg.ProduceResponse | None:
    """Ask the registry about ``ids`` (off the loop), then handle the request from the cache."""
    await ctx.ports.schemas.fetch(ids)
    answer = _handle(ctx, request)
    if answer is None or isinstance(answer, msg.ProduceResponse):
        return answer
    return await answer


def _refuse_all(request: msg.ProduceRequest, error: ErrorCode) -> msg.ProduceResponse | None:
    """Every partition of the request answered with `error` (with acks=0 the connection closes)."""
    if request.acks == 0:
        raise CloseConnection(f"produce refused: {error.name}")
    responses = [
        msg.TopicProduceResponse(
            name=topic.name,
            topic_id=topic.topic_id,
            partition_responses=[
                msg.PartitionProduceResponse(index=part.index, error_code=error, base_offset=-1)
                for part in topic.partition_data
            ],
        )
        for topic in request.topic_data
    ]
    return msg.ProduceResponse(responses=responses)


def _finish(
    ports: BrokerPorts,
    request: msg.ProduceRequest,
    durable: Pending,
    waits: list[ProduceWait],
    response: msg.ProduceResponse,
    results: list[msg.PartitionProduceResponse],
) -> msg.ProduceResponse | Awaitable[msg.ProduceResponse] | None:
    if request.acks == 0:
        if any(r.error_code != ErrorCode.NO_ERROR for r in results):
            raise CloseConnection("produce with acks=0 failed")
        return None
    if waits:
        delayed = DelayedProduce(waits)
        if not ports.purgatories.produce.try_complete_else_watch(delayed, request.timeout_ms):
            return AfterAppend(_after_commit(ports, delayed, durable, response))
    if durable:
        return AfterAppend(_after_fsync(ports, durable, response))
    return response


async def _add_then_write(
    ctx: RequestContext,
    request: msg.ProduceRequest,
    unverified: list[Unverified],
    durable: Pending,
    waits: list[ProduceWait],
    response: msg.ProduceResponse,
    results: list[msg.PartitionProduceResponse],
) -> msg.ProduceResponse | None:
    """v12+: add each partition to its transaction, then verify again and append (nothing else ran
    on these partitions' behalf in between: verification and append are one synchronous step)."""
    ports = ctx.ports
    transactional_id = request.transactional_id
    if transactional_id is not None and not ports.transactions.coordinated_here(transactional_id):
        return await _verify_remotely_then_write(
            ctx, request, unverified, durable, waits, response, results, add=True
        )
    service = ports.transactions.service
    for item in unverified:
        header, result = item.header, item.result
        if transactional_id is None:
            result.error_code = ErrorCode.INVALID_TXN_STATE
            continue
        guard = item.partition.start_verification(header, ports.clock.now_ms())
        error = await service.add_partitions(
            transactional_id, header.producer_id, header.producer_epoch, [item.partition.tp], TV_2
        )
        if not item.partition.is_leader:  # leadership moved while the partition was added
            result.error_code = ErrorCode.NOT_LEADER_OR_FOLLOWER
            continue
        if error is not ErrorCode.NO_ERROR:
            result.error_code = _verification_error(ctx.api_version, error)
            continue
        if _verified(ctx, transactional_id, item.partition, header, result, guard):
            now = ports.clock.now_ms()
            acks_all = waits if request.acks == -1 else None
            _write(ports, item.partition, item.records, header, now, result, durable, acks_all)
    _hint_moved_leaders(ctx, response, results)
    answer = _finish(ports, request, durable, waits, response, results)
    if answer is None or isinstance(answer, msg.ProduceResponse):
        return answer
    return await answer


async def _verify_remotely_then_write(
    ctx: RequestContext,
    request: msg.ProduceRequest,
    remote: list[Unverified],
    durable: Pending,
    waits: list[ProduceWait],
    response: msg.ProduceResponse,
    results: list[msg.PartitionProduceResponse],
    *,
    add: bool = False,
) -> msg.ProduceResponse | None:
    """v3-v11 in a cluster: the transaction's coordinator is another broker; ask it (AddPartitionsToTxn
    v4 verify_only, `txn_verification.py`) whether the partitions are in the transaction, then
    append the verified batches; v12+ (`add`): add them to the transaction (v5), then append. All
    batches of a request belong to one producer."""
    ports = ctx.ports
    transactional_id = request.transactional_id
    assert transactional_id is not None
    header = remote[0].header
    now = ports.clock.now_ms()
    guards = [item.partition.start_verification(item.header, now) for item in remote]
    errors = await ports.transactions.verify(
        transactional_id,
        header.producer_id,
        header.producer_epoch,
        [item.partition.tp for item in remote],
        add=add,
    )
    now = ports.clock.now_ms()
    for item, guard in zip(remote, guards, strict=True):
        error = errors.get(item.partition.tp, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        if not item.partition.is_leader:  # leadership moved while the coordinator answered
            item.result.error_code = ErrorCode.NOT_LEADER_OR_FOLLOWER
            continue
        if error is ErrorCode.NO_ERROR:  # a marker appended meanwhile voids the answer; sequences
            error = item.partition.verification_error(item.header, guard)
        if error is not ErrorCode.NO_ERROR:
            item.result.error_code = _verification_error(ctx.api_version, error)
            item.result.error_message = (
                f"transactional batch for {item.partition.tp} failed verification: {error.name}"
            )
            continue
        acks_all = waits if request.acks == -1 else None
        _write(ports, item.partition, item.records, item.header, now, item.result, durable, acks_all)
    _hint_moved_leaders(ctx, response, results)
    answer = _finish(ports, request, durable, waits, response, results)
    if answer is None or isinstance(answer, msg.ProduceResponse):
        return answer
    return await answer


def _topic_name(ports: BrokerPorts, topic_id: uuid.UUID) -> str | None:
    """The name of a hosted topic's id, else of one the metadata knows (led elsewhere)."""
    name = ports.partitions.topic_name(topic_id)
    if name is None:
        known = ports.metadata.image.topics_by_id.get(topic_id)
        name = None if known is None else known.name
    return name


def _add_leader_hints(
    ctx: RequestContext, responses: list[msg.TopicProduceResponse], response: msg.ProduceResponse
) -> None:
    """KIP-951 (v10+): each NOT_LEADER_OR_FOLLOWER partition names its current leader, and the
    response those leaders' endpoints."""
    hints = LeaderHints(ctx)
    for topic in responses:
        name = topic.name or _topic_name(ctx.ports, topic.topic_id) or ""
        for result in topic.partition_responses:
            if result.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER:
                result.current_leader = msg.LeaderIdAndEpoch(*hints.current_leader(name, result.index))
    response.node_endpoints = [msg.NodeEndpoint(*endpoint) for endpoint in hints.node_endpoints()]


def _hint_moved_leaders(
    ctx: RequestContext, response: msg.ProduceResponse, results: list[msg.PartitionProduceResponse]
) -> None:
    """After a verification's await: the hints for partitions whose leadership moved meanwhile (the
    synchronous path's check, inlined there)."""
    if any(result.error_code == _NOT_LEADER for result in results):
        _add_leader_hints(ctx, response.responses, response)


def _needs_verification(ports: BrokerPorts, partition: Partition, header: BatchHeader) -> bool:
    """The first transactional batch of a transaction on this partition (per batch header)."""
    return (
        header.is_transactional
        and partition.log.producer_state.needs_verification(header)
        and ports.transactions.verification_enabled()
    )


def _verification_error(version: int, error: ErrorCode) -> ErrorCode:
    if error in RETRIABLE_VERIFICATION_ERRORS:
        return ErrorCode.NOT_ENOUGH_REPLICAS
    return error_for_client(ApiKey.PRODUCE, version, error)


def _verified(
    ctx: RequestContext,
    transactional_id: str | None,
    partition: Partition,
    header: BatchHeader,
    result: msg.PartitionProduceResponse,
    guard: VerificationGuard | None = None,
) -> bool:
    """Is the batch's partition in its transaction? (The coordinator is on this broker; `guard`: the
    one taken before the partition was added, else one taken now.)"""
    ports = ctx.ports
    if not _needs_verification(ports, partition, header):
        return True
    if guard is None:
        guard = partition.start_verification(header, ports.clock.now_ms())
    if transactional_id is None:
        error = ErrorCode.INVALID_TXN_STATE
    else:
        errors = ports.transactions.service.verify_partitions(
            transactional_id, header.producer_id, header.producer_epoch, [partition.tp]
        )
        error = errors.get(partition.tp, ErrorCode.NO_ERROR)
    if error is ErrorCode.NO_ERROR:
        error = partition.verification_error(header, guard)
    if error is ErrorCode.NO_ERROR:
        return True
    result.error_code = _verification_error(ctx.api_version, error)
    result.error_message = f"transactional batch for {partition.tp} failed verification: {error.name}"
    return False


def _validate(
    ports: BrokerPorts,
    name: str | None,
    by_id: bool,
    part: msg.PartitionProduceData,
    acks: int,
    now: int,
    version: int,
    result: msg.PartitionProduceResponse,
) -> tuple[Partition, BatchHeader] | None:
    """The checks before the append, in Kafka's order; None (and `result` set) on failure."""
    partition = ports.partitions.get(name, part.index) if name is not None else None
    if partition is None:
        unknown_id = by_id and name is None
        error = ErrorCode.UNKNOWN_TOPIC_ID if unknown_id else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        result.error_code = not_hosted_error(ports, name, part.index, error)
        return None
    records = part.records
    checked = _single_batch(records)
    if not isinstance(checked, BatchHeader):
        result.error_code, result.error_message = checked
        return None
    header = checked
    gate = check_produce_gate(header, version)
    if gate is not None:
        result.error_code, result.error_message = gate.error_code, gate.message
        return None
    if acks not in VALID_ACKS:
        result.error_code = ErrorCode.INVALID_REQUIRED_ACKS
        return None
    if name is not None and is_internal(name):
        result.error_code = ErrorCode.INVALID_TOPIC_EXCEPTION
        result.error_message = f"Cannot append to internal topic {name}"
        return None
    if not partition.is_leader:
        result.error_code = ErrorCode.NOT_LEADER_OR_FOLLOWER
        return None
    log = partition.log
    config = log.config
    if acks == -1 and config.min_insync_replicas > partition.in_sync_replicas:
        result.error_code = ErrorCode.NOT_ENOUGH_REPLICAS
        result.error_message = (
            f"in-sync replicas ({partition.in_sync_replicas}) below min.insync.replicas "
            f"({config.min_insync_replicas})"
        )
        return None
    if header.size > config.max_message_bytes:
        result.error_code = ErrorCode.MESSAGE_TOO_LARGE
        result.error_message = (
            f"batch of {header.size} bytes exceeds max.message.bytes {config.max_message_bytes}"
        )
        return None
    assert isinstance(records, memoryview)
    if crc_of(records, 0, header.size) != header.crc:
        result.error_code = ErrorCode.CORRUPT_MESSAGE
        result.error_message = "record batch CRC mismatch"
        return None
    verdict = check_produce_batch(records, header, config, now, partition.tp)
    if isinstance(verdict, Rejection):
        result.error_code, result.error_message = verdict.error_code, verdict.message
        result.record_errors = [msg.BatchIndexAndErrorMessage(i, text) for i, text in verdict.record_errors]
        return None
    if isinstance(verdict, Rewritten):  # the rare path repaired the header in place
        header = verdict.header
        ports.stats.on_batch_rewritten(verdict.fields)
    if config.compact_enabled and not _keys_present(partition.tp, records, header, result):
        return None
    return partition, header


def _write(
    ports: BrokerPorts,
    partition: Partition,
    records: memoryview,
    header: BatchHeader,
    now: int,
    result: msg.PartitionProduceResponse,
    durable: Pending,
    waits: list[ProduceWait] | None,
) -> None:
    """Append as the partition's leader; with acks=all (`waits`), wait for the commit of the batch (a
    retried batch too: its original offsets may not be committed yet)."""
    try:
        info = partition.append_as_leader(records, [header], now)
    except StorageError as exc:
        result.error_code = exc.error_code
        result.error_message = str(exc)
        return
    result.base_offset = info.first_offset
    result.log_append_time_ms = info.log_append_time
    result.log_start_offset = info.log_start_offset
    if waits is not None:
        waits.append(ProduceWait(partition, info.last_offset + 1, result))
    if info.duplicate:
        return
    ports.stats.on_produced(partition.tp.topic, len(records), header.record_count)
    if partition.log.config.flush_on_messages:
        durable.append((partition.tp, info.last_offset, result))


def _single_batch(records: object) -> BatchHeader | tuple[ErrorCode, str]:
    """Kafka's ProduceRequest.validateRecords: exactly one v2 batch whose length fits (CRC unchecked)."""
    if not isinstance(records, memoryview) or len(records) == 0:
        return ErrorCode.INVALID_RECORD, ONE_BATCH
    try:
        headers = validate_batches(records, verify_crc=False)
    except UnsupportedMagicError as exc:
        return ErrorCode.INVALID_RECORD, str(exc)
    except CorruptBatchError as exc:
        return ErrorCode.CORRUPT_MESSAGE, str(exc)
    if len(headers) != 1:
        return ErrorCode.INVALID_RECORD, ONE_BATCH
    return headers[0]


def _keys_present(
    tp: TopicPartition, records: memoryview, header: BatchHeader, result: msg.PartitionProduceResponse
) -> bool:
    """Kafka's rule for compacted topics: every record needs a key (else INVALID_RECORD)."""
    if header.is_control:
        return True
    try:
        keyless = records_without_key(records, header)
    except CorruptBatchError as exc:
        result.error_code = ErrorCode.CORRUPT_MESSAGE
        result.error_message = str(exc)
        return False
    if not keyless:
        return True
    reason = (
        f"Compacted topic cannot accept message without key in topic partition {tp.topic}-{tp.partition}."
    )
    result.error_code = ErrorCode.INVALID_RECORD
    result.record_errors = [msg.BatchIndexAndErrorMessage(i, reason) for i in keyless]
    shown = ", ".join(f"RecordError(batchIndex={i}, message='{reason}')" for i in keyless[:3])
    result.error_message = (
        f"One or more records have been rejected due to {len(keyless)} record errors in total, and only "
        f"showing the first three errors at most: [{shown}]"
    )
    return False


async def _after_commit(
    ports: BrokerPorts, delayed: DelayedProduce, durable: Pending, response: msg.ProduceResponse
) -> msg.ProduceResponse:
    await delayed.wait()
    if durable:
        return await _after_fsync(ports, durable, response)
    return response


async def _after_fsync(
    ports: BrokerPorts, durable: Pending, response: msg.ProduceResponse
) -> msg.ProduceResponse:
    for tp, last_offset, result in durable:
        try:
            await ports.flusher.after_append(tp, last_offset)
        except StorageError as exc:
            result.error_code = exc.error_code
            result.error_message = str(exc)
    return response


SPEC = ApiSpec(
    ApiKey.PRODUCE,
    3,
    13,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    decode=parse_produce_request,
    encode=write_produce_response,
    notes=(
        "acks 0/1/all; batches validated as bytes (CRC32C, sizes, header facts in O(1); a header lying "
        "about its timestamps is recomputed from its records); zstd from v7; idempotence and transaction "
        "checks per batch; v13 topic ids"
    ),
)
