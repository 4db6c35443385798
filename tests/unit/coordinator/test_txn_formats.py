"""State table, `__transaction_state` record bytes, partitioning, producer id blocks."""

from __future__ import annotations

import struct

import pytest
from txn_helpers import tp

from odradek.coordinator.partitioning import coordinator_partition as partition_for
from odradek.coordinator.partitioning import java_string_hash
from odradek.coordinator.transaction.metadata import IllegalTransitionError, TransactionMetadata, TxnTransit
from odradek.coordinator.transaction.producer_ids import ProducerIdBlock, ProducerIdGenerator
from odradek.coordinator.transaction.records import (
    CorruptRecordError,
    TxnLogRecord,
    decode_key,
    decode_record,
    decode_value,
    encode_key,
    encode_record,
    encode_value,
)
from odradek.coordinator.transaction.states import PREVIOUS, TransactionState, can_transition

S = TransactionState


def test_state_ids_and_names_are_kafkas():
    assert [(s.id, s.state_name) for s in S] == [
        (0, "Empty"),
        (1, "Ongoing"),
        (2, "PrepareCommit"),
        (3, "PrepareAbort"),
        (4, "CompleteCommit"),
        (5, "CompleteAbort"),
        (6, "Dead"),
        (7, "PrepareEpochFence"),
    ]
    assert S.from_id(3) is S.PREPARE_ABORT and S.from_name("Ongoing") is S.ONGOING
    assert S.from_name("x") is None
    with pytest.raises(ValueError):
        S.from_id(8)
    assert {s for s in S if s.expiration_allowed} == {S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT}


LEGAL = {
    (S.EMPTY, S.EMPTY),
    (S.COMPLETE_COMMIT, S.EMPTY),
    (S.COMPLETE_ABORT, S.EMPTY),
    (S.EMPTY, S.ONGOING),
    (S.ONGOING, S.ONGOING),
    (S.COMPLETE_COMMIT, S.ONGOING),
    (S.COMPLETE_ABORT, S.ONGOING),
    (S.ONGOING, S.PREPARE_COMMIT),
    (S.ONGOING, S.PREPARE_ABORT),
    (S.PREPARE_EPOCH_FENCE, S.PREPARE_ABORT),
    (S.EMPTY, S.PREPARE_ABORT),
    (S.COMPLETE_COMMIT, S.PREPARE_ABORT),
    (S.COMPLETE_ABORT, S.PREPARE_ABORT),
    (S.PREPARE_COMMIT, S.COMPLETE_COMMIT),
    (S.PREPARE_ABORT, S.COMPLETE_ABORT),
    (S.EMPTY, S.DEAD),
    (S.COMPLETE_COMMIT, S.DEAD),
    (S.COMPLETE_ABORT, S.DEAD),
    (S.ONGOING, S.PREPARE_EPOCH_FENCE),
}


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_transition_of_the_table(source, target):  # type: ignore[no-untyped-def]
    assert can_transition(source, target) == ((source, target) in LEGAL)
    md = TransactionMetadata("t", 1, producer_epoch=0, state=source)
    if (source, target) in LEGAL:
        transit = md.prepare(target)
        assert transit.state is target and md.pending_state is target
        with pytest.raises(IllegalTransitionError):  # one pending change at a time
            md.prepare(target)
        md.complete(transit)
        assert md.state is target and md.pending_state is None
    else:
        with pytest.raises(IllegalTransitionError):
            md.prepare(target)
        assert md.pending_state is None
    assert sum(len(v) for v in PREVIOUS.values()) == len(LEGAL)


def test_complete_must_match_the_pending_state():
    md = TransactionMetadata("t", 1, producer_epoch=0)
    transit = md.prepare(S.ONGOING, partitions=frozenset({tp("a")}))
    with pytest.raises(IllegalTransitionError):
        md.complete(TxnTransit(**{**_fields(transit), "state": S.EMPTY}))
    with pytest.raises(IllegalTransitionError):  # no epoch yet: nothing but Dead may be recorded
        TransactionMetadata("u", 1).prepare(S.EMPTY)


def _fields(t: TxnTransit) -> dict[str, object]:
    return {f: getattr(t, f) for f in t.__dataclass_fields__}


def transit(state: TransactionState, **kw: object) -> TxnTransit:
    base = {
        "producer_id": 1000,
        "prev_producer_id": -1,
        "next_producer_id": -1,
        "producer_epoch": 2,
        "last_producer_epoch": -1,
        "txn_timeout_ms": 60_000,
        "state": state,
        "partitions": frozenset({tp("t", 1), tp("t", 0)}) if state is not S.EMPTY else frozenset(),
        "txn_start_timestamp": 0x10,
        "txn_last_update_timestamp": 0x20,
        "client_transaction_version": 0,
    }
    return TxnTransit(**{**base, **kw})  # type: ignore[arg-type]


def test_key_bytes():
    assert encode_key("abc") == b"\x00\x00" + b"\x00\x03abc"
    assert decode_key(b"\x00\x00\x00\x03abc") == "abc"
    assert decode_key(b"\x00\x01\x00\x03abc") is None  # another record type: skipped
    with pytest.raises(CorruptRecordError):
        decode_key(b"\x00\x00\x00\x03abcd")


def test_value_v0_bytes():
    value = encode_value(transit(S.ONGOING), version=0)
    expected = (
        b"\x00\x00"  # version 0
        + struct.pack(">qhib", 1000, 2, 60_000, 1)
        + struct.pack(">i", 1)  # one topic
        + b"\x00\x01t"
        + struct.pack(">iii", 2, 0, 1)  # partitions 0, 1 (sorted)
        + struct.pack(">qq", 0x20, 0x10)  # last update, start
    )
    assert value == expected
    assert decode_value(value) == transit(S.ONGOING)


def test_value_v1_bytes_with_tagged_fields():
    t = transit(S.PREPARE_COMMIT, prev_producer_id=999, client_transaction_version=2, producer_epoch=3)
    expected = (
        b"\x00\x01"  # version 1 (flexible)
        + struct.pack(">qhib", 1000, 3, 60_000, 2)
        + b"\x02"  # compact array: 1 topic
        + b"\x02t"  # compact string
        + b"\x03"
        + struct.pack(">ii", 0, 1)  # compact array of 2 partitions
        + b"\x00"  # the topic's tagged fields
        + struct.pack(">qq", 0x20, 0x10)
        + b"\x02"  # two tagged fields: next producer id (-1) is the default, not written
        + b"\x00\x08"
        + struct.pack(">q", 999)  # tag 0 previous producer id
        + b"\x02\x02"
        + struct.pack(">h", 2)  # tag 2 client transaction version
    )
    assert encode_value(t) == expected
    assert decode_value(expected) == t


def test_empty_state_writes_null_partitions_and_tombstones_are_null_values():
    empty = transit(S.EMPTY)
    body = encode_value(empty)
    assert body[2 + 15 : 2 + 16] == b"\x00"  # compact null array
    assert decode_value(body) == empty
    with pytest.raises(ValueError, match="Empty"):
        encode_value(transit(S.EMPTY, partitions=frozenset({tp("x")})))
    assert encode_record(TxnLogRecord("abc", None)) == (encode_key("abc"), None)
    assert decode_record(encode_key("abc"), None) == TxnLogRecord("abc", None)
    with pytest.raises(CorruptRecordError):
        decode_value(b"\x00\x02" + body[2:])


def test_last_producer_epoch_is_not_persisted():
    t = transit(S.EMPTY, last_producer_epoch=7)
    assert decode_value(encode_value(t)).last_producer_epoch == -1


def test_java_string_hash_and_partition_for():
    assert java_string_hash("") == 0
    assert java_string_hash("abc") == 96354
    assert java_string_hash("hello world") == 1794106052
    assert java_string_hash("polygenelubricants") == -(2**31)  # Math.abs would stay negative
    # values printed by Java 17's String.hashCode
    assert java_string_hash("\U0001f600") == 1772899  # a surrogate pair: two UTF-16 units
    assert java_string_hash("txn-\u00e9") == 110810694
    assert java_string_hash("my-txn") == -1061187895
    assert partition_for("polygenelubricants", 50) == 0
    assert partition_for("abc", 50) == 96354 % 50
    assert partition_for("my-txn", 50) == 1061187895 % 50 == 45


def test_producer_id_blocks():
    ids = ProducerIdGenerator()
    assert ids.next_id() is None and ids.wants_block() and not ids.wants_block()
    ids.add_block(ProducerIdBlock(0, 10))
    assert [ids.next_id() for _ in range(8)] == list(range(8))
    assert not ids.wants_block()
    assert ids.next_id() == 8
    assert ids.wants_block()  # 90% used: fetch the next block ahead of time
    ids.add_block(ProducerIdBlock(5000, 10))
    assert [ids.next_id() for _ in range(3)] == [9, 5000, 5001]
    with pytest.raises(ValueError):
        ids.add_block(ProducerIdBlock(5005, 10))
    ids.block_failed()


def test_errors_for_older_clients():
    from odradek.coordinator.transaction.results import error_for_client
    from odradek.model.errors import ErrorCode as E

    assert error_for_client(22, 3, E.PRODUCER_FENCED) is E.INVALID_PRODUCER_EPOCH
    assert error_for_client(22, 4, E.PRODUCER_FENCED) is E.PRODUCER_FENCED
    for api in (24, 25, 26):
        assert error_for_client(api, 1, E.PRODUCER_FENCED) is E.INVALID_PRODUCER_EPOCH
        assert error_for_client(api, 2, E.PRODUCER_FENCED) is E.PRODUCER_FENCED
    assert error_for_client(0, 12, E.PRODUCER_FENCED) is E.INVALID_PRODUCER_EPOCH
    assert error_for_client(0, 10, E.TRANSACTION_ABORTABLE) is E.INVALID_TXN_STATE
    assert error_for_client(0, 11, E.TRANSACTION_ABORTABLE) is E.TRANSACTION_ABORTABLE
    assert error_for_client(28, 3, E.TRANSACTION_ABORTABLE) is E.INVALID_TXN_STATE
    assert error_for_client(26, 0, E.CONCURRENT_TRANSACTIONS) is E.CONCURRENT_TRANSACTIONS
