"""`records.build_plain_batch` (a coordinator's append) writes the bytes `build_batch` writes, and
returns the header `read_header` reads back from them."""

from __future__ import annotations

import pytest
from codec_settings import budget
from hypothesis import given
from hypothesis import strategies as st

from odradek.protocol import records as records_module
from odradek.protocol.records import BatchSpec, build_batch, build_plain_batch, iter_records, read_header

_BYTES = st.one_of(st.none(), st.binary(max_size=200))
_RECORDS = st.lists(st.tuples(_BYTES, _BYTES), min_size=1, max_size=80)


@budget(150)
@given(
    records=_RECORDS,
    timestamp=st.integers(-1, 2**62),
    producer=st.one_of(st.none(), st.tuples(st.integers(0, 2**62), st.integers(0, 32767))),
)
def test_plain_batch_is_build_batch(
    records: list[tuple[bytes | None, bytes | None]], timestamp: int, producer: tuple[int, int] | None
) -> None:
    spec = BatchSpec()
    if producer is None:
        batch, header = build_plain_batch(records, timestamp)
    else:
        spec = BatchSpec(producer_id=producer[0], producer_epoch=producer[1], is_transactional=True)
        batch, header = build_plain_batch(records, timestamp, producer[0], producer[1], is_transactional=True)
    assert bytes(batch) == build_batch([(k, v, [], timestamp) for k, v in records], spec)
    assert header == read_header(batch)
    decoded = list(iter_records(batch, 0, header))
    assert [(r.key, r.value, r.offset) for r in decoded] == [(k, v, i) for i, (k, v) in enumerate(records)]


def test_a_plain_batch_needs_a_record() -> None:
    with pytest.raises(ValueError, match="at least one record"):
        build_plain_batch([], 0)


_SIZED = st.one_of(st.none(), st.integers(0, 70).map(bytes), st.integers(8000, 9000).map(bytes))


@budget(100)
@given(key=_SIZED, value=_SIZED, timestamp=st.integers(-1, 2**62))
def test_a_single_record_batch_is_build_batch(key: bytes | None, value: bytes | None, timestamp: int) -> None:
    """One record (a coordinator's usual batch) is written without building it apart; its length
    prefix must still match, across the one-byte varint limit (63/64) and multi-byte lengths."""
    batch, header = build_plain_batch([(key, value)], timestamp)
    assert bytes(batch) == build_batch([(key, value, [], timestamp)], BatchSpec())
    assert header == read_header(batch, 0)


@budget(60)
@given(
    key=_SIZED.filter(lambda k: k is not None),
    values=st.lists(
        st.integers(0, 70).map(bytes) | st.binary(min_size=60, max_size=200), min_size=2, max_size=5
    ),
    timestamp=st.integers(-1, 2**62),
)
def test_single_records_of_a_known_key_and_size_are_build_batch(
    key: bytes, values: list[bytes], timestamp: int
) -> None:
    """The bytes before a single record's value are kept per (key, value size): later batches of the
    same key, of the same size or another, still are `build_batch`'s bytes."""
    for value in [*values, *values]:
        batch, header = build_plain_batch([(key, value)], timestamp)
        assert bytes(batch) == build_batch([(key, value, [], timestamp)], BatchSpec())
        assert header == read_header(batch, 0)
    assert (key, len(values[0])) in records_module._SINGLE_TEMPLATES


def test_a_single_record_with_a_producer_is_not_taken_from_a_template() -> None:
    for _ in range(2):
        plain, _header = build_plain_batch([(b"k", b"v")], 5)
    assert bytes(plain) == build_batch([(b"k", b"v", [], 5)], BatchSpec())
    for producer_id, epoch, transactional in ((-1, 3, False), (7, 3, False), (7, 3, True)):
        batch, header = build_plain_batch(
            [(b"k", b"v")], 5, producer_id, epoch, is_transactional=transactional
        )
        spec = BatchSpec(producer_id=producer_id, producer_epoch=epoch, is_transactional=transactional)
        assert bytes(batch) == build_batch([(b"k", b"v", [], 5)], spec)
        assert header == read_header(batch, 0)
