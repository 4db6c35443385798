"""The pure views of `odradek transactions` and `odradek producers`: JSON documents and text tables."""

from __future__ import annotations

from odradek.cli import transaction_view as view


def test_list_document_and_table() -> None:
    listings = [view.TransactionListing("orders-tx", 4000, "Ongoing", 1)]
    assert view.list_doc(listings) == {
        "transactions": [
            {"transactional_id": "orders-tx", "producer_id": 4000, "state": "Ongoing", "coordinator": 1}
        ]
    }
    assert view.render_list_text(listings) == (
        "TransactionalId  Coordinator  ProducerId  TransactionState\n"
        "orders-tx        1            4000        Ongoing\n"
    )


def test_describe_shows_duration_partitions_and_errors() -> None:
    ongoing = view.TransactionDescription("tx", None, 1, "Ongoing", 7, 2, 60000, 1_000, (("a", 0), ("b", 3)))
    missing = view.TransactionDescription("nope", "TRANSACTIONAL_ID_NOT_FOUND", 1)
    text = view.render_describe_text([ongoing, missing], now_ms=1_250)
    lines = text.splitlines()
    assert lines[1].split() == ["1", "tx", "Ongoing", "7", "2", "60000", "1000", "250", "a-0,b-3"]
    assert lines[2].split() == ["1", "nope", "TRANSACTIONAL_ID_NOT_FOUND", "-1", "-1", "-1", "-", "-", "-"]
    [doc, doc_missing] = view.describe_doc([ongoing, missing])["transactions"]
    assert doc["partitions"] == [{"topic": "a", "partition": 0}, {"topic": "b", "partition": 3}]
    assert (doc["error"], doc_missing["error"], doc_missing["partitions"]) == (
        None,
        "TRANSACTIONAL_ID_NOT_FOUND",
        [],
    )


def test_producers_document_and_table() -> None:
    parts = [
        view.PartitionProducers(0, None, 1, (view.ProducerView(9, 0, 41, 1_700, -1, -1),)),
        view.PartitionProducers(1, "NOT_LEADER_OR_FOLLOWER", 2),
        view.PartitionProducers(2, None, 1, (view.ProducerView(5, 3, 0, 1_800, 4, 120),)),
    ]
    rows = [line.split() for line in view.render_producers_text("t", parts).splitlines()[1:]]
    assert rows == [
        ["t-0", "9", "0", "-", "41", "1700", "-"],
        ["t-1", "NOT_LEADER_OR_FOLLOWER", "-", "-", "-", "-", "-"],
        ["t-2", "5", "3", "4", "0", "1800", "120"],
    ]
    doc = view.producers_doc("t", parts)
    assert doc["partitions"][2]["producers"] == [
        {
            "producer_id": 5,
            "producer_epoch": 3,
            "last_sequence": 0,
            "last_timestamp": 1_800,
            "coordinator_epoch": 4,
            "current_txn_start_offset": 120,
        }
    ]
    assert doc["partitions"][1] == {
        "partition": 1,
        "error": "NOT_LEADER_OR_FOLLOWER",
        "leader": 2,
        "producers": [],
    }
