"""Groups, transactions and admin races in a cluster of three real brokers on a real ZooKeeper
(confluent-kafka, raw requests).

* Transactions spanning partitions led by different brokers: the coordinator sends WriteTxnMarkers
  to the other leaders; read_committed consumers see every committed record and no aborted one, and
  the last stable offset of every partition reaches its log end.
* Two brokers creating the same topics at the same moment: one creation of each wins.
* The internal topics have Kafka's cluster defaults (replication factor 3, `transaction.state.log.
  min.isr` 2), so a consumer group and a transactional producer keep working after the SIGKILL of
  the broker leading their coordinator partitions (the last test: it leaves that broker down).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.cluster.zookeeper import ZooKeeperServer
from odradek.coordinator.partitioning import coordinator_partition
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import create_topics
from odradek.testing.raw_client import RawClient
from odradek.testing.zk_cluster import ZkCluster, wait_for

MOVING_COORDINATOR = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError._TIMED_OUT,
}

pytestmark = pytest.mark.compat
COORDINATOR_PARTITIONS = 6  # fewer than Kafka's 50: quicker to create and replicate, same rules


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, zookeeper: ZooKeeperServer) -> Iterator[ZkCluster]:
    overrides = {
        "offsets.topic.num.partitions": str(COORDINATOR_PARTITIONS),
        "transaction.state.log.num.partitions": str(COORDINATOR_PARTITIONS),
    }
    c = ZkCluster(tmp_path_factory.mktemp("coordinators"), f"{zookeeper.connect}/coordinators", overrides)
    try:
        c.start_all((1, 2, 3))
        yield c
    finally:
        c.kill_all()


def admin(cluster: ZkCluster, without: int | None = None) -> AdminClient:
    return AdminClient({"bootstrap.servers": cluster.bootstrap(without=without)})


def create(cluster: ZkCluster, name: str, partitions: int) -> None:
    topic = NewTopic(name, partitions, 3, config={"min.insync.replicas": "2"})
    client = admin(cluster)  # kept alive until the answer: a destroyed client fails its futures
    [future] = client.create_topics([topic]).values()
    future.result(timeout=30)
    for proc in cluster.brokers.values():
        one = AdminClient({"bootstrap.servers": proc.bootstrap})
        wait_for(lambda a=one: name in a.list_topics(timeout=10).topics, what=f"{name} everywhere")


def leaders(cluster: ZkCluster, topic: str, without: int | None = None) -> dict[int, int]:
    md = admin(cluster, without).list_topics(topic=topic, timeout=10)
    return {p.id: p.leader for p in md.topics[topic].partitions.values()}


def transactional_producer(cluster: ZkCluster, txn_id: str) -> Producer:
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap(),
            "transactional.id": txn_id,
            "transaction.timeout.ms": 60_000,
        }
    )
    producer.init_transactions(60)
    return producer


def read_committed(cluster: ZkCluster, topic: str, partitions: int, expected: int) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap(),
            "group.id": f"reader-{topic}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(got) < expected and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    extra = consumer.consume(100, 1.0)  # nothing more may come (an aborted record would)
    got += [m.value() for m in extra if m.error() is None]
    consumer.close()
    return got


def stable_offsets(cluster: ZkCluster, topic: str, partitions: int) -> dict[int, tuple[int, int]]:
    """(last stable offset, high watermark) per partition (ListOffsets, read_committed and not)."""
    found = {}
    for isolation in ("read_committed", "read_uncommitted"):
        consumer = Consumer(
            {"bootstrap.servers": cluster.bootstrap(), "group.id": "watermarks", "isolation.level": isolation}
        )
        for p in range(partitions):
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            found.setdefault(p, []).append(high)
        consumer.close()
    return {p: (lso, hw) for p, (lso, hw) in found.items()}


def test_transactions_spanning_leaders_on_every_broker(cluster: ZkCluster, topic_name: str) -> None:
    create(cluster, topic_name, 3)
    assert sorted(leaders(cluster, topic_name).values()) == [1, 2, 3]  # one partition led by each
    producer = transactional_producer(cluster, f"tx-{topic_name}")
    committed: list[bytes] = []
    for n in range(6):
        producer.begin_transaction()
        values = [f"{n}-{p}-{i}".encode() for p in range(3) for i in range(5)]
        for i, value in enumerate(values):
            producer.produce(topic_name, value=value, partition=i // 5)
        if n % 3 == 2:
            assert producer.flush(30) == 0  # the aborted records reach the logs before the ABORT
            producer.abort_transaction(30)
        else:
            producer.commit_transaction(30)
            committed += values
    got = read_committed(cluster, topic_name, 3, len(committed))
    assert sorted(got) == sorted(committed)  # every committed record, once; no aborted one
    # every partition got its markers: the LSO reached the log end (records + one marker per txn)
    offsets: dict[int, tuple[int, int]] = {}

    def at_log_end() -> bool:
        offsets.update(stable_offsets(cluster, topic_name, 3))
        return all(lso == hw == 6 * 5 + 6 for lso, hw in offsets.values())

    wait_for(at_log_end, what="LSO at the log end everywhere")
    producer.flush(5)


def test_two_brokers_creating_the_same_topics_at_once(cluster: ZkCluster, topic_name: str) -> None:
    """CreateTopics sent to two brokers at the same moment (each commits by compare-and-set in
    ZooKeeper, docs/adr/0007): exactly one creation of each topic wins, the other is answered
    TOPIC_ALREADY_EXISTS; every topic is then usable (its leaders host it)."""
    names = [f"{topic_name}-{i}" for i in range(8)]
    request = create_topics.CreateTopicsRequest(
        [create_topics.CreatableTopic(name, 2, 3) for name in names], timeout_ms=30_000
    )
    start = threading.Barrier(2)
    answers: dict[int, dict[str, int]] = {}

    def create_on(node: int) -> None:
        with RawClient.connect(cluster.brokers[node].bootstrap, timeout=60) as client:
            start.wait()
            response = client.call(ApiKey.CREATE_TOPICS, 7, request)
        answers[node] = {t.name: t.error_code for t in response.topics}

    threads = [threading.Thread(target=create_on, args=(node,)) for node in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    for name in names:
        codes = sorted(answers[node][name] for node in (1, 2))
        assert codes == [ErrorCode.NO_ERROR, ErrorCode.TOPIC_ALREADY_EXISTS], (name, codes)
    md = admin(cluster).list_topics(timeout=10)
    for name in names:
        partitions = md.topics[name].partitions
        assert len(partitions) == 2 and all(len(p.replicas) == 3 for p in partitions.values())
    producer = Producer({"bootstrap.servers": cluster.bootstrap(), "acks": "all"})
    delivered: list[Any] = []
    for name in names:
        for p in (0, 1):
            producer.produce(name, b"v", partition=p, on_delivery=lambda err, _m: delivered.append(err))
    assert producer.flush(30) == 0
    assert delivered == [None] * 16


def commit_transaction(producer: Producer, send: Any, timeout: float = 60) -> None:
    """One transaction, retried as an application does while the coordinator moves."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            producer.begin_transaction()
            send()
            producer.commit_transaction(30)
            return
        except KafkaException as e:
            error: KafkaError = e.args[0]
            assert not error.fatal(), error
            assert time.monotonic() < deadline, error
            if error.txn_requires_abort():
                producer.abort_transaction(30)
            time.sleep(0.2)


def test_a_group_and_a_transaction_survive_their_coordinators_death(
    cluster: ZkCluster, topic_name: str
) -> None:
    """The SIGKILL of the broker leading the group's `__consumer_offsets` partition and the
    transactional id's `__transaction_state` partition: both coordinators move to a replica that
    has their state (replication factor 3), and the group's committed offsets and the producer's
    transactions go on."""
    create(cluster, topic_name, 3)
    txn_id = f"tx-{topic_name}"
    producer = transactional_producer(cluster, txn_id)  # creates __transaction_state
    txn_leaders = leaders(cluster, "__transaction_state")
    victim = txn_leaders[coordinator_partition(txn_id, COORDINATOR_PARTITIONS)]
    # a group coordinated by the same broker
    client = admin(cluster)
    client.describe_consumer_groups(["probe"])  # creates __consumer_offsets
    wait_for(lambda: "__consumer_offsets" in admin(cluster).list_topics(timeout=10).topics, what="offsets")
    offsets_md = admin(cluster).list_topics(topic="__consumer_offsets", timeout=10)
    offsets_topic = offsets_md.topics["__consumer_offsets"]
    assert all(len(p.replicas) == 3 for p in offsets_topic.partitions.values())  # Kafka's default RF
    offsets_leaders = {p.id: p.leader for p in offsets_topic.partitions.values()}
    group = next(
        g
        for g in (f"g-{topic_name}-{i}" for i in range(1000))
        if offsets_leaders[coordinator_partition(g, COORDINATOR_PARTITIONS)] == victim
    )

    def send(first: int) -> Any:
        return lambda: [
            producer.produce(topic_name, value=f"r{first + i}".encode(), partition=i % 3) for i in range(9)
        ]

    commit_transaction(producer, send(0))
    partitions = [TopicPartition(topic_name, p) for p in range(3)]
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap(without=victim),
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic_name])
    seen: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(seen) < 9 and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            seen.append(msg.value())
    consumer.commit(asynchronous=False)
    assert len(seen) == 9
    before = [tp.offset for tp in consumer.committed(partitions, timeout=30)]
    assert sum(before) >= 9

    cluster.kill(victim)
    wait_for(
        lambda: (
            leaders(cluster, "__transaction_state", victim)[
                coordinator_partition(txn_id, COORDINATOR_PARTITIONS)
            ]
            not in (victim, -1)
        ),
        timeout=cluster.session_ms / 1000 + 20,
        what="a new transaction coordinator",
    )
    # the new group coordinator has the offsets committed before the kill (replicated); it serves
    # them once its high watermark passed them (a new leader learns it from its followers' fetches)
    reader = Consumer({"bootstrap.servers": cluster.bootstrap(), "group.id": group})

    def offsets_served() -> bool:
        try:
            return [tp.offset for tp in reader.committed(partitions, timeout=30)] == before
        except KafkaException as e:  # NOT_COORDINATOR while the coordinator moves: ask again
            if not e.args[0].retriable() and e.args[0].code() not in MOVING_COORDINATOR:
                raise
            return False

    wait_for(
        offsets_served,
        timeout=30,
        what="the offsets committed before the kill",
    )
    reader.close()
    commit_transaction(producer, send(9))  # the producer finds the new coordinator and goes on
    deadline = time.monotonic() + 60
    while len(seen) < 18 and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            seen.append(msg.value())
    assert sorted(seen) == sorted(f"r{i}".encode() for i in range(18))
    deadline = time.monotonic() + 60
    while True:  # the group's coordinator moved too: commits succeed once librdkafka found it
        try:
            consumer.commit(asynchronous=False)
            break
        except KafkaException as e:
            assert time.monotonic() < deadline, e
            time.sleep(0.5)
    consumer.close()
    producer.flush(5)
    # the group's offsets, read from the new coordinator: past every record (the last entry of each
    # partition is a COMMIT marker, which the consumer's position may or may not have passed)
    fresh = Consumer(
        {"bootstrap.servers": cluster.bootstrap(), "group.id": group, "enable.auto.commit": False}
    )
    committed = fresh.committed(partitions, timeout=30)
    fresh.close()
    _, ends = zip(*stable_offsets(cluster, topic_name, 3).values(), strict=True)
    assert all(end - 1 <= tp.offset <= end for tp, end in zip(committed, ends, strict=True)), committed
