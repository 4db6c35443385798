"""Inter-broker security: three real brokers (`LocalCluster`) whose followers fetch from their
leaders over the inter-broker listener with TLS and SASL, with the StandardAuthorizer on. Clients
use another listener (CLIENT) with real librdkafka producers and consumers. The test plays the
controller (as `LocalCluster` does for topics): SCRAM credentials and ACLs are metadata records
written to the shared store.

* SASL_SSL with SCRAM-SHA-512 and mutual TLS
  (the broker principal from its certificate): acks=all RF=3 data reaches every follower.
* A broker principal without CLUSTER_ACTION is refused (Kafka answers a follower's Fetch with
  TOPIC_AUTHORIZATION_FAILED per partition), replication stops, and an ACL granting CLUSTER_ACTION
  starts it again.
* Wrong inter-broker credentials: the login is refused, nothing is replicated.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from replication_helpers import consume

from odradek.broker.app import Broker
from odradek.metadata.security_image import scram_record
from odradek.metadata.security_records import AccessControlEntryRecord
from odradek.model.errors import ErrorCode
from odradek.security.acl import AclOperation, AclPermissionType, PatternType, ResourceType
from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, issue, make_ca
from odradek.security.sasl.scram_credentials import SCRAM_MECHANISMS, ScramCredential
from odradek.testing.cluster import LocalCluster

ADMIN = ("admin", "admin-secret")
BROKER = ("broker", "broker-secret")


def plain_jaas(own: tuple[str, str] | None = None) -> str:
    login = f'username="{own[0]}" password="{own[1]}" ' if own else ""
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'{login}user_admin="{ADMIN[1]}" user_{BROKER[0]}="{BROKER[1]}";'
    )


def scram_jaas(user: str, password: str) -> str:
    module = "org.apache.kafka.common.security.scram.ScramLoginModule"
    return f'{module} required username="{user}" password="{password}";'


def write_pki(root: Path) -> dict[str, Path]:
    now = dt.datetime.now(dt.UTC)
    ca = make_ca(now)
    broker = issue(ca, "broker", now, server_names=DEFAULT_SERVER_NAMES, client=True)
    root.mkdir(parents=True, exist_ok=True)
    paths = {"ca": root / "ca.pem", "broker": root / "broker.pem"}
    paths["ca"].write_bytes(ca.certificate_pem)
    paths["broker"].write_bytes(broker.key_pem + broker.certificate_pem)
    return paths


def secure_overrides(pki: dict[str, Path], internal: dict[str, str], super_users: str) -> dict[str, str]:
    return {
        "listeners": "CLIENT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
        "inter.broker.listener.name": "INTERNAL",
        "listener.name.client.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.client.plain.sasl.jaas.config": plain_jaas(),
        "ssl.keystore.location": str(pki["broker"]),
        "ssl.truststore.location": str(pki["ca"]),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": super_users,
        "replica.lag.time.max.ms": "3000",
        "replica.fetch.wait.max.ms": "200",
        "replica.fetch.backoff.ms": "100",
        "connection.failed.authentication.delay.ms": "0",
        **internal,
    }


SCRAM_INTERNAL = {
    "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SASL_SSL",
    "listener.name.internal.sasl.enabled.mechanisms": "SCRAM-SHA-512",
    "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
    "listener.name.internal.scram-sha-512.sasl.jaas.config": scram_jaas(*BROKER),
}
MTLS_INTERNAL = {
    "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SSL",
    "listener.name.internal.ssl.client.auth": "required",
    "listener.name.internal.ssl.principal.mapping.rules": "RULE:^CN=([^,]+).*$/$1/,DEFAULT",
}
PLAIN_INTERNAL = {
    "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SASL_PLAINTEXT",
    "listener.name.internal.sasl.enabled.mechanisms": "PLAIN",
    "sasl.mechanism.inter.broker.protocol": "PLAIN",
    "listener.name.internal.plain.sasl.jaas.config": plain_jaas(BROKER),
}


def client_config(cluster: LocalCluster, pki: dict[str, Path]) -> dict[str, Any]:
    bootstrap = ",".join(
        "{}:{}".format(*b.broker.advertised_endpoint("CLIENT")) for b in cluster.brokers.values()
    )
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": str(pki["ca"]),
        "sasl.mechanism": "PLAIN",
        "sasl.username": ADMIN[0],
        "sasl.password": ADMIN[1],
    }


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    return write_pki(tmp_path / "pki")


def wait_for(condition: Callable[[], bool], timeout_s: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def produce(config: dict[str, Any], topic: str, values: list[bytes], acks: str) -> list[KafkaError | None]:
    producer = Producer({**config, "acks": acks, "linger.ms": 5, "message.timeout.ms": 20000})
    errors: list[KafkaError | None] = []
    for value in values:
        producer.produce(topic, value, on_delivery=lambda err, _msg: errors.append(err))
    assert producer.flush(30) == 0
    return errors


def log_end(cluster: LocalCluster, node: int, topic: str) -> int:
    end: int = cluster.partition(node, topic)(lambda p: p.log.log_end_offset)
    return end


def refusals(cluster: LocalCluster, node: int) -> list[ErrorCode | None]:
    def read(broker: Broker) -> list[ErrorCode | None]:
        return [f.refused for f in broker.fetchers.fetchers.values()]

    return cluster.brokers[node].call(read)


def add_scram_user(cluster: LocalCluster, user: str, password: str) -> None:
    mechanism = SCRAM_MECHANISMS["SCRAM-SHA-512"]
    credential = ScramCredential.from_password(mechanism, password, os.urandom(16), 4096)
    cluster.store.apply([scram_record(user, mechanism.name, credential)])


def allow_cluster_action(cluster: LocalCluster, principal: str) -> None:
    cluster.store.apply(
        [
            AccessControlEntryRecord(
                uuid.uuid4(),
                ResourceType.CLUSTER,
                "kafka-cluster",
                PatternType.LITERAL,
                principal,
                "*",
                AclOperation.CLUSTER_ACTION,
                AclPermissionType.ALLOW,
            )
        ]
    )


@pytest.mark.parametrize("internal", ["sasl_ssl-scram", "mtls"])
def test_acks_all_replicates_over_the_secured_inter_broker_listener(
    tmp_path: Path, pki: dict[str, Path], internal: str
) -> None:
    settings = SCRAM_INTERNAL if internal == "sasl_ssl-scram" else MTLS_INTERNAL
    overrides = secure_overrides(pki, settings, "User:admin;User:broker")
    with LocalCluster(tmp_path / "cluster", 3, overrides) as cluster:
        config = client_config(cluster, pki)
        if internal == "sasl_ssl-scram":
            add_scram_user(cluster, *BROKER)
        for node in cluster.ids:  # followers reach the INTERNAL endpoint, not the first one
            registration = cluster.store.image.brokers[node]  # type: ignore[index]
            internal_port = cluster.brokers[node].broker.advertised_endpoint("INTERNAL")[1]
            assert registration.endpoint("INTERNAL")[1] == internal_port != registration.port
        cluster.create_topic("secure", [(1, 2, 3)], {"min.insync.replicas": "3"})
        values = [f"v{i}".encode() * 50 for i in range(200)]
        assert produce(config, "secure", values, acks="all") == [None] * len(values)
        wait_for(lambda: all(log_end(cluster, n, "secure") == 200 for n in (2, 3)), what="followers")
        assert consume(config, "secure", 200) == values
        assert refusals(cluster, 2) == [None] and refusals(cluster, 3) == [None]


def test_a_broker_principal_without_cluster_action_is_refused_until_granted(
    tmp_path: Path, pki: dict[str, Path]
) -> None:
    overrides = secure_overrides(pki, PLAIN_INTERNAL, "User:admin")  # the brokers are not super users
    with LocalCluster(tmp_path / "cluster", 3, overrides) as cluster:
        config = client_config(cluster, pki)
        cluster.create_topic("refused", [(1, 2, 3)], {"min.insync.replicas": "1"})
        assert produce(config, "refused", [b"a", b"b", b"c"], acks="1") == [None] * 3
        wait_for(
            lambda: refusals(cluster, 2) == [ErrorCode.TOPIC_AUTHORIZATION_FAILED],
            what="the leader refusing broker 2's fetch",
        )
        assert log_end(cluster, 2, "refused") == 0 and log_end(cluster, 3, "refused") == 0
        allow_cluster_action(cluster, "User:broker")
        wait_for(lambda: all(log_end(cluster, n, "refused") == 3 for n in (2, 3)), what="followers")
        assert refusals(cluster, 2) == [None]


def test_wrong_inter_broker_credentials_replicate_nothing(tmp_path: Path, pki: dict[str, Path]) -> None:
    internal = {
        **PLAIN_INTERNAL,
        "listener.name.internal.plain.sasl.jaas.config": plain_jaas(("broker", "wrong")),
    }
    overrides = secure_overrides(pki, internal, "User:admin;User:broker")
    with LocalCluster(tmp_path / "cluster", 2, overrides) as cluster:
        config = client_config(cluster, pki)
        cluster.create_topic("wrong", [(1, 2)], {"min.insync.replicas": "1"})
        assert produce(config, "wrong", [b"x"], acks="1") == [None]
        wait_for(
            lambda: refusals(cluster, 2) == [ErrorCode.SASL_AUTHENTICATION_FAILED],
            what="the leader refusing the login",
        )
        assert log_end(cluster, 2, "wrong") == 0
