"""KIP-966 eligible leader replicas on three real brokers and a real ZooKeeper.

The "last replica standing" scenario of KIP-966, RF=3 with min.insync.replicas=2: broker 3 dies
(ISR 1,2), broker 2 stops cleanly (ISR 1, ELR 2: it holds every committed record), then the leader,
broker 1, is SIGKILLed and restarted with the storage fault hook that drops its unflushed tail (a
power loss). Broker 1 comes back from an unclean shutdown, so it leaves the ELR and is not elected
although it is the last leader: the partition waits, offline, for broker 2, which is elected from
the ELR, and every acknowledged acks=all record is still there. `odradek topic describe` shows the
ELR on the way.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.cluster.zookeeper import ZooKeeperServer
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_topic_partitions as dtp
from odradek.testing.raw_client import RawClient
from odradek.testing.zk_cluster import ZkCluster, produce_values, read_values, wait_for

pytestmark = pytest.mark.compat
TOPIC = "elr-last-replica-standing"
LOSE_TAIL_ENV = "ODRADEK_FAULT_LOSE_UNFLUSHED_TAIL"


def three_brokers(
    tmp_path_factory: pytest.TempPathFactory, zookeeper: ZooKeeperServer, chroot: str
) -> Iterator[ZkCluster]:
    c = ZkCluster(
        tmp_path_factory.mktemp("elr"),
        f"{zookeeper.connect}/{chroot}",
        {"auto.leader.rebalance.enable": "false"},
    )
    try:
        c.start_all((1, 2, 3))
        yield c
    finally:
        c.kill_all()


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory, zookeeper: ZooKeeperServer) -> Iterator[ZkCluster]:
    yield from three_brokers(tmp_path_factory, zookeeper, "elr")


@pytest.fixture
def feature_cluster(
    tmp_path_factory: pytest.TempPathFactory, zookeeper: ZooKeeperServer
) -> Iterator[ZkCluster]:
    yield from three_brokers(tmp_path_factory, zookeeper, "elr-feature")


def partition_state(cluster: ZkCluster) -> tuple[int, list[int], list[int], list[int]]:
    """(leader, ISR, ELR, last known ELR) from DescribeTopicPartitions on any live broker."""
    node = cluster.live()[0]
    with RawClient.connect(cluster.brokers[node].bootstrap, timeout=10) as client:
        response = client.call(
            ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, dtp.DescribeTopicPartitionsRequest([dtp.TopicRequest(TOPIC)])
        )
    [p] = response.topics[0].partitions
    return p.leader_id, p.isr_nodes, p.eligible_leader_replicas or [], p.last_known_elr or []


def wait_state(
    cluster: ZkCluster, wanted: tuple[int, list[int], list[int], list[int]], timeout: float = 30
) -> None:
    seen: list[object] = []

    def reached() -> bool:
        try:
            seen[:] = [partition_state(cluster)]
        except (OSError, IndexError) as exc:  # a broker between lives
            seen[:] = [exc]
            return False
        return seen[0] == wanted

    try:
        wait_for(reached, timeout, what=f"partition state {wanted}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen {seen}") from None


def produce(cluster: ZkCluster, values: list[str], acks: str) -> list[str]:
    """Values acknowledged (by the leader alone with acks=1)."""
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap(),
            "acks": acks,
            "enable.idempotence": acks == "all",
            "message.timeout.ms": 15_000,
        }
    )
    return produce_values(producer, TOPIC, values, flush_s=30)


def describe_cli(cluster: ZkCluster) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "odradek",
            "topic",
            "describe",
            TOPIC,
            "--output",
            "json",
            "-b",
            cluster.bootstrap(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [topic] = json.loads(done.stdout)["topics"]
    [partition] = topic["partitions"]
    assert isinstance(partition, dict)
    return partition


def test_an_uncleanly_stopped_last_leader_waits_for_the_eligible_replica(
    cluster: ZkCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    topic = NewTopic(TOPIC, 1, replica_assignment=[[1, 2, 3]], config={"min.insync.replicas": "2"})
    admin.create_topics([topic])[TOPIC].result(timeout=30)
    wait_state(cluster, (1, [1, 2, 3], [], []))
    committed = produce(cluster, [f"c{i}" for i in range(200)], acks="all")
    assert len(committed) == 200

    cluster.kill(3)  # its session ends: out of the ISR, which stays at min ISR (no ELR)
    wait_state(cluster, (1, [1, 2], [], []))
    cluster.brokers[2].stop()  # a clean stop: below min ISR now, so broker 2 is eligible
    wait_state(cluster, (1, [1], [2], []))
    partition = describe_cli(cluster)
    assert (partition["isr"], partition["elr"]) == ([1], [2])
    # the leader alone takes acks=1 writes beyond the high watermark (the strict min ISR holds it)
    assert produce(cluster, [f"u{i}" for i in range(50)], acks="1")

    cluster.kill(1)  # the last replica standing dies; nobody is left to move it out of the ISR
    monkeypatch.setenv(LOSE_TAIL_ENV, "1")  # ... and it comes back without its unflushed tail
    cluster.start(1)
    monkeypatch.delenv(LOSE_TAIL_ENV)
    # an unclean shutdown: out of ISR and ELR; the last known leader, but not elected
    wait_state(cluster, (-1, [], [2], [1]))
    time.sleep(2)
    assert partition_state(cluster) == (-1, [], [2], [1])
    partition = describe_cli(cluster)
    assert (partition["leader"], partition["elr"], partition["last_known_elr"]) == (None, [2], [1])

    cluster.start(2)  # the eligible replica comes back and is elected from the ELR
    wait_state(cluster, (2, [1, 2], [], []), timeout=45)  # and broker 1 catches up and rejoins
    values = read_values(cluster.bootstrap(), TOPIC)
    assert [v for v in values if v.startswith("c")] == committed  # nothing acknowledged is lost
    assert len(values) == len(set(values))
    assert os.environ.get(LOSE_TAIL_ENV) is None


# kafka-python 3.0 reads its bundled JSON schemas with importlib.resources' deprecated functions, and
# leaves a socket of its own (to a broker that stopped) for the garbage collector to close, collected
# at the end of the test (as in tests/compat/test_security_clients.py); neither is the broker's
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"
)
def test_turning_eligible_leader_replicas_off_and_on_with_kafka_python(feature_cluster: ZkCluster) -> None:
    """`eligible.leader.replicas.version` through kafka-python's describe_features / update_features
    (what `kafka-features.sh` sends): at 1 (the default) a follower that leaves an ISR below
    min.insync.replicas goes to the ELR and the leader alone does not commit; the downgrade to 0
    clears the ELR and the leader alone commits (the rule before KIP-966); back at 1, KIP-966's rules
    hold again."""
    from kafka.admin import KafkaAdminClient, UpdateFeatureType
    from kafka.errors import InvalidUpdateVersionError

    ELR = "eligible.leader.replicas.version"
    cluster = feature_cluster
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    topic = NewTopic(TOPIC, 1, replica_assignment=[[1, 2, 3]], config={"min.insync.replicas": "2"})
    admin.create_topics([topic])[TOPIC].result(timeout=30)
    wait_state(cluster, (1, [1, 2, 3], [], []))
    assert len(produce(cluster, [f"c{i}" for i in range(20)], acks="all")) == 20
    with KafkaAdminClient(bootstrap_servers=cluster.bootstrap()) as kp:
        described = kp.describe_features()[ELR]  # Kafka 4.1's default for a new cluster: 1
    assert (described["supported"], described["finalized"]) == ((0, 1), (1, 1))

    cluster.kill(3)
    wait_state(cluster, (1, [1, 2], [], []))
    cluster.brokers[2].stop()
    wait_state(cluster, (1, [1], [2], []))  # KIP-966: broker 2 is an eligible leader replica
    assert produce(cluster, [f"u{i}" for i in range(10)], acks="1")
    time.sleep(1)
    assert len(read_values(cluster.bootstrap(), TOPIC, timeout=5)) == 20  # the strict min-ISR rule

    # a client made now knows only the live broker (one made before keeps sockets to the dead ones)
    with KafkaAdminClient(bootstrap_servers=cluster.bootstrap()) as kp:
        with pytest.raises(InvalidUpdateVersionError, match="Can't downgrade the version of this feature"):
            kp.update_features({ELR: 0})  # an upgrade may not lower it
        assert kp.update_features({ELR: (UpdateFeatureType.SAFE_DOWNGRADE, 0)}) == {ELR: "OK"}
        wait_state(cluster, (1, [1], [], []))  # the ELR is cleared
        values = read_values(cluster.bootstrap(), TOPIC, count=30)
        assert len(values) == 30  # the leader alone in the ISR commits again
        assert "finalized" not in kp.describe_features()[ELR]  # level 0: left out, as Kafka does
        assert kp.update_features({ELR: 1}) == {ELR: "OK"}
    gc.collect()

    cluster.start(2)
    wait_state(cluster, (1, [1, 2], [], []), timeout=45)
    cluster.brokers[2].stop()
    wait_state(cluster, (1, [1], [2], []))  # KIP-966 again
