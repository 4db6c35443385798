"""The leader's replication rules (pure): high watermark, acks=all completion, ISR shrink and expand."""

from __future__ import annotations

from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.replication.replica_set import LeaderAndIsr, ReplicaSet

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)
THREE = LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1, B2, B3))


def leader(state: LeaderAndIsr = THREE, strict: bool = False) -> ReplicaSet:
    replicas = ReplicaSet(B1, LeaderAndIsr.single(B1))
    replicas.strict_min_isr = strict
    replicas.update(state)
    return replicas


def test_alone_in_the_isr_the_high_watermark_is_the_log_end() -> None:
    replicas = ReplicaSet(B1, LeaderAndIsr.single(B1))
    assert replicas.high_watermark(current=3, leader_log_end=10, min_isr=1) == 10
    assert (
        replicas.high_watermark(current=3, leader_log_end=10, min_isr=2) == 10
    )  # not strict: min ISR only refuses acks=all


def test_the_high_watermark_is_the_smallest_log_end_in_the_isr_and_never_moves_back() -> None:
    replicas = leader()
    assert replicas.high_watermark(0, 10, 2) == 0  # followers not heard from yet hold it
    replicas.record_fetch(B2, 7, leader_log_end=10, now_ms=1)
    assert replicas.high_watermark(0, 10, 2) == 0
    replicas.record_fetch(B3, 5, leader_log_end=10, now_ms=1)
    assert replicas.high_watermark(0, 10, 2) == 5
    replicas.record_fetch(B3, 9, leader_log_end=10, now_ms=2)
    assert replicas.high_watermark(5, 10, 2) == 7
    assert replicas.high_watermark(8, 10, 2) == 8  # never back


def test_a_follower_outside_the_isr_does_not_hold_the_high_watermark() -> None:
    replicas = leader(LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1, B2)))
    replicas.record_fetch(B2, 10, leader_log_end=10, now_ms=1)
    assert replicas.high_watermark(0, 10, 2) == 10


def test_strict_min_isr_keeps_the_high_watermark_while_the_isr_is_too_small() -> None:
    replicas = leader(LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1,)), strict=True)
    assert replicas.high_watermark(2, 10, min_isr=2) == 2
    assert replicas.high_watermark(2, 10, min_isr=1) == 10


def test_enough_replicas_for_acks_all() -> None:
    replicas = leader(LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1, B2)))
    assert replicas.enough_replicas(high_watermark=4, required=5, min_isr=2) == (False, ErrorCode.NO_ERROR)
    assert replicas.enough_replicas(5, 5, 2) == (True, ErrorCode.NO_ERROR)
    replicas.update(LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1,), partition_epoch=1))  # the ISR shrank
    assert replicas.enough_replicas(5, 5, 2) == (True, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND)
    replicas.update(LeaderAndIsr(B2, Epoch(5), (B1, B2, B3), (B2,)))  # leadership moved
    assert replicas.enough_replicas(5, 5, 1) == (True, ErrorCode.NOT_LEADER_OR_FOLLOWER)


def test_isr_shrink_and_expand_candidates() -> None:
    replicas = leader(LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1, B2)))
    replicas.record_fetch(B2, 10, leader_log_end=10, now_ms=1_000)
    replicas.record_fetch(B3, 6, leader_log_end=10, now_ms=1_000)
    assert replicas.out_of_sync(now_ms=20_000, lag_max_ms=30_000) == ()
    assert replicas.out_of_sync(now_ms=31_001, lag_max_ms=30_000) == (B2,)
    assert replicas.caught_up(high_watermark=8, epoch_start_offset=0) == ()
    replicas.record_fetch(B3, 8, leader_log_end=10, now_ms=2_000)
    assert replicas.caught_up(high_watermark=8, epoch_start_offset=0) == (B3,)
    assert replicas.caught_up(high_watermark=8, epoch_start_offset=9) == ()  # the leader's epoch starts later


def test_followers_progress_survives_an_isr_change_but_not_a_new_leadership() -> None:
    replicas = leader()
    replicas.record_fetch(B2, 7, leader_log_end=10, now_ms=1)
    replicas.update(LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1, B2), partition_epoch=1))
    assert replicas.followers[B2].log_end_offset == 7
    replicas.update(LeaderAndIsr(B1, Epoch(5), (B1, B2, B3), (B1, B2), partition_epoch=2))
    assert replicas.followers[B2].log_end_offset == -1
    replicas.update(LeaderAndIsr(B2, Epoch(6), (B1, B2, B3), (B2,)))
    assert not replicas.is_leader and replicas.followers == {}
