"""Transactions and idempotent producers across broker restarts, clean (SIGTERM) and kill -9.

The transaction coordinator reloads `__transaction_state` at start, so an open transaction is still
open after the restart and its producer can commit it; the data partitions rebuild their producer
state from snapshots (clean shutdown) or by replaying batch headers (kill -9), so the open
transaction still holds the last stable offset and idempotent sequences continue where they were.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from eos_clients import conf, create_topic, read_to_end, values

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat

RESTARTS = pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill-9"])


@RESTARTS
def test_an_open_transaction_is_committed_after_the_broker_restarts(
    broker_factory: Callable[..., BrokerProcess], topic_name: str, kill: bool
) -> None:
    broker = broker_factory()
    create_topic(broker.bootstrap, topic_name)
    producer = Producer(conf(broker.bootstrap, **{"transactional.id": f"{topic_name}-tx"}))
    producer.init_transactions(30)
    before = [b"before-%d" % i for i in range(5)]
    during = [b"during-%d" % i for i in range(10)]
    producer.begin_transaction()
    for value in before:
        producer.produce(topic_name, value=value)
    producer.commit_transaction(30)
    producer.begin_transaction()
    for value in during:
        producer.produce(topic_name, value=value)
    assert producer.flush(30) == 0
    broker.restart(kill=kill)
    assert values(read_to_end(broker.bootstrap, topic_name, "read_committed")) == before
    producer.commit_transaction(60)
    assert values(read_to_end(broker.bootstrap, topic_name, "read_committed")) == before + during


@RESTARTS
def test_after_a_restart_a_new_producer_aborts_the_open_transaction(
    broker_factory: Callable[..., BrokerProcess], topic_name: str, kill: bool
) -> None:
    broker = broker_factory()
    create_topic(broker.bootstrap, topic_name)
    txn_id = f"{topic_name}-tx"
    old = Producer(conf(broker.bootstrap, **{"transactional.id": txn_id}))
    old.init_transactions(30)
    old.begin_transaction()
    for i in range(10):
        old.produce(topic_name, value=b"doomed-%d" % i)
    assert old.flush(30) == 0
    broker.restart(kill=kill)
    new = Producer(conf(broker.bootstrap, **{"transactional.id": txn_id}))
    new.init_transactions(60)
    new.begin_transaction()
    new.produce(topic_name, value=b"kept")
    new.commit_transaction(30)
    assert values(read_to_end(broker.bootstrap, topic_name, "read_committed")) == [b"kept"]
    assert len(read_to_end(broker.bootstrap, topic_name, "read_uncommitted")) == 11


@RESTARTS
def test_an_idempotent_producer_continues_its_sequences_across_a_restart(
    broker_factory: Callable[..., BrokerProcess], topic_name: str, kill: bool
) -> None:
    broker = broker_factory()
    create_topic(broker.bootstrap, topic_name)
    producer = Producer(conf(broker.bootstrap, **{"enable.idempotence": True, "batch.num.messages": 20}))
    errors: list[KafkaError] = []
    sent = [b"%05d" % i for i in range(1000)]
    for value in sent[:500]:
        producer.produce(topic_name, value=value, on_delivery=lambda e, _m: e and errors.append(e))
    assert producer.flush(30) == 0
    broker.restart(kill=kill)
    for value in sent[500:]:
        producer.produce(topic_name, value=value, on_delivery=lambda e, _m: e and errors.append(e))
    assert producer.flush(60) == 0
    assert errors == []
    assert values(read_to_end(broker.bootstrap, topic_name, "read_uncommitted")) == sent


@RESTARTS
def test_offsets_sent_in_an_open_transaction_commit_with_it_after_a_restart(
    broker_factory: Callable[..., BrokerProcess], topic_name: str, kill: bool
) -> None:
    broker = broker_factory()
    create_topic(broker.bootstrap, topic_name)
    group = f"{topic_name}-g"
    producer = Producer(conf(broker.bootstrap, **{"transactional.id": f"{topic_name}-tx"}))
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(topic_name, value=b"out")
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    metadata = consumer.consumer_group_metadata()
    producer.send_offsets_to_transaction([TopicPartition(topic_name, 0, 17)], metadata, 30)
    assert producer.flush(30) == 0
    broker.restart(kill=kill)  # the offsets are pending in __consumer_offsets, the transaction open
    producer.commit_transaction(60)
    try:
        [committed] = consumer.committed([TopicPartition(topic_name, 0)], timeout=20)
        assert committed.offset == 17
    finally:
        consumer.close()
    assert values(read_to_end(broker.bootstrap, topic_name, "read_committed")) == [b"out"]
