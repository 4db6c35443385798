"""`odradek transactions list|describe` and `odradek producers describe` against a real broker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from confluent_kafka import Producer

pytestmark = pytest.mark.compat


def test_transactions_and_producers_of_an_open_transaction(
    run_cli: Any, bootstrap: str, topic_name: str
) -> None:
    assert run_cli("topic", "create", topic_name, "--partitions", "2").code == 0
    txn_id = f"{topic_name}-tx"
    producer = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": txn_id, "transaction.timeout.ms": 60000}
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic_name, value=b"%d" % i, partition=1)
    assert producer.flush(30) == 0

    listed = run_cli("transactions", "list", "--state", "Ongoing", "--output", "json")
    assert listed.code == 0, listed.err
    [mine] = [t for t in json.loads(listed.out)["transactions"] if t["transactional_id"] == txn_id]
    assert (mine["state"], mine["coordinator"]) == ("Ongoing", 1)

    described = run_cli("transactions", "describe", txn_id, "--output", "json")
    assert described.code == 0, described.err
    [doc] = json.loads(described.out)["transactions"]
    assert (doc["state"], doc["producer_id"], doc["timeout_ms"], doc["partitions"]) == (
        "Ongoing",
        mine["producer_id"],
        60000,
        [{"topic": topic_name, "partition": 1}],
    )

    producers = run_cli("producers", "describe", topic_name, "--output", "json")
    assert producers.code == 0, producers.err
    parts = json.loads(producers.out)["partitions"]
    assert [(p["partition"], p["error"], len(p["producers"])) for p in parts] == [(0, None, 0), (1, None, 1)]
    [state] = parts[1]["producers"]
    assert (state["producer_id"], state["last_sequence"], state["current_txn_start_offset"]) == (
        mine["producer_id"],
        2,
        0,
    )

    producer.commit_transaction(30)
    after = json.loads(run_cli("transactions", "describe", txn_id, "--output", "json").out)
    assert after["transactions"][0]["state"] in ("PrepareCommit", "CompleteCommit")
    text = run_cli("producers", "describe", topic_name, "--partition", "1")
    assert text.code == 0
    assert text.out.decode().splitlines()[0].split()[:3] == ["Partition", "ProducerId", "ProducerEpoch"]


def test_describing_an_unknown_transactional_id_fails(run_cli: Any) -> None:
    result = run_cli("transactions", "describe", "never-used-anywhere")
    assert result.code == 1
    assert "TRANSACTIONAL_ID_NOT_FOUND" in result.out.decode()
    missing = run_cli("producers", "describe", "no-such-topic-here")
    assert (missing.code, missing.err.strip()) == (
        1,
        "odradek: error: topic no-such-topic-here: UNKNOWN_TOPIC_OR_PARTITION",
    )
