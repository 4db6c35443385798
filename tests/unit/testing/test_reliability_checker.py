"""The fault tests' checker on synthetic histories: each kind of violation is reported, and a
clean history (including legal retries of unacknowledged writes) passes."""

from __future__ import annotations

from odradek.testing.reliability import History, Write, check


def w(producer: str, seq: int) -> Write:
    return Write(producer, seq)


def clean_history() -> History:
    h = History()
    for i in range(5):
        h.ack(w("a", i), 0, i)
        h.read(0, i, w("a", i).encode())
    return h


def test_a_clean_history_passes() -> None:
    report = check(clean_history())
    assert report.ok, report.summary()
    assert (report.acknowledged, report.read) == (5, 5)


def test_an_acknowledged_write_missing_from_the_log_is_lost() -> None:
    h = History()
    h.ack(w("a", 0), 0, 0)
    h.ack(w("a", 1), 0, 1)
    h.read(0, 0, w("a", 0).encode())
    report = check(h)
    assert report.lost == [w("a", 1)]
    assert not report.ok
    assert "lost 1 (Write(producer='a', seq=1))" in report.summary()


def test_an_unacknowledged_write_may_be_missing_or_present() -> None:
    h = clean_history()
    h.attempt(w("a", 5))
    h.attempt(w("a", 6))
    h.read(0, 5, w("a", 6).encode())  # answer lost, write landed: legal
    report = check(h)
    assert report.ok, report.summary()
    assert report.unacknowledged_present == 1


def test_a_write_read_twice_is_a_duplicate() -> None:
    h = clean_history()
    h.read(0, 5, w("a", 3).encode())  # a retry the broker did not recognise
    report = check(h)
    assert report.duplicates == [w("a", 3)]
    assert not report.ok


def test_a_write_in_two_partitions_is_a_duplicate() -> None:
    h = clean_history()
    h.read(1, 0, w("a", 2).encode())
    assert check(h).duplicates == [w("a", 2)]


def test_reading_a_partition_twice_is_not_a_duplicate() -> None:
    h = clean_history()
    for i in range(5):
        h.read(0, i, w("a", i).encode())
    report = check(h)
    assert report.ok, report.summary()


def test_an_acknowledged_offset_holding_another_value_conflicts() -> None:
    h = History()
    h.ack(w("a", 0), 0, 0)
    h.ack(w("b", 0), 0, 0)  # two acknowledgements for one offset: one of them was a lie
    h.read(0, 0, w("a", 0).encode())
    h.read(0, 1, w("b", 0).encode())
    report = check(h)
    assert report.lost == []
    assert len(report.conflicts) == 1 and "b/0" not in report.conflicts[0]
    assert "acknowledged at p0@0" in report.conflicts[0]


def test_one_offset_read_with_two_values_conflicts() -> None:
    h = clean_history()
    h.read(0, 2, w("a", 4).encode())  # a second read (another replica) disagrees
    report = check(h)
    assert report.conflicts and "p0@2" in report.conflicts[0]


def test_a_producers_writes_out_of_order_in_a_partition_are_reordered() -> None:
    h = History()
    for offset, seq in enumerate([0, 2, 1, 3]):
        h.ack(w("a", seq), 0, offset)
        h.read(0, offset, w("a", seq).encode())
    report = check(h)
    assert len(report.reordered) == 1 and "seq 1@2 after seq 2@1" in report.reordered[0]


def test_interleaved_producers_are_not_reordered() -> None:
    h = History()
    order = [("a", 0), ("b", 0), ("b", 1), ("a", 1)]
    for offset, (p, seq) in enumerate(order):
        h.ack(w(p, seq), 0, offset)
        h.read(0, offset, w(p, seq).encode())
    assert check(h).ok


def test_a_later_copy_of_a_write_is_a_duplicate_not_a_reordering() -> None:
    h = clean_history()
    h.read(0, 5, w("a", 1).encode())  # a copy at the end of the partition
    report = check(h)
    assert report.duplicates == [w("a", 1)]
    assert report.reordered == []


def test_duplicates_after_a_client_timeout_are_reported_apart() -> None:
    """librdkafka: after a write times out (message.timeout.ms) the producer bumps its epoch and
    sends what it still holds again under new sequence numbers; a broker cannot tell those copies
    from new writes (Kafka included), so they are the client's duplicates, reported apart."""
    h = History()
    h.time_out(w("a", 0), 0)  # timed out: maybe written
    h.read(0, 0, w("a", 0).encode())
    h.read(0, 1, w("a", 1).encode())  # appended, its answer came too late
    h.read(0, 2, w("a", 1).encode())  # sent again under the bumped epoch
    h.ack(w("a", 1), 0, 2)
    h.ack(w("b", 0), 0, 3)
    h.read(0, 3, w("b", 0).encode())
    h.read(0, 4, w("b", 0).encode())  # producer b had no timeout: a real duplicate
    h.read(1, 0, w("a", 2).encode())
    h.read(1, 1, w("a", 2).encode())  # partition 1 had no timeout of a: a real duplicate
    h.attempt(w("a", 2))
    report = check(h)
    assert report.duplicates_after_timeout == [w("a", 1)]
    assert report.duplicates == [w("a", 2), w("b", 0)]
    assert report.timed_out == 1
    assert "duplicates after a client timeout 1" in report.summary()


def test_duplicates_after_a_client_timeout_alone_pass() -> None:
    h = clean_history()
    h.time_out(w("a", 5), 0)
    h.read(0, 5, w("a", 6).encode())
    h.read(0, 6, w("a", 6).encode())
    h.attempt(w("a", 6))
    report = check(h)
    assert report.ok, report.summary()
    assert report.duplicates_after_timeout == [w("a", 6)]


def test_duplicates_after_an_excused_client_epoch_bump_are_reported_apart() -> None:
    """The lost-tail fault (librdkafka issue #4953): the old leader appended a write, replicated it
    and died before answering; the client, told NOT_LEADER_OR_FOLLOWER and then
    OUT_OF_ORDER_SEQUENCE_NUMBER by the new leader as it took over, bumped its epoch and sent the
    write again as epoch 1 sequence 0. Only writes it held unacknowledged at that bump are excused."""
    h = clean_history()
    h.attempt(w("a", 5))
    h.epoch_bumped({w("a", 5)}, "bumped epoch to PID{Id:0,Epoch:1}", excused=True)
    h.read(0, 5, w("a", 5).encode())  # epoch 0, answer lost with the old leader
    h.read(0, 6, w("a", 5).encode())  # epoch 1, sequence 0
    h.ack(w("a", 5), 0, 6)
    report = check(h)
    assert report.ok, report.summary()
    assert report.duplicates_after_epoch_bump == [w("a", 5)]
    assert report.epoch_bumps == 1
    assert "duplicates after a client epoch bump 1 (Write(producer='a', seq=5))" in report.summary()


def test_duplicates_after_a_bump_not_excused_are_duplicates() -> None:
    h = clean_history()
    h.epoch_bumped({w("a", 3)}, "bumped epoch to PID{Id:0,Epoch:1}", excused=False)
    h.epoch_bumped({w("a", 4)}, "bumped epoch to PID{Id:0,Epoch:2}", excused=True)
    h.read(0, 5, w("a", 3).encode())  # held at a bump nothing legal explains: a real duplicate
    h.read(0, 6, w("a", 2).encode())  # acknowledged before any bump: a real duplicate
    report = check(h)
    assert report.duplicates == [w("a", 2), w("a", 3)]
    assert report.duplicates_after_epoch_bump == []
    assert h.epoch_bumps[0].startswith("NOT EXCUSED: ")
    assert not report.ok


def test_values_nobody_wrote_are_unexpected() -> None:
    h = clean_history()
    h.read(0, 5, b"garbage")
    h.read(0, 6, None)
    h.read(0, 7, w("z", 0).encode())  # well formed, never attempted
    report = check(h)
    assert len(report.unexpected) == 3
    assert not report.ok


def test_values_round_trip() -> None:
    assert Write.decode(w("p-1/x", 42).encode()) == w("p-1/x", 42)
    assert Write.decode(b"no-seq") is None
