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

One write at a time: changes proposed while one is under way wait and go together in the next,
as ONE store change (Kafka's AlterPartitionManager sends everything pending in one AlterPartition
request). A broker that comes back leads followers for hundreds of partitions that catch up
within seconds; one ZooKeeper transaction each, every one followed by every broker re-reading the
tree, took about a minute on a loaded machine in the fault tests, and a partition that cannot
commit for longer than a producer's `message.timeout.ms` makes librdkafka give up on writes (see
docs/cluster.md, "What idempotence guarantees"). A write that fails (ZooKeeper unreachable) is
logged once until one succeeds again and left unanswered: its leaders propose again after
`replica.lag.time.max.ms` (nothing is left for asyncio to report as "never retrieved").
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from odradek.metadata.config_resolution import resolve_topic_config
from odradek.metadata.controller.partition_change import alter_partition_error, partition_change
from odradek.metadata.features import elr_enabled
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import PartitionChangeRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.store import MetadataConflictError, MetadataStore
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import TopicPartition
from odradek.replication.isr import IsrChange

log = logging.getLogger("odradek.broker.isr")
CONFLICT_RETRIES = 3
PARKED_CHECK_S = 0.5
"""How often a change held for a follower's broker to be live again is checked."""
MAX_BATCH = 500
"""ISR changes per store write (one ZooKeeper transaction: a few hundred bytes each, far below its
1 MB request limit)."""


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
    invalid = alter_partition_error(registration, change.isr, change.leader_recovery_state)
    return None if invalid is None else f"{invalid[0].name}: {invalid[1]}"


def ineligible(image: ClusterImage, change: IsrChange) -> BrokerId | None:
    """A follower `change` adds to the ISR whose broker is not live (not registered: its session
    ended; or fenced), which Kafka refuses as INELIGIBLE_REPLICA (KIP-841), even while it still
    fetches (a broker cut from ZooKeeper but not from its leaders). Were it written, the controller
    would take it out again (an offline follower) and the leader put it back, a ZooKeeper write
    each (and a read on every broker), without end."""
    topic = image.topics_by_id.get(change.topic_id)
    registration = None if topic is None else topic.partitions.get(change.tp.partition)
    if registration is None:
        return None
    return next((r for r in change.isr if r not in registration.isr and not image.is_live(r)), None)


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
        target_leader_recovery_state=change.leader_recovery_state,
        elr_enabled=elr_enabled(image),
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
        self._pending: dict[TopicPartition, IsrChange] = {}
        self._writing: asyncio.Future[tuple[list[IsrChange], list[IsrChange]]] | None = None
        self._parked: dict[TopicPartition, IsrChange] = {}
        """Changes adding a follower whose broker is not live: neither written nor refused (the
        leader would propose them again at its follower's next fetch) until it is live again."""
        self._parked_check: asyncio.TimerHandle | None = None
        self._failing = False
        """The last write failed (ZooKeeper unreachable): said once, until one succeeds again."""

    def submit(self, change: IsrChange) -> None:
        self._parked.pop(change.tp, None)
        self._pending[change.tp] = change  # a newer proposal for the partition replaces an unsent one
        if self._writing is None:
            self._start(asyncio.get_running_loop())

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = list(itertools.islice(self._pending.values(), MAX_BATCH))
        for change in batch:
            del self._pending[change.tp]
        self._writing = loop.run_in_executor(None, self._write, batch)
        self._writing.add_done_callback(self._written)

    def _written(self, future: asyncio.Future[tuple[list[IsrChange], list[IsrChange]]]) -> None:
        """On the event loop: report refusals, hold the changes waiting for a broker to be live,
        then send what was proposed meanwhile."""
        self._writing = None
        loop = future.get_loop()
        try:
            refused, parked = future.result()  # always retrieved: a failure here must not go unread
        except Exception:
            log.exception("writing ISR changes failed")
            refused, parked = [], []
        for change in refused:
            self._refused(change)
        for change in parked:
            if change.tp not in self._pending:
                self._parked[change.tp] = change
        if self._parked and self._parked_check is None:
            self._parked_check = loop.call_later(PARKED_CHECK_S, self._check_parked, loop)
        if self._pending:
            self._start(loop)

    def _check_parked(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send again the held changes whose brokers are live again (or that went stale: refused)."""
        self._parked_check = None
        image = self._store.image
        for tp, change in list(self._parked.items()):
            if ineligible(image, change) is None or stale(image, change) is not None:
                del self._parked[tp]
                self._pending.setdefault(tp, change)
        if self._pending and self._writing is None:
            self._start(loop)
        if self._parked:
            self._parked_check = loop.call_later(PARKED_CHECK_S, self._check_parked, loop)

    def _write(self, batch: list[IsrChange]) -> tuple[list[IsrChange], list[IsrChange]]:
        """In a worker thread: store what is still valid of `batch` in one change; returns the
        refused and the held (a follower's broker not live) changes."""
        refused: list[tuple[IsrChange, str]] = []
        parked: list[IsrChange] = []
        stored: list[IsrChange] = []
        recovered: list[TopicPartition] = []
        try:
            with self._lock:
                for _ in range(CONFLICT_RETRIES):
                    image = self._store.image
                    refused, wanted, records, parked = [], [], [], []
                    for change in batch:
                        reason = stale(image, change)
                        if reason is None and ineligible(image, change) is not None:
                            parked.append(change)
                            continue
                        record = (
                            None if reason is not None else isr_change_record(image, self._static, change)
                        )
                        if record is not None:
                            wanted.append(change)
                            records.append(record)
                        else:
                            refused.append((change, reason or "it is the ISR already"))
                    if not wanted:
                        break
                    try:
                        self._store.apply(records, base=image)
                    except MetadataConflictError:  # a shared store moved meanwhile: check again
                        continue
                    stored = wanted
                    recovered = [
                        c.tp
                        for c, r in zip(wanted, records, strict=True)
                        if r.leader_recovery_state is not None
                    ]
                    break
                else:
                    refused += [(change, "the metadata changed meanwhile") for change in wanted]
        except Exception as exc:  # ZooKeeper unreachable: unanswered, the leaders propose again later
            if not self._failing:
                log.warning(
                    "ISR changes of %d partition(s) not written (%s); leaders propose them again after "
                    "replica.lag.time.max.ms",
                    len(batch),
                    exc,
                )
            self._failing = True
            return [], []
        if self._failing:
            log.info("ISR changes are written again")
        self._failing = False
        for change in stored:
            log.info("ISR of %s is now %s", change.tp, change.isr)
        for tp in recovered:
            log.info("%s is RECOVERED: its leader recovered from an unclean election (KIP-704)", tp)
        for change, reason in refused:
            log.info("ISR change of %s to %s refused: %s", change.tp, change.isr, reason)
        for change in parked:
            if change.tp not in self._parked:
                log.info(
                    "ISR change of %s to %s held: broker %s is not live (not registered or fenced)",
                    change.tp,
                    change.isr,
                    ineligible(image, change),
                )
        return [change for change, _ in refused], parked
