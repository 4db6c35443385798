"""DescribeTransactions and ListTransactions."""

from __future__ import annotations

from txn_helpers import T0, Harness, tp

from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.listing import describe_transaction, list_transactions
from odradek.coordinator.transaction.producer_ids import ProducerIdGenerator
from odradek.coordinator.transaction.shard import TransactionShard
from odradek.model.errors import ErrorCode as E
from odradek.protocol.messages.describe_transactions import TopicData
from odradek.protocol.messages.list_transactions import TransactionState as Listed


def setup() -> Harness:
    h = Harness()
    h.init("alpha")  # 1000
    h.init("beta", timeout_ms=9000)  # 1001
    h.now = T0 + 100
    h.add("beta", 1001, 0, tp("b", 3), tp("a", 1), tp("b", 0))
    h.init("gamma")  # 1002
    h.add("gamma", 1002, 0, tp("c"))
    h.end("gamma", 1002, 0, commit=True)
    return h


def test_describe():
    h = setup()
    beta = describe_transaction(h.shard, "beta")
    assert (beta.error_code, beta.transactional_id) == (0, "beta")
    assert (beta.producer_id, beta.producer_epoch) == (1001, 0)
    assert (beta.transaction_state, beta.transaction_timeout_ms, beta.transaction_start_time_ms) == (
        "Ongoing",
        9000,
        T0 + 100,
    )
    assert beta.topics == [TopicData("a", [1]), TopicData("b", [0, 3])]
    assert describe_transaction(h.shard, "gamma").transaction_state == "CompleteCommit"
    assert describe_transaction(h.shard, "nope").error_code == E.TRANSACTIONAL_ID_NOT_FOUND
    assert describe_transaction(h.shard, "").error_code == E.INVALID_REQUEST
    loading = TransactionShard(1, TransactionConfig(), ProducerIdGenerator())
    loading.begin_load(0)
    assert describe_transaction(loading, "beta").error_code == E.COORDINATOR_LOAD_IN_PROGRESS
    loading.unload()
    assert describe_transaction(loading, "beta").error_code == E.NOT_COORDINATOR


def test_an_expiring_id_is_neither_described_nor_listed():
    h = setup()
    h.now = T0 + TransactionConfig().transactional_id_expiration_ms
    result = h.shard.expire_transactional_ids(h.now)
    assert [r.transactional_id for r in result.records] == ["alpha"]
    assert describe_transaction(h.shard, "alpha").error_code == E.TRANSACTIONAL_ID_NOT_FOUND
    names = [s.transactional_id for s in list_transactions([h.shard], h.now).transaction_states]
    assert names == ["beta", "gamma"]


def test_list_filters():
    h = setup()

    def listed(**kw):  # type: ignore[no-untyped-def]
        response = list_transactions([h.shard], T0 + 1000, **kw)
        assert response.error_code == 0
        return response.transaction_states

    assert listed() == [
        Listed("alpha", 1000, "Empty"),
        Listed("beta", 1001, "Ongoing"),
        Listed("gamma", 1002, "CompleteCommit"),
    ]
    assert listed(state_filters=["Ongoing", "CompleteCommit"]) == [
        Listed("beta", 1001, "Ongoing"),
        Listed("gamma", 1002, "CompleteCommit"),
    ]
    assert listed(producer_id_filters=[1000, 5]) == [Listed("alpha", 1000, "Empty")]
    # running longer than 899 ms: beta and gamma started at T0 + 100; alpha never started (-1)
    assert [s.transactional_id for s in listed(duration_filter_ms=899)] == ["alpha", "beta", "gamma"]
    assert [s.transactional_id for s in listed(duration_filter_ms=900)] == ["alpha"]
    assert [s.transactional_id for s in listed(transactional_id_pattern="(al|be).*")] == ["alpha", "beta"]
    assert listed(transactional_id_pattern="alph") == []  # the whole id must match
    assert [s.transactional_id for s in listed(transactional_id_pattern="")] == ["alpha", "beta", "gamma"]
    unknown = list_transactions([h.shard], T0, state_filters=["Ongoing", "Bogus"])
    assert unknown.unknown_state_filters == ["Bogus"] and len(unknown.transaction_states) == 1
    assert list_transactions([h.shard], T0, state_filters=["Bogus"]).transaction_states == []
    assert list_transactions([h.shard], T0, transactional_id_pattern="(").error_code == E.INVALID_REQUEST
    loading = TransactionShard(1, TransactionConfig(), ProducerIdGenerator())
    loading.begin_load(0)
    assert list_transactions([h.shard, loading], T0).error_code == E.COORDINATOR_LOAD_IN_PROGRESS
