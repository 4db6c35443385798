"""The broker's side of the metadata store's notifications (Kafka's MetadataLoader and publishers).

The store calls `MetadataPublishing.on_metadata_update(change)` from whatever thread it works in (the
local store's worker thread, a ZooKeeper store's watch thread); each change is queued onto the event
loop, in order, and one owned task hands it to the broker's publishers one after the other:

    PartitionPublisher     hosts the partitions the image places here, drops deleted topics (their
                           directories are removed off the loop), re-resolves log configs
    GroupTopicsPublisher   deleted topics: their committed offsets get tombstones; created or deleted
                           topics: the consumer groups' regex subscriptions are resolved again (in
                           the background: it waits for coordinator commits)
    CoordinatorLeadershipPublisher
                           coordinator partitions led elsewhere now are unloaded (a cluster)
    ClusterController      (a cluster) wakes the controller's loop: election, leader elections

A publisher that fails is logged and the others still run (a change that is persisted must be
followed). Whoever made a change (`Broker.apply_metadata`) waits with `published(version)` until its
version has gone through every publisher, so CreateTopics answers once the partitions exist and
DeleteTopics once the offsets are gone. Publishers must not change metadata themselves (the change
waiting on them holds the metadata lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from odradek.broker.partitions import config_changed_topics, reconcile
from odradek.broker.replication_throttle import configure_throttle
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.store import MetadataChange
from odradek.replication.manager import PartitionManager
from odradek.storage.log_manager import remove_paths

if TYPE_CHECKING:
    from odradek.broker.group_coordinator import BrokerGroupCoordinator

log = logging.getLogger("odradek.broker.metadata")


class BrokerPublisher(Protocol):
    name: str

    async def publish(self, change: MetadataChange) -> None: ...


class MetadataPublishing:
    def __init__(self, publishers: Sequence[BrokerPublisher]) -> None:
        self.publishers = list(publishers)
        self._queue: asyncio.Queue[MetadataChange] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._version = -1
        self._caught_up = asyncio.Condition()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="metadata-publishing")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        for publisher in self.publishers:
            if isinstance(publisher, GroupTopicsPublisher):
                await publisher.stop()

    @property
    def version(self) -> int:
        """The last version every publisher has seen."""
        return self._version

    # --- MetadataPublisher (called by the store, from any thread) -------------------------------
    def on_metadata_update(self, change: MetadataChange) -> None:
        loop = self._loop
        assert loop is not None, "metadata publishing not started"
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._queue.put_nowait(change)
        else:
            loop.call_soon_threadsafe(self._queue.put_nowait, change)

    async def published(self, version: int) -> None:
        """Until `version` has gone through every publisher."""
        async with self._caught_up:
            await self._caught_up.wait_for(lambda: self._version >= version)

    async def _run(self) -> None:
        while True:
            change = await self._queue.get()
            for publisher in self.publishers:
                try:
                    await publisher.publish(change)
                except Exception:
                    log.exception("%s failed to follow metadata version %d", publisher.name, change.version)
            async with self._caught_up:
                self._version = change.version
                self._caught_up.notify_all()


class PartitionPublisher:
    name = "partitions"

    def __init__(self, partitions: PartitionManager, static: StaticBrokerConfig | None = None) -> None:
        self._partitions = partitions
        self._static = static
        self._incomplete = False
        """The last change failed half-way: the next one looks at every topic again."""

    async def publish(self, change: MetadataChange) -> None:
        first = not change.records  # the initial image: everything is new, strays are deleted
        # A change looks only at the topics it changed (an unchanged topic is the same object): after
        # a change this publisher failed to follow half-way, every topic is looked at again (as
        # against an empty image: no stray logs deleted), or the partitions the failed one did not
        # reach would wait for their topic's next change, possibly forever.
        whole = first or self._incomplete
        before = None if first else ClusterImage.EMPTY if whole else change.before
        self._incomplete = True
        doomed: list[Path] = reconcile(self._partitions, change.after, before)
        self._incomplete = False
        topics = None if whole else config_changed_topics(change.before, change.after)
        if topics is None or topics:
            self._partitions.update_configs(topics)
        if self._static is not None and (topics is None or topics):  # the replication throttle
            configure_throttle(
                self._partitions.throttle, change.after, self._static, self._partitions.now_ms()
            )
        if doomed:
            await asyncio.to_thread(remove_paths, doomed)


class CoordinatorLeadershipPublisher:
    """The coordinators follow the leadership of their partitions (`__consumer_offsets`,
    `__transaction_state`): a partition led elsewhere now is unloaded at once (its requests answer
    NOT_COORDINATOR, clients look the coordinator up again); one led here now loads at the next
    FindCoordinator (which names the leader of the key's partition)."""

    name = "coordinator leadership"

    def __init__(self, *coordinators: LeadershipFollower) -> None:
        self._coordinators = coordinators

    async def publish(self, change: MetadataChange) -> None:
        for coordinator in self._coordinators:
            coordinator.follow_leadership()


class LeadershipFollower(Protocol):
    def follow_leadership(self) -> None: ...


class GroupTopicsPublisher:
    """Kafka's group coordinator publisher: onPartitionsDeleted and onNewMetadataImage.

    The regex subscriptions are resolved again in the background, never awaited here: it is a
    write on every loaded coordinator shard, and a shard's write waits until its partition has
    committed what the shard wrote before. In a cluster that commit may need a later metadata change
    (the ISR of `__consumer_offsets` growing back after a ZooKeeper session expired), which this
    pipeline must deliver meanwhile: awaiting it here held every later change back (CreateTopics,
    which waits for its change to be published, hung; the new topic's followers never started).
    Passes do not overlap: changes during one make one more pass after it.

    Deleted topics' offsets are tombstoned before the change counts as published (DeleteTopics
    answers once they are gone), but for at most `delete_wait_s` (Kafka bounds the same write by
    `offsets.commit.timeout.ms`, 5 s): past that the tombstones commit in the background and the
    pipeline goes on, for the same reason."""

    name = "group coordinator"

    def __init__(self, groups: BrokerGroupCoordinator, delete_wait_s: float = 5.0) -> None:
        self._groups = groups
        self._delete_wait_s = delete_wait_s
        self._resolving: asyncio.Task[None] | None = None
        self._again: tuple[frozenset[str], frozenset[str]] | None = None
        self._deleting: set[asyncio.Task[None]] = set()

    async def publish(self, change: MetadataChange) -> None:
        if not change.records:  # the initial image: nothing was created or deleted by it
            return
        created, deleted = change.created_topics, change.deleted_topics
        if deleted:
            await self._drop_offsets(deleted)
        if created or deleted:
            self._resolve_subscriptions(frozenset(created), frozenset(deleted))

    async def _drop_offsets(self, deleted: frozenset[str]) -> None:
        task = asyncio.get_running_loop().create_task(self._groups.on_topics_deleted(deleted))
        done, _ = await asyncio.wait([task], timeout=self._delete_wait_s)
        if done:
            task.result()  # a failure is the publisher's (logged by the pipeline)
            return
        log.warning(
            "the offsets of deleted topics %s are not committed after %g s; going on without them",
            sorted(deleted),
            self._delete_wait_s,
        )
        self._deleting.add(task)
        task.add_done_callback(self._deleted)

    def _deleted(self, task: asyncio.Task[None]) -> None:
        self._deleting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("dropping the offsets of deleted topics failed", exc_info=task.exception())

    def _resolve_subscriptions(self, created: frozenset[str], deleted: frozenset[str]) -> None:
        if self._resolving is not None and not self._resolving.done():
            before = self._again or (frozenset(), frozenset())
            self._again = (before[0] | created, before[1] | deleted)
            return
        self._resolving = asyncio.get_running_loop().create_task(
            self._resolve(created, deleted), name="group-regex-subscriptions"
        )

    async def _resolve(self, created: frozenset[str], deleted: frozenset[str]) -> None:
        while True:
            try:
                await self._groups.on_topics_changed(created, deleted)
            except Exception:
                log.exception("resolving the consumer groups' regex subscriptions failed")
            if self._again is None:
                return
            (created, deleted), self._again = self._again, None

    async def stop(self) -> None:
        task, self._resolving = self._resolving, None
        pending = [t for t in (task, *self._deleting) if t is not None and not t.done()]
        for one in pending:
            one.cancel()
        if pending:
            await asyncio.wait(pending)
