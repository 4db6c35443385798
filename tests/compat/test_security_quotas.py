"""Client quotas with real clients: a producer over its ``producer_byte_rate`` is held to it (KIP-219
throttling: throttle_time_ms, a muted connection, no errors) while another user keeps its full rate.

`make test` runs a short window (6 s after a 2 s warm-up); `make chaos` runs the 30 s version of the
issue (ODRADEK_QUOTA_SECONDS=30).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from secure_broker import Pki, admin_config, librdkafka_config, secure_broker

from odradek.cli.wire_client import Connection
from odradek.cli.wire_security import WireSecurity
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import alter_client_quotas as acq
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat

QUOTA = 256 * 1024  # bytes/s for alice
MEASURE_S = float(os.environ.get("ODRADEK_QUOTA_SECONDS", "6"))
WARMUP_S = 2.0
VALUE = b"x" * 1024


@pytest.fixture(scope="module")
def quota_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BrokerProcess, Pki]]:
    extra = {"allow.everyone.if.no.acl.found": "true"}
    with secure_broker(tmp_path_factory.mktemp("quota"), extra) as (broker, pki):
        admin = AdminClient(admin_config(broker, pki))
        for future in admin.create_topics([NewTopic("q-alice", 1, 1), NewTopic("q-bob", 1, 1)]).values():
            future.result(timeout=30)
        host, port = broker.bootstrap_for("SASL_PLAINTEXT").split(":")
        wire = Connection(
            (host, int(port)),
            10,
            WireSecurity.from_properties(
                {
                    "security.protocol": "SASL_PLAINTEXT",
                    "sasl.mechanism": "PLAIN",
                    "sasl.username": "admin",
                    "sasl.password": "admin-secret",
                }
            ),
        )
        request = acq.AlterClientQuotasRequest(
            [
                acq.EntryData(
                    [acq.EntityData("user", "alice")], [acq.OpData("producer_byte_rate", float(QUOTA))]
                )
            ]
        )
        assert wire.call(ApiKey.ALTER_CLIENT_QUOTAS, request).entries[0].error_code == 0
        wire.close()
        yield broker, pki


def produce_for(config: dict[str, str], topic: str, seconds: float, out: dict[str, float]) -> None:
    """Produces 1 KiB records as fast as the client is let; records acked bytes after the warm-up."""
    acked = {"warm": 0, "measured": 0, "late": 0}
    start = time.monotonic()
    end = start + WARMUP_S + seconds

    def delivered(err: object, msg: object) -> None:
        if err is None:
            now = time.monotonic()
            phase = "late" if now >= end else "measured" if now - start >= WARMUP_S else "warm"
            acked[phase] += len(VALUE)

    producer = Producer({**config, "linger.ms": "5", "queue.buffering.max.kbytes": "512", "acks": "1"})
    while time.monotonic() < end:
        try:
            producer.produce(topic, VALUE, on_delivery=delivered)
        except BufferError:
            producer.poll(0.005)
        producer.poll(0)
    producer.flush(30)
    out["rate"] = acked["measured"] / seconds


def test_a_greedy_producer_is_held_to_its_quota_while_another_keeps_its_rate(
    quota_broker: tuple[BrokerProcess, Pki],
) -> None:
    broker, pki = quota_broker

    def config(user: str) -> dict[str, str]:
        return librdkafka_config(
            broker,
            pki,
            "SASL_PLAINTEXT",
            **{"sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": f"{user}-secret"},
        )

    alice: dict[str, float] = {}
    bob: dict[str, float] = {}
    threads = [
        threading.Thread(target=produce_for, args=(config("alice"), "q-alice", MEASURE_S, alice)),
        threading.Thread(target=produce_for, args=(config("bob"), "q-bob", MEASURE_S, bob)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Never above the quota. Below it, the 30 s window (`make chaos`) holds the 5 %; the
    # short window of `make test` allows more, because on a busy 2-core CI machine the client itself
    # loses time after each unmuting (seen: 0.82-0.90 of the quota at load 17-25, 1.0 alone).
    floor = 0.95 if MEASURE_S >= 30 else 0.75
    assert QUOTA * floor <= alice["rate"] <= QUOTA * 1.05, alice["rate"] / QUOTA
    assert bob["rate"] > 3 * QUOTA, bob["rate"] / QUOTA  # unthrottled: far above alice's quota


def test_controller_mutation_rate_throttles_topic_creation(quota_broker: tuple[BrokerProcess, Pki]) -> None:
    from odradek.model.errors import ErrorCode
    from odradek.protocol.messages import create_topics as ct

    broker, _ = quota_broker
    host, port = broker.bootstrap_for("SASL_PLAINTEXT").split(":")

    def login(user: str) -> Connection:
        settings = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": user}
        return Connection(
            (host, int(port)),
            10,
            WireSecurity.from_properties({**settings, "sasl.password": f"{user}-secret"}),
        )

    admin = login("admin")
    entry = acq.EntryData([acq.EntityData("user", "bob")], [acq.OpData("controller_mutation_rate", 0.1)])
    assert (
        admin.call(ApiKey.ALTER_CLIENT_QUOTAS, acq.AlterClientQuotasRequest([entry])).entries[0].error_code
        == 0
    )
    admin.close()
    bob, bob_again = login("bob"), login("bob")
    try:
        first = bob.call(
            ApiKey.CREATE_TOPICS, ct.CreateTopicsRequest([ct.CreatableTopic("q-mut-1", 20, 1)], 5000)
        )
        assert first.topics[0].error_code == 0  # a burst of 1.1 partitions may go below zero once
        assert first.throttle_time_ms > 5000  # ~19 partitions owed at 0.1/s: this connection is muted
        # the quota is the user's: another of its connections is refused while the debt lasts
        second = bob_again.call(
            ApiKey.CREATE_TOPICS, ct.CreateTopicsRequest([ct.CreatableTopic("q-mut-2", 1, 1)], 5000)
        )
        assert second.topics[0].error_code == ErrorCode.THROTTLING_QUOTA_EXCEEDED
        assert second.throttle_time_ms > 0
    finally:
        bob.close()
        bob_again.close()
