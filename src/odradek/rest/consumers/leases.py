"""v3 group consume: consumers addressed by a cursor any proxy instance accepts.

A *lease* is this instance's librdkafka consumer for one cursor identity (group + member name).
It joins the group as a static member (``group.instance.id`` = the name), so when a client's
request lands on another instance, that instance's new consumer takes the member's place and its
partitions at once, without a rebalance of the others, and the old instance's consumer is fenced.
An instance that dies costs its lease: after ``session.timeout.ms`` the broker gives its partitions
to the group's other members; if the client comes back sooner through another instance, that
instance takes the lease over immediately.

Serving a records request:

1. the cursor's positions are the client's acknowledgement: for the partitions this consumer owns,
   they are committed to the group (`commit_acknowledged`);
2. where this consumer's own position differs from the cursor (the client went through another
   instance, or retried an old cursor) it seeks to the cursor's position, or to the committed
   offset for a partition the cursor does not mention; a freshly assigned partition starts at the
   cursor's position too (`_on_assign`);
3. it fetches and answers the records with a new cursor advanced past them.

So records are never skipped (a position is committed only after the client presents a cursor
past it) and an instance loss re-delivers at most the records of the lost response.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaException, Message, TopicPartition

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.consumers.cursor import TP, Cursor
from odradek.rest.kafka.consumer import ConsumerHandle

if TYPE_CHECKING:
    from odradek.rest.service import RestProxy

log = logging.getLogger("odradek.rest")
REAP_EVERY_S = 1.0


@dataclass(slots=True)
class Lease:
    cursor: Cursor
    handle: ConsumerHandle
    last_used: float = field(default_factory=time.monotonic)
    committed: dict[TP, int] = field(default_factory=dict)
    resume: dict[TP, int] = field(default_factory=dict)


class Leases:
    def __init__(self, proxy: RestProxy) -> None:
        self.proxy = proxy
        self.leases: dict[tuple[str, str], Lease] = {}
        self.idle_s = proxy.config.seconds("consumer.lease.idle.ms")
        self._creating: dict[tuple[str, str], asyncio.Lock] = {}

    def check_capacity(self) -> None:
        limit = self.proxy.config.integer("consumer.max.instances")
        if len(self.leases) + self.proxy.instances.count() >= limit:
            raise HttpError(
                errors.TOO_MANY_CONSUMERS, f"Too many consumers on this proxy instance ({limit})."
            )

    async def lease(self, cursor: Cursor) -> Lease:
        key = (cursor.spec.group, cursor.spec.name)
        lease = self.leases.get(key)
        if lease is not None and lease.cursor.spec == cursor.spec and lease.handle.fatal is None:
            lease.last_used = time.monotonic()
            return lease
        lock = self._creating.setdefault(key, asyncio.Lock())
        async with lock:
            lease = self.leases.get(key)
            if lease is not None and (lease.cursor.spec != cursor.spec or lease.handle.fatal is not None):
                await self.drop(key)
                lease = None
            if lease is None:
                self.check_capacity()
                lease = await self._open(cursor)
                self.leases[key] = lease
            lease.last_used = time.monotonic()
            return lease

    async def _open(self, cursor: Cursor) -> Lease:
        spec = cursor.spec
        config = self.proxy.consumer_config(
            spec.group,
            **{
                "group.instance.id": spec.name,
                "client.id": f"odradek-rest-{spec.name}",
                "session.timeout.ms": spec.session_timeout_ms,
                "auto.offset.reset": spec.offset_reset,
                "isolation.level": spec.isolation,
                "enable.auto.commit": False,
            },
        )
        lease_ref: list[Lease] = []

        def on_assign(handle: ConsumerHandle, partitions: list[TopicPartition]) -> None:
            if lease_ref:
                _on_assign(lease_ref[0], partitions)

        handle = await asyncio.to_thread(ConsumerHandle, config, self.proxy.calls, on_assign)
        lease = Lease(cursor, handle)
        lease_ref.append(lease)
        handle.subscribe(subscription(spec.topics, spec.pattern))
        return lease

    async def drop(self, key: tuple[str, str]) -> None:
        lease = self.leases.pop(key, None)
        if lease is not None:
            await lease.handle.close()

    async def fetch(
        self,
        cursor: Cursor,
        max_bytes: int,
        timeout_s: float,
        min_bytes: int = 1,
        max_records: int | None = None,
        commit: bool = True,
    ) -> tuple[Lease, list[Message], Cursor]:
        """Records for ``cursor`` and the cursor past them (lease lock held by the caller)."""
        lease = await self.lease(cursor)
        async with lease.handle.lock:
            try:
                return lease, *(
                    await self._fetch_locked(
                        lease, cursor, max_bytes, timeout_s, min_bytes, max_records, commit
                    )
                )
            except KafkaException as exc:
                if lease.handle.fatal is not None:  # fenced by another instance: take the lease back
                    await self.drop((cursor.spec.group, cursor.spec.name))
                    lease = await self.lease(cursor)
                    async with lease.handle.lock:
                        records, nxt = await self._fetch_locked(
                            lease, cursor, max_bytes, timeout_s, min_bytes, max_records, commit
                        )
                        return lease, records, nxt
                raise errors.kafka_error(exc) from None

    async def _fetch_locked(
        self,
        lease: Lease,
        cursor: Cursor,
        max_bytes: int,
        timeout_s: float,
        min_bytes: int,
        max_records: int | None,
        commit: bool = True,
    ) -> tuple[list[Message], Cursor]:
        await self.acknowledge(lease, cursor, commit)
        records = await lease.handle.fetch(max_bytes, timeout_s, min_bytes, max_records)
        advanced: dict[TP, int] = {}
        for msg in records:
            advanced[(msg.topic() or "", msg.partition() or 0)] = (msg.offset() or 0) + 1
        nxt = cursor.advanced(advanced)
        lease.cursor = nxt
        return records, nxt

    async def acknowledge(self, lease: Lease, cursor: Cursor, commit: bool = True) -> None:
        handle = lease.handle
        lease.resume = dict(cursor.positions)
        # realign this consumer with the client's cursor
        for tp in sorted(handle.assigned):
            want = cursor.positions.get(tp)
            have = handle.positions.get(tp)
            if want is not None and want != have:
                await handle.seek(TopicPartition(tp[0], tp[1], want))
            elif want is None and have is not None:
                committed = await handle.committed([TopicPartition(tp[0], tp[1])])
                offset = committed[0].offset if committed else -1
                if offset < 0:
                    offset = OFFSET_BEGINNING if cursor.spec.offset_reset == "earliest" else OFFSET_END
                await handle.seek(TopicPartition(tp[0], tp[1], offset))
        if not commit:
            return
        # commit what the client acknowledged, for the partitions this member owns
        ack = [
            TopicPartition(t, p, o)
            for (t, p), o in cursor.positions.items()
            if (t, p) in handle.assigned and lease.committed.get((t, p)) != o
        ]
        if ack:
            await handle.commit(ack)
            for done in ack:
                lease.committed[(done.topic or "", done.partition or 0)] = done.offset or 0

    async def reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY_S)
            now = time.monotonic()
            for key, lease in list(self.leases.items()):
                if now - lease.last_used > self.idle_s and not lease.handle.lock.locked():
                    await self.drop(key)

    async def close_all(self) -> None:
        leases = list(self.leases.values())
        self.leases.clear()
        await asyncio.gather(*(lease.handle.close() for lease in leases), return_exceptions=True)


def subscription(topics: tuple[str, ...] | list[str] | None, pattern: str | None) -> list[str]:
    """librdkafka's subscription list: a pattern is a topic name starting with ``^``."""
    if topics is not None:
        return list(topics)
    pattern = pattern or ""
    return [pattern if pattern.startswith("^") else "^" + pattern]


def _on_assign(lease: Lease, partitions: list[TopicPartition]) -> None:
    """Runs in librdkafka's rebalance callback: start acknowledged partitions at the cursor."""
    for tp in partitions:
        offset = lease.resume.get((tp.topic or "", tp.partition or 0))
        if offset is not None:
            tp.offset = offset
            lease.handle.positions[(tp.topic or "", tp.partition or 0)] = offset
    ack = [TopicPartition(tp.topic, tp.partition, tp.offset) for tp in partitions if tp.offset >= 0]
    if ack:
        try:
            lease.handle.consumer.commit(offsets=ack, asynchronous=True)
        except KafkaException as exc:
            log.debug("commit on assign: %s", exc)
