"""Primary election through a Kafka consumer group: no extra infrastructure (ARCHITECTURE D7).

Every instance with ``leader.eligibility=true`` joins the group ``schema.registry.group.id`` and
subscribes to the single-partition `_schemas` topic; the group coordinator gives that partition to
exactly one member, and that member is the primary. It never consumes through this membership (the
partition is paused at once); the membership only names the writer. An instance that dies loses
the partition when its session times out (``session.timeout.ms``, 6 s), one that stops leaves the
group at once, and the group hands the partition to a survivor.

Each member's ``client.id`` carries its URL (``odradek-registry <url>``), so any instance finds the
primary's URL by describing the group (DescribeGroups) and forwards writes there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from odradek.registry.config import RegistryConfig

log = logging.getLogger("odradek.registry")

CLIENT_ID_PREFIX = "odradek-registry "
SESSION_TIMEOUT_MS = 6000
PRIMARY_CACHE_S = 1.0


class Election:
    def __init__(self, config: RegistryConfig, url: str, on_change: Callable[[bool], None]) -> None:
        self.config = config
        self.url = url
        self.on_change = on_change
        self.is_primary = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._consumer: Consumer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._admin: AdminClient | None = None
        self._primary_url: tuple[float, str | None] = (0.0, None)
        self._owned: set[tuple[str, int]] = set()

    def _client_config(self) -> dict[str, str | int | float | bool]:
        return {"bootstrap.servers": self.config.bootstrap, **self.config.kafka}

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._admin = AdminClient(self._client_config())
        if not self.config.leader_eligible:
            return
        consumer = Consumer(
            {
                **self._client_config(),
                "group.id": self.config.group_id,
                "client.id": CLIENT_ID_PREFIX + self.url,
                "enable.auto.commit": "false",
                "session.timeout.ms": str(SESSION_TIMEOUT_MS),
                "heartbeat.interval.ms": "500",
                # sticky: an instance joining or leaving never moves the primary role needlessly
                "partition.assignment.strategy": "cooperative-sticky",
            }
        )
        consumer.subscribe(
            [self.config.topic], on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._revoked
        )
        self._consumer = consumer
        self._thread = threading.Thread(target=self._poll, name="registry-election", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)
        if self._consumer is not None:
            await asyncio.to_thread(self._consumer.close)  # leaves the group: a survivor takes over now

    def _poll(self) -> None:
        assert self._consumer is not None
        while not self._stop.is_set():
            try:
                self._consumer.poll(0.2)
            except (KafkaException, RuntimeError) as exc:
                log.warning("election: %s", exc)
                time.sleep(0.2)

    # cooperative rebalancing hands out and takes back partitions incrementally: keep the set
    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if partitions:
            consumer.incremental_assign(partitions)
            consumer.pause(partitions)
        self._owned |= {(p.topic, p.partition) for p in partitions}
        self._set(bool(self._owned))

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # the client unassigns revoked partitions itself once this returns
        self._owned -= {(p.topic, p.partition) for p in partitions}
        self._set(bool(self._owned))

    def _set(self, primary: bool) -> None:
        if primary != self.is_primary:
            self.is_primary = primary
            self._primary_url = (0.0, None)
            log.info("this instance is %s", "the primary" if primary else "a secondary")
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.on_change, primary)

    async def primary_url(self, refresh: bool = False) -> str | None:
        """The primary's URL (this instance's own if it is the primary), None if none is known."""
        if self.is_primary:
            return self.url
        cached_at, url = self._primary_url
        if not refresh and url is not None and time.monotonic() - cached_at < PRIMARY_CACHE_S:
            return url
        url = await asyncio.to_thread(self._describe)
        self._primary_url = (time.monotonic(), url)
        return url

    def _describe(self) -> str | None:
        assert self._admin is not None
        try:
            future = self._admin.describe_consumer_groups([self.config.group_id], request_timeout=5)[
                self.config.group_id
            ]
            group = future.result(timeout=5)
        except KafkaException as exc:
            log.warning("finding the primary: %s", exc)
            return None
        for member in group.members:
            assignment = member.assignment.topic_partitions if member.assignment else []
            # registries of other clusters may share the group id on the same Kafka cluster: only
            # the member that owns *this* registry's topic is its primary
            owns_topic = any(tp.topic == self.config.topic for tp in assignment)
            if owns_topic and member.client_id.startswith(CLIENT_ID_PREFIX):
                return str(member.client_id[len(CLIENT_ID_PREFIX) :])
        return None
