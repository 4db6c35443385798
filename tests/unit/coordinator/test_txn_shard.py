"""TransactionShard: InitProducerId, AddPartitions/AddOffsets/verify, EndTxn (transaction version 1),
fencing, timeouts, expiry, failed appends, loading. Every error with the request that triggers it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from txn_helpers import T0, Harness, durable_view, tp

from odradek.coordinator.timeline import with_committed_view
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.metadata import TransactionMetadata
from odradek.coordinator.transaction.producer_ids import ProducerIdGenerator
from odradek.coordinator.transaction.records import TxnLogRecord
from odradek.coordinator.transaction.results import (
    EndTxnResult,
    InitProducerIdResult,
    MarkerToWrite,
    append_error_to_coordinator_error,
)
from odradek.coordinator.transaction.shard import TransactionShard
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.model.errors import ErrorCode as E

V1 = TransactionConfig(transaction_version=0)  # the coordinator's own aborts use transaction version 1 rules


@pytest.fixture
def h() -> Harness:
    return Harness(config=V1)


def test_init_producer_id_allocates_then_bumps(h: Harness):
    assert h.init("t") == InitProducerIdResult(E.NO_ERROR, 1000, 0)
    md = h.md("t")
    assert (md.state, md.producer_id, md.producer_epoch, md.last_producer_epoch) == (S.EMPTY, 1000, 0, -1)
    assert md.txn_timeout_ms == 60_000 and md.txn_last_update_timestamp == T0
    assert h.init("t", timeout_ms=5000) == InitProducerIdResult(E.NO_ERROR, 1000, 1)
    assert h.md("t").txn_timeout_ms == 5000
    assert h.init("u") == InitProducerIdResult(E.NO_ERROR, 1001, 0)
    assert [r.value.producer_epoch for r in h.log if r.value] == [0, 1, 0]


@pytest.mark.parametrize(
    ("txn_id", "timeout", "pid", "epoch", "error"),
    [
        ("", 60_000, -1, -1, E.INVALID_REQUEST),
        ("t", 0, -1, -1, E.INVALID_TRANSACTION_TIMEOUT),
        ("t", 900_001, -1, -1, E.INVALID_TRANSACTION_TIMEOUT),
        ("t", 60_000, 1000, -1, E.INVALID_REQUEST),
        ("t", 60_000, -1, 0, E.INVALID_REQUEST),
    ],
)
def test_init_producer_id_request_errors(h: Harness, txn_id, timeout, pid, epoch, error):  # type: ignore[no-untyped-def]
    assert h.init(txn_id, timeout, pid, epoch) == InitProducerIdResult(error)
    assert h.log == []


def test_requests_before_and_during_loading():
    shard = TransactionShard(3, TransactionConfig(), ProducerIdGenerator())
    assert shard.init_producer_id("t", 1000, -1, -1, T0).response.error is E.NOT_COORDINATOR
    shard.begin_load(1)
    assert shard.init_producer_id("t", 1000, -1, -1, T0).response.error is E.COORDINATOR_LOAD_IN_PROGRESS
    assert shard.add_partitions("t", 1, 0, frozenset(), T0).response is E.COORDINATOR_LOAD_IN_PROGRESS
    assert shard.end_txn("t", 1, 0, True, T0).response.error is E.COORDINATOR_LOAD_IN_PROGRESS
    verdicts = shard.verify_partitions("t", 1, 0, frozenset({tp("a")}))
    assert verdicts == {tp("a"): E.COORDINATOR_LOAD_IN_PROGRESS}
    shard.complete_load(T0)
    # loaded, but no producer id block yet: retriable
    assert shard.init_producer_id("t", 1000, -1, -1, T0).response.error is E.COORDINATOR_LOAD_IN_PROGRESS
    shard.unload()
    assert shard.status() is E.NOT_COORDINATOR


def test_init_producer_id_with_expected_epoch(h: Harness):
    h.init("t")  # epoch 0
    assert h.init("t", pid=1000, epoch=0) == InitProducerIdResult(E.NO_ERROR, 1000, 1)
    assert h.md("t").last_producer_epoch == 0
    # the same call retried (its response was lost): same epoch, no new bump
    assert h.init("t", pid=1000, epoch=0) == InitProducerIdResult(E.NO_ERROR, 1000, 1)
    assert h.init("t", pid=1000, epoch=5) == InitProducerIdResult(E.PRODUCER_FENCED)
    assert h.init("t", pid=77, epoch=1) == InitProducerIdResult(E.PRODUCER_FENCED)
    assert h.init("t") == InitProducerIdResult(E.NO_ERROR, 1000, 2)  # a new producer forgets the last epoch
    assert h.init("t", pid=1000, epoch=1) == InitProducerIdResult(E.PRODUCER_FENCED)


def test_epoch_exhaustion_moves_to_a_new_producer_id(h: Harness):
    h.init("t")
    h.shard.replay(TxnLogRecord("t", replace(h.md("t").snapshot(), producer_epoch=32766)))
    assert h.init("t", pid=1000, epoch=32766) == InitProducerIdResult(E.NO_ERROR, 1001, 0)
    md = h.md("t")
    assert (md.producer_id, md.prev_producer_id, md.last_producer_epoch) == (1001, 1000, 32766)
    # a retry of that call names the previous producer id with its exhausted epoch: same answer
    assert h.init("t", pid=1000, epoch=32766) == InitProducerIdResult(E.NO_ERROR, 1001, 0)
    assert h.init("t", pid=1000, epoch=32765) == InitProducerIdResult(E.PRODUCER_FENCED)
    assert h.init("t", pid=1001, epoch=0) == InitProducerIdResult(E.NO_ERROR, 1001, 1)


def test_a_change_applies_at_once_and_readers_see_it_once_committed(h: Harness):
    h.init("t")
    pending = h.shard.add_partitions("t", 1000, 0, frozenset({tp("a")}), h.now)
    assert h.md("t").state is S.ONGOING and h.md("t").pending_state is None  # writers: at once
    registry = h.shard.registry
    registry.seal(len(h.log) + 1)  # appended, not committed yet
    described = with_committed_view(registry, lambda: h.shard.transactions["t"].state)
    assert described is S.EMPTY  # readers: the committed state
    assert with_committed_view(
        registry, lambda: h.shard.verify_partitions("t", 1000, 0, frozenset({tp("a")}))
    ) == {tp("a"): E.TRANSACTION_ABORTABLE}
    # a request on top of the uncommitted one is planned on it (and answered after it)
    added = h.shard.add_partitions("t", 1000, 0, frozenset({tp("b")}), h.now)
    assert added.response is E.NO_ERROR and h.md("t").partitions == {tp("a"), tp("b")}
    registry.seal(len(h.log) + 2)
    registry.commit(len(h.log) + 2)
    h.log += [*pending.records, *added.records]
    assert with_committed_view(registry, lambda: h.shard.transactions["t"].partitions) == {tp("a"), tp("b")}
    assert durable_view(h.replayed().transactions["t"]) == durable_view(h.md("t"))


def test_a_failed_append_forgets_the_planned_change(h: Harness):
    h.init("t")
    failed = h.shard.add_partitions("t", 1000, 0, frozenset({tp("a")}), h.now)
    h.fail(failed)
    assert h.md("t").state is S.EMPTY and h.md("t").pending_state is None
    assert append_error_to_coordinator_error(E.NOT_LEADER_OR_FOLLOWER) is E.NOT_COORDINATOR
    assert append_error_to_coordinator_error(E.REQUEST_TIMED_OUT) is E.COORDINATOR_NOT_AVAILABLE
    assert append_error_to_coordinator_error(E.RECORD_LIST_TOO_LARGE) is E.UNKNOWN_SERVER_ERROR
    assert append_error_to_coordinator_error(E.INVALID_REQUEST) is E.INVALID_REQUEST
    assert h.add("t", 1000, 0, tp("a")) is E.NO_ERROR


def test_add_partitions_errors_and_start_time(h: Harness):
    assert h.add("nobody", 1, 0, tp("a")) is E.INVALID_PRODUCER_ID_MAPPING
    assert h.add("", 1, 0, tp("a")) is E.INVALID_REQUEST
    h.init("t")
    assert h.add("t", 999, 0, tp("a")) is E.INVALID_PRODUCER_ID_MAPPING
    assert h.add("t", 1000, 1, tp("a")) is E.PRODUCER_FENCED
    assert h.add("t", 1000, 0, tp("a", 0), tp("a", 1)) is E.NO_ERROR
    assert h.md("t").txn_start_timestamp == T0
    h.now += 10
    records = len(h.log)
    assert h.add("t", 1000, 0, tp("a", 1)) is E.NO_ERROR and len(h.log) == records  # already in: no record
    assert h.add("t", 1000, 0, tp("b")) is E.NO_ERROR
    md = h.md("t")
    assert md.partitions == {tp("a", 0), tp("a", 1), tp("b")}
    assert (md.txn_start_timestamp, md.txn_last_update_timestamp) == (T0, T0 + 10)


def test_add_offsets_adds_the_groups_consumer_offsets_partition(h: Harness):
    h.init("t")
    assert h.run(h.shard.add_offsets("t", 1000, 0, "my-group", h.now)) is E.NO_ERROR
    # Java: "my-group".hashCode() == -1906497762 -> partition 12 of 50
    assert h.md("t").partitions == {tp("__consumer_offsets", 12)}


def test_verify_partitions(h: Harness):
    parts = frozenset({tp("a"), tp("b")})
    unmapped = dict.fromkeys(parts, E.INVALID_PRODUCER_ID_MAPPING)
    assert h.shard.verify_partitions("t", 1000, 0, parts) == unmapped
    assert h.shard.verify_partitions("", 1000, 0, parts) == dict.fromkeys(parts, E.INVALID_REQUEST)
    h.init("t")
    h.add("t", 1000, 0, tp("a"))
    expected = {tp("a"): E.NO_ERROR, tp("b"): E.TRANSACTION_ABORTABLE}
    assert h.shard.verify_partitions("t", 1000, 0, parts) == expected
    assert h.shard.verify_partitions("t", 1001, 0, parts) == unmapped
    assert h.shard.verify_partitions("t", 1000, 3, parts) == dict.fromkeys(parts, E.PRODUCER_FENCED)
    h.auto_markers = False
    h.end("t", 1000, 0, commit=True)
    assert h.shard.verify_partitions("t", 1000, 0, parts) == dict.fromkeys(parts, E.CONCURRENT_TRANSACTIONS)


def test_commit_lifecycle_with_markers(h: Harness):
    h.init("t")
    h.add("t", 1000, 0, tp("a"), tp("b", 2))
    h.auto_markers = False
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.NO_ERROR)
    md = h.md("t")
    assert md.state is S.PREPARE_COMMIT and md.pending_state is S.COMPLETE_COMMIT
    assert h.markers == [MarkerToWrite("t", 1000, 0, True, frozenset({tp("a"), tp("b", 2)}), 5, 0)]
    # while the markers are written, everything waits
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.CONCURRENT_TRANSACTIONS)
    assert h.end("t", 1000, 0, commit=False) == EndTxnResult(E.CONCURRENT_TRANSACTIONS)
    assert h.init("t") == InitProducerIdResult(E.CONCURRENT_TRANSACTIONS)
    h.now += 7
    h.write_markers()
    assert (md.state, md.partitions, md.pending_state) == (S.COMPLETE_COMMIT, frozenset(), None)
    assert md.producer_epoch == 0
    assert md.txn_start_timestamp == T0 and md.txn_last_update_timestamp == T0  # stamped when prepared
    states = [r.value.state for r in h.log if r.value]
    assert states == [S.EMPTY, S.ONGOING, S.PREPARE_COMMIT, S.COMPLETE_COMMIT]
    # retries after completion
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.NO_ERROR)
    assert h.end("t", 1000, 0, commit=False) == EndTxnResult(E.INVALID_TXN_STATE)
    # the next transaction starts from CompleteCommit
    assert h.add("t", 1000, 0, tp("c")) is E.NO_ERROR
    assert h.md("t").txn_start_timestamp == T0 + 7


def test_abort_and_end_txn_errors(h: Harness):
    assert h.end("nobody", 1, 0, commit=True) == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)
    assert h.end("", 1, 0, commit=True) == EndTxnResult(E.INVALID_REQUEST)
    h.init("t")
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.INVALID_TXN_STATE)  # Empty
    h.add("t", 1000, 0, tp("a"))
    assert h.end("t", 999, 0, commit=False) == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)
    assert h.end("t", 1000, 1, commit=False) == EndTxnResult(E.PRODUCER_FENCED)
    assert h.end("t", 1000, 0, commit=False) == EndTxnResult(E.NO_ERROR)
    assert h.markers[-1].committed is False and h.md("t").state is S.COMPLETE_ABORT
    assert h.end("t", 1000, 0, commit=False) == EndTxnResult(E.NO_ERROR)
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.INVALID_TXN_STATE)


def test_prepare_states_without_pending_markers(h: Harness):
    h.init("t")
    h.add("t", 1000, 0, tp("a"))
    h.auto_markers = False
    h.end("t", 1000, 0, commit=True)
    h.shard.on_markers_abandoned("t")  # a newer epoch superseded them
    assert h.md("t").state is S.PREPARE_COMMIT and h.md("t").pending_state is None
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.CONCURRENT_TRANSACTIONS)
    assert h.end("t", 1000, 0, commit=False) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.add("t", 1000, 0, tp("b")) is E.CONCURRENT_TRANSACTIONS
    assert h.init("t") == InitProducerIdResult(E.CONCURRENT_TRANSACTIONS)
    assert h.shard.on_markers_written("t", h.now).records == []


def test_a_new_producer_fences_the_open_transaction(h: Harness):
    h.init("t")
    h.add("t", 1000, 0, tp("a"))
    h.auto_markers = False
    assert h.init("t") == InitProducerIdResult(E.CONCURRENT_TRANSACTIONS)
    md = h.md("t")
    assert (md.state, md.producer_epoch, md.last_producer_epoch) == (S.PREPARE_ABORT, 1, -1)
    assert h.markers == [MarkerToWrite("t", 1000, 1, False, frozenset({tp("a")}), 5, 0)]
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.PRODUCER_FENCED)  # the zombie
    assert h.init("t") == InitProducerIdResult(E.CONCURRENT_TRANSACTIONS)  # markers still being written
    h.write_markers()
    assert h.md("t").state is S.COMPLETE_ABORT
    assert h.init("t") == InitProducerIdResult(E.NO_ERROR, 1000, 2)  # bumped once more
    assert h.add("t", 1000, 1, tp("a")) is E.PRODUCER_FENCED


def test_a_fence_that_fails_to_be_written_leaves_the_transaction_open(h: Harness):
    h.init("t")
    h.add("t", 1000, 0, tp("a"))
    failed = h.shard.init_producer_id("t", 60_000, -1, -1, h.now)
    h.fail(failed)
    md = h.md("t")
    assert (md.state, md.producer_epoch, md.pending_state) == (S.ONGOING, 0, None)
    assert h.init("t") == InitProducerIdResult(E.CONCURRENT_TRANSACTIONS)
    assert h.md("t").producer_epoch == 1


def test_timed_out_transactions_are_fenced_and_aborted(h: Harness):
    h.init("t", timeout_ms=1000)
    h.init("idle", timeout_ms=1000)
    h.add("t", 1000, 0, tp("a"))
    h.now = T0 + 1000
    assert h.shard.abort_timed_out(h.now).records == []
    h.now += 1
    h.auto_markers = False
    result = h.shard.abort_timed_out(h.now)
    assert len(result.records) == 1
    assert h.shard.abort_timed_out(h.now).records == []  # already being aborted
    h.run(result)
    assert h.markers == [MarkerToWrite("t", 1000, 1, False, frozenset({tp("a")}), 5, 0)]
    h.write_markers()
    assert (h.md("t").state, h.md("t").producer_epoch) == (S.COMPLETE_ABORT, 1)
    assert h.end("t", 1000, 0, commit=True) == EndTxnResult(E.PRODUCER_FENCED)


def test_transactional_ids_expire_with_a_tombstone(h: Harness):
    config = replace(V1, transactional_id_expiration_ms=10_000)
    h = Harness(config=config)
    h.init("idle")
    h.init("busy")
    h.add("busy", 1001, 0, tp("a"))
    h.now = T0 + 9_999
    assert h.shard.expire_transactional_ids(h.now).records == []
    h.now = T0 + 10_000
    result = h.shard.expire_transactional_ids(h.now)
    assert result.records == [TxnLogRecord("idle", None)]
    h.shard.registry.seal(len(h.log) + 1)
    assert "idle" not in h.shard.transactions  # gone for writers at once
    assert with_committed_view(h.shard.registry, lambda: "idle" in h.shard.transactions)  # until committed
    h.run(result)
    assert "idle" not in h.shard.transactions and "busy" in h.shard.transactions
    assert h.init("idle") == InitProducerIdResult(E.NO_ERROR, 1002, 0)  # a new life, a new producer id


def test_load_replays_records_and_resumes_markers(h: Harness):
    h.init("done")
    h.add("done", 1000, 0, tp("a"))
    h.end("done", 1000, 0, commit=True)
    h.init("stuck")
    h.add("stuck", 1001, 0, tp("b"))
    h.auto_markers = False
    h.end("stuck", 1001, 0, commit=False)  # crash before its markers are written
    fresh = TransactionShard(0, V1, h.ids)
    fresh.begin_load(6)
    for record in h.log:
        fresh.replay(record)
    markers = fresh.complete_load(h.now)
    assert markers == [MarkerToWrite("stuck", 1001, 0, False, frozenset({tp("b")}), 6, 0)]
    assert fresh.transactions["stuck"].pending_state is S.COMPLETE_ABORT
    for name in ("done", "stuck"):
        assert durable_view(fresh.transactions[name]) == durable_view(h.md(name))


def test_replay_of_a_tombstone_and_of_an_unknown_id():
    shard = TransactionShard(0, V1, ProducerIdGenerator())
    shard.begin_load(0)
    shard.replay(TxnLogRecord("gone", None))
    md = TransactionMetadata("x", 5, producer_epoch=0)
    shard.replay(TxnLogRecord("x", md.snapshot()))
    shard.replay(TxnLogRecord("x", None))
    assert shard.transactions == {}


def test_an_id_whose_first_record_failed_is_unknown_to_other_requests(h: Harness):
    failed = h.shard.init_producer_id("t", 60_000, -1, -1, h.now)
    h.fail(failed)
    assert h.md("t").producer_epoch == -1  # kept, as in Kafka, so a retry reuses its producer id
    assert h.add("t", 1000, -1, tp("a")) is E.INVALID_PRODUCER_ID_MAPPING
    assert h.end("t", 1000, -1, commit=False, tv=2) == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)
    verdicts = h.shard.verify_partitions("t", 1000, -1, frozenset({tp("a")}))
    assert verdicts == {tp("a"): E.INVALID_PRODUCER_ID_MAPPING}
    assert h.init("t") == InitProducerIdResult(E.NO_ERROR, 1000, 0)
