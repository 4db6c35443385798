"""A secured cluster: three real broker processes on a real ZooKeeper, with the StandardAuthorizer
on and every connection authenticated. Clients use the CLIENT listener (SASL_SSL, PLAIN); brokers
reach each other on INTERNAL (SASL_SSL, SCRAM-SHA-512, the broker user in ``super.users``). An
acks=all RF=3 write with min.insync.replicas=3 can only be acknowledged once both followers fetched
it over the secured inter-broker listener; the three logs then hold the same bytes."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    NewTopic,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, issue, make_ca
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat
PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.1)


def broker_properties(root: Path, zk_connect: str, node: int) -> dict[str, str]:
    return {
        "node.id": str(node),
        "zookeeper.connect": zk_connect,
        "zookeeper.session.timeout.ms": "6000",
        "listeners": "CLIENT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
        "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SASL_SSL",
        "inter.broker.listener.name": "INTERNAL",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.client.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.client.plain.sasl.jaas.config": f'{PLAIN} required user_admin="admin-secret";',
        "listener.name.internal.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.internal.scram-sha-512.sasl.jaas.config": (
            f'{SCRAM} required username="broker" password="broker-secret";'
        ),
        "ssl.keystore.location": str(root / "server.pem"),
        "ssl.truststore.location": str(root / "ca.pem"),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:admin;User:broker",
        "replica.fetch.backoff.ms": "200",
        "offsets.topic.replication.factor": "1",
    }


@pytest.fixture
def secure_cluster(tmp_path: Path, zk_connect: str) -> Iterator[dict[int, BrokerProcess]]:
    now = dt.datetime.now(dt.UTC)
    ca = make_ca(now)
    server = issue(ca, "localhost", now, server_names=DEFAULT_SERVER_NAMES, client=True)
    (tmp_path / "ca.pem").write_bytes(ca.certificate_pem)
    (tmp_path / "server.pem").write_bytes(server.key_pem + server.certificate_pem)
    brokers = {
        n: BrokerProcess(tmp_path / f"b{n}", broker_properties(tmp_path, zk_connect, n), start_timeout=90)
        for n in (1, 2, 3)
    }
    try:
        for proc in brokers.values():
            proc.start()
        yield brokers
    finally:
        for proc in brokers.values():
            proc.kill()


def client_config(brokers: dict[int, BrokerProcess], ca: Path) -> dict[str, str]:
    return {
        "bootstrap.servers": ",".join(p.bootstrap_for("CLIENT") for p in brokers.values()),
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": str(ca),
        "sasl.mechanism": "PLAIN",
        "sasl.username": "admin",
        "sasl.password": "admin-secret",
    }


def test_acks_all_rf3_replicates_over_sasl_ssl_with_an_authorizer(
    secure_cluster: dict[int, BrokerProcess], tmp_path: Path
) -> None:
    config = client_config(secure_cluster, tmp_path / "ca.pem")
    admin = AdminClient(config)
    wait_for(lambda: len(admin.list_topics(timeout=10).brokers) == 3, what="three brokers registered")
    upsert = UserScramCredentialUpsertion(
        "broker", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), b"broker-secret"
    )
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(timeout=30)
    [created] = admin.create_topics([NewTopic("secured", 1, 3, config={"min.insync.replicas": "3"})]).values()
    created.result(timeout=30)
    producer = Producer({**config, "acks": "all", "linger.ms": 5, "message.timeout.ms": 60000})
    errors: list[KafkaError | None] = []
    values = [f"v{i}".encode() * 100 for i in range(100)]
    for value in values:
        producer.produce("secured", value, on_delivery=lambda err, _msg: errors.append(err))
    assert producer.flush(90) == 0
    assert errors == [None] * len(values)  # each acknowledged by the three replicas

    def segment(node: int) -> bytes:
        return (tmp_path / f"b{node}" / "secured-0" / "00000000000000000000.log").read_bytes()

    wait_for(lambda: segment(1) == segment(2) == segment(3) and len(segment(1)) > 0, what="three equal logs")
    consumer = Consumer({**config, "group.id": "secured-readers", "enable.auto.commit": False})
    consumer.assign([TopicPartition("secured", 0, 0)])
    got: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < len(values) and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                got.append(message.value() or b"")
    finally:
        consumer.close()
    assert got == values
