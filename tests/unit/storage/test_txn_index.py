"""The `.txnindex`: Kafka's 34-byte entries, append/read/truncate, and fetch-range lookups."""

from __future__ import annotations

from pathlib import Path

import pytest

from odradek.storage.producer_state import CompletedTxn
from odradek.storage.txn_index import (
    ENTRY_SIZE,
    AbortedTxn,
    CorruptTxnIndexError,
    TransactionIndex,
    collect_aborted,
    decode_entries,
    txn_index_path,
)


def test_entry_layout():
    txn = AbortedTxn(producer_id=0x0A0B, first_offset=5, last_offset=9, last_stable_offset=7)
    assert ENTRY_SIZE == 34
    assert txn.encode() == bytes.fromhex(
        "0000"  # version
        "0000000000000a0b"  # producerId
        "0000000000000005"  # firstOffset
        "0000000000000009"  # lastOffset
        "0000000000000007"  # lastStableOffset
    )
    assert AbortedTxn.of(CompletedTxn(0x0A0B, 5, 9, True, 7)) == txn
    assert decode_entries(txn.encode() + txn.encode()[:20]) == [txn]  # a torn tail is ignored
    with pytest.raises(CorruptTxnIndexError):
        decode_entries(b"\x00\x01" + txn.encode()[2:])


def test_append_read_truncate(tmp_path: Path):
    path = txn_index_path(tmp_path, 100)
    assert path.name == "00000000000000000100.txnindex"
    index = TransactionIndex(path)
    assert index.entries == [] and not path.exists()
    index.fsync()  # nothing written yet: no file needed
    entries = [AbortedTxn(1, 90, 101, 95), AbortedTxn(2, 100, 110, 111), AbortedTxn(1, 112, 120, 121)]
    for e in entries:
        index.append(e)
    index.fsync()
    assert path.stat().st_size == 3 * 34
    assert TransactionIndex(path).entries == entries
    with pytest.raises(ValueError, match="after one at 120"):
        index.append(AbortedTxn(3, 100, 120, 121))
    index.truncate_to(110)
    assert index.entries == entries[:1] and TransactionIndex(path).entries == entries[:1]
    index.sanity_check(100)
    with pytest.raises(CorruptTxnIndexError):
        index.sanity_check(102)
    index.reset()
    assert path.stat().st_size == 0 and TransactionIndex(path).entries == []


def test_append_after_a_torn_write_cuts_it(tmp_path: Path):
    path = txn_index_path(tmp_path, 0)
    first = AbortedTxn(1, 0, 3, 4)
    path.write_bytes(first.encode() + b"\x00" * 10)
    index = TransactionIndex(path)
    second = AbortedTxn(2, 4, 6, 7)
    index.append(second)
    assert path.read_bytes() == first.encode() + second.encode()


def test_collect_overlapping_ranges_and_stop_at_the_bound(tmp_path: Path):
    a = TransactionIndex(txn_index_path(tmp_path, 0))
    b = TransactionIndex(txn_index_path(tmp_path, 50))
    c = TransactionIndex(txn_index_path(tmp_path, 100))
    for index, txn in [
        (a, AbortedTxn(1, 0, 10, 11)),
        (a, AbortedTxn(2, 5, 30, 20)),  # another transaction was open from 20
        (b, AbortedTxn(3, 20, 60, 61)),
        (b, AbortedTxn(4, 62, 70, 71)),
        (c, AbortedTxn(5, 90, 110, 111)),
    ]:
        index.append(txn)
    assert a.collect(0, 5) == ([AbortedTxn(1, 0, 10, 11)], True)
    assert a.collect(11, 25) == ([AbortedTxn(2, 5, 30, 20)], False)
    assert collect_aborted([a, b, c], 11, 25) == [AbortedTxn(2, 5, 30, 20), AbortedTxn(3, 20, 60, 61)]
    assert collect_aborted([b, c], 61, 200) == [AbortedTxn(4, 62, 70, 71), AbortedTxn(5, 90, 110, 111)]
    assert collect_aborted([b, c], 71, 90) == []
    assert collect_aborted([c], 111, 200) == []
