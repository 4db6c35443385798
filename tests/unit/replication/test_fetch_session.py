"""The follower's side of KIP-227 fetch sessions (`replication/fetch_session.py`)."""

from __future__ import annotations

from odradek.broker.fetch_sessions import FetchSessionCache, SessionPartition
from odradek.model.errors import ErrorCode
from odradek.replication.fetch_session import (
    INT32_MAX,
    FetchPosition,
    FollowerFetchSession,
    PartitionKey,
)


def at(offset: int, epoch: int = 3) -> FetchPosition:
    return FetchPosition(offset, epoch, epoch, 0, 1 << 20)


def opened(positions: dict[PartitionKey, FetchPosition], session_id: int = 7) -> FollowerFetchSession:
    session = FollowerFetchSession()
    request = session.build(positions)
    assert request.full and request.session_id == 0
    assert session.on_response(ErrorCode.NO_ERROR, session_id)
    return session


def test_the_first_fetch_is_full_and_opens_a_session() -> None:
    session = FollowerFetchSession()
    wanted = {("t", 0): at(5), ("t", 1): at(9), ("__consumer_offsets", 3): at(0)}
    request = session.build(wanted)
    assert (request.session_id, request.session_epoch) == (0, 0)
    assert sorted(request.send) == sorted(wanted) and request.forgotten == []
    assert session.on_response(ErrorCode.NO_ERROR, 42)
    assert (session.session_id, session.epoch) == (42, 1)


def test_an_incremental_fetch_names_only_what_moved_and_what_is_no_longer_fetched() -> None:
    session = opened({("t", 0): at(5), ("t", 1): at(9), ("u", 0): at(2)})
    request = session.build({("t", 0): at(6), ("t", 1): at(9)})
    assert (request.session_id, request.session_epoch) == (7, 1)
    assert request.send == [("t", 0)] and request.forgotten == [("u", 0)]
    assert session.on_response(ErrorCode.NO_ERROR, 7)
    nothing = session.build({("t", 0): at(6), ("t", 1): at(9)})
    assert (nothing.session_epoch, nothing.send, nothing.forgotten) == (2, [], [])


def test_a_new_leader_epoch_or_a_partition_coming_back_is_sent_again() -> None:
    session = opened({("t", 0): at(5), ("t", 1): at(9)})
    session.build({("t", 0): at(5)})  # t-1 backs off: forgotten
    assert session.on_response(ErrorCode.NO_ERROR, 7)
    request = session.build({("t", 0): at(5, epoch=4), ("t", 1): at(9)})
    assert sorted(request.send) == [("t", 0), ("t", 1)] and request.forgotten == []


def test_a_lost_session_makes_the_next_fetch_full() -> None:
    wanted = {("t", 0): at(5)}
    session = opened(wanted)
    session.build(wanted)
    assert not session.on_response(ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 0)
    request = session.build(wanted)
    assert (request.session_id, request.session_epoch, request.send) == (0, 0, [("t", 0)])


def test_a_wrong_epoch_replaces_the_session_with_a_full_fetch() -> None:
    wanted = {("t", 0): at(5)}
    session = opened(wanted)
    session.build(wanted)
    assert not session.on_response(ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0)
    request = session.build(wanted)
    assert (request.session_id, request.session_epoch, request.send) == (7, 0, [("t", 0)])


def test_a_broken_connection_starts_over_with_a_full_fetch() -> None:
    wanted = {("t", 0): at(5), ("t", 1): at(1)}
    session = opened(wanted)
    session.build({("t", 0): at(6), ("t", 1): at(1)})
    session.reset()
    request = session.build({("t", 0): at(6), ("t", 1): at(1)})
    assert request.full and sorted(request.send) == [("t", 0), ("t", 1)]


def test_a_leader_without_sessions_gets_full_fetches() -> None:
    session = FollowerFetchSession()
    for _ in range(3):
        request = session.build({("t", 0): at(5)})
        assert request.full and request.session_id == 0
        assert session.on_response(ErrorCode.NO_ERROR, 0)


def test_the_epoch_wraps_to_one() -> None:
    session = opened({("t", 0): at(5)})
    session.epoch = INT32_MAX
    assert session.build({("t", 0): at(5)}).session_epoch == INT32_MAX
    assert session.on_response(ErrorCode.NO_ERROR, 7)
    assert session.epoch == 1


def test_follower_and_leader_sessions_agree_round_after_round() -> None:
    """The follower's bookkeeping against the leader's cache: what the leader holds after each
    incremental fetch is exactly what the follower fetches, and an eviction is recovered."""
    cache = FetchSessionCache(max_sessions=1)
    follower = FollowerFetchSession()
    rounds: list[dict[PartitionKey, FetchPosition]] = [
        {("t", 0): at(0), ("t", 1): at(0), ("c", 7): at(0)},
        {("t", 0): at(4), ("t", 1): at(0), ("c", 7): at(0)},
        {("t", 0): at(4), ("c", 7): at(0)},
        {("t", 0): at(9, epoch=4), ("t", 1): at(2), ("c", 7): at(0)},
        {("t", 0): at(9, epoch=4), ("t", 1): at(2), ("c", 7): at(1)},
    ]
    for n, wanted in enumerate(rounds):
        if n == 3:
            cache.begin(0, 0, {}, [])  # another client takes the only slot: ours is evicted
        request = follower.build(wanted)
        sent = {
            key: SessionPartition(
                wanted[key].fetch_offset,
                wanted[key].max_bytes,
                wanted[key].current_leader_epoch,
                wanted[key].last_fetched_epoch,
            )
            for key in request.send
        }
        ctx = cache.begin(request.session_id, request.session_epoch, sent, request.forgotten)
        if ctx.error:
            assert n == 3 and ctx.error == ErrorCode.FETCH_SESSION_ID_NOT_FOUND
            assert not follower.on_response(ctx.error, 0)
            request = follower.build(wanted)
            assert request.full
            sent = {
                key: SessionPartition(w.fetch_offset, w.max_bytes, w.current_leader_epoch)
                for key, w in wanted.items()
            }
            ctx = cache.begin(request.session_id, request.session_epoch, sent, request.forgotten)
        assert ctx.session is not None
        assert follower.on_response(ErrorCode.NO_ERROR, ctx.response_session_id)
        held = {key: p.fetch_offset for key, p in ctx.session.partitions.items()}
        assert held == {key: w.fetch_offset for key, w in wanted.items()}
        if n in (1, 2, 4):
            assert len(request.send) <= 1  # incremental: only what moved


def test_a_partition_the_leader_answered_with_an_error_is_named_again() -> None:
    """A leader that does not know a topic id yet (a topic just created) answers UNKNOWN_TOPIC_ID
    and leaves the partition out of its session: the follower must name it again when it fetches
    it next, even at the same position, or the leader would never read it."""
    cache = FetchSessionCache()
    follower = FollowerFetchSession()
    wanted = {("t", 0): at(0), ("new", 0): at(0)}
    request = follower.build(wanted)
    known = {("t", 0): SessionPartition(0, 1 << 20, 3)}  # "new" is unknown there: not in the session
    ctx = cache.begin(request.session_id, request.session_epoch, known, [])
    assert ctx.session is not None and follower.on_response(ErrorCode.NO_ERROR, ctx.response_session_id)
    follower.failed(("new", 0))
    again = follower.build(wanted)  # the partition's back-off is over: same position as before
    assert again.send == [("new", 0)] and again.forgotten == []
    assert follower.on_response(ErrorCode.NO_ERROR, ctx.response_session_id)
    follower.failed(("new", 0))
    backing_off = follower.build({("t", 0): at(0)})  # a round without it forgets it
    assert backing_off.send == [] and backing_off.forgotten == [("new", 0)]
