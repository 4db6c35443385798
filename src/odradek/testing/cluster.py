"""Several real brokers in one test process, sharing one metadata store that says who leads what.

The replication data path without ZooKeeper: each broker is a `ThreadedBroker` (its own event loop
and thread, a real listener on loopback) and all of them follow one `SharedMetadataStore`. The
test plays the controller: it creates topics with explicit replica assignments (`create_topic`),
moves leaders (`elect`), and the brokers react exactly as to any metadata image: leaders serve,
followers fetch, ISR changes go through `StoreIsrWriter` (compare-and-set under the store's lock).

    with LocalCluster(tmp_path, 3) as cluster:
        cluster.create_topic("t", [(1, 2, 3)], {"min.insync.replicas": "2"})
        producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all"})
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from odradek.broker.isr_writer import StoreIsrWriter
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.records import (
    BrokerFenceRecord,
    ConfigRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    TopicRecord,
)
from odradek.metadata.store import InMemoryMetadataStore
from odradek.model.ids import BrokerId
from odradek.replication.partition import Partition
from odradek.testing.threaded_broker import ThreadedBroker


class SharedMetadataStore(InMemoryMetadataStore):
    """An in-memory store several brokers (threads) write: `apply` runs under `lock`."""

    def __init__(self, image: ClusterImage = ClusterImage.EMPTY) -> None:
        super().__init__(image)
        self.lock = threading.RLock()

    def apply(self, records: Sequence[MetadataRecord], *, base: ClusterImage | None = None) -> ClusterImage:
        with self.lock:
            return super().apply(records, base=base)


class LocalCluster:
    def __init__(
        self,
        root: Path,
        brokers: int = 3,
        overrides: Mapping[str, str] | None = None,
        per_broker: Mapping[int, Mapping[str, str]] | None = None,
    ) -> None:
        self.root = root
        self.store = SharedMetadataStore()
        self.overrides = dict(overrides or {})
        self.per_broker = {node: dict(values) for node, values in (per_broker or {}).items()}
        """Configs of one broker only (`broker.rack`), by node id."""
        self.brokers: dict[int, ThreadedBroker] = {}
        self.ids = list(range(1, brokers + 1))

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> LocalCluster:
        for node in self.ids:
            self.start_broker(node)
        return self

    def start_broker(self, node: int) -> ThreadedBroker:
        """Start (or restart, on the same data directory) broker `node`."""
        properties = {"node.id": str(node), **self.overrides, **self.per_broker.get(node, {})}
        running = ThreadedBroker(self.root / f"broker-{node}", properties, metadata_store=self.store)
        partitions = running.broker.partitions
        partitions.isr_writer = StoreIsrWriter(
            self.store, self.store.lock, partitions.isr_change_failed, running.broker.config.static
        )
        running.start()
        self.brokers[node] = running
        self.fence(node, False)
        return running

    def stop_broker(self, node: int) -> None:
        """Stop broker `node` cleanly and fence it (as its ZooKeeper session would end)."""
        self.brokers.pop(node).stop()
        self.fence(node, True)

    def stop(self) -> None:
        for node in list(self.brokers):
            self.brokers.pop(node).stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def bootstrap(self) -> str:
        return ",".join(b.bootstrap for b in self.brokers.values())

    # --- the test's controller ---------------------------------------------------------------------
    def fence(self, node: int, fenced: bool) -> None:
        if node in self.store.image.brokers and self.store.image.brokers[BrokerId(node)].fenced != fenced:
            self.store.apply([BrokerFenceRecord(BrokerId(node), fenced)])

    def create_topic(
        self, name: str, assignments: Sequence[Sequence[int]], configs: Mapping[str, str] | None = None
    ) -> uuid.UUID:
        """A topic whose partition i has replicas `assignments[i]`, led by the first, all in sync."""
        topic_id = uuid.uuid4()
        records: list[MetadataRecord] = [TopicRecord(name, topic_id)]
        for key, value in (configs or {}).items():
            records.append(ConfigRecord(ConfigResourceType.TOPIC, name, key, value))
        for index, replicas in enumerate(assignments):
            ids = tuple(BrokerId(r) for r in replicas)
            records.append(PartitionRecord(topic_id, index, ids, ids, ids[0]))
        self.store.apply(records)
        self.wait_for(lambda: all(self._hosted(name, len(assignments), b) for b in self.brokers.values()))
        return topic_id

    def _hosted(self, name: str, count: int, running: ThreadedBroker) -> bool:
        node = running.broker.node_id
        topic = self.store.image.topic(name)
        assert topic is not None
        wanted = [i for i, p in topic.partitions.items() if node in p.replicas]
        return running.call(lambda b: all(b.partitions.get(name, i) is not None for i in wanted))

    def registration(self, topic: str, partition: int = 0) -> PartitionRegistration:
        image = self.store.image.topic(topic)
        assert image is not None
        return image.partitions[partition]

    def elect(self, topic: str, partition: int, leader: int, isr: Sequence[int] | None = None) -> None:
        """Make `leader` the partition's leader (a new leader epoch), optionally with a new ISR."""
        image = self.store.image.topic(topic)
        assert image is not None
        self.store.apply(
            [
                PartitionChangeRecord(
                    image.topic_id,
                    partition,
                    leader=BrokerId(leader),
                    isr=None if isr is None else tuple(BrokerId(r) for r in isr),
                )
            ]
        )

    # --- looking inside --------------------------------------------------------------------------
    def partition(self, node: int, topic: str, index: int = 0) -> Callable[[Callable[[Partition], Any]], Any]:
        """`cluster.partition(2, "t")(lambda p: p.log.log_end_offset)` on broker 2's loop."""

        def run(fn: Callable[[Partition], Any]) -> Any:
            def inside(broker: Any) -> Any:
                found = broker.partitions.get(topic, index)
                assert found is not None, f"broker {node} does not host {topic}-{index}"
                return fn(found)

            return self.brokers[node].call(inside)

        return run

    @staticmethod
    def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)
