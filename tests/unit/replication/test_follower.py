"""A follower copies its leader's log as bytes (`FollowedPartition`, no sockets): offsets, leader
epochs, producer state and aborted transactions come out as on the leader; a divergent tail is
truncated where the leader's epoch ended; bad data is refused and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import CONTROL_ABORT, CONTROL_COMMIT, BatchSpec, build_batch, validate_batches
from odradek.replication.follower import FetchState, FollowedPartition, Outcome
from odradek.replication.partition import Partition
from odradek.replication.replica_set import LeaderAndIsr
from odradek.storage.errors import OffsetOutOfRangeError
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog
from odradek.storage.producer_state import EndTxnMarker

B1, B2 = BrokerId(1), BrokerId(2)
TP = TopicPartition("t", 0)
TOPIC_ID = uuid.uuid4()
BACKOFF = 100


def state(leader: BrokerId, epoch: int) -> LeaderAndIsr:
    return LeaderAndIsr(leader, Epoch(epoch), (B1, B2), (B1, B2))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Partition, Partition]]:
    logs = [
        PartitionLog.create(tmp_path / name / "t-0", TP, TOPIC_ID, LogConfig(segment_bytes=4096), now_ms=0)
        for name in ("leader", "follower")
    ]
    yield (
        Partition(TP, TOPIC_ID, logs[0], B1, state(B1, 0)),
        Partition(TP, TOPIC_ID, logs[1], B2, state(B1, 0)),
    )
    for log in logs:
        log.close()


def write(partition: Partition, count: int = 1, spec: BatchSpec | None = None) -> None:
    data = bytearray(build_batch([(None, b"v" * 50, [], 1000)] * count, spec))
    partition.append_as_leader(data, validate_batches(data), now_ms=0)


def fetch_round(leader: Partition, followed: FollowedPartition) -> Outcome:
    """What the fetcher and the leader's Fetch handler do for one partition, without the network."""
    offset = followed.fetch_offset
    leader.record_follower_fetch(followed.partition.replicas.local, offset, now_ms=0)
    result = leader.log.read(offset, 1 << 20, leader.log.log_end_offset)
    records = b"".join(bytes(c) for c in result.chunks)
    return followed.apply_fetched(
        ErrorCode.NO_ERROR, records, leader.high_watermark, leader.log.log_start_offset, 0, BACKOFF
    )


def catch_up(leader: Partition, followed: FollowedPartition) -> None:
    for _ in range(20):
        assert fetch_round(leader, followed) is Outcome.OK
        end = leader.log.log_end_offset
        if followed.fetch_offset == leader.high_watermark == followed.partition.high_watermark == end:
            return
    raise AssertionError("the follower did not catch up")


def whole_log(partition: Partition) -> bytes:
    log = partition.log
    return b"".join(bytes(c) for c in log.read(log.log_start_offset, 1 << 30, log.log_end_offset).chunks)


def test_the_follower_log_is_the_leaders_byte_for_byte(pair: tuple[Partition, Partition]) -> None:
    leader, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    idempotent = BatchSpec(producer_id=7, producer_epoch=0, base_sequence=0)
    write(leader, 3, idempotent)
    txn = BatchSpec(producer_id=9, producer_epoch=2, base_sequence=0, is_transactional=True)
    write(leader, 2, txn)
    leader.append_marker_as_leader(9, 2, EndTxnMarker(CONTROL_ABORT, 1), now_ms=0)
    for _ in range(30):  # several segments on both sides
        write(leader, 2)
    txn2 = BatchSpec(producer_id=9, producer_epoch=2, base_sequence=2, is_transactional=True)
    write(leader, 1, txn2)
    leader.append_marker_as_leader(9, 2, EndTxnMarker(CONTROL_COMMIT, 1), now_ms=0)
    catch_up(leader, followed)

    assert whole_log(follower) == whole_log(leader)
    assert len(follower.log.segments) > 1
    assert follower.high_watermark == leader.high_watermark == leader.log.log_end_offset
    assert follower.log.leader_epoch_cache.entries == leader.log.leader_epoch_cache.entries
    end = leader.log.log_end_offset
    assert follower.log.aborted_transactions(0, end) == leader.log.aborted_transactions(0, end) != []
    assert follower.last_stable_offset == leader.last_stable_offset == end
    for pid in (7, 9):
        mine, theirs = follower.log.producer_state.producers[pid], leader.log.producer_state.producers[pid]
        assert (mine.producer_epoch, mine.last_seq) == (theirs.producer_epoch, theirs.last_seq)


def test_a_follower_that_becomes_leader_deduplicates_a_retry(pair: tuple[Partition, Partition]) -> None:
    leader, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    spec = BatchSpec(producer_id=7, producer_epoch=0, base_sequence=0)
    write(leader, 3, spec)
    catch_up(leader, followed)
    follower.become(state(B2, 1))
    retry = bytearray(build_batch([(None, b"v" * 50, [], 1000)] * 3, spec))
    info = follower.append_as_leader(retry, validate_batches(retry), now_ms=0)
    assert info.duplicate and (info.first_offset, info.last_offset) == (0, 2)


def test_the_follower_high_watermark_never_passes_its_log_end(pair: tuple[Partition, Partition]) -> None:
    leader, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    write(leader, 5)
    assert followed.apply_fetched(ErrorCode.NO_ERROR, b"", 5, 0, 0, BACKOFF) is Outcome.OK
    assert follower.high_watermark == 0


def test_a_divergent_tail_is_truncated_where_the_new_leader_ended_the_epoch(
    pair: tuple[Partition, Partition],
) -> None:
    old, new = pair  # broker 1 led epoch 0; broker 2 followed it
    followed = FollowedPartition(new, 0, FetchState.FETCHING)
    write(old, 4)
    catch_up(old, followed)
    write(old, 3)  # never copied: not committed
    assert old.log.log_end_offset == 7 and old.high_watermark == 4

    new.become(state(B2, 1))  # broker 2 leads epoch 1 (from offset 4) and takes a write
    write(new, 2)
    old.become(state(B2, 1))
    back = FollowedPartition(old, 1)
    assert back.state is FetchState.TRUNCATING and back.epoch_to_ask() == 0
    epoch, end = new.log.end_offset_for_epoch(back.epoch_to_ask())  # OffsetForLeaderEpoch on the leader
    assert (epoch, end) == (0, 4)
    assert back.apply_epoch_end(ErrorCode.NO_ERROR, epoch, end, 0, BACKOFF) is Outcome.OK
    assert back.state is FetchState.FETCHING and old.log.log_end_offset == 4 and back.doomed == []
    catch_up(new, back)
    assert whole_log(old) == whole_log(new)
    assert old.log.leader_epoch_cache.entries == [(0, 0), (1, 4)]


def test_errors_back_off_and_bad_data_is_refused(pair: tuple[Partition, Partition]) -> None:
    leader, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    assert (
        followed.apply_fetched(ErrorCode.FENCED_LEADER_EPOCH, None, 0, 0, 1000, BACKOFF) is Outcome.BACK_OFF
    )
    assert not followed.ready(1099) and followed.ready(1100)
    write(leader, 2)
    good = whole_log(leader)
    corrupt = bytearray(good)
    corrupt[-1] ^= 0xFF  # a record byte: the CRC no longer matches
    assert followed.apply_fetched(ErrorCode.NO_ERROR, bytes(corrupt), 2, 0, 0, BACKOFF) is Outcome.BACK_OFF
    assert follower.log.log_end_offset == 0
    # a leader may cut its last batch short: the whole batches before it are appended
    assert followed.apply_fetched(ErrorCode.NO_ERROR, good[:-10], 2, 0, 0, BACKOFF) is Outcome.OK
    assert follower.log.log_end_offset == 0  # the only batch was cut: nothing whole
    followed.state = FetchState.FETCHING
    assert followed.apply_fetched(ErrorCode.NO_ERROR, good + good[:30], 2, 0, 0, BACKOFF) is Outcome.OK
    assert follower.log.log_end_offset == 2


def test_out_of_range_below_the_leaders_log_start_restarts_the_log_there(
    pair: tuple[Partition, Partition],
) -> None:
    _, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    assert followed.apply_fetched(ErrorCode.OFFSET_OUT_OF_RANGE, None, 50, 40, 0, BACKOFF) is Outcome.OK
    assert follower.log.log_start_offset == follower.log.log_end_offset == 40
    # out of range otherwise (ahead of the leader): find the divergence again
    assert followed.apply_fetched(ErrorCode.OFFSET_OUT_OF_RANGE, None, 30, 0, 0, BACKOFF) is Outcome.BACK_OFF
    assert followed.state is FetchState.TRUNCATING


def test_batches_below_the_log_end_are_refused(pair: tuple[Partition, Partition]) -> None:
    leader, follower = pair
    write(leader, 2)
    data = bytearray(whole_log(leader))
    follower.append_as_follower(data, validate_batches(data), now_ms=0)
    with pytest.raises(OffsetOutOfRangeError):
        follower.append_as_follower(bytearray(data), validate_batches(data), now_ms=0)
    assert follower.log.log_end_offset == 2


def test_the_follower_follows_the_leaders_log_start(pair: tuple[Partition, Partition]) -> None:
    leader, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    write(leader, 6)
    catch_up(leader, followed)
    leader.log.delete_records_before(4, now_ms=0)  # DeleteRecords on the leader
    assert fetch_round(leader, followed) is Outcome.OK
    assert follower.log.log_start_offset == 4


def test_a_new_leader_deduplicates_retries_of_batches_above_its_high_watermark(
    pair: tuple[Partition, Partition],
) -> None:
    """The leader-kill faults: the old leader appended a producer's batches one by one, the follower
    copied them, and the leader died before answering and before the follower learned they were
    committed. The producer retries each at the new leader: each is a duplicate (original offsets),
    and the next new batch follows in sequence."""
    leader, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    specs = [BatchSpec(producer_id=7, producer_epoch=0, base_sequence=seq) for seq in range(6)]
    write(leader, 1, specs[0])
    catch_up(leader, followed)
    for spec in specs[1:]:
        write(leader, 1, spec)
    assert fetch_round(leader, followed) is Outcome.OK  # copied, high watermark still 1
    assert follower.log.log_end_offset == 6 and follower.high_watermark == 1
    follower.become(state(B2, 1))
    for seq in range(1, 6):  # librdkafka retries the 5 batches it had in flight, in order
        retry = bytearray(build_batch([(None, b"v" * 50, [], 1000)], specs[seq]))
        info = follower.append_as_leader(retry, validate_batches(retry), now_ms=0)
        assert info.duplicate and (info.first_offset, info.last_offset) == (seq, seq)
    fresh = bytearray(
        build_batch(
            [(None, b"v" * 50, [], 1000)], BatchSpec(producer_id=7, producer_epoch=0, base_sequence=6)
        )
    )
    info = follower.append_as_leader(fresh, validate_batches(fresh), now_ms=0)
    assert not info.duplicate and info.first_offset == 6


def test_a_replica_that_lost_its_tail_and_fetched_it_again_deduplicates_as_the_old_leader(
    pair: tuple[Partition, Partition],
) -> None:
    """The lost-tail fault: a replica restarts with its log cut back past several segment rolls
    (its producer state reloaded from an older snapshot, which keeps only each producer's last
    batch), fetches the tail again, then becomes leader: its producer state is the old leader's
    (the last 5 batches), so retries of any of them are duplicates and the next batch follows."""
    leader, follower = pair
    followed = FollowedPartition(follower, 0, FetchState.FETCHING)
    for seq in range(100):  # about 120 bytes each: several 4 KB segments, a snapshot at each roll
        write(leader, 1, BatchSpec(producer_id=7, producer_epoch=0, base_sequence=seq))
    catch_up(leader, followed)
    segment_bases = [segment.base_offset for segment in follower.log.segments]
    assert len(segment_bases) >= 3
    cut = segment_bases[-1] + 3  # past the last roll: the state comes from that roll's snapshot
    follower.log.truncate_to(cut, now_ms=0)  # what the fault hook does after recovery
    assert follower.log.log_end_offset == cut
    followed = FollowedPartition(follower, cut, FetchState.FETCHING)
    catch_up(leader, followed)
    kept = follower.log.producer_state.last_entry(7)
    original = leader.log.producer_state.last_entry(7)
    assert kept is not None and original is not None
    assert list(kept.batches) == list(original.batches) and kept.producer_epoch == 0
    follower.become(state(B2, 1))
    for seq in range(95, 100):
        retry = bytearray(
            build_batch(
                [(None, b"v" * 50, [], 1000)], BatchSpec(producer_id=7, producer_epoch=0, base_sequence=seq)
            )
        )
        info = follower.append_as_leader(retry, validate_batches(retry), now_ms=0)
        assert info.duplicate and (info.first_offset, info.last_offset) == (seq, seq)
    fresh = bytearray(
        build_batch(
            [(None, b"v" * 50, [], 1000)], BatchSpec(producer_id=7, producer_epoch=0, base_sequence=100)
        )
    )
    info = follower.append_as_leader(fresh, validate_batches(fresh), now_ms=0)
    assert not info.duplicate and info.first_offset == 100
