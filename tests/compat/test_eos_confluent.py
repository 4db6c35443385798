"""Exactly-once with confluent-kafka (librdkafka): transactions, fencing, crashes, idempotent retries.

librdkafka 2.16 speaks InitProducerId v4, AddPartitionsToTxn v0, EndTxn v1 and Produce v10: the
classic (transaction version 0) protocol, with the broker's KIP-890 part 1 verification in front of
every first transactional write to a partition.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from eos_clients import bootstrap_of, conf, create_topic, proxied_broker, read_to_end, values

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat

HEADERS = [("h", b"\x00\x01"), ("empty", b""), ("none", None)]


def txn_producer(bootstrap: str, txn_id: str, **extra: object) -> Producer:
    producer = Producer(conf(bootstrap, **{"transactional.id": txn_id, **extra}))
    producer.init_transactions(30)
    return producer


def test_committed_data_is_read_committed_and_aborted_data_only_read_uncommitted(
    bootstrap: str, topic_name: str
) -> None:
    create_topic(bootstrap, topic_name)
    producer = txn_producer(bootstrap, f"{topic_name}-tx")
    batches = [
        ("commit", [(f"k{i}".encode(), f"committed-{i}".encode() * (i + 1)) for i in range(5)]),
        ("abort", [(f"a{i}".encode(), f"aborted-{i}".encode()) for i in range(4)]),
        ("commit", [(None, b""), (b"k", None), (b"\xff" * 3, bytes(range(256)))]),
    ]
    for outcome, records in batches:
        producer.begin_transaction()
        for key, value in records:
            producer.produce(topic_name, key=key, value=value, headers=HEADERS)
        producer.flush(30)  # written to the log before the outcome is decided
        if outcome == "commit":
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    expected_headers = tuple(HEADERS)
    everything = read_to_end(bootstrap, topic_name, "read_uncommitted")
    committed = read_to_end(bootstrap, topic_name, "read_committed")
    all_records = [r for _, records in batches for r in records]
    kept = [r for outcome, records in batches if outcome == "commit" for r in records]
    assert [(r[2], r[3], r[4]) for r in everything] == [(k, v, expected_headers) for k, v in all_records]
    assert [(r[2], r[3], r[4]) for r in committed] == [(k, v, expected_headers) for k, v in kept]
    # a control batch (marker) follows each transaction: offsets 5, 10 and 14 are markers
    assert [r[1] for r in everything] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13]


def test_a_zombie_producer_with_the_same_transactional_id_is_fenced(bootstrap: str, topic_name: str) -> None:
    create_topic(bootstrap, topic_name)
    txn_id = f"{topic_name}-tx"
    zombie = txn_producer(bootstrap, txn_id)
    zombie.begin_transaction()
    zombie.produce(topic_name, value=b"from the zombie")
    zombie.flush(30)
    successor = txn_producer(bootstrap, txn_id)  # bumps the epoch and aborts the zombie's transaction
    with pytest.raises(KafkaException) as fenced:
        zombie.produce(topic_name, value=b"late")
        zombie.commit_transaction(30)
    error = fenced.value.args[0]
    assert error.code() == KafkaError._FENCED
    assert error.fatal()
    successor.begin_transaction()
    successor.produce(topic_name, value=b"from the successor")
    successor.commit_transaction(30)
    assert values(read_to_end(bootstrap, topic_name, "read_committed")) == [b"from the successor"]
    assert values(read_to_end(bootstrap, topic_name, "read_uncommitted")) == [
        b"from the zombie",
        b"from the successor",
    ]


PRODUCER_THEN_HANG = """
import sys, time
from confluent_kafka import Producer
bootstrap, topic, txn_id = sys.argv[1:4]
p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "transaction.timeout.ms": 600000})
p.init_transactions(30)
p.begin_transaction()
for i in range(20):
    p.produce(topic, value=b"orphan-%d" % i)
p.flush(30)
print("written", flush=True)
time.sleep(600)
"""


def test_a_producer_killed_mid_transaction_is_aborted_by_its_successor(
    bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    create_topic(bootstrap, topic_name)
    txn_id = f"{topic_name}-tx"
    script = tmp_path / "producer.py"
    script.write_text(PRODUCER_THEN_HANG)
    with subprocess.Popen(
        [sys.executable, str(script), bootstrap, topic_name, txn_id], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "written"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    # the open transaction holds the last stable offset: read_committed sees nothing yet
    assert read_to_end(bootstrap, topic_name, "read_committed") == []
    successor = txn_producer(bootstrap, txn_id)  # fences the dead producer, aborting its transaction
    successor.begin_transaction()
    successor.produce(topic_name, value=b"after")
    successor.commit_transaction(30)
    assert values(read_to_end(bootstrap, topic_name, "read_committed")) == [b"after"]
    orphans = [b"orphan-%d" % i for i in range(20)]
    assert values(read_to_end(bootstrap, topic_name, "read_uncommitted")) == [*orphans, b"after"]


def test_idempotent_retries_through_dropped_connections_neither_duplicate_nor_reorder(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    _broker, proxy = proxied_broker(broker_factory)
    try:
        bootstrap = bootstrap_of(proxy)
        create_topic(bootstrap, topic_name)
        producer = Producer(
            conf(
                bootstrap,
                **{
                    "enable.idempotence": True,
                    "linger.ms": 2,
                    "batch.num.messages": 50,
                    "retry.backoff.ms": 20,
                },
            )
        )
        proxy.drop_responses(after_bytes=(60, 800), times=15, seed=7)
        failures: list[KafkaError] = []
        sent = [b"%06d" % i for i in range(3000)]
        for value in sent:
            producer.produce(topic_name, value=value, on_delivery=lambda e, _m: e and failures.append(e))
            producer.poll(0)
            if int(value) % 100 == 0:
                time.sleep(0.03)  # spread the batches over many connections
        assert producer.flush(60) == 0
        assert failures == []
        assert proxy.drops >= 5, "the fault was not exercised"
        proxy.heal()
        got = values(read_to_end(bootstrap, topic_name, "read_uncommitted"))
        assert got == sent  # every record once, in order
    finally:
        proxy.stop()
