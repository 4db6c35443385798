"""`StoreIsrWriter`: the `IsrWriter` port over a metadata store (in-memory clusters, tests).

It does what the control side does with a leader's AlterPartition: the change is stored only if the
partition still has the leader, leader epoch and partition epoch the leader proposed it from
(compare-and-set), as one `PartitionChangeRecord(isr=...)`; then the store's publishers tell every
broker, and the leader's `Partition.become` takes the new ISR. A refused change is reported to
`refused` on the leader's event loop. The write runs in a worker thread (a store may fsync), under
`lock`, which every writer of that store must share (the check and the write are one step).

A ZooKeeper-backed writer does the same with a znode version check instead of the lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from odradek.metadata.records import PartitionChangeRecord
from odradek.metadata.store import MetadataStore
from odradek.replication.isr import IsrChange

log = logging.getLogger("odradek.broker.isr")


def stale(store: MetadataStore, change: IsrChange) -> str | None:
    """Why the store refuses `change` (None: it may be written)."""
    topic = store.image.topics_by_id.get(change.topic_id)
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


class StoreIsrWriter:
    def __init__(
        self, store: MetadataStore, lock: AbstractContextManager[Any], refused: Callable[[IsrChange], None]
    ) -> None:
        self._store = store
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
            reason = stale(self._store, change)
            if reason is None:
                self._store.apply(
                    [PartitionChangeRecord(change.topic_id, change.tp.partition, isr=change.isr)]
                )
        if reason is not None:
            log.info("ISR change of %s to %s refused: %s", change.tp, change.isr, reason)
            loop.call_soon_threadsafe(self._refused, change)
        else:
            log.info("ISR of %s is now %s", change.tp, change.isr)
