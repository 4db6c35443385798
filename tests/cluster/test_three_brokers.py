"""Three real brokers on a real ZooKeeper, seen through real clients (confluent-kafka, kcat).

One cluster for the module (starting three brokers costs seconds): Metadata lists every broker and
the controller from any of them, RF=3 topics are placed with leaders spread over the brokers, a
replication factor above the live brokers is refused, data produced through one broker is consumed
through another, and killing brokers (SIGKILL: their ZooKeeper sessions end) moves leadership and
the controller. No follower fetches yet, so this module checks the control side only: who leads,
who is in the ISR; it never claims that an RF=3 write has three copies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, ElectionType, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ClusterMetadata, NewTopic

from odradek.testing.zk_cluster import SESSION_MS, ZkCluster, wait_for

pytestmark = pytest.mark.compat


class Cluster(ZkCluster):
    """The shared test cluster plus this module's client helpers."""

    def admin(self, *, without: int | None = None) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap(without=without)})

    def metadata(self, *, without: int | None = None) -> ClusterMetadata:
        return self.admin(without=without).list_topics(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, zookeeper: object) -> Iterator[Cluster]:
    connect = f"{zookeeper.connect}/three-brokers"  # type: ignore[attr-defined]
    c = Cluster(tmp_path_factory.mktemp("cluster"), connect)
    try:
        c.start(1)
        c.start(2, alias=True)  # a server.properties of ZooKeeper days: broker.id only
        c.start(3)
        c.wait_registered(3)  # each broker hears of the others through its watch
        yield c
    finally:
        c.kill_all()


@pytest.fixture(autouse=True)
def every_broker_back(cluster: Cluster) -> Iterator[None]:
    """A test that stops or kills a broker restarts it when it passes; this restarts it when it
    failed half-way, so one failure does not leave the next tests with two brokers."""
    yield
    down = [node_id for node_id, proc in cluster.brokers.items() if proc.proc is None]
    for node_id in down:
        cluster.start(node_id)
    if down:
        cluster.wait_registered(3, timeout=60)


def create(cluster: Cluster, name: str, partitions: int, rf: int) -> None:
    admin = cluster.admin()
    [future] = admin.create_topics([NewTopic(name, partitions, rf)]).values()
    future.result(timeout=20)
    for proc in cluster.brokers.values():  # every broker hears of it through its ZooKeeper watch
        if proc.proc is not None:
            one = AdminClient({"bootstrap.servers": proc.bootstrap})
            wait_for(lambda a=one: name in a.list_topics(timeout=10).topics, what=f"{name} known everywhere")


def test_every_broker_answers_with_the_whole_cluster_and_its_controller(cluster: Cluster) -> None:
    seen = set()
    for node_id, proc in cluster.brokers.items():
        md = AdminClient({"bootstrap.servers": proc.bootstrap}).list_topics(timeout=10)
        assert sorted(md.brokers) == [1, 2, 3], node_id
        assert {b.port for b in md.brokers.values()} == {p.port for p in cluster.brokers.values()}
        seen.add(md.controller_id)
        assert md.cluster_id
    assert len(seen) == 1 and seen <= {1, 2, 3}


def test_rf3_topics_spread_their_leaders_over_the_brokers(cluster: Cluster, topic_name: str) -> None:
    create(cluster, topic_name, 6, 3)
    md = cluster.metadata()
    partitions = md.topics[topic_name].partitions
    assert len(partitions) == 6
    for p in partitions.values():
        assert sorted(p.replicas) == [1, 2, 3]
        assert sorted(p.isrs) == [1, 2, 3]
        assert p.leader == p.replicas[0]
    assert Counter(p.leader for p in partitions.values()) == {1: 2, 2: 2, 3: 2}


def test_a_replication_factor_above_the_live_brokers_is_refused(cluster: Cluster, topic_name: str) -> None:
    admin = cluster.admin()
    [future] = admin.create_topics([NewTopic(topic_name, 1, 4)]).values()
    with pytest.raises(KafkaException) as e:
        future.result(timeout=20)
    error = e.value.args[0]
    assert error.code() == KafkaError.INVALID_REPLICATION_FACTOR
    assert "only 3 broker(s) are registered" in error.str()


def test_data_produced_through_the_cluster_is_consumed_back(cluster: Cluster, topic_name: str) -> None:
    create(cluster, topic_name, 3, 1)
    producer = Producer({"bootstrap.servers": cluster.bootstrap(), "acks": "all"})
    for i in range(30):
        producer.produce(topic_name, value=f"v{i}".encode(), partition=i % 3)
    assert producer.flush(20) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.brokers[2].bootstrap,
            "group.id": f"g-{topic_name}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic_name])
    got: set[bytes] = set()
    deadline = time.monotonic() + 60
    while len(got) < 30 and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got.add(msg.value())
    consumer.close()
    assert got == {f"v{i}".encode() for i in range(30)}


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is installed by make test")
def test_kcat_lists_the_brokers_and_the_leaders(cluster: Cluster, topic_name: str) -> None:
    create(cluster, topic_name, 3, 3)
    out = subprocess.run(
        ["kcat", "-b", cluster.brokers[3].bootstrap, "-L", "-J", "-t", topic_name],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    md = json.loads(out)
    assert sorted(b["id"] for b in md["brokers"]) == [1, 2, 3]
    [topic] = md["topics"]
    assert sorted(p["leader"] for p in topic["partitions"]) == [1, 2, 3]
    assert all(len(p["replicas"]) == 3 for p in topic["partitions"])


def test_acks_all_writes_survive_the_leaders_death(cluster: Cluster, topic_name: str) -> None:
    """Replication over ZooKeeper: RF=3, min.insync.replicas=2, idempotent acks=all; SIGKILL of the
    leader; every acknowledged record is read back from the new leader, once."""
    admin = cluster.admin()
    [future] = admin.create_topics([NewTopic(topic_name, 1, 3, config={"min.insync.replicas": "2"})]).values()
    future.result(timeout=20)
    wait_for(lambda: topic_name in cluster.metadata().topics, what="topic known")
    acked: list[bytes] = []

    def produce(first: int, count: int) -> None:
        producer = Producer(
            {"bootstrap.servers": cluster.bootstrap(), "acks": "all", "enable.idempotence": True}
        )

        def on_delivery(err: KafkaError | None, msg: Any) -> None:
            if err is None:
                acked.append(msg.value())

        for i in range(first, first + count):
            producer.produce(topic_name, value=f"r{i}".encode(), on_delivery=on_delivery)
        assert producer.flush(60) == 0

    produce(0, 200)
    leader = cluster.metadata().topics[topic_name].partitions[0].leader
    wait_for(
        lambda: sorted(cluster.metadata().topics[topic_name].partitions[0].isrs) == [1, 2, 3],
        what="followers in sync",
    )
    cluster.brokers[leader].kill()
    wait_for(
        lambda: cluster.metadata(without=leader).topics[topic_name].partitions[0].leader not in (leader, -1),
        what="a new leader",
        timeout=SESSION_MS / 1000 + 15,
    )
    produce(200, 200)
    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap(without=leader),
            "group.id": f"g-{topic_name}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic_name])
    got: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(got) < len(acked) and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    consumer.close()
    assert len(acked) == 400
    assert sorted(got) == sorted(acked)  # nothing acknowledged lost, nothing twice
    cluster.start(leader)
    wait_for(lambda: leader in cluster.metadata().brokers, what="the broker back")


def test_killing_brokers_moves_leadership_and_the_controller(cluster: Cluster, topic_name: str) -> None:
    create(cluster, topic_name, 6, 3)
    controller = cluster.metadata().controller_id
    victim = controller  # its death moves both the controller and its leaderships
    cluster.brokers[victim].kill()
    killed_at = time.monotonic()

    def moved() -> bool:
        md = cluster.metadata(without=victim)
        if topic_name not in md.topics:  # an answer librdkafka pieced together while a broker was dying
            return False
        parts = md.topics[topic_name].partitions.values()
        return (
            victim not in md.brokers
            and md.controller_id not in (victim, -1)
            and all(p.leader not in (victim, -1) and victim not in p.isrs for p in parts)
        )

    wait_for(moved, timeout=SESSION_MS / 1000 + 10, what="leadership moved off the killed broker")
    assert time.monotonic() - killed_at < SESSION_MS / 1000 + 5 + 5
    leaders = Counter(
        p.leader for p in cluster.metadata(without=victim).topics[topic_name].partitions.values()
    )
    assert sum(leaders.values()) == 6 and victim not in leaders
    cluster.start(victim)  # comes back: registered again, a follower (it is out of the ISR)
    wait_for(lambda: victim in cluster.metadata().brokers, what="the broker back")


def test_a_taken_node_id_and_an_unreachable_zookeeper_refuse_the_start(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Two operator mistakes, each a clear message and exit code 1 (run side by side: each is a
    Python start-up)."""
    base = [sys.executable, "-m", "odradek", "broker", "--listeners", "PLAINTEXT://127.0.0.1:0"]
    taken = [
        *base,
        "--log-dirs",
        str(tmp_path / "dup"),
        "--override",
        f"zookeeper.connect={cluster.zk_connect}",
    ]
    taken += ["--override", "zookeeper.session.timeout.ms=2000", "--override", "node.id=3"]
    nowhere = [
        *base,
        "--log-dirs",
        str(tmp_path / "b"),
        "--override",
        "zookeeper.connect=127.0.0.1:1/odradek",
    ]
    nowhere += ["--override", "zookeeper.session.timeout.ms=1500"]
    started = time.monotonic()
    runs = [
        subprocess.Popen(c, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        for c in (taken, nowhere)
    ]
    (taken_err, nowhere_err) = (r.communicate(timeout=120)[1] for r in runs)
    assert [r.returncode for r in runs] == [1, 1]
    assert "node.id 3 is already registered by a live broker" in taken_err
    assert cluster.zk_connect in taken_err
    assert "could not connect to ZooKeeper at 127.0.0.1:1/odradek within 1.5 s" in nowhere_err
    assert time.monotonic() - started < 60
    assert 3 in cluster.metadata().brokers  # the live one is untouched


def test_elect_leaders_through_the_admin_client(cluster: Cluster, topic_name: str) -> None:
    create(cluster, topic_name, 3, 3)
    admin = cluster.admin()
    partitions = [TopicPartition(topic_name, p) for p in range(3)]
    outcome = admin.elect_leaders(ElectionType.PREFERRED, partitions).result(timeout=30)
    assert {tp.partition: e.code() for tp, e in outcome.items()} == {
        p: KafkaError.ELECTION_NOT_NEEDED
        for p in range(3)  # every preferred replica leads already
    }


def test_a_clean_stop_moves_leadership_first(cluster: Cluster, topic_name: str) -> None:
    """Controlled shutdown: the stopping broker fences itself and waits until the controller moved
    its leaderships."""
    create(cluster, topic_name, 6, 3)
    md = cluster.metadata()
    stopping = next(b for b in (1, 2, 3) if b != md.controller_id)
    leaders_before = {p.id: p.leader for p in md.topics[topic_name].partitions.values()}
    assert stopping in leaders_before.values()
    proc = cluster.brokers[stopping]
    assert proc.stop() == 0
    assert any(
        f"controlled shutdown: broker {stopping} leads no partition another replica could lead" in line
        for line in proc.lines
    ), "\n".join(proc.lines[-20:])
    after = cluster.metadata(without=stopping).topics[topic_name].partitions.values()
    assert all(p.leader not in (stopping, -1) and stopping not in p.isrs for p in after)
