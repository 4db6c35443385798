"""Transaction version 2 (KIP-890 part 2): an epoch bump at the end of every transaction, retries,
empty aborts, epoch overflow to a new producer id, and fencing with the double bump."""

from __future__ import annotations

from dataclasses import replace

import pytest
from txn_helpers import Harness, tp

from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.records import TxnLogRecord
from odradek.coordinator.transaction.results import EndTxnResult, InitProducerIdResult, MarkerToWrite
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.model.errors import ErrorCode as E

TV2 = 2


@pytest.fixture
def h() -> Harness:
    h = Harness(config=TransactionConfig(transaction_version=TV2))
    h.init("t")  # producer 1000, epoch 0
    return h


def test_every_transaction_ends_with_a_new_epoch(h: Harness):
    assert h.add("t", 1000, 0, tp("a"), tv=TV2) is E.NO_ERROR
    assert h.md("t").client_transaction_version == TV2
    assert h.end("t", 1000, 0, commit=True, tv=TV2) == EndTxnResult(E.NO_ERROR, 1000, 1)
    assert h.markers == [MarkerToWrite("t", 1000, 1, True, frozenset({tp("a")}), 5, TV2)]
    md = h.md("t")
    assert (md.state, md.producer_epoch, md.last_producer_epoch) == (S.COMPLETE_COMMIT, 1, 0)
    # the client retries with the epoch it had: same answer, nothing written
    records = len(h.log)
    assert h.end("t", 1000, 0, commit=True, tv=TV2) == EndTxnResult(E.NO_ERROR, 1000, 1)
    assert h.end("t", 1000, 0, commit=False, tv=TV2) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.end("t", 1000, 1, commit=True, tv=TV2) == EndTxnResult(E.INVALID_TXN_STATE)
    assert len(h.log) == records
    # the next transaction uses the new epoch
    assert h.add("t", 1000, 0, tp("a"), tv=TV2) is E.PRODUCER_FENCED
    assert h.add("t", 1000, 1, tp("b"), tv=TV2) is E.NO_ERROR
    assert h.end("t", 1000, 1, commit=False, tv=TV2) == EndTxnResult(E.NO_ERROR, 1000, 2)
    assert h.end("t", 1000, 1, commit=False, tv=TV2) == EndTxnResult(E.NO_ERROR, 1000, 2)  # retry
    assert h.end("t", 1000, 1, commit=True, tv=TV2) == EndTxnResult(E.INVALID_TXN_STATE)


def test_an_unsure_client_may_abort_without_a_transaction(h: Harness):
    assert h.end("t", 1000, 0, commit=True, tv=TV2) == EndTxnResult(E.INVALID_TXN_STATE)  # Empty
    h.now += 5
    assert h.end("t", 1000, 0, commit=False, tv=TV2) == EndTxnResult(E.NO_ERROR, 1000, 1)
    assert h.markers == [MarkerToWrite("t", 1000, 1, False, frozenset(), 5, TV2)]
    md = h.md("t")
    assert (md.state, md.producer_epoch, md.txn_start_timestamp) == (S.COMPLETE_ABORT, 1, h.now)
    # from CompleteAbort, abort with the current epoch: another empty abort; a commit is invalid
    assert h.end("t", 1000, 1, commit=False, tv=TV2) == EndTxnResult(E.NO_ERROR, 1000, 2)
    assert h.end("t", 1000, 2, commit=True, tv=TV2) == EndTxnResult(E.INVALID_TXN_STATE)
    # Empty after a new InitProducerId: a "retry" (epoch - 1) is a fenced producer
    assert h.init("t") == InitProducerIdResult(E.NO_ERROR, 1000, 3)
    assert h.end("t", 1000, 2, commit=False, tv=TV2) == EndTxnResult(E.PRODUCER_FENCED)


def test_from_complete_commit_an_abort_with_the_current_epoch_is_an_empty_abort(h: Harness):
    h.add("t", 1000, 0, tp("a"), tv=TV2)
    h.end("t", 1000, 0, commit=True, tv=TV2)
    assert h.end("t", 1000, 1, commit=False, tv=TV2) == EndTxnResult(E.NO_ERROR, 1000, 2)
    assert h.markers[-1] == MarkerToWrite("t", 1000, 2, False, frozenset(), 5, TV2)


def test_while_markers_are_written(h: Harness):
    h.add("t", 1000, 0, tp("a"), tv=TV2)
    h.auto_markers = False
    h.end("t", 1000, 0, commit=True, tv=TV2)
    assert h.end("t", 1000, 0, commit=True, tv=TV2) == EndTxnResult(E.CONCURRENT_TRANSACTIONS)  # retry
    assert h.end("t", 1000, 1, commit=True, tv=TV2) == EndTxnResult(E.PRODUCER_FENCED)  # not a retry
    assert h.end("t", 999, 0, commit=True, tv=TV2) == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)


def test_epoch_overflow_moves_to_the_next_producer_id(h: Harness):
    h.add("t", 1000, 0, tp("a"), tv=TV2)
    h.shard.replay(TxnLogRecord("t", replace(h.md("t").snapshot(), producer_epoch=32766)))
    assert h.end("t", 1000, 32766, commit=True, tv=TV2) == EndTxnResult(E.NO_ERROR, 1001, 0)
    # the markers carry the old producer id at the maximum epoch, which no client ever holds
    assert h.markers == [MarkerToWrite("t", 1000, 32767, True, frozenset({tp("a")}), 5, TV2)]
    md = h.md("t")
    assert (md.state, md.producer_id, md.producer_epoch) == (S.COMPLETE_COMMIT, 1001, 0)
    assert (md.prev_producer_id, md.next_producer_id, md.last_producer_epoch) == (1000, -1, 32766)
    prepare = next(r.value for r in h.log if r.value and r.value.state is S.PREPARE_COMMIT)
    assert (prepare.producer_id, prepare.producer_epoch, prepare.next_producer_id) == (1000, 32767, 1001)
    # a retry with the old producer id and epoch gets the new ones
    assert h.end("t", 1000, 32766, commit=True, tv=TV2) == EndTxnResult(E.NO_ERROR, 1001, 0)
    assert h.add("t", 1001, 0, tp("b"), tv=TV2) is E.NO_ERROR


def test_fencing_bumps_twice_under_transaction_version_2(h: Harness):
    h.add("t", 1000, 0, tp("a"), tv=TV2)
    h.auto_markers = False
    assert h.init("t") == InitProducerIdResult(E.CONCURRENT_TRANSACTIONS)
    md = h.md("t")
    assert (md.state, md.producer_epoch, md.last_producer_epoch) == (S.PREPARE_ABORT, 2, 1)
    assert h.markers == [MarkerToWrite("t", 1000, 2, False, frozenset({tp("a")}), 5, TV2)]
    assert h.end("t", 1000, 0, commit=True, tv=TV2) == EndTxnResult(E.PRODUCER_FENCED)
    h.write_markers()
    assert h.init("t") == InitProducerIdResult(E.NO_ERROR, 1000, 3)


def test_timeout_under_transaction_version_2(h: Harness):
    h.add("t", 1000, 0, tp("a"), tv=TV2)
    h.now += 60_001
    result = h.shard.abort_timed_out(h.now)
    h.run(result)
    assert h.markers == [MarkerToWrite("t", 1000, 2, False, frozenset({tp("a")}), 5, TV2)]
    assert (h.md("t").state, h.md("t").producer_epoch) == (S.COMPLETE_ABORT, 2)
    assert h.end("t", 1000, 0, commit=True, tv=TV2) == EndTxnResult(E.PRODUCER_FENCED)


def test_no_producer_id_for_the_overflow_is_retriable(h: Harness):
    h.add("t", 1000, 0, tp("a"), tv=TV2)
    h.shard.replay(TxnLogRecord("t", replace(h.md("t").snapshot(), producer_epoch=32766)))
    while h.ids.next_id() is not None:
        pass
    assert h.end("t", 1000, 32766, commit=True, tv=TV2) == EndTxnResult(E.COORDINATOR_LOAD_IN_PROGRESS)
    assert h.md("t").pending_state is None
