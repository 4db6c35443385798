"""KIP-890 part 1 on a partition (Kafka's VerificationStateEntry): the verification state a producer's
first transactional batch takes lasts across its requests until the transaction starts on the
partition, its marker is appended, or `producer.id.expiration.ms` passes (a fake clock); its guard
voids an answer for a transaction that ended meanwhile, and its lowest sequence refuses a later
batch that would jump over an earlier one still to be written. A group coordinator's transactional
offsets (TxnOffsetCommit) are appended only with the guard the offsets partition still holds, or into
the producer's transaction already started there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.model.errors import ErrorCode
from odradek.model.ids import NO_SEQUENCE, BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import (
    CONTROL_ABORT,
    BatchHeader,
    BatchSpec,
    build_batch,
    build_control_batch,
    build_plain_batch,
    validate_batches,
)
from odradek.replication.partition import Partition
from odradek.replication.replica_set import LeaderAndIsr
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog
from odradek.storage.producer_state import AppendOrigin, EndTxnMarker

TP = TopicPartition("t", 0)
PID, EPOCH = 7, 0
DAY_MS = 86_400_000


@pytest.fixture
def partition(tmp_path: Path) -> Iterator[Partition]:
    log = PartitionLog.create(tmp_path / "t-0", TP, uuid.uuid4(), LogConfig(), now_ms=0)
    yield Partition(TP, uuid.uuid4(), log, BrokerId(1), LeaderAndIsr.single(BrokerId(1), Epoch(0)))
    log.close()


def batch(seq: int, epoch: int = EPOCH) -> tuple[bytearray, list[BatchHeader]]:
    spec = BatchSpec(producer_id=PID, producer_epoch=epoch, base_sequence=seq, is_transactional=True)
    data = bytearray(build_batch([(None, b"v", [], 1000)], spec))
    return data, validate_batches(data)


def test_the_entry_outlives_a_failed_verification_and_the_transactions_start_ends_it(
    partition: Partition,
) -> None:
    _, [first] = batch(0)
    guard = partition.start_verification(first, now_ms=10)
    # the coordinator said no (or could not answer): the entry stays, and the retry shares it
    assert partition.start_verification(first, now_ms=20) is guard
    assert partition.verification_error(first, guard) is ErrorCode.NO_ERROR
    data, headers = batch(0)
    partition.append_as_leader(data, headers, now_ms=30)
    assert partition.verification_states == {}  # the transaction is ongoing here: done with


def test_a_marker_voids_the_guard_of_an_answer_still_on_its_way(partition: Partition) -> None:
    _, [first] = batch(0)
    guard = partition.start_verification(first, now_ms=10)
    partition.append_marker_as_leader(PID, EPOCH, EndTxnMarker(CONTROL_ABORT, 0), now_ms=20)
    assert partition.verification_error(first, guard) is ErrorCode.INVALID_TXN_STATE
    # a new verification takes a new guard; the old answer stays void
    fresh = partition.start_verification(first, now_ms=30)
    assert fresh is not guard
    assert partition.verification_error(first, guard) is ErrorCode.INVALID_TXN_STATE
    assert partition.verification_error(first, fresh) is ErrorCode.NO_ERROR


def test_a_request_whose_transaction_another_request_started_meanwhile_joins_it(
    partition: Partition,
) -> None:
    # two first batches of one transaction in flight (librdkafka pipelines up to five requests): the
    # first one's append starts the transaction and ends the entry; the second joins the transaction
    _, [first] = batch(0)
    _, [second] = batch(1)
    guard = partition.start_verification(first, now_ms=10)
    assert partition.start_verification(second, now_ms=11) is guard
    assert partition.verification_error(first, guard) is ErrorCode.NO_ERROR
    data, headers = batch(0)
    partition.append_as_leader(data, headers, now_ms=20)
    assert partition.verification_error(second, guard) is ErrorCode.NO_ERROR
    # once a marker ends that transaction, the old answer is void again
    partition.append_marker_as_leader(PID, EPOCH, EndTxnMarker(CONTROL_ABORT, 0), now_ms=30)
    assert partition.verification_error(second, guard) is ErrorCode.INVALID_TXN_STATE


def test_a_batch_above_the_lowest_sequence_seen_is_out_of_order(partition: Partition) -> None:
    _, [low] = batch(0)
    _, [high] = batch(5)
    guard = partition.start_verification(low, now_ms=10)  # failed verification, to be retried
    assert partition.start_verification(high, now_ms=20) is guard
    assert partition.verification_error(high, guard) is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert partition.verification_error(low, guard) is ErrorCode.NO_ERROR
    # a higher epoch (the producer was bumped) starts the sequence again
    _, [bumped] = batch(3, epoch=EPOCH + 1)
    assert partition.start_verification(bumped, now_ms=30) is guard
    assert partition.verification_error(bumped, guard) is ErrorCode.NO_ERROR


def test_an_entry_expires_after_producer_id_expiration_ms(partition: Partition) -> None:
    _, [first] = batch(0)
    guard = partition.start_verification(first, now_ms=1_000)
    assert partition.remove_expired_verifications(1_000 + DAY_MS - 1, DAY_MS) == 0
    assert partition.verification_error(first, guard) is ErrorCode.NO_ERROR
    assert partition.remove_expired_verifications(1_000 + DAY_MS, DAY_MS) == 1
    assert partition.verification_error(first, guard) is ErrorCode.INVALID_TXN_STATE


def test_a_non_transactional_append_leaves_the_entry(partition: Partition) -> None:
    _, [first] = batch(0)
    guard = partition.start_verification(first, now_ms=10)
    data = bytearray(build_batch([(None, b"v", [], 1000)]))
    partition.append_as_leader(data, validate_batches(data), now_ms=20)
    assert partition.verification_error(first, guard) is ErrorCode.NO_ERROR


def test_the_transaction_replicated_as_a_follower_ends_the_entry(partition: Partition) -> None:
    # Kafka clears a producer's verification entry on any append of its transactional batches, a
    # follower's too: an entry left by a verification cut short (the leadership moved meanwhile)
    # must not outlive the transaction the new leader wrote, or the producer's next transaction
    # here, once the leadership is back, is refused as out of order (sequences moved on)
    _, [first] = batch(5)
    partition.start_verification(first, now_ms=10)
    leader, follower = BrokerId(1), BrokerId(2)
    replicas = (leader, follower)
    partition.become(LeaderAndIsr(follower, Epoch(1), replicas, replicas), now_ms=20)
    data, headers = batch(5)
    partition.append_as_follower(data, headers, now_ms=30)
    marker = bytearray(build_control_batch(CONTROL_ABORT, PID, EPOCH, 0, 1000, base_offset=1))
    partition.append_as_follower(marker, validate_batches(marker), now_ms=40)
    partition.become(LeaderAndIsr(leader, Epoch(2), replicas, replicas), now_ms=50)
    _, [next_first] = batch(6)
    guard = partition.start_verification(next_first, now_ms=60)
    assert partition.verification_error(next_first, guard) is ErrorCode.NO_ERROR


def test_a_batch_of_the_producers_next_epoch_is_verified_while_its_last_transaction_is_open(
    partition: Partition,
) -> None:
    # transaction version 2 bumps the epoch at every EndTxn, answered before the markers are
    # written: the next transaction's first batch may arrive before this partition's marker. Kafka
    # asks the coordinator then (hasOngoingTransaction(producerId, producerEpoch); it answers
    # CONCURRENT_TRANSACTIONS until the markers are written); appended unverified, the batch would
    # join the open transaction, and the old transaction's marker would commit (or abort) it
    data, headers = batch(0)
    partition.append_as_leader(data, headers, now_ms=10)
    producers = partition.log.producer_state
    _, [same] = batch(1)
    _, [bumped] = batch(0, epoch=EPOCH + 1)
    assert not producers.needs_verification(same)
    assert producers.needs_verification(bumped)
    assert not partition.transaction_ongoing(PID, EPOCH + 1)


# --- a group coordinator's transactional offsets (TxnOffsetCommit on `__consumer_offsets`) ---------


def offsets_batch(epoch: int = EPOCH) -> tuple[bytearray, list[BatchHeader]]:
    """What the group coordinator's runtime appends for a TxnOffsetCommit: no sequence checked."""
    data, header = build_plain_batch([(b"key", b"offset")], 1000, PID, epoch, is_transactional=True)
    return data, [header]


def test_offsets_are_appended_with_the_guard_the_partition_still_holds(partition: Partition) -> None:
    guard = partition.start_producer_verification(PID, EPOCH, NO_SEQUENCE, now_ms=10)
    assert partition.start_producer_verification(PID, EPOCH, NO_SEQUENCE, now_ms=20) is guard  # shared
    assert partition.coordinator_verification_error(PID, EPOCH, guard) is ErrorCode.NO_ERROR
    assert partition.coordinator_verification_error(PID, EPOCH, None) is ErrorCode.INVALID_TXN_STATE
    data, headers = offsets_batch()
    partition.append_as_leader(data, headers, 30, AppendOrigin.COORDINATOR)
    assert partition.verification_states == {}  # the transaction started here
    # its next offsets join it without asking the coordinator again (Kafka's SENTINEL guard)...
    assert partition.transaction_ongoing(PID, EPOCH)
    assert partition.coordinator_verification_error(PID, EPOCH, None) is ErrorCode.NO_ERROR
    # ... but not a bumped epoch's, which must verify
    assert not partition.transaction_ongoing(PID, EPOCH + 1)
    assert partition.coordinator_verification_error(PID, EPOCH + 1, None) is ErrorCode.INVALID_TXN_STATE


def test_a_marker_voids_the_guard_of_offsets_whose_answer_is_on_its_way(partition: Partition) -> None:
    """The transaction coordinator said yes to a TxnOffsetCommit, but the transaction's marker reached
    the offsets partition first: appending would open a transaction nobody ends."""
    guard = partition.start_producer_verification(PID, EPOCH, NO_SEQUENCE, now_ms=10)
    partition.append_marker_as_leader(PID, EPOCH, EndTxnMarker(CONTROL_ABORT, 0), now_ms=20)
    assert partition.coordinator_verification_error(PID, EPOCH, guard) is ErrorCode.INVALID_TXN_STATE
    # the same after a transaction that had started here ended with its marker
    fresh = partition.start_producer_verification(PID, EPOCH, NO_SEQUENCE, now_ms=30)
    data, headers = offsets_batch()
    partition.append_as_leader(data, headers, 40, AppendOrigin.COORDINATOR)
    partition.append_marker_as_leader(PID, EPOCH, EndTxnMarker(CONTROL_ABORT, 0), now_ms=50)
    assert partition.coordinator_verification_error(PID, EPOCH, fresh) is ErrorCode.INVALID_TXN_STATE
    assert partition.coordinator_verification_error(PID, EPOCH, None) is ErrorCode.INVALID_TXN_STATE


def test_an_offsets_verification_expires_after_producer_id_expiration_ms(partition: Partition) -> None:
    guard = partition.start_producer_verification(PID, EPOCH, NO_SEQUENCE, now_ms=1_000)
    partition.remove_expired_verifications(1_000 + DAY_MS - 1, DAY_MS)
    assert partition.coordinator_verification_error(PID, EPOCH, guard) is ErrorCode.NO_ERROR
    partition.remove_expired_verifications(1_000 + DAY_MS, DAY_MS)
    assert partition.coordinator_verification_error(PID, EPOCH, guard) is ErrorCode.INVALID_TXN_STATE
