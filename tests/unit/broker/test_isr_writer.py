"""`StoreIsrWriter`: ISR changes stored by compare-and-set, many at once, and a store that cannot be
reached (ZooKeeper down) leaves nothing behind for asyncio to complain about."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import uuid
from collections.abc import Callable, Sequence

import pytest

from odradek.broker.isr_writer import PARKED_CHECK_S, StoreIsrWriter
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    MetadataRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.store import ClusterMembershipError, InMemoryMetadataStore
from odradek.model.ids import BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.replication.isr import IsrChange

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)
PARTITIONS = 300
STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})


class CountingStore(InMemoryMetadataStore):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []  # records per apply
        self.down = False

    def apply(self, records: Sequence[MetadataRecord], *, base: ClusterImage | None = None) -> ClusterImage:
        if self.down:
            raise ClusterMembershipError("not connected to ZooKeeper at 127.0.0.1:1")
        self.writes.append(len(records))
        return super().apply(records, base=base)


def topic(store: CountingStore) -> uuid.UUID:
    topic_id = uuid.uuid4()
    records: list[MetadataRecord] = [RegisterBrokerRecord(b, "127.0.0.1", 9000 + b) for b in (B1, B2, B3)]
    records.append(TopicRecord("t", topic_id))
    records += [PartitionRecord(topic_id, i, (B1, B2, B3), (B1,), B1) for i in range(PARTITIONS)]
    store.apply(records)
    store.writes.clear()
    return topic_id


def expand(topic_id: uuid.UUID, partition: int, partition_epoch: int = 0) -> IsrChange:
    return IsrChange(TopicPartition("t", partition), topic_id, B1, Epoch(0), partition_epoch, (B1, B2, B3))


async def settle(done: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the writer's worker thread run until `done()` (or `seconds` pass)."""
    for _ in range(int(seconds / 0.01)):
        if done():
            return
        await asyncio.sleep(0.01)


def isrs(store: CountingStore) -> list[tuple[BrokerId, ...]]:
    image = store.image.topic("t")
    assert image is not None
    return [image.partitions[i].isr for i in range(PARTITIONS)]


def test_changes_proposed_together_are_stored_in_few_writes() -> None:
    """A broker back from the dead: its followers catch up on hundreds of partitions at once."""
    store = CountingStore()
    topic_id = topic(store)
    refused: list[IsrChange] = []
    writer = StoreIsrWriter(store, threading.Lock(), refused.append, STATIC)

    async def main() -> None:
        for i in range(PARTITIONS):
            writer.submit(expand(topic_id, i))
        await settle(lambda: all(isr == (B1, B2, B3) for isr in isrs(store)))

    asyncio.run(main())
    assert refused == []
    assert sum(store.writes) == PARTITIONS
    assert len(store.writes) <= 2, store.writes  # the first alone, then everything proposed meanwhile
    assert all(isr == (B1, B2, B3) for isr in isrs(store))


def test_a_stale_change_is_refused_and_the_rest_of_its_batch_stored() -> None:
    store = CountingStore()
    topic_id = topic(store)
    refused: list[IsrChange] = []
    writer = StoreIsrWriter(store, threading.Lock(), refused.append, STATIC)
    stale = expand(topic_id, 1, partition_epoch=5)  # computed on a state the store has left

    async def main() -> None:
        writer.submit(expand(topic_id, 0))
        writer.submit(stale)
        writer.submit(expand(topic_id, 2))
        await settle(lambda: bool(refused) and isrs(store)[2] == (B1, B2, B3))

    asyncio.run(main())
    assert refused == [stale]
    image = store.image.topic("t")
    assert image is not None
    assert [image.partitions[i].isr for i in range(3)] == [(B1, B2, B3), (B1,), (B1, B2, B3)]


def test_an_unreachable_store_leaves_no_unretrieved_future(caplog: pytest.LogCaptureFixture) -> None:
    """ZooKeeper down: the write fails, is said once, and asyncio has nothing to report as
    "Future exception was never retrieved" (it flooded the brokers' logs during outages)."""
    store = CountingStore()
    topic_id = topic(store)
    store.down = True
    refused: list[IsrChange] = []
    writer = StoreIsrWriter(store, threading.Lock(), refused.append, STATIC)
    caplog.set_level(logging.INFO)

    async def main() -> None:
        for round_ in range(3):
            writer.submit(expand(topic_id, round_))
            await settle(lambda: False, 0.2)  # the write fails at once
        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(main())
    gc.collect()
    assert "never retrieved" not in caplog.text
    assert refused == []  # unanswered, not refused: the leader proposes again after the lag time
    not_written = [r for r in caplog.records if "not written" in r.getMessage()]
    assert len(not_written) == 1, caplog.text
    assert "not connected to ZooKeeper" in not_written[0].getMessage()
    store.down = False

    async def again() -> None:
        writer.submit(expand(topic_id, 7))
        await settle(lambda: isrs(store)[7] == (B1, B2, B3))

    asyncio.run(again())
    assert "ISR changes are written again" in caplog.text


def test_a_follower_whose_broker_is_not_live_joins_the_isr_only_once_it_is() -> None:
    """Kafka's INELIGIBLE_REPLICA (KIP-841): broker 3's session ended (its registration is gone)
    but it still fetches and catches up (cut from ZooKeeper, not from its leader). Its joining the
    ISR is neither written (the controller would take an offline follower out again, the leader put
    it back: a ZooKeeper write each without end) nor refused (the leader would propose it again at
    the next fetch): held until broker 3 is registered again."""
    store = CountingStore()
    topic_id = topic(store)
    store.apply([UnregisterBrokerRecord(B3)])
    store.writes.clear()
    refused: list[IsrChange] = []
    writer = StoreIsrWriter(store, threading.Lock(), refused.append, STATIC)
    alive = IsrChange(TopicPartition("t", 1), topic_id, B1, Epoch(0), 0, (B1, B2))

    async def main() -> None:
        writer.submit(expand(topic_id, 0))
        writer.submit(alive)
        await settle(lambda: isrs(store)[1] == (B1, B2))
        await settle(lambda: False, 3 * PARKED_CHECK_S)
        assert isrs(store)[0] == (B1,) and refused == []
        store.apply([RegisterBrokerRecord(B3, "127.0.0.1", 9003)])
        await settle(lambda: isrs(store)[0] == (B1, B2, B3))

    asyncio.run(main())
    assert isrs(store)[0] == (B1, B2, B3)
    assert refused == []
