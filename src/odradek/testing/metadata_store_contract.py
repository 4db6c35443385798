"""One contract test body for every `MetadataStore` (the local store today, the ZooKeeper store next).

A test module subclasses `MetadataStoreContract` and provides one fixture, `stores`, yielding a
`StoreFactory` of its implementation: `store` (the open store) and `reopen()` (close it and open the
same metadata again, as after a broker restart). pytest then runs every test below against it:

    class TestLocalStore(MetadataStoreContract):
        @pytest.fixture
        def stores(self, tmp_path: Path) -> Iterator[StoreFactory]:
            factory = LocalFactory(tmp_path)
            yield factory
            factory.store.close()

What it checks is `metadata/store.py`'s contract: the image after every accepted batch and after a
reopen, a bad batch that changes nothing, a version that counts changes, and the publishers: the
current image first on subscribing, then every change once, in order, before `apply` returns, with
the records and both images; nothing for an empty or a refused batch; a failing publisher that does
not stop the others; `unsubscribe`.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import pytest

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.delta import ReplayError, replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    ClusterIdRecord,
    ConfigRecord,
    MetadataRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
)
from odradek.metadata.store import MetadataChange, MetadataStore
from odradek.model.ids import BrokerId

B1 = BrokerId(1)
BOOT: list[MetadataRecord] = [ClusterIdRecord("c"), RegisterBrokerRecord(B1, "h", 9092)]


def topic_batch(name: str, n: int) -> list[MetadataRecord]:
    """A topic with one partition and one config override (topic id `n + 1`)."""
    topic_id = uuid.UUID(int=n + 1)
    return [
        TopicRecord(name, topic_id),
        ConfigRecord(ConfigResourceType.TOPIC, name, "retention.ms", str(n)),
        PartitionRecord(topic_id, 0, (B1,), (B1,), B1),
    ]


class StoreFactory(Protocol):
    @property
    def store(self) -> MetadataStore: ...

    def reopen(self) -> MetadataStore: ...


class Heard:
    """A publisher that remembers what it heard."""

    def __init__(self) -> None:
        self.changes: list[MetadataChange] = []

    def on_metadata_update(self, change: MetadataChange) -> None:
        self.changes.append(change)


class Failing:
    def on_metadata_update(self, change: MetadataChange) -> None:
        raise RuntimeError("a publisher with a bug")


class MetadataStoreContract:
    def test_apply_and_reopen(self, stores: StoreFactory) -> None:
        store = stores.store
        assert store.image == ClusterImage.EMPTY
        expected = ClusterImage.EMPTY
        removal: list[MetadataRecord] = [RemoveTopicRecord(uuid.UUID(int=3))]
        batches = [BOOT, *(topic_batch(f"t{i}", i) for i in range(12)), removal]
        for batch in batches:
            expected = replay(expected, batch)
            assert store.apply(batch) == expected
        assert store.image == expected
        assert stores.reopen().image == expected
        assert stores.store.apply([]) == expected

    def test_a_bad_batch_changes_nothing(self, stores: StoreFactory) -> None:
        store = stores.store
        store.apply(BOOT)
        before, version = store.image, store.version
        with pytest.raises(ReplayError):
            store.apply([TopicRecord("ok", uuid.UUID(int=5)), RemoveTopicRecord(uuid.UUID(int=99))])
        assert (store.image, store.version) == (before, version)
        assert stores.reopen().image == before

    def test_the_version_counts_changes(self, stores: StoreFactory) -> None:
        store = stores.store
        start = store.version
        store.apply(BOOT)
        store.apply([])
        store.apply(topic_batch("a", 0))
        assert store.version == start + 2

    def test_publishers_hear_the_image_then_every_change_in_order(self, stores: StoreFactory) -> None:
        store = stores.store
        store.apply(BOOT)
        heard = Heard()
        store.subscribe(heard)
        [initial] = heard.changes
        assert (initial.before, initial.after, initial.version) == (
            ClusterImage.EMPTY,
            store.image,
            store.version,
        )
        before = store.image
        after = store.apply(topic_batch("a", 0))
        store.apply([])  # nothing
        with pytest.raises(ReplayError):
            store.apply([RemoveTopicRecord(uuid.UUID(int=99))])
        last = store.apply([RemoveTopicRecord(uuid.UUID(int=1))])
        created, deleted = heard.changes[1:]
        assert (created.before, created.after, created.records) == (before, after, tuple(topic_batch("a", 0)))
        assert (created.created_topics, created.deleted_topics) == (frozenset({"a"}), frozenset())
        assert (deleted.before, deleted.after, deleted.deleted_topics) == (after, last, frozenset({"a"}))
        assert [c.version for c in heard.changes] == [
            initial.version,
            initial.version + 1,
            initial.version + 2,
        ]

    def test_a_failing_publisher_stops_neither_the_change_nor_the_others(self, stores: StoreFactory) -> None:
        store = stores.store
        first, second = Heard(), Heard()
        store.subscribe(first)
        store.subscribe(Failing())
        store.subscribe(second)
        image = store.apply(BOOT)
        assert store.image == image
        assert [c.after for c in first.changes][-1] == image == [c.after for c in second.changes][-1]
        store.unsubscribe(first)
        store.apply(topic_batch("b", 1))
        assert len(first.changes) == 2 and len(second.changes) == 3
