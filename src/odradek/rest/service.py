"""`RestProxy`: the process-wide state of one proxy instance, started and stopped by the app.

It owns the Kafka clients (ARCHITECTURE D6): the shared producer, the admin client, the thread pool
for blocking consumer calls, the v2 consumer instances, the v3 consume leases and the stateless
fetch pool. Nothing here outlives the process on purpose: v2 instances are per instance as in
Confluent's proxy, and everything a v3 consumer needs to continue elsewhere lives in Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from odradek.rest.config import RestConfig
from odradek.rest.kafka.admin import AdminService
from odradek.rest.kafka.consumer import BlockingCalls
from odradek.rest.kafka.producer import ProducerService

log = logging.getLogger("odradek.rest")
KAFKA_LOG = logging.getLogger("odradek.rest.librdkafka")


class RestProxy:
    def __init__(self, config: RestConfig) -> None:
        self.config = config
        self.bootstrap = config.text("bootstrap.servers")
        self.admin = AdminService(self.client_config())
        self.producer = ProducerService(self.producer_config())
        self.calls = BlockingCalls(config.integer("consumer.threads"))
        from odradek.rest.consumers.instances import ConsumerInstances
        from odradek.rest.consumers.leases import Leases
        from odradek.rest.consumers.pool import FetchPool
        from odradek.rest.schemas import SchemaSupport

        self.instances = ConsumerInstances(self)
        self.leases = Leases(self)
        self.fetch_pool = FetchPool(self)
        from odradek.rest.idempotency import Idempotency
        from odradek.rest.produce import TopicLimits

        self.schemas = SchemaSupport(config.text("schema.registry.url"))
        self.idempotency = Idempotency(self)
        self.topic_limits = TopicLimits(self)
        self.started = False
        self._tasks: list[asyncio.Task[None]] = []

    def client_config(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap,
            "client.id": "odradek-rest",
            "logger": KAFKA_LOG,
            **self.config.client,
        }

    def producer_config(self) -> dict[str, Any]:
        return {
            **self.client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": self.config.integer("producer.linger.ms"),
            "queue.buffering.max.kbytes": self.config.integer("producer.buffer.kbytes"),
            # the broker's per-topic max.message.bytes decides (checked per record before sending)
            "message.max.bytes": max(self.config.integer("max.request.bytes"), 1_000_000) + 1024,
            "topic.metadata.propagation.max.ms": 1000,
        }

    def consumer_config(self, group: str | None, **overrides: Any) -> dict[str, Any]:
        buffer_kb = self.config.integer("consumer.buffer.kbytes")
        config: dict[str, Any] = {
            **self.client_config(),
            "group.id": group or "odradek-rest-fetch",
            "enable.auto.offset.store": False,
            "queued.max.messages.kbytes": buffer_kb,
            "queued.min.messages": 1000,
            # librdkafka waits this long before refilling a full prefetch queue (1 s by default),
            # which with a small queue stalls a consumer that reads as fast as it can
            "fetch.queue.backoff.ms": 5,
            "fetch.max.bytes": max(buffer_kb * 1024, 1_048_576),
            "max.partition.fetch.bytes": 1_048_576,
            "topic.metadata.refresh.interval.ms": 10_000,
            # a member learns of a rebalance (another left or joined) by its next heartbeat
            "heartbeat.interval.ms": 1000,
        }
        config.update(overrides)
        return config

    async def start(self) -> None:
        self.producer.start()
        self._tasks.append(asyncio.create_task(self.instances.reap_forever()))
        self._tasks.append(asyncio.create_task(self.leases.reap_forever()))
        self.started = True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.instances.close_all()
        await self.leases.close_all()
        await self.fetch_pool.close()
        await self.idempotency.close()
        await self.producer.stop()
        self.calls.shutdown()
        self.started = False

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()
