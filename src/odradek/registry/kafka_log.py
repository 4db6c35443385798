"""`SchemaLog`: the registry's Kafka shell over `_schemas` (confluent-kafka, ARCHITECTURE D6).

Reading: one consumer, assigned partition 0 from offset 0 (no group), ``read_committed``, polled
by a thread that hands each batch of records to the event loop (`on_records`), so the store only
changes on the loop. `end_offset` asks the broker where the log ends (off the loop) and
`wait_for` waits until the consumer's position has passed it: that is "caught up". The position,
not the last record, is what counts, because transaction markers take offsets too.

Writing (the primary only): a transactional producer whose ``transactional.id`` every instance
shares, so the instance that becomes primary fences any previous one (`claim`: init_transactions,
then a NOOP written and read back) and a zombie primary can never add records after it. Each write
is one transaction; `append` returns once the records are committed and read back into the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.registry import records
from odradek.registry.config import RegistryConfig

log = logging.getLogger("odradek.registry")

Record = tuple[bytes | None, bytes | None, int]
POLL_S = 0.1
BATCH = 1000


class SchemaLog:
    def __init__(self, config: RegistryConfig, on_records: Callable[[list[Record]], None]) -> None:
        self.config = config
        self.on_records = on_records
        self.tp = TopicPartition(config.topic, 0)
        self.position = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        self._offsets: Consumer | None = None
        self._producer: Producer | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="schemas-writer")
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.error: str | None = None

    def _client_config(self) -> dict[str, str | int | float | bool]:
        return {"bootstrap.servers": self.config.bootstrap, **self.config.kafka}

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._ensure_topic)
        consumer = Consumer(
            {
                **self._client_config(),
                "group.id": f"{self.config.group_id}-reader",
                "enable.auto.commit": "false",
                "isolation.level": "read_committed",
                "enable.partition.eof": "false",
                "fetch.wait.max.ms": "500",  # long polls end at the first append anyway
            }
        )
        consumer.assign([TopicPartition(self.config.topic, 0, 0)])
        self._consumer = consumer
        # a second client answers "where does the log end?": a consumer blocked in consume()
        # on the reader thread does not serve other calls meanwhile
        self._offsets = Consumer({**self._client_config(), "group.id": f"{self.config.group_id}-offsets"})
        self._thread = threading.Thread(target=self._read, name="schemas-reader", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)
        for client in (self._consumer, self._offsets):
            if client is not None:
                await asyncio.to_thread(client.close)
        producer = self._producer
        if producer is not None:
            await asyncio.get_running_loop().run_in_executor(self._writer, producer.flush, 2)
        self._writer.shutdown(wait=False)
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()

    def _ensure_topic(self) -> None:
        admin = AdminClient(self._client_config())
        deadline = self.config.init_timeout_s
        metadata = admin.list_topics(timeout=deadline)
        if self.config.topic in metadata.topics and not metadata.topics[self.config.topic].error:
            return
        brokers = max(1, len(metadata.brokers))
        topic = NewTopic(
            self.config.topic,
            num_partitions=1,
            replication_factor=min(self.config.replication_factor, brokers),
            config={"cleanup.policy": "compact"},
        )
        future = admin.create_topics([topic], operation_timeout=deadline)[self.config.topic]
        try:
            future.result(timeout=deadline)
            log.info("created topic %s", self.config.topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise

    # --- reading -----------------------------------------------------------------------------

    def _read(self) -> None:
        consumer = self._consumer
        assert consumer is not None and self._loop is not None
        while not self._stop.is_set():
            try:
                # poll() returns at the first record; consume() with a timeout would wait for a
                # full batch. Then take whatever else is already fetched, without waiting.
                first = consumer.poll(POLL_S)
                messages = [first, *consumer.consume(BATCH, 0)] if first is not None else []
                batch: list[Record] = []
                for message in messages:
                    if message.error() is not None:
                        self._read_error(message)
                        continue
                    batch.append((message.key(), message.value(), message.offset() or 0))
                position = consumer.position([self.tp])[0].offset
            except (KafkaException, RuntimeError) as exc:
                if self._stop.is_set():
                    return
                log.warning("reading %s: %s", self.config.topic, exc)
                continue
            if batch or position > self.position:
                self._loop.call_soon_threadsafe(self._deliver, batch, position)

    def _read_error(self, message: Message) -> None:
        error = message.error()
        if error is not None and error.code() != KafkaError._PARTITION_EOF:
            log.warning("reading %s: %s", self.config.topic, error.str())

    def _deliver(self, batch: list[Record], position: int) -> None:
        if batch:
            self.on_records(batch)
            position = max(position, batch[-1][2] + 1)
        self.position = max(self.position, position)
        still = []
        for offset, waiter in self._waiters:
            if self.position >= offset:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((offset, waiter))
        self._waiters = still

    async def end_offset(self) -> int:
        offsets = self._offsets
        assert offsets is not None
        _low, high = await asyncio.to_thread(
            offsets.get_watermark_offsets, self.tp, self.config.timeout_s, False
        )
        return int(high)

    async def wait_for(self, offset: int, within_s: float) -> None:
        """Until the store has read everything before ``offset``; TimeoutError after ``within_s``."""
        if self.position >= offset:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((offset, waiter))
        await asyncio.wait_for(waiter, within_s)

    # --- writing (primary) -------------------------------------------------------------------

    def _new_producer(self) -> Producer:
        return Producer(
            {
                **self._client_config(),
                "transactional.id": f"{self.config.group_id}-primary",
                "enable.idempotence": "true",
                "acks": "all",
                "linger.ms": "0",
                "transaction.timeout.ms": "60000",
            }
        )

    async def claim(self) -> None:
        """Become the only writer: fence earlier primaries, then read back a NOOP of our own."""
        loop = asyncio.get_running_loop()

        def init() -> None:
            if self._producer is not None:
                with contextlib.suppress(KafkaException):
                    self._producer.flush(1)
            self._producer = self._new_producer()
            self._producer.init_transactions(self.config.timeout_s * 2)

        await loop.run_in_executor(self._writer, init)
        await self.append([(records.encode_key(records.NoopKey()), b"{}")])

    def release(self) -> None:
        self._producer = None

    async def append(self, items: Sequence[tuple[bytes, bytes | None]]) -> int:
        """Write ``items`` as one transaction; returns once they are in the store."""
        loop = asyncio.get_running_loop()
        last = await loop.run_in_executor(self._writer, self._transaction, list(items))
        await self.wait_for(last + 1, self.config.timeout_s)
        return last

    def _transaction(self, items: list[tuple[bytes, bytes | None]]) -> int:
        producer = self._producer
        if producer is None:
            raise KafkaException(KafkaError(KafkaError._FENCED, "not the primary"))
        offsets: list[int] = []
        errors: list[KafkaError] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(err)
            else:
                offsets.append(msg.offset() or 0)

        producer.begin_transaction()
        try:
            for key, value in items:
                producer.produce(self.config.topic, value=value, key=key, partition=0, on_delivery=delivered)
            producer.commit_transaction(self.config.timeout_s)
        except KafkaException:
            with contextlib.suppress(KafkaException):
                producer.abort_transaction(self.config.timeout_s)
            raise
        if errors or len(offsets) != len(items):
            raise KafkaException(
                errors[0] if errors else KafkaError(KafkaError._FAIL, "records not delivered")
            )
        return max(offsets)
