"""`StoreIsrWriter`: the `IsrWriter` port over a metadata store (in-memory clusters, tests).

It does what the control side does with a leader's AlterPartition: the change is stored only if the
partition still has the leader, leader epoch and partition epoch the leader proposed it from
(compare-and-set), as one `PartitionChangeRecord` built by the controller's rule
(`metadata/controller/partition_change.py`: followers dropped while the ISR is below
`min.insync.replicas` go to the eligible leader replicas, KIP-966; one joining leaves them); then
the store's publishers tell every broker, and the leader's `Partition.become` takes the new ISR. A
refused change is reported to `refused` on the leader's event loop. The write runs in a worker
thread (a store may fsync), under `lock`, which every writer of that store must share (the check and
the write are one step).

Over the ZooKeeper store the same writer works across brokers: the store writes by compare-and-set
on the znode version and refuses a change computed on an image it has since left
(`apply(..., base=image)` raises MetadataConflictError): the check runs again on the fresh image.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from odradek.metadata.config_resolution import resolve_topic_config
from odradek.metadata.controller.partition_change import partition_change
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import PartitionChangeRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.store import MetadataConflictError, MetadataStore
from odradek.replication.isr import IsrChange

log = logging.getLogger("odradek.broker.isr")
CONFLICT_RETRIES = 3


def stale(image: ClusterImage, change: IsrChange) -> str | None:
    """Why the store refuses `change` (None: it may be written)."""
    topic = image.topics_by_id.get(change.topic_id)
    registration = None if topic is None else topic.partitions.get(change.tp.partition)
    if registration is None:
        return "the partition no longer exists"
    if registration.leader != change.leader or registration.leader_epoch != change.leader_epoch:
        return f"leader is now {registration.leader} in epoch {registration.leader_epoch}"
    if registration.partition_epoch != change.partition_epoch:
        return f"partition epoch is now {registration.partition_epoch}"
    if not set(change.isr) <= set(registration.replicas) or change.leader not in change.isr:
        return f"ISR {change.isr} is not a subset of the replicas with the leader"
    return None


def isr_change_record(
    image: ClusterImage, static: StaticBrokerConfig, change: IsrChange
) -> PartitionChangeRecord | None:
    """The record storing `change` on `image` (check `stale` first), with the ELR it implies."""
    topic = image.topics_by_id[change.topic_id]
    registration = topic.partitions[change.tp.partition]
    min_isr = resolve_topic_config(
        image, static, image.topic_config_overrides(topic.name), "min.insync.replicas"
    ).value
    assert isinstance(min_isr, int)
    return partition_change(
        registration,
        change.topic_id,
        change.tp.partition,
        min_isr=min_isr,
        acceptable=image.is_live,
        target_isr=change.isr,
    )


class StoreIsrWriter:
    def __init__(
        self,
        store: MetadataStore,
        lock: AbstractContextManager[Any],
        refused: Callable[[IsrChange], None],
        static: StaticBrokerConfig,
    ) -> None:
        self._store = store
        self._static = static
        self._lock = lock
        self._refused = refused
        self._tasks: set[asyncio.Future[None]] = set()

    def submit(self, change: IsrChange) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, self._write, change, loop)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    def _write(self, change: IsrChange, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            for _ in range(CONFLICT_RETRIES):
                image = self._store.image
                reason = stale(image, change)
                if reason is not None:
                    break
                record = isr_change_record(image, self._static, change)
                if record is None:
                    reason = "it is the ISR already"
                    break
                try:
                    self._store.apply([record], base=image)
                    break
                except MetadataConflictError:  # a shared store moved meanwhile: check again
                    reason = "the metadata changed meanwhile"
        if reason is not None:
            log.info("ISR change of %s to %s refused: %s", change.tp, change.isr, reason)
            loop.call_soon_threadsafe(self._refused, change)
        else:
            log.info("ISR of %s is now %s", change.tp, change.isr)
