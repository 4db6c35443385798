"""What both coordinator shells do with their internal topic before serving (Kafka's `CoordinatorLoader`).

create   `__consumer_offsets` / `__transaction_state` is created on first use, with Kafka's
         internal-topic settings (`internal_topic`); TOPIC_ALREADY_EXISTS counts as created (a
         concurrent creation won the race).
entries  what a shard replays, for both coordinators alike: every record and transaction marker
         from the log start offset up to the log end, in offset order, with its offset
         (`(offset, LogRecord | TransactionMarker)`, the producer id set on records of a
         transactional batch). The runtime replays those below the high watermark as committed and
         the rest as pending, so both coordinators load to the same offset. Batches are read whole
         in 1 MiB chunks; a batch whose records cannot be parsed is skipped with a warning, so one
         bad batch never keeps a partition from loading.
load     `load_in_parallel`: the partitions load a few at a time, each replayed in a worker thread
         over a `PartitionLog.reader` (descriptors of its own), off the event loop: the broker
         serves while `__consumer_offsets` loads, and 50 partitions load as fast as the disk and
         one core allow, not one after the other between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.primitives import ProtocolError
from odradek.protocol.records import CONTROL_COMMIT, BatchHeader, control_type, iter_headers, iter_records
from odradek.storage.errors import StorageError
from odradek.storage.partition_log import LogReader, PartitionLog

if TYPE_CHECKING:
    from odradek.broker.app import Broker
    from odradek.coordinator.shard import LogEntry
    from odradek.metadata.image import TopicImage
    from odradek.replication.partition import Partition

log = logging.getLogger("odradek.broker.coordinators")
READ_CHUNK_BYTES = 1 << 20
LOAD_WORKERS = 4  # coordinator partitions loading at once
_CREATED = frozenset({ErrorCode.NO_ERROR, ErrorCode.TOPIC_ALREADY_EXISTS})


async def create_coordinator_topic(broker: Broker, name: str) -> TopicImage | None:
    """Create internal topic `name`; its image, or None (logged) when it could not be created."""
    from odradek.metadata.controller.internal_topics import internal_topic

    creatable = internal_topic(broker.image, broker.config.static, name)
    assert creatable is not None
    (result,) = await broker.create_topics([creatable])
    topic = broker.image.topic(name)
    if result.error_code not in _CREATED or topic is None:
        log.warning("creating %s failed: %s", name, result.error_message)
        return None
    log.info("created %s with %d partitions", name, len(topic.partitions))
    return topic


class BackgroundLoads:
    """At most one background `ensure_ready` of a coordinator at a time (started by a leadership
    change; its outcome is the next FindCoordinator's business)."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def start(self, load: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        if self._task is not None and not self._task.done():
            self._again = True  # leadership moved meanwhile: load once more when this one is done
            return
        self._task = asyncio.get_running_loop().create_task(self._run(load), name="coordinator-load")

    async def _run(self, load: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        while True:
            self._again = False
            try:
                await load()
            except Exception:
                log.exception("loading coordinator partitions failed")
            if not self._again:
                return

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def led_partitions(broker: Broker, name: str) -> set[int]:
    """The partitions of coordinator topic `name` this broker leads (all of them on a single node)."""
    topic = broker.image.topic(name)
    if topic is None:
        return set()
    me = broker.config.node_id
    return {
        index
        for index, p in topic.partitions.items()
        if p.leader == me and not isinstance(broker.partitions.leader(name, index), ErrorCode)
    }


def entries(log_: PartitionLog) -> Iterator[tuple[int, LogEntry]]:
    """Every record and transaction marker up to the log end, with its offset, in offset order."""
    return _entries(batches(log_, log_.log_end_offset), log_.log_start_offset, log_.tp)


def entries_of(reader: LogReader, tp: TopicPartition) -> Iterator[tuple[int, LogEntry]]:
    """`entries` from a `PartitionLog.reader`: for a worker thread (loading off the event loop)."""

    def batches_of() -> Iterator[tuple[bytes, int, BatchHeader]]:
        for chunk in reader.chunks(READ_CHUNK_BYTES):
            for pos, header in iter_headers(chunk):
                if header.base_offset >= reader.end_offset:
                    return
                yield chunk, pos, header

    return _entries(batches_of(), reader.log_start_offset, tp)


def _entries(
    batches_: Iterator[tuple[bytes, int, BatchHeader]], log_start_offset: int, tp: TopicPartition
) -> Iterator[tuple[int, LogEntry]]:
    from odradek.coordinator.shard import LogRecord, TransactionMarker

    for chunk, pos, header in batches_:
        try:
            records = list(iter_records(chunk, pos, header))
        except ProtocolError:
            log.warning("skipping an unreadable batch of %s at %d", tp, header.base_offset)
            continue
        producer_id = header.producer_id if header.is_transactional else -1
        for record in records:
            if record.offset < log_start_offset:
                continue
            if header.is_control:
                kind = control_type(record.key)
                if kind >= 0:
                    yield record.offset, TransactionMarker(header.producer_id, kind == CONTROL_COMMIT)
            elif record.key is not None:
                yield record.offset, LogRecord(record.key, record.value, producer_id)


def batches(log_: PartitionLog, end: int) -> Iterator[tuple[bytes, int, BatchHeader]]:
    """`(chunk, position, header)` of every batch from the log start offset below `end`."""
    offset = log_.log_start_offset
    while offset < end:
        read = log_.read(offset, READ_CHUNK_BYTES, end)
        if not read.chunks:
            return
        for chunk in read.chunks:
            assert isinstance(chunk, bytes)  # read as bytes (regions are for followers' fetches)
            for pos, header in iter_headers(chunk):
                offset = header.next_offset
                yield chunk, pos, header


async def load_in_parallel(
    load: Callable[[int, int, Iterator[tuple[int, LogEntry]], int], Awaitable[None]],
    partitions: list[tuple[int, Partition]],
    workers: int = LOAD_WORKERS,
) -> bool:
    """Load coordinator partitions `workers` at a time, each replayed in a worker thread from a
    reader of its own (the event loop keeps serving; requests for a partition still loading get
    COORDINATOR_LOAD_IN_PROGRESS). `load` is the service's `load(index, epoch, entries, end)`.
    False when a partition's log could not be read (logged)."""
    gate = asyncio.Semaphore(max(1, workers))
    failed: list[TopicPartition] = []

    async def one(index: int, partition: Partition) -> None:
        async with gate:
            try:
                reader = partition.log.reader()
            except StorageError:
                log.exception("loading %s failed", partition.tp)
                failed.append(partition.tp)
                return
            try:
                await load(index, partition.leader_epoch, entries_of(reader, partition.tp), reader.end_offset)
            except Exception:  # a partition that cannot load must not keep the others from loading
                log.exception("loading %s failed", partition.tp)
                failed.append(partition.tp)
            finally:
                reader.close()

    # gather, not a TaskGroup: FindCoordinator runs this before its first wait, without a task of
    # its own (connection.py), and a TaskGroup needs one.
    await asyncio.gather(*(one(index, partition) for index, partition in partitions))
    return not failed
