"""Distributed assignment over a consumer group (no home-made membership protocol).

The workers of a Connect cluster (same `group.id`) are members of one Kafka consumer group
subscribed to the *slots topic* (`<config.storage.topic>-slots`, `odradek.task.slots`
partitions, never written to). librdkafka's cooperative-sticky assignor spreads the partitions
— the slots — over the workers: a joining worker takes some slots from the others without
stopping the rest, a leaving worker's slots move at once, a crashed worker's after the session
timeout (`scheduled.rebalance.max.delay.ms`; with `odradek.worker.instance.id` a static member
that comes back within it keeps its slots). Units hash onto slots (`assignment.py`).

Revocations are applied before the group moves on: `on_revoke` runs the herder's reconciliation
synchronously, so a unit has stopped on its old worker before another starts it. The owner of
slot 0 is the *leader*; REST writes forwarded to it carry Connect's leader role. Each worker's
REST URL travels in its group `client.id` (`odradek-connect|<url>`), read with DescribeGroups.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from confluent_kafka import Consumer, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient

from odradek.connect.runtime.assignment import Assignment, slot_of
from odradek.connect.runtime.kafka_log import ensure_topic

log = logging.getLogger("odradek.connect.slots")
CLIENT_ID_PREFIX = "odradek-connect|"


class SlotAssignment(Assignment):
    def __init__(
        self,
        admin: AdminClient,
        client_config: dict[str, Any],
        group_id: str,
        topic: str,
        slots: int,
        replication_factor: int,
        rest_url: str,
        session_timeout_ms: int,
        heartbeat_interval_ms: int,
        instance_id: str | None = None,
    ) -> None:
        self.admin = admin
        self.client_config = client_config
        self.group_id = group_id
        self.topic = topic
        self.slots = slots
        self.replication_factor = replication_factor
        self.rest_url = rest_url
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.instance_id = instance_id
        self._owned: frozenset[int] = frozenset()
        self._generation = 0
        self._assigned_once = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None

    def start(self) -> None:
        self.slots = ensure_topic(self.admin, self.topic, self.slots, self.replication_factor)
        config: dict[str, Any] = {
            **self.client_config,
            "group.id": self.group_id,
            "client.id": CLIENT_ID_PREFIX + self.rest_url,
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": self.session_timeout_ms,
            "heartbeat.interval.ms": min(self.heartbeat_interval_ms, self.session_timeout_ms // 3),
            "enable.auto.commit": False,
            "auto.offset.reset": "latest",
        }
        if self.instance_id:
            config["group.instance.id"] = self.instance_id
        self._consumer = Consumer(config)
        self._consumer.subscribe(
            [self.topic], on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._revoked
        )
        self._thread = threading.Thread(target=self._run, name="connect-slots", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._consumer is not None
        while not self._stopping.is_set():
            try:
                self._consumer.consume(num_messages=1, timeout=0.2)
            except KafkaException as exc:
                log.warning("worker group: %s", exc)

    def _assigned(self, _consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        self._owned = self._owned | {p.partition for p in partitions}
        self._generation += 1
        self._assigned_once.set()
        log.info("worker %s now owns %d slots", self.rest_url, len(self._owned))
        self.on_change()

    def _revoked(self, _consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        self._owned = self._owned - {p.partition for p in partitions}
        self._generation += 1
        self.on_change()

    def wait_assigned(self, timeout_s: float) -> bool:
        return self._assigned_once.wait(timeout_s)

    def owns(self, unit: str) -> bool:
        return slot_of(unit, self.slots) in self._owned

    def owned_slots(self) -> frozenset[int]:
        return self._owned

    def generation(self) -> int:
        return self._generation

    def is_leader(self) -> bool:
        return 0 in self._owned

    def rebalancing(self) -> bool:
        return not self._assigned_once.is_set()

    def members(self) -> list[tuple[str, frozenset[int]]]:
        """(REST URL, slots) of every worker in the group."""
        futures = self.admin.describe_consumer_groups([self.group_id], request_timeout=5)
        description = futures[self.group_id].result(timeout=10)
        out: list[tuple[str, frozenset[int]]] = []
        for member in description.members:
            client_id = member.client_id or ""
            if not client_id.startswith(CLIENT_ID_PREFIX):
                continue
            parts = member.assignment.topic_partitions if member.assignment else []
            out.append(
                (
                    client_id[len(CLIENT_ID_PREFIX) :],
                    frozenset(p.partition for p in parts if p.topic == self.topic),
                )
            )
        return out

    def url_for_slot(self, slot: int) -> str | None:
        if slot in self._owned:
            return self.rest_url
        try:
            for url, slots in self.members():
                if slot in slots:
                    return url
        except Exception as exc:
            log.warning("describing the worker group failed: %s", exc)
        return None

    def leader_url(self) -> str | None:
        return self.url_for_slot(0)

    def url_for_unit(self, unit: str) -> str | None:
        return self.url_for_slot(slot_of(unit, self.slots))

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._consumer is not None:
            try:
                self._consumer.close()
            except KafkaException as exc:
                log.warning("leaving the worker group: %s", exc)
