"""Where a follower truncates after a leader change (KIP-101/KIP-279), as Kafka decides it."""

from __future__ import annotations

from odradek.replication.truncation import Truncation, truncation_point
from odradek.storage.leader_epoch_cache import EpochEntry, LeaderEpochCache


def follower(entries: list[tuple[int, int]], log_end: int) -> tuple[int, LeaderEpochCache]:
    cache = LeaderEpochCache.__new__(LeaderEpochCache)
    cache._entries = [EpochEntry(*e) for e in entries]  # in memory: no file
    return log_end, cache


def point(leader: tuple[int, int], entries: list[tuple[int, int]], leo: int, hw: int = 0) -> Truncation:
    log_end, cache = follower(entries, leo)
    return truncation_point(leader[0], leader[1], log_end, hw, lambda e: cache.end_offset_for(e, log_end))


def test_same_epoch_truncates_to_where_the_leader_ended_it() -> None:
    # follower wrote 10..15 in epoch 1 as a leader nobody followed; the new leader's epoch 1 ends at 12
    assert point((1, 12), [(0, 0), (1, 10)], leo=15) == Truncation(12, True)


def test_nothing_is_truncated_when_the_logs_agree() -> None:
    assert point((1, 20), [(0, 0), (1, 10)], leo=15) == Truncation(15, True)


def test_truncation_never_goes_to_the_high_watermark_when_epochs_answer() -> None:
    # the high watermark (5) is below the divergence point: acknowledged data above it stays
    assert point((0, 10), [(0, 0), (1, 10)], leo=15, hw=5) == Truncation(10, True)


def test_an_epoch_the_leader_never_saw_is_cut_first_then_asked_again() -> None:
    # follower: epochs 0, 2 (a leader that lost its data), 3; the leader knows 0 and 1: it answers (1, 30)
    # for our epoch 3, which the follower never had: cut at the end of the follower's epoch <= 1 (0 -> 20)
    assert point((1, 30), [(0, 0), (2, 20), (3, 25)], leo=40) == Truncation(20, False)
    # asked again with epoch 0, the leader answers (0, 18): the logs agree up to 18
    assert point((0, 18), [(0, 0)], leo=20) == Truncation(18, True)


def test_the_follower_knows_no_epoch_that_old() -> None:
    # its epoch cache answers for an older epoch with the start of its first one (Kafka's endOffsetFor)
    assert point((0, 7), [(3, 5)], leo=9) == Truncation(5, True)
    # no epochs at all: the leader's end offset decides
    assert point((0, 7), [], leo=9) == Truncation(7, True)


def test_fallbacks_when_the_leader_has_no_answer() -> None:
    assert point((-1, -1), [(0, 0)], leo=9, hw=4) == Truncation(4, True)
    assert point((-1, 6), [(0, 0)], leo=9) == Truncation(6, True)
