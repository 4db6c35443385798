"""Replaying the `__transaction_state` records a shard emitted rebuilds its state.

Random requests from well-behaved and stale producers over both transaction versions, timeouts,
expiry, failed appends, and markers written late; the committed records (through their bytes) are
then replayed into a fresh shard and compared with the live one.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "coordinator"))

from txn_helpers import Harness, durable_view, tp

from odradek.coordinator.result import CoordinatorResult
from odradek.coordinator.transaction.config import TransactionConfig
from odradek.coordinator.transaction.records import TxnLogRecord, decode_record, encode_record
from odradek.coordinator.transaction.states import TransactionState as S

IDS = ("a", "b", "c")
PARTS = (tp("x", 0), tp("x", 1), tp("y", 0))
PART_SETS = st.sets(st.sampled_from(PARTS), min_size=1)

op = st.one_of(
    st.tuples(st.just("init"), st.sampled_from(IDS), st.booleans(), st.booleans()),
    st.tuples(st.just("add"), st.sampled_from(IDS), PART_SETS, st.booleans()),
    st.tuples(st.just("end"), st.sampled_from(IDS), st.booleans(), st.booleans()),
    st.tuples(st.just("stale"), st.sampled_from(IDS), st.booleans(), st.booleans()),
    st.tuples(st.just("tick"), st.just(""), st.integers(1, 4000), st.booleans()),
    st.tuples(st.just("markers"), st.just(""), st.just(0), st.booleans()),
)


@settings(max_examples=120, deadline=None)
@given(ops=st.lists(st.tuples(op, st.booleans()), max_size=50), server_tv=st.sampled_from([0, 2]))
def test_replay_of_emitted_records_equals_live_state(ops, server_tv):  # type: ignore[no-untyped-def]
    config = TransactionConfig(transaction_version=server_tv, transactional_id_expiration_ms=5000)
    h = Harness(config=config, auto_markers=False)
    shard = h.shard

    def submit(result: CoordinatorResult[object], fail: bool) -> None:
        if fail and result.records:
            h.fail(result)  # the append failed: the runtime undoes the operation
        else:
            h.run(result)

    for (kind, txn_id, a, b), fail in ops:
        md = shard.transactions.get(txn_id)
        tv = 2 if b else 0
        if kind == "init":
            known = a and md is not None and md.producer_epoch >= 0
            pid, epoch = (md.producer_id, md.producer_epoch) if known and md else (-1, -1)
            submit(shard.init_producer_id(txn_id, 1000, pid, epoch, h.now), fail)
        elif kind == "add" and md is not None:
            pid, epoch = md.producer_id, md.producer_epoch
            submit(shard.add_partitions(txn_id, pid, epoch, frozenset(a), h.now, tv), fail)
        elif kind == "end" and md is not None:
            submit(shard.end_txn(txn_id, md.producer_id, md.producer_epoch, a, h.now, tv), fail)
        elif kind == "stale" and md is not None:
            submit(shard.end_txn(txn_id, md.producer_id, md.producer_epoch - 1, a, h.now, tv), fail)
        elif kind == "tick":
            h.now += a
            submit(shard.abort_timed_out(h.now), fail)
            submit(shard.expire_transactional_ids(h.now), fail)
        elif kind == "markers":
            h.write_markers()
        for txn in shard.transactions.values():
            assert txn.pending_state in (None, S.COMPLETE_ABORT, S.COMPLETE_COMMIT), txn
            assert (txn.pending_complete is not None) == txn.state.is_prepare

    # every record survives its encoding
    assert [decode_record(*encode_record(r)) for r in h.log] == [_durable(r) for r in h.log]
    replayed = h.replayed()
    live = {k: durable_view(v) for k, v in shard.transactions.items() if v.producer_epoch >= 0}
    assert {k: durable_view(v) for k, v in replayed.transactions.items()} == live
    # after a reload, the markers of every transaction left in Prepare* are written again
    markers = replayed.complete_load(h.now)
    preparing = {k for k, v in shard.transactions.items() if v.state.is_prepare}
    assert {m.transactional_id for m in markers} == preparing
    outstanding = {m.transactional_id: m for m in h.outstanding}
    for marker in markers:
        assert marker.producer_epoch == outstanding[marker.transactional_id].producer_epoch
        assert marker.partitions == outstanding[marker.transactional_id].partitions


def _durable(record: TxnLogRecord) -> TxnLogRecord:
    if record.value is None:
        return record
    return TxnLogRecord(record.transactional_id, replace(record.value, last_producer_epoch=-1))
