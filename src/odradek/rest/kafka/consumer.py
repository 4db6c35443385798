"""One librdkafka consumer behind an async, bounded-memory fetch.

librdkafka's consumer calls block, so they run on `BlockingCalls`, a thread pool of
``consumer.threads`` threads shared by every consumer of the process; a long wait for records is
cut into slices of at most ``SLICE_S`` so a few threads serve many waiting consumers fairly.

Memory per consumer is bounded twice: librdkafka prefetches at most ``consumer.buffer.kbytes``
(``queued.max.messages.kbytes``), and `ConsumerHandle.fetch` keeps what it took from librdkafka but
could not return within ``max_bytes`` in ``pending`` (at most one consume call's worth), to be
returned first next time, so no record is skipped and none is read twice.

Offsets: librdkafka's automatic offset store is off. A record counts as consumed once it is
returned to the HTTP client (`positions`); committing "what was fetched" commits exactly those
positions, and librdkafka's auto-commit (when enabled) commits them too, via ``store_offsets``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

log = logging.getLogger("odradek.rest")

SLICE_S = 0.5
CONSUME_BATCH = 500
T = TypeVar("T")
TP = tuple[str, int]


class BlockingCalls:
    def __init__(self, threads: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rest-consumer")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def record_size(msg: Message) -> int:
    key, value = msg.key(), msg.value()
    return (len(key) if key else 0) + (len(value) if value else 0)


class ConsumerHandle:
    """A librdkafka consumer, its lock (one request at a time) and its not-yet-returned records."""

    def __init__(
        self,
        config: Mapping[str, object],
        calls: BlockingCalls,
        on_assign: Callable[[ConsumerHandle, list[TopicPartition]], None] | None = None,
    ) -> None:
        self.calls = calls
        self.lock = asyncio.Lock()
        self.pending: deque[Message] = deque()
        self.positions: dict[TP, int] = {}  # next offset after what was returned, per partition
        self.assigned: set[TP] = set()
        self.rebalances = 0
        self._on_assign = on_assign
        self.consumer = Consumer(dict(config))
        self.closed = False
        self.fatal: KafkaError | None = None

    # -- group membership ---------------------------------------------------------------------

    def subscribe(self, topics: Sequence[str]) -> None:
        self.consumer.subscribe(list(topics), on_assign=self._assigned, on_revoke=self._revoked)

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.rebalances += 1
        if self._on_assign is not None:
            self._on_assign(self, partitions)
        consumer.assign(partitions)
        self.assigned = {(tp.topic, tp.partition) for tp in partitions}

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.rebalances += 1
        gone = {(tp.topic, tp.partition) for tp in partitions}
        self.drop_pending(gone)
        for tp in gone:
            self.positions.pop(tp, None)
        self.assigned -= gone
        consumer.unassign()

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        partitions = list(partitions)
        self.consumer.assign(partitions)
        self.assigned = {(tp.topic, tp.partition) for tp in partitions}
        self.pending.clear()
        self.positions.clear()

    def drop_pending(self, partitions: set[TP] | None = None) -> None:
        if partitions is None:
            self.pending.clear()
            return
        self.pending = deque(m for m in self.pending if (m.topic(), m.partition()) not in partitions)

    # -- fetching -------------------------------------------------------------------------------

    async def fetch(
        self,
        max_bytes: int,
        timeout_s: float,
        min_bytes: int = 1,
        max_records: int | None = None,
        raise_on: frozenset[int] = frozenset(),
    ) -> list[Message]:
        """Records in order, at most ``max_bytes`` of keys and values (at least one record).

        Errors librdkafka reports through the consumer are logged and skipped, except fatal ones
        and those whose codes are in ``raise_on``, which raise `KafkaException`.
        """
        out: list[Message] = []
        size = 0
        limit = max_records if max_records is not None else 1 << 30
        deadline = time.monotonic() + timeout_s
        drained = True
        while True:
            while self.pending and len(out) < limit:
                msg = self.pending[0]
                n = record_size(msg)
                if out and size + n > max_bytes:
                    break
                out.append(self.pending.popleft())
                size += n
            full = size >= max_bytes or len(out) >= limit or bool(self.pending)
            if full or (out and size >= min_bytes and drained):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 and drained:
                break
            batch = await self.calls.run(self._take, 0.0 if out else max(min(remaining, SLICE_S), 0.0))
            drained = len(batch) < CONSUME_BATCH  # librdkafka's queue is empty for now
            for msg in batch:
                err = msg.error()
                if err is None:
                    self.pending.append(msg)
                elif err.fatal():
                    self.fatal = err
                    raise KafkaException(err)
                elif err.code() in raise_on:
                    self.mark_returned(out)
                    self.unreturn(out)
                    raise KafkaException(err)
                elif err.code() != KafkaError._PARTITION_EOF:
                    log.debug("consumer error: %s", err)
        self.mark_returned(out)
        return out

    def _take(self, wait_s: float) -> list[Message]:
        """What librdkafka has queued, waiting up to ``wait_s`` only when nothing is.

        ``consume(n, timeout)`` waits for *n* messages or the timeout, so a consumer reading a
        partition faster than it is prefetched would sit out the whole timeout on every call.
        """
        batch = self.consumer.consume(CONSUME_BATCH, 0)
        if not batch:
            batch = self.consumer.consume(1, wait_s)
            if batch:
                batch += self.consumer.consume(CONSUME_BATCH - 1, 0)
        return batch

    def mark_returned(self, records: Sequence[Message]) -> None:
        if not records:
            return
        last: dict[TP, Message] = {}
        for msg in records:
            last[(msg.topic() or "", msg.partition() or 0)] = msg
        for tp, msg in last.items():
            self.positions[tp] = (msg.offset() or 0) + 1
        try:
            self.consumer.store_offsets(
                offsets=[TopicPartition(t, p, o) for (t, p), o in self.positions.items() if (t, p) in last]
            )
        except KafkaException as exc:  # a partition revoked meanwhile: its offset is not ours
            log.debug("store_offsets: %s", exc)

    def unreturn(self, records: Sequence[Message]) -> None:
        """Put back records that were fetched but could not be sent (they come first next time)."""
        self.pending.extendleft(reversed(records))

    # -- positions and commits ----------------------------------------------------------------

    async def commit(self, offsets: Sequence[TopicPartition] | None = None) -> None:
        if offsets is None:
            offsets = [TopicPartition(t, p, o) for (t, p), o in self.positions.items()]
        if not offsets:
            return
        await self.calls.run(self.consumer.commit, offsets=list(offsets), asynchronous=False)

    async def committed(self, partitions: Sequence[TopicPartition]) -> list[TopicPartition]:
        result: list[TopicPartition] = await self.calls.run(
            self.consumer.committed, list(partitions), timeout=10
        )
        return result

    async def seek(self, partition: TopicPartition) -> None:
        tp = (partition.topic, partition.partition)
        self.drop_pending({tp})
        if partition.offset >= 0:
            self.positions[tp] = partition.offset
        else:
            self.positions.pop(tp, None)
        await self.calls.run(self._seek_when_ready, partition)

    def _seek_when_ready(self, partition: TopicPartition) -> None:
        # a seek right after assign can fail with _STATE (fetcher not started): retry briefly
        deadline = time.monotonic() + 5.0
        while True:
            try:
                self.consumer.seek(partition)
                return
            except KafkaException as exc:
                if time.monotonic() > deadline:
                    raise
                log.debug("seek retry: %s", exc)
                time.sleep(0.05)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.calls.run(self.consumer.close)
        except (KafkaException, RuntimeError) as exc:
            log.debug("consumer close: %s", exc)
