"""Stateless, offset-addressed fetch: ``GET …/partitions/{p}/records?offset=N``.

No group, no commit, no state between requests: a request borrows a consumer from a small pool
(``fetch.pool.size``, one pool per isolation level), assigns it the one partition at the asked
offset, fetches within ``max_bytes`` and ``timeout``, unassigns it and gives it back. ``timeout``
is how long to wait when there is nothing to read: when the partition already holds records at the
offset (below its high watermark) the request waits for them (up to ``AVAILABLE_WAIT_S``), so a
cold consumer's first connection never turns into an empty answer. The answer
says the offset to ask for next. Requests beyond the pool's size wait for a free consumer, so the
memory this costs is bounded whatever the request rate.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, Message, TopicPartition

from odradek.rest.kafka.consumer import ConsumerHandle

if TYPE_CHECKING:
    from odradek.rest.service import RestProxy


FETCH_ERRORS = frozenset(
    {KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE, KafkaError.UNKNOWN_TOPIC_OR_PART}
)


AVAILABLE_WAIT_S = 10.0


class FetchPool:
    def __init__(self, proxy: RestProxy) -> None:
        self.proxy = proxy
        size = proxy.config.integer("fetch.pool.size")
        self.slots = asyncio.Semaphore(size)
        self.idle: dict[str, list[ConsumerHandle]] = {}
        self.all: list[ConsumerHandle] = []

    async def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_bytes: int,
        timeout_s: float,
        isolation: str,
        max_records: int | None = None,
    ) -> list[Message]:
        async with self.slots:
            handle = await self._take(isolation)
            try:
                async with handle.lock:
                    await self.proxy.calls.run(handle.assign, [TopicPartition(topic, partition, offset)])
                    try:
                        if timeout_s < AVAILABLE_WAIT_S:  # records exist: wait for them, not just timeout
                            _, high = await self.proxy.calls.run(
                                handle.consumer.get_watermark_offsets, TopicPartition(topic, partition), 5.0
                            )
                            if offset < high:
                                timeout_s = AVAILABLE_WAIT_S
                        records = await handle.fetch(max_bytes, timeout_s, 1, max_records, FETCH_ERRORS)
                    finally:
                        await self.proxy.calls.run(handle.consumer.unassign)
                        handle.drop_pending()
                        handle.positions.clear()
            except BaseException:
                await self._discard(handle)
                raise
            self.idle.setdefault(isolation, []).append(handle)
            return records

    async def _take(self, isolation: str) -> ConsumerHandle:
        idle = self.idle.get(isolation)
        if idle:
            return idle.pop()
        # evict an idle consumer of the other isolation level to stay within the pool's size
        for other in self.idle.values():
            if other:
                await self._discard(other.pop())
                break
        config = self.proxy.consumer_config(
            None,
            **{"enable.auto.commit": False, "isolation.level": isolation, "auto.offset.reset": "error"},
        )
        handle = await asyncio.to_thread(ConsumerHandle, config, self.proxy.calls)
        self.all.append(handle)
        return handle

    async def _discard(self, handle: ConsumerHandle) -> None:
        if handle in self.all:
            self.all.remove(handle)
        await handle.close()

    async def close(self) -> None:
        handles, self.all, self.idle = self.all, [], {}
        await asyncio.gather(*(h.close() for h in handles), return_exceptions=True)
