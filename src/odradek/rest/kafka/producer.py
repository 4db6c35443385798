"""The proxy's shared producer: one librdkafka producer, delivery reports back on the event loop.

Every produce request of the process goes through one idempotent librdkafka producer (batching
across requests is where throughput comes from). ``produce`` is called on the event loop (it only
queues), and so is ``poll``, which runs the delivery callbacks: a timer polls every ``linger.ms``
(1 to 5 ms) while records await delivery and every ``POLL_IDLE_S`` otherwise (librdkafka's logs
and errors). Polling on the loop's own thread rather than on a thread of its own spares a
GIL hand-over per delivery report (with a poll thread the two threads took turns on the GIL for
every callback). Each report is stored in its request's `DeliveryBatch`, which wakes its waiter
at most once per poll round, never once per record.

Memory is bounded by librdkafka's queue (``producer.buffer.kbytes``): when it is full ``produce``
raises ``BufferError`` and the request waits (back-pressure) until deliveries free room.

A record librdkafka refuses at once (too large, unknown partition) gets its failed report right
away; the other records of the request are still written.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer

log = logging.getLogger("odradek.rest")

Headers = list[tuple[str, bytes | None]]
FULL_QUEUE_WAIT_S = 0.002
POLL_BUSY_MAX_S = 0.005
POLL_IDLE_S = 0.05


@dataclass(slots=True)  # not frozen: a frozen dataclass is several times slower to make
class OutRecord:
    topic: str
    partition: int  # -1: the partitioner picks (by key hash, as every Kafka client)
    key: bytes | None
    value: bytes | None
    headers: Headers | None = None
    timestamp_ms: int = 0  # 0: now (CreateTime)


@dataclass(slots=True)  # one per record: not frozen, which is several times slower to make
class Delivery:
    error: KafkaError | None
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    timestamp_type: int  # confluent_kafka.TIMESTAMP_*


class DeliveryBatch:
    """Delivery reports of one request's records, by index, handed to the event loop.

    Records are added with `add`; the poll thread fills ``reports``; `wait_for` waits for one
    record's report, `wait_all` for all of them.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.loop_thread = threading.get_ident()  # made on the loop's thread
        self.reports: list[Delivery | None] = []
        self.pending = 0
        self._event = asyncio.Event()
        self._wake_scheduled = False

    def add(self) -> int:
        self.reports.append(None)
        self.pending += 1
        return len(self.reports) - 1

    def settle(self, index: int, report: Delivery) -> None:
        """Store a report (any thread); wake the loop once per batch of reports."""
        self.reports[index] = report
        self.pending -= 1
        if not self._wake_scheduled:
            self._wake_scheduled = True
            if threading.get_ident() == self.loop_thread:
                self._wake()
            else:
                self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._wake_scheduled = False
        self._event.set()

    def on_delivery(self, index: int, err: KafkaError | None, msg: Message) -> None:
        ts_type, ts = msg.timestamp()
        offset = msg.offset()
        self.settle(
            index,
            Delivery(
                err, msg.topic() or "", msg.partition() or 0, -1 if offset is None else offset, ts, ts_type
            ),
        )

    async def wait_for(self, index: int) -> None:
        """Wait until the report of record ``index`` is in."""
        while self.reports[index] is None:
            self._event.clear()
            if self.reports[index] is not None:
                break
            await self._event.wait()

    async def wait_all(self) -> list[Delivery]:
        while self.pending:
            self._event.clear()
            if not self.pending:
                break
            await self._event.wait()
        return [r for r in self.reports if r is not None]


class ProducerService:
    """Owns the librdkafka producer and its polling on the event loop (`start`/`stop`)."""

    def __init__(self, config: Mapping[str, object]) -> None:
        self.config = dict(config)
        self.producer: Producer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._busy = False  # the timer runs at busy_s
        # a report is due no sooner than linger.ms after its record: polling faster only costs CPU
        linger_ms = float(str(self.config.get("linger.ms", 5)))
        self.busy_s = min(max(linger_ms / 1000, 0.001), POLL_BUSY_MAX_S)

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.producer = Producer(self.config)
        self._schedule(POLL_IDLE_S)

    def _schedule(self, delay: float) -> None:
        assert self.loop is not None
        self._busy = delay == self.busy_s
        self._timer = self.loop.call_later(delay, self._poll)

    def _poll(self) -> None:
        producer = self.producer
        if producer is None:
            return
        self.poll()
        self._schedule(self.busy_s if len(producer) else POLL_IDLE_S)

    def poll(self) -> None:
        """Run the delivery callbacks of the reports in (on the loop; never waits)."""
        producer = self.producer
        if producer is None:
            return
        try:
            producer.poll(0)
        except Exception:  # a callback's bug must not stop deliveries for everyone
            log.exception("delivery callback failed")

    def busy(self) -> None:
        """Records were queued: poll at the busy pace from now on (cheap when already so).

        Whoever calls the producer's ``produce`` directly calls this after."""
        if not self._busy and self._timer is not None:
            self._timer.cancel()
            self._schedule(self.busy_s)

    async def stop(self, timeout_s: float = 5.0) -> None:
        if self.producer is None:
            return
        producer = self.producer
        await asyncio.to_thread(producer.flush, timeout_s)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.producer = None

    def batch(self) -> DeliveryBatch:
        assert self.loop is not None
        return DeliveryBatch(self.loop)

    async def send(self, batch: DeliveryBatch, records: Sequence[OutRecord]) -> None:
        """Queue ``records`` into ``batch`` (waiting while librdkafka's queue is full)."""
        for record in records:
            await self.send_one(batch, record)

    def offer(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        partition: int,
        on_delivery: Callable[[KafkaError | None, Message], None],
        timestamp_ms: int = 0,
        headers: Headers | None = None,
    ) -> bool:
        """Queue one record without waiting; False when librdkafka's queue is full (nothing
        queued). A record librdkafka refuses at once raises its `KafkaException`."""
        producer = self.producer
        assert producer is not None
        try:
            producer.produce(
                topic,
                value,
                key,
                partition,
                on_delivery=on_delivery,
                timestamp=timestamp_ms,
                headers=headers,  # type: ignore[arg-type]  # None values are allowed
            )
        except BufferError:
            self.busy()
            return False
        if not self._busy:
            self.busy()
        return True

    def try_send(self, batch: DeliveryBatch, record: OutRecord) -> bool:
        """Queue ``record`` without waiting; False (nothing queued) when librdkafka's queue is full.

        The fast path of streaming produce: no coroutine per record."""
        producer = self.producer
        assert producer is not None
        index = batch.add()
        try:
            producer.produce(
                record.topic,
                value=record.value,
                key=record.key,
                partition=record.partition,
                on_delivery=functools.partial(batch.on_delivery, index),
                timestamp=record.timestamp_ms,
                headers=record.headers,  # type: ignore[arg-type]  # None values are allowed
            )
        except BufferError:
            batch.reports.pop()
            batch.pending -= 1
            self.busy()
            return False
        except KafkaException as exc:
            err = exc.args[0] if exc.args else KafkaError(KafkaError._FAIL)
            batch.settle(index, Delivery(err, record.topic, record.partition, -1, -1, 0))
        if not self._busy:
            self.busy()
        return True

    async def send_one(self, batch: DeliveryBatch, record: OutRecord) -> None:
        producer = self.producer
        assert producer is not None
        index = batch.add()
        callback = functools.partial(batch.on_delivery, index)
        while True:
            try:
                producer.produce(
                    record.topic,
                    value=record.value,
                    key=record.key,
                    partition=record.partition,
                    on_delivery=callback,
                    timestamp=record.timestamp_ms,
                    headers=record.headers,  # type: ignore[arg-type]  # None values are allowed
                )
                if not self._busy:
                    self.busy()
                return
            except BufferError:
                self.busy()
                await asyncio.sleep(FULL_QUEUE_WAIT_S)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else KafkaError(KafkaError._FAIL)
                batch.settle(index, Delivery(err, record.topic, record.partition, -1, -1, 0))
                return

    def fail(self, batch: DeliveryBatch, record: OutRecord, error: KafkaError) -> None:
        """Report ``record`` failed without producing it (a check of the proxy refused it)."""
        index = batch.add()
        batch.settle(index, Delivery(error, record.topic, record.partition, -1, -1, 0))
