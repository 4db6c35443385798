"""KIP-704 on real brokers and a real ZooKeeper: an unclean leader election leaves the partition
RECOVERING until its new leader has recovered, and no follower joins the ISR meanwhile.

RF=2 on brokers 1 and 2 (broker 3 keeps a controller alive) with
`unclean.leader.election.enable`: broker 2 dies, broker 1 takes writes alone, then dies
too. Broker 2 comes back and is elected uncleanly (the records only broker 1 had are lost, as in
Kafka): the state znode says `"leader_recovery_state":1` with the ISR broker 2 alone. Its recovery
is made to last (the fault hook ODRADEK_FAULT_LEADER_RECOVERY_MS) so the test sees it: broker 1
comes back, follows and catches up (its log is the leader's, byte for byte), and still stays out of
the ISR. Once the leader's RECOVERED is stored, broker 1 joins. A confluent-kafka producer and
consumer work before, during and after.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from odradek.cluster.zookeeper import ZooKeeperServer
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_log_dirs as dld
from odradek.testing.raw_client import RawClient
from odradek.testing.zk_cluster import ZkCluster, produce_values, read_values, wait_for

pytestmark = pytest.mark.compat
TOPIC = "kip704-recovering"
CHROOT = "/kip704"
RECOVERY_ENV = "ODRADEK_FAULT_LEADER_RECOVERY_MS"
RECOVERY_MS = 25_000


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory, zookeeper: ZooKeeperServer) -> Iterator[ZkCluster]:
    c = ZkCluster(
        tmp_path_factory.mktemp("kip704"),
        f"{zookeeper.connect}{CHROOT}",
        {"auto.leader.rebalance.enable": "false", "replica.lag.time.max.ms": "3000"},
    )
    try:
        c.start_all((1, 2, 3))  # broker 3 hosts nothing of the topic: it keeps a controller alive
        yield c
    finally:
        c.kill_all()


@pytest.fixture
def zk(zookeeper: ZooKeeperServer) -> Iterator[KazooClient]:
    client = KazooClient(hosts=f"{zookeeper.connect}{CHROOT}")
    client.start(timeout=15)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def partition_state(zk: KazooClient) -> tuple[int, list[int], int]:
    """(leader, ISR, leader_recovery_state) from the partition's state znode."""
    data, _ = zk.get(f"/brokers/topics/{TOPIC}/partitions/0/state")
    state = json.loads(data)
    return state["leader"], state["isr"], state["leader_recovery_state"]


def wait_state(zk: KazooClient, wanted: tuple[int, list[int], int], timeout: float = 45) -> None:
    wait_for(lambda: partition_state(zk) == wanted, timeout, f"partition state {wanted}")


def produce(producer: Producer, values: list[str]) -> list[str]:
    return produce_values(producer, TOPIC, values)


def log_size(cluster: ZkCluster, broker: int) -> int:
    """The partition's size on `broker` (DescribeLogDirs): a follower that caught up has the leader's."""
    with RawClient.connect(cluster.brokers[broker].bootstrap, timeout=10) as client:
        response = client.call(
            ApiKey.DESCRIBE_LOG_DIRS, 1, dld.DescribeLogDirsRequest([dld.DescribableLogDirTopic(TOPIC, [0])])
        )
    sizes = [
        p.partition_size for r in response.results for t in r.topics if t.name == TOPIC for p in t.partitions
    ]
    assert len(sizes) == 1, response
    return int(sizes[0])


def test_an_unclean_leader_recovers_before_a_follower_joins_the_isr(
    cluster: ZkCluster, zk: KazooClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    config = {"min.insync.replicas": "1", "unclean.leader.election.enable": "true"}
    admin.create_topics([NewTopic(TOPIC, 1, replica_assignment=[[1, 2]], config=config)])[TOPIC].result(
        timeout=30
    )
    wait_state(zk, (1, [1, 2], 0))
    producer = Producer(
        {"bootstrap.servers": cluster.bootstrap(), "acks": "all", "message.timeout.ms": 60_000}
    )
    before = produce(producer, [f"a{i}" for i in range(100)])
    assert len(before) == 100

    cluster.kill(2)
    wait_state(zk, (1, [1], 0))
    assert len(produce(producer, [f"b{i}" for i in range(50)])) == 50  # on broker 1 alone
    cluster.kill(1)
    wait_for(lambda: partition_state(zk)[0] == -1, 30, "no leader")

    monkeypatch.setenv(RECOVERY_ENV, str(RECOVERY_MS))
    cluster.start(2)  # the only live replica, outside the ISR: an unclean election
    monkeypatch.delenv(RECOVERY_ENV)
    elected = time.monotonic()
    wait_state(zk, (2, [2], 1))  # RECOVERING

    during = produce(producer, [f"c{i}" for i in range(50)])
    assert len(during) == 50
    cluster.start(1)  # it truncates the records broker 2 never had and catches up
    wait_for(lambda: log_size(cluster, 1) == log_size(cluster, 2), 30, "broker 1 caught up")
    time.sleep(3)  # a follower fetching at the high watermark for a while: it would have joined by now
    assert partition_state(zk) == (2, [2], 1)  # ... but not while the partition is RECOVERING
    assert time.monotonic() - elected < RECOVERY_MS / 1000, "the test was too slow to see RECOVERING"
    assert read_values(cluster.bootstrap(), TOPIC, 150) == before + during  # consumers read it meanwhile

    wait_state(zk, (2, [1, 2], 0), timeout=RECOVERY_MS / 1000 + 30)  # RECOVERED, then broker 1 joined
    recovered = [line for line in cluster.brokers[2].lines if "is RECOVERED" in line]
    assert recovered, "broker 2 did not log its recovery"
    after = produce(producer, [f"d{i}" for i in range(50)])
    assert len(after) == 50
    # what only broker 1 had (the b records) is lost, as with Kafka's unclean election; nothing else
    assert read_values(cluster.bootstrap(), TOPIC, 200) == before + during + after
