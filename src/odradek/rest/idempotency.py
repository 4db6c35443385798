"""Idempotent produce over HTTP: a client's ``Idempotency-Key`` makes a retried request write once.

State lives in Kafka, so any proxy instance can answer a retry and an instance loss forgets
nothing. Keys are spread over the partitions of a compacted topic (``idempotency.topic``, one
partition per *bucket*, ``idempotency.partitions`` of them; ``cleanup.policy=compact,delete`` with
``retention.ms`` = ``idempotency.retention.ms``). A request with key K in bucket b:

1. takes this instance's transactional producer for b (``transactional.id =
   odradek-rest-idempotency-<b>``); creating it (``init_transactions``) fences any other instance's
   producer for b and aborts its open transaction, so from then on only this instance writes to
   partition b and every earlier transaction on it is decided;
2. reads partition b (read_committed) up to its end into the bucket's view: key → stored answer;
3. K seen: answers the stored answer again (header ``Idempotency-Replayed: true``); nothing is written;
4. K new: in one transaction, produces the request's records and then the record K → answer to
   partition b, and commits. Fenced meanwhile (another instance took b): the transaction is void;
   the request starts over from 1 and finds K if the other instance committed it.

So two attempts of the same request, even at the same time through two instances, write its
records once, and both get the same answer. An idempotent request is all or nothing: if a record
fails in Kafka the transaction is aborted and every record reports the failure (nothing written;
retry with the same key). Its records are written in a transaction: consumers reading
``read_uncommitted`` can see the data of aborted attempts (librdkafka and the proxy read
committed by default). Streaming produce does not take keys (one transaction per record would
defeat streaming).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from odradek.http import HttpError
from odradek.rest import errors, jsoncodec
from odradek.rest.kafka.producer import OutRecord, ProducerService

if TYPE_CHECKING:
    from odradek.rest.service import RestProxy

log = logging.getLogger("odradek.rest")
MAX_KEY_LENGTH = 255
ATTEMPTS = 8
TXN_TIMEOUT_MS = 60_000


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    media_type: str
    request: str = ""  # digest of the request it answers: a key reused for another request is refused


class Aborted(Exception):
    """A record of the idempotent request failed in Kafka: the transaction is aborted and
    ``answer`` (every record failed) is what the client gets; the key stays unused."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("idempotent request aborted")
        self.answer = answer


def replayed_header(replayed: bool) -> dict[str, str]:
    return {"idempotency-replayed": "true"} if replayed else {}


@dataclass(slots=True)
class Bucket:
    partition: int
    service: ProducerService
    reader: Consumer
    view: OrderedDict[bytes, Answer] = field(default_factory=OrderedDict)
    next_offset: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    used: float = field(default_factory=time.monotonic)


def request_digest(path: str, body: bytes) -> str:
    return hashlib.sha256(path.encode() + b"\n" + body).hexdigest()


def check_key(key: str) -> bytes:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.bad_request(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return key.encode()


class Idempotency:
    def __init__(self, proxy: RestProxy) -> None:
        self.proxy = proxy
        config = proxy.config
        self.topic = config.text("idempotency.topic")
        self.partitions = config.integer("idempotency.partitions")
        self.max_keys = config.integer("idempotency.max.keys")
        self.max_buckets = config.integer("idempotency.producers")
        self.buckets: dict[int, Bucket] = {}
        self._topic_ready = False
        self._opening: dict[int, asyncio.Lock] = {}

    def bucket_of(self, key: bytes) -> int:
        return int.from_bytes(hashlib.sha256(key).digest()[:4], "big") % self.partitions

    async def run(
        self, key: bytes, request: str, produce: Callable[[ProducerService], Awaitable[Answer]]
    ) -> tuple[Answer, bool]:
        """The answer for ``key`` and whether it was replayed; ``produce`` runs in a transaction.

        ``request`` is a digest of the request (path and body): a key already used for a different
        request is refused with 422 rather than answered with the other request's answer."""
        await self._ensure_topic()
        b = self.bucket_of(key)
        for attempt in range(ATTEMPTS):
            bucket = await self._bucket(b)
            async with bucket.lock:
                if bucket is not self.buckets.get(b):
                    continue  # dropped (fenced) while we waited
                try:
                    await self._catch_up(bucket)
                    known = bucket.view.get(key)
                    if known is not None:
                        if known.request != request:
                            raise HttpError(
                                errors.INVALID_PAYLOAD,
                                "Idempotency-Key was already used for a different request.",
                            )
                        return known, True
                    answer = await self._transaction(bucket, key, request, produce)
                    return answer, False
                except KafkaException as exc:
                    log.info("idempotency bucket %d lost (attempt %d): %s", b, attempt, exc)
                    await self._drop(b)
            # another instance holds the bucket: let its transaction finish before taking it back
            await asyncio.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
        raise HttpError(
            errors.KAFKA_RETRIABLE_ERROR, "Idempotent produce: the key's bucket keeps changing hands."
        )

    async def _transaction(
        self,
        bucket: Bucket,
        key: bytes,
        request: str,
        produce: Callable[[ProducerService], Awaitable[Answer]],
    ) -> Answer:
        producer = bucket.service.producer
        assert producer is not None
        await asyncio.to_thread(producer.begin_transaction)
        try:
            answer = await produce(bucket.service)
            answer = Answer(answer.status, answer.body, answer.media_type, request)
        except Aborted:
            await asyncio.to_thread(producer.abort_transaction, 30)
            raise
        except BaseException:
            with contextlib.suppress(KafkaException):
                await asyncio.to_thread(producer.abort_transaction, 30)
            raise
        stored = jsoncodec.dumps(
            {
                "status": answer.status,
                "media_type": answer.media_type,
                "body": answer.body.decode(),
                "request": request,
            }
        )
        marker = bucket.service.batch()
        await bucket.service.send_one(marker, OutRecord(self.topic, bucket.partition, key, stored))
        (report,) = await marker.wait_all()
        if report.error is not None:
            with contextlib.suppress(KafkaException):
                await asyncio.to_thread(producer.abort_transaction, 30)
            raise KafkaException(report.error)
        await asyncio.to_thread(producer.commit_transaction, 30)
        self._remember(bucket, key, answer)
        # only this instance writes the bucket's partition now: our record, then our commit marker
        bucket.next_offset = max(bucket.next_offset, report.offset + 2)
        return answer

    def _remember(self, bucket: Bucket, key: bytes, answer: Answer) -> None:
        bucket.view[key] = answer
        bucket.view.move_to_end(key)
        while len(bucket.view) > self.max_keys // max(self.partitions, 1) + 1:
            bucket.view.popitem(last=False)

    async def _catch_up(self, bucket: Bucket) -> None:
        reader = bucket.reader
        tp = TopicPartition(self.topic, bucket.partition)
        _, high = await asyncio.to_thread(reader.get_watermark_offsets, tp, 10.0, False)
        if bucket.next_offset >= high:
            return
        await asyncio.to_thread(
            reader.assign, [TopicPartition(self.topic, bucket.partition, bucket.next_offset)]
        )
        deadline = time.monotonic() + 30
        while bucket.next_offset < high:
            if time.monotonic() > deadline:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "reading the idempotency topic"))
            batch = await asyncio.to_thread(reader.consume, 500, 0.5)
            for msg in batch:
                err = msg.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        raise KafkaException(err)
                    continue
                key, value = msg.key(), msg.value()
                if key is not None:
                    if value is None:
                        bucket.view.pop(key, None)
                    else:
                        stored: Any = jsoncodec.loads(value)
                        self._remember(
                            bucket,
                            key,
                            Answer(
                                stored["status"],
                                stored["body"].encode(),
                                stored["media_type"],
                                stored["request"],
                            ),
                        )
                bucket.next_offset = (msg.offset() or 0) + 1
            if not batch:  # only transaction markers left below the high watermark
                position = await asyncio.to_thread(reader.position, [tp])
                if position and (position[0].offset or 0) >= high:
                    bucket.next_offset = high

    async def _bucket(self, b: int) -> Bucket:
        bucket = self.buckets.get(b)
        if bucket is not None:
            bucket.used = time.monotonic()
            return bucket
        lock = self._opening.setdefault(b, asyncio.Lock())
        async with lock:
            bucket = self.buckets.get(b)
            if bucket is not None:
                return bucket
            while len(self.buckets) >= self.max_buckets:
                oldest = min(self.buckets.values(), key=lambda x: x.used)
                await self._drop(oldest.partition)
            config = {
                **self.proxy.producer_config(),
                "transactional.id": f"odradek-rest-idempotency-{b}",
                "transaction.timeout.ms": TXN_TIMEOUT_MS,
                "linger.ms": 0,
            }
            service = ProducerService(config)
            service.start()
            producer = service.producer
            assert producer is not None
            try:
                await asyncio.to_thread(producer.init_transactions, 60)
            except BaseException:
                await service.stop(0)
                raise
            reader = Consumer(
                self.proxy.consumer_config(
                    None, **{"isolation.level": "read_committed", "enable.auto.commit": False}
                )
            )
            bucket = Bucket(b, service, reader)
            self.buckets[b] = bucket
            return bucket

    async def _drop(self, b: int) -> None:
        bucket = self.buckets.pop(b, None)
        if bucket is None:
            return
        with contextlib.suppress(Exception):
            await bucket.service.stop(1)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(bucket.reader.close)

    async def _ensure_topic(self) -> None:
        if self._topic_ready:
            return
        if await self.proxy.admin.topic(self.topic) is None:
            retention = str(self.proxy.config.integer("idempotency.retention.ms"))
            topic = NewTopic(
                self.topic,
                self.partitions,
                config={"cleanup.policy": "compact,delete", "retention.ms": retention},
            )
            try:
                await self.proxy.admin.create_topic(topic)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                if not (isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS):
                    raise
        self._topic_ready = True

    async def close(self) -> None:
        for b in list(self.buckets):
            await self._drop(b)
