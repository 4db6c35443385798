"""The ZooKeeper metadata store on a real ZooKeeper: the contract every store passes, then what only a
shared store has (two stores see each other's changes, compare-and-set conflicts, ephemeral
registrations, an unreachable address)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss

from odradek.metadata import zk_store
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    NO_LEADER,
    ConfigRecord,
    ControllerRecord,
    PartitionChangeRecord,
    RegisterBrokerRecord,
)
from odradek.metadata.store import MetadataStore
from odradek.metadata.zk_layout import CHANGE_LOG, Znode
from odradek.metadata.zk_store import (
    BrokerIdTakenError,
    MetadataConflictError,
    ZooKeeperMetadataStore,
    ZooKeeperUnavailableError,
)
from odradek.model.ids import BrokerId
from odradek.testing.metadata_store_contract import BOOT, Heard, MetadataStoreContract, topic_batch


class ZooKeeperFactory:
    def __init__(self, connect: str) -> None:
        self.connect = connect
        self.store: MetadataStore = ZooKeeperMetadataStore.open(connect, session_timeout_ms=4000)

    def reopen(self) -> MetadataStore:
        self.store.close()
        self.store = ZooKeeperMetadataStore.open(self.connect, session_timeout_ms=4000)
        return self.store


class TestZooKeeperContract(MetadataStoreContract):
    SESSION_SCOPED_BROKERS = True

    @pytest.fixture
    def stores(self, zk_connect: str) -> Iterator[ZooKeeperFactory]:
        factory = ZooKeeperFactory(zk_connect)
        yield factory
        factory.store.close()


@pytest.fixture
def open_store(zk_connect: str) -> Iterator[Callable[[], ZooKeeperMetadataStore]]:
    opened: list[ZooKeeperMetadataStore] = []

    def open_() -> ZooKeeperMetadataStore:
        store = ZooKeeperMetadataStore.open(zk_connect, session_timeout_ms=4000)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_second_store_sees_changes_through_its_watches(
    open_store: Callable[[], ZooKeeperMetadataStore],
) -> None:
    one, two = open_store(), open_store()
    heard = Heard()
    two.subscribe(heard)
    image = one.apply(BOOT)
    image = one.apply(topic_batch("orders", 0))
    wait_for(lambda: two.image == image)
    last = heard.changes[-1]
    assert last.after == image and "orders" in {*last.created_topics, *two.image.topics_by_name}
    assert replay(heard.changes[0].after, [r for c in heard.changes[1:] for r in c.records]) == image


def test_an_image_read_back_shares_what_the_change_left_alone(
    open_store: Callable[[], ZooKeeperMetadataStore],
) -> None:
    """Another broker's ISR change: the image this store reads back keeps every untouched topic as
    the same object, so the broker's publishers skip them (not every partition per change)."""
    one, two = open_store(), open_store()
    one.apply(BOOT)
    one.apply(topic_batch("orders", 0))
    image = one.apply(topic_batch("payments", 1))
    wait_for(lambda: two.image == image)
    payments = two.image.topic("payments")
    image = one.apply([PartitionChangeRecord(uuid.UUID(int=1), 0, isr=(BrokerId(1),), leader=BrokerId(1))])
    wait_for(lambda: two.image == image)
    assert two.image.topic("payments") is payments
    assert two.image.topic("orders") == image.topic("orders")


def test_a_change_on_a_stale_image_is_refused_and_the_store_catches_up(
    open_store: Callable[[], ZooKeeperMetadataStore], zk_connect: str
) -> None:
    store = open_store()
    store.apply(BOOT)
    store.apply(topic_batch("orders", 0))
    state = "/brokers/topics/orders/partitions/0/state"
    other = KazooClient(hosts=zk_connect)  # someone writing behind the store's back
    other.start(timeout=10)
    try:
        with store._lock:
            before = store.image
            data, _ = other.get(state)
            other.set(state, data.replace(b'"partition_epoch":0', b'"partition_epoch":7'))
            with pytest.raises(MetadataConflictError):
                store.apply([PartitionChangeRecord(uuid.UUID(int=1), 0, leader=BrokerId(1))])
    finally:
        other.stop()
        other.close()
    topic = store.image.topic("orders")
    assert topic is not None and topic.partitions[0].partition_epoch == 7
    assert topic.partitions[0].leader_epoch == before.topics_by_name["orders"].partitions[0].leader_epoch
    store.apply([PartitionChangeRecord(uuid.UUID(int=1), 0, leader=BrokerId(1))])  # on the fresh image


def test_registrations_and_the_controller_vanish_with_their_session(
    open_store: Callable[[], ZooKeeperMetadataStore],
) -> None:
    one, two = open_store(), open_store()
    one.apply(
        [
            RegisterBrokerRecord(BrokerId(1), "h", 1, endpoints=("PLAINTEXT://h:1",)),
            ControllerRecord(BrokerId(1), 1),
        ]
    )
    two.apply([RegisterBrokerRecord(BrokerId(2), "h", 2)])
    # a read of the tree is not a snapshot (level by level): one that straddled one's transaction
    # may show broker 1 without its controller record for a moment; the next watch completes it
    wait_for(
        lambda: set(one.image.brokers) == {1, 2} == set(two.image.brokers) and two.image.controller_id == 1
    )
    one.close()
    wait_for(lambda: set(two.image.brokers) == {2} and two.image.controller_id == NO_LEADER)
    assert two.image.controller_epoch == 1
    two.apply([ControllerRecord(BrokerId(2), 2)])
    assert two.image.brokers[BrokerId(2)].endpoints == ()


def test_a_broker_id_registered_by_a_live_broker_is_refused(
    open_store: Callable[[], ZooKeeperMetadataStore],
) -> None:
    one, two = open_store(), open_store()
    one.apply([RegisterBrokerRecord(BrokerId(1), "h", 1)])
    wait_for(lambda: BrokerId(1) in two.image.brokers)
    with two._lock, pytest.raises(BrokerIdTakenError, match="broker id 1 is already registered"):
        two._image = ClusterImage.EMPTY  # (the znodes `apply` diffs against follow the image)
        two.apply([RegisterBrokerRecord(BrokerId(1), "other", 2)])


def test_an_unreachable_zookeeper_fails_within_the_timeout_with_its_address() -> None:
    started = time.monotonic()
    with pytest.raises(ZooKeeperUnavailableError, match=r"127\.0\.0\.1:1/x"):
        ZooKeeperMetadataStore.open("127.0.0.1:1/x", session_timeout_ms=1500)
    assert time.monotonic() - started < 5


def expire_session(store: ZooKeeperMetadataStore, zk_connect: str) -> None:
    """End the store's ZooKeeper session from outside (as the server does when it stops hearing from
    the client): a second client takes the session over and closes it; the store's client then
    finds it expired and starts a new one."""
    client_id = store._client.client_id
    assert client_id is not None
    thief = KazooClient(hosts=zk_connect.split("/", 1)[0], client_id=client_id)
    thief.start(timeout=10)
    thief.stop()
    thief.close()


def owner(zk_connect: str, path: str) -> int | None:
    client = KazooClient(hosts=zk_connect)
    client.start(timeout=10)
    try:
        stat = client.exists(path)
        return None if stat is None else int(stat.ephemeralOwner)
    finally:
        client.stop()
        client.close()


def test_a_registration_lost_with_the_session_is_written_again_until_it_succeeds(
    open_store: Callable[[], ZooKeeperMetadataStore], zk_connect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session expired (the registration vanished with it) and the first attempt to register
    again meets a connection dropping again right after ZooKeeper came back: the store tries again."""
    store = open_store()
    store.apply([RegisterBrokerRecord(BrokerId(1), "h", 1)])
    first = store._client.client_id
    failures = [ConnectionLoss()]

    def failing_once(real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            if failures:
                raise failures.pop()
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(store._client, "create", failing_once(store._client.create))
    monkeypatch.setattr(store._client, "transaction", failing_once(store._client.transaction))
    expire_session(store, zk_connect)
    wait_for(lambda: store._client.client_id not in (None, first) and store._client.connected)
    wait_for(lambda: owner(zk_connect, "/brokers/ids/1") == store._client.client_id[0], timeout=15)
    assert failures == []
    assert BrokerId(1) in store.image.brokers


class DeafToChildren(ZooKeeperMetadataStore):
    """A store whose children watch on /brokers/ids hears nothing (as one re-armed after a
    reconnection that finds the same children it saw before the session expired)."""

    def _on_children(self, children: list[str]) -> bool:
        return not self._closed


def test_a_registration_written_again_is_announced_to_every_broker(
    open_store: Callable[[], ZooKeeperMetadataStore], zk_connect: str
) -> None:
    one = open_store()
    two = DeafToChildren.open(zk_connect, session_timeout_ms=4000)
    try:
        one.apply([RegisterBrokerRecord(BrokerId(1), "h", 1)])
        wait_for(lambda: BrokerId(1) in two.image.brokers)
        first = one._client.client_id
        with one._lock:  # one cannot register again before two has read the cluster without it
            expire_session(one, zk_connect)
            wait_for(lambda: owner(zk_connect, "/brokers/ids/1") is None)
            assert BrokerId(1) not in two.refresh().brokers
        wait_for(lambda: one._client.client_id not in (None, first))
        wait_for(lambda: BrokerId(1) in two.image.brokers, timeout=15)
    finally:
        two.close()


@pytest.mark.parametrize("failure", [ConnectionLoss, RuntimeError], ids=["connection-loss", "unexpected"])
def test_a_failed_read_is_tried_again_without_waiting_for_another_change(
    open_store: Callable[[], ZooKeeperMetadataStore],
    monkeypatch: pytest.MonkeyPatch,
    failure: type[Exception],
) -> None:
    one, two = open_store(), open_store()
    failures = [failure("the read failed")]
    read_nodes = two._read_nodes

    def failing_once(paths: Sequence[str]) -> None:
        if failures and "/brokers/topics/orders" in paths:  # the read of the change
            raise failures.pop()
        read_nodes(paths)

    with two._lock:  # no read in flight (one started before the patch could see the change)
        monkeypatch.setattr(two, "_read_nodes", failing_once)
    one.apply(topic_batch("orders", 0))  # one change, one watch event: two's read of it fails
    wait_for(lambda: two.image.topic("orders") is not None, timeout=15)
    assert failures == []


class CountingReads:
    """Counts the read requests a store sends ZooKeeper (a wrapper around its kazoo client's calls)."""

    READS = ("get", "get_async", "get_children", "get_children_async", "exists", "exists_async")

    def __init__(self, store: ZooKeeperMetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        for name in self.READS:
            monkeypatch.setattr(store._client, name, self._counted(getattr(store._client, name)))

    def _counted(self, real: Callable[..., object]) -> Callable[..., object]:
        def call(path: str, *args: object, **kwargs: object) -> object:
            self.paths.append(path)
            return real(path, *args, **kwargs)

        return call


def test_a_change_to_one_topic_reads_only_what_it_changed(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another broker's ISR change on a cluster of 30 topics: the store reads the change list and
    the one partition state it names, not every znode of the tree; its own change reads nothing."""
    one, two = open_store(), open_store()
    image = one.apply(BOOT)
    for n in range(30):
        image = one.apply(topic_batch(f"t{n}", n))
    wait_for(lambda: two.image == image)
    with two._lock:  # no read in flight
        reads = CountingReads(two, monkeypatch)
    image = one.apply([PartitionChangeRecord(uuid.UUID(int=8), 0, isr=(BrokerId(1),), leader=BrokerId(1))])
    wait_for(lambda: two.image == image)
    time.sleep(0.3)  # any read still to come
    state = "/brokers/topics/t7/partitions/0/state"
    assert set(reads.paths) == {"/odradek/changes", state} and len(reads.paths) <= 6, reads.paths
    reads.paths.clear()
    two.apply([PartitionChangeRecord(uuid.UUID(int=9), 0, leader=BrokerId(1))])
    time.sleep(0.3)
    assert [p for p in reads.paths if p != "/odradek/changes"] == []


def isr_change(topic: int, *isr: int) -> list[PartitionChangeRecord]:
    """An ISR change of partition 0 of `topic_batch(f"t{topic}", topic)`."""
    return [PartitionChangeRecord(uuid.UUID(int=topic + 1), 0, isr=tuple(BrokerId(b) for b in isr))]


def cluster_of(one: ZooKeeperMetadataStore, two: ZooKeeperMetadataStore, topics: int = 30) -> ClusterImage:
    image = one.apply([*BOOT, RegisterBrokerRecord(BrokerId(2), "h", 2)])
    for n in range(topics):
        image = one.apply(topic_batch(f"t{n}", n))
    wait_for(lambda: two.image == image)
    return image


def test_changes_missed_between_two_watch_events_read_only_the_znodes_they_wrote(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three changes land while the store cannot read (as between two watch events): it lists the
    change log, reads the three entries and the znodes they name, not the whole tree."""
    one, two = open_store(), open_store()
    cluster_of(one, two)
    with two._lock:  # three changes while two cannot read: its next read is three versions behind
        one.apply(isr_change(7, 1))
        one.apply(isr_change(8, 1))
        image = one.apply([ConfigRecord(ConfigResourceType.TOPIC, "t9", "retention.ms", "5")])
        reads = CountingReads(two, monkeypatch)
        two._catch_up()
    assert two.image == image
    data = [p for p in reads.paths if not p.startswith("/odradek/")]
    assert sorted(data) == [
        "/brokers/topics/t7/partitions/0/state",
        "/brokers/topics/t8/partitions/0/state",
        "/config/topics/t9",
    ], reads.paths
    entries = [p for p in reads.paths if p.startswith(CHANGE_LOG + "/")]
    assert len(entries) == 3 and reads.paths.count(CHANGE_LOG) == 1, reads.paths


def drop_entries(zk_connect: str) -> None:
    """Delete the change log's entries (as a prune would, long before the reader got to them)."""
    client = KazooClient(hosts=zk_connect)
    client.start(timeout=10)
    try:
        for child in client.get_children(CHANGE_LOG):
            client.delete(f"{CHANGE_LOG}/{child}")
    finally:
        client.stop()
        client.close()


def previous_version_change(zk_connect: str) -> None:
    """A topic's config override changed as the previous version wrote changes: `/odradek/changes`
    set, no change log entry."""
    client = KazooClient(hosts=zk_connect)
    client.start(timeout=10)
    try:
        txn = client.transaction()
        txn.set_data("/config/topics/t3", b'{"config":{"retention.ms":"77"},"version":1}')
        txn.set_data("/odradek/changes", b'{"paths":["/config/topics/t3"],"version":1}')
        results = txn.commit()
        assert not any(isinstance(r, Exception) for r in results), results
    finally:
        client.stop()
        client.close()


@pytest.mark.parametrize("gap", ["pruned", "previous-version"])
def test_a_gap_the_change_log_cannot_bridge_reads_the_whole_tree(
    open_store: Callable[[], ZooKeeperMetadataStore],
    monkeypatch: pytest.MonkeyPatch,
    zk_connect: str,
    gap: str,
) -> None:
    """The entries of the missed changes were pruned, or one of them was written by the previous
    version (no entry): the store reads the whole tree, and misses nothing."""
    one, two = open_store(), open_store()
    cluster_of(one, two, topics=5)
    with two._lock:
        one.apply(isr_change(1, 1))
        if gap == "pruned":
            one.apply(isr_change(2, 1))
            drop_entries(zk_connect)
        else:
            previous_version_change(zk_connect)
        one.refresh()
        image = one.apply(isr_change(4, 1))
        reads = CountingReads(two, monkeypatch)
        two._catch_up()
    assert two.image == image
    assert "/brokers/topics" in reads.paths  # a read of the whole tree
    assert [p for p in two._read if p.startswith(CHANGE_LOG + "/")] == []  # (not the log's entries)
    if gap == "previous-version":
        assert dict(image.topic_configs["t3"]) == {"retention.ms": "77"}


def test_a_change_committed_while_the_store_catches_up_from_the_log_is_read_too(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two changes missed; while the store reads the znodes they name, a third commits (touching a
    topic the first two did too): its znodes are read before anything is published, and nothing is
    read as a whole tree."""
    one, two = open_store(), open_store()
    cluster_of(one, two, topics=5)
    heard = Heard()
    two.subscribe(heard)
    read_nodes = two._read_nodes
    late: list[ClusterImage] = []

    def straddled_once(paths: Sequence[str]) -> None:
        if not late and "/brokers/topics/t1/partitions/0/state" in paths:
            late.append(one.apply([*isr_change(1, 1, 2), *isr_change(3, 1)]))
        read_nodes(paths)

    with two._lock:
        monkeypatch.setattr(two, "_read_nodes", straddled_once)
        one.apply(isr_change(1, 1))
        one.apply(isr_change(2, 1))
        reads = CountingReads(two, monkeypatch)
        two._catch_up()
    assert late and two.image == late[0]
    assert "/brokers/topics" not in reads.paths
    for change in heard.changes[1:]:  # never the late change half-applied
        t1, t3 = change.after.topic("t1"), change.after.topic("t3")
        assert t1 is not None and t3 is not None
        assert (len(t1.partitions[0].isr), len(t3.partitions[0].isr)) in {(3, 3), (1, 3), (2, 1)}


def test_the_change_log_is_pruned_by_its_writers(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch, zk_connect: str
) -> None:
    """Each writer deletes the entries beyond the newest `RETAINED` every `PRUNE_EVERY` of its
    transactions: the log stays bounded however many changes are written."""
    monkeypatch.setattr(zk_store, "RETAINED", 5)
    monkeypatch.setattr(zk_store, "PRUNE_EVERY", 4)
    one, two = open_store(), open_store()
    one.apply(BOOT)
    for n in range(12):
        (one if n % 2 else two).apply(topic_batch(f"t{n}", n))
        wait_for(lambda n=n: one.image.topic(f"t{n}") is not None and two.image.topic(f"t{n}") is not None)
    client = KazooClient(hosts=zk_connect)
    client.start(timeout=10)
    try:
        children = client.get_children(CHANGE_LOG)
    finally:
        client.stop()
        client.close()
    assert 5 <= len(children) < 5 + 2 * 4, children


def test_a_tree_written_by_the_previous_version_is_upgraded(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch, zk_connect: str
) -> None:
    """A tree the previous version wrote has no change log: the first store of this version that
    opens creates its parent; a store catching up over changes of both versions reads the whole tree
    once, then catches up from the log."""
    one = open_store()
    one.apply([*BOOT, *topic_batch("t1", 1), *topic_batch("t2", 2), *topic_batch("t3", 3)])
    one.close()
    client = KazooClient(hosts=zk_connect)
    client.start(timeout=10)
    try:
        client.delete(CHANGE_LOG, recursive=True)  # the tree as the previous version left it
    finally:
        client.stop()
        client.close()
    two, three = open_store(), open_store()  # (the previous version's brokers still write meanwhile)
    wait_for(lambda: three.image == two.image and two.image.topic("t3") is not None)
    with three._lock:
        previous_version_change(zk_connect)
        two.refresh()
        two.apply(isr_change(1, 1))
        reads = CountingReads(three, monkeypatch)
        three._catch_up()
        assert "/brokers/topics" in reads.paths  # the gap: an unlogged change
        assert dict(three.image.topic_configs["t3"]) == {"retention.ms": "77"}
        two.apply(isr_change(2, 1))
        image = two.apply(isr_change(3, 1))
        reads.paths.clear()
        three._catch_up()
    assert three.image == image
    assert "/brokers/topics" not in reads.paths and len(reads.paths) < 12, reads.paths


def test_a_transaction_committed_during_a_read_of_changes_is_read_too(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading one change's znodes while the next transaction commits can see half of that one
    (here orders/0 of the next transaction, payments/0 of the last): never published; the next
    transaction's znodes are read too first."""
    one, two = open_store(), open_store()
    one.apply(BOOT)
    one.apply(topic_batch("orders", 0))
    image = one.apply(topic_batch("payments", 1))
    wait_for(lambda: two.image == image)
    heard = Heard()
    two.subscribe(heard)
    orders, payments = uuid.UUID(int=1), uuid.UUID(int=2)
    read_nodes = two._read_nodes

    def straddled_once(paths: Sequence[str]) -> None:
        if not straddled:  # the next transaction commits before this read of the last one
            straddled.append(
                one.apply(
                    [
                        PartitionChangeRecord(orders, 0, leader=BrokerId(1)),
                        PartitionChangeRecord(payments, 0, leader=BrokerId(1)),
                    ]
                )
            )
        read_nodes(paths)

    straddled: list[ClusterImage] = []
    with two._lock:
        monkeypatch.setattr(two, "_read_nodes", straddled_once)
        one.apply([PartitionChangeRecord(orders, 0, leader=BrokerId(1))])
        two._catch_up()
    assert straddled and two.image == straddled[0]
    for change in heard.changes[1:]:
        o, p = change.after.topic("orders"), change.after.topic("payments")
        assert o is not None and p is not None
        assert (o.partitions[0].partition_epoch, p.partitions[0].partition_epoch) in {(0, 0), (1, 0), (2, 1)}


def straddle_read_tree(
    store: ZooKeeperMetadataStore, monkeypatch: pytest.MonkeyPatch, commit: Callable[[], None]
) -> list[int]:
    """`commit` runs right after the store's first read of the tree (the list counts the reads)."""
    reads: list[int] = []
    read_tree = store._read_tree

    def straddled_once() -> tuple[dict[str, Znode], dict[str, int]]:
        nodes, versions = read_tree()
        reads.append(1)
        if len(reads) == 1:
            commit()
        return nodes, versions

    monkeypatch.setattr(store, "_read_tree", straddled_once)
    return reads


@pytest.mark.parametrize("straddling", [1, 2])
def test_a_read_that_a_transaction_straddled_is_read_again(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch, straddling: int
) -> None:
    """The tree is read level by level: a transaction committed meanwhile would show half of itself.
    After such a read (`/odradek/changes` moved under it) the znodes the transactions committed
    meanwhile name (its list, or the change log's entries for more than one) are read again before
    anything is published, without reading the tree again."""
    one, two = open_store(), open_store()

    def late() -> None:  # committed after this read saw the tree
        for n in range(straddling):
            one.apply(topic_batch(f"late{n}", n))

    with two._lock:  # no read in flight
        reads = straddle_read_tree(two, monkeypatch, late)
        two._refresh()
        assert len(reads) == 1
        assert two.image == one.image  # from this refresh, not a later watch's
        assert two._changes_version is not None  # whole: the next change is read by its list


def test_a_read_that_transactions_of_the_previous_version_straddled_is_read_again(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch, zk_connect: str
) -> None:
    """Two transactions committed during a read of the tree, one without a change log entry: the
    log cannot bridge them, and the tree is read again."""
    one, two = open_store(), open_store()
    one.apply([*BOOT, *topic_batch("t3", 3)])
    wait_for(lambda: two.image == one.image)

    def late() -> None:
        previous_version_change(zk_connect)
        one.refresh()
        one.apply(topic_batch("late", 5))

    with two._lock:  # no read in flight
        reads = straddle_read_tree(two, monkeypatch, late)
        two._refresh()
        assert len(reads) == 2
        assert two.image == one.image and dict(two.image.topic_configs["t3"]) == {"retention.ms": "77"}


def test_a_request_never_answered_does_not_hold_the_reader_forever(
    open_store: Callable[[], ZooKeeperMetadataStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """kazoo's own wait has no end: a request lost while the session was being replaced (queued just
    as the expired session's requests were failed) kept the reader, and the store lock with it (so
    every change the broker tried to make), forever. Each request now fails after the timeout."""
    one, two = open_store(), open_store()
    two._request_timeout_s = 0.5
    lost = [two._client.handler.async_result()]  # never set: a request ZooKeeper never saw
    get_async = two._client.get_async

    def losing_once(path: str, *args: object, **kwargs: object) -> object:
        if lost and path.startswith("/brokers/topics/"):
            return lost.pop()
        return get_async(path, *args, **kwargs)

    with two._lock:  # no read in flight
        monkeypatch.setattr(two._client, "get_async", losing_once)
    one.apply(topic_batch("orders", 0))
    wait_for(lambda: two.image.topic("orders") is not None, timeout=15)
    assert lost == []
    one.apply(topic_batch("payments", 1))  # and the store lock is free for changes
    wait_for(lambda: two.image.topic("payments") is not None)


def test_images_made_from_the_changed_znodes_equal_a_rebuild_from_every_znode(
    open_store: Callable[[], ZooKeeperMetadataStore],
) -> None:
    """Two stores take turns writing topics, configs, ISR changes, a deletion and a broker leaving;
    after each change every store's image (made from the changed znodes only) is the writer's, and
    what a rebuild from every znode it read gives."""
    from odradek.metadata.config_types import ConfigResourceType
    from odradek.metadata.records import ConfigRecord, RemoveTopicRecord, UnregisterBrokerRecord
    from odradek.metadata.zk_layout import image_of

    one, two, three = open_store(), open_store(), open_store()
    one.apply([*BOOT, RegisterBrokerRecord(BrokerId(2), "h", 2)])
    changes: list[tuple[ZooKeeperMetadataStore, list[Any]]] = [
        (one, topic_batch("orders", 0)),
        (two, topic_batch("payments", 1)),
        (one, [PartitionChangeRecord(uuid.UUID(int=1), 0, isr=(BrokerId(1),), leader=BrokerId(1))]),
        (two, [ConfigRecord(ConfigResourceType.TOPIC, "orders", "retention.ms", "5")]),
        (one, [ConfigRecord(ConfigResourceType.BROKER, "", "log.retention.ms", "9")]),
        (two, [RemoveTopicRecord(uuid.UUID(int=1))]),
        (one, [UnregisterBrokerRecord(BrokerId(2))]),
        (two, topic_batch("orders", 2)),
    ]
    for writer, records in changes:
        wait_for(lambda w=writer: all(s.image == w.image for s in (one, two, three)))
        image = writer.apply(records)
        wait_for(lambda image=image: all(s.image == image for s in (one, two, three)))

        def rebuilt(store: ZooKeeperMetadataStore, image: ClusterImage = image) -> bool:
            with store._lock:
                return store.image == image == image_of({p: n.data for p, n in store._read.items()})

        for store in (one, two, three):
            wait_for(lambda store=store: rebuilt(store))
