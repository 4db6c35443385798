"""The replication throttle (`replication/throttle.py`), on a fake clock."""

from __future__ import annotations

from odradek.replication.throttle import ALL, UNLIMITED, Quota, ReplicationThrottle, throttled_partitions


def test_throttled_replicas_are_read_for_the_broker_they_name() -> None:
    assert throttled_partitions("0:1,0:2,1:2, 3:1", 1) == {0, 3}
    assert throttled_partitions(("0:2", "1:2"), 2) == {0, 1}
    assert throttled_partitions("*", 7) == {ALL}
    assert throttled_partitions("", 1) == frozenset()
    assert throttled_partitions(None, 1) == frozenset()


def test_a_quota_lets_its_rate_through_with_one_second_of_burst() -> None:
    quota = Quota()
    assert not quota.exceeded(0)  # unlimited by default
    quota.set_rate(1000, now_ms=0)
    sent = 0
    for now in range(0, 10_000, 10):  # a follower asking every 10 ms for 300 bytes for 10 s
        if not quota.exceeded(now):
            quota.record(300, now)
            sent += 300
    assert 10_000 <= sent <= 11_000 + 300  # rate x 10 s + one second of burst + one read
    quota.set_rate(UNLIMITED, now_ms=10_000)
    assert not quota.exceeded(10_000)


def test_only_named_replicas_out_of_the_isr_are_throttled() -> None:
    throttle = ReplicationThrottle(node_id=1)
    assert not throttle.active
    throttle.configure(500, 700, {"t": "0:1,1:2"}, {"t": "1:1", "u": "*"}, now_ms=0)
    assert throttle.active
    assert (throttle.leader.rate, throttle.follower.rate) == (500, 700)
    assert throttle.leader_throttled("t", 0, follower_in_sync=False)
    assert not throttle.leader_throttled("t", 0, follower_in_sync=True)  # in sync: never slowed
    assert not throttle.leader_throttled("t", 1, follower_in_sync=False)  # names broker 2
    assert throttle.follower_throttled("t", 1, in_sync=False)
    assert throttle.follower_throttled("u", 9, in_sync=False)
    assert not throttle.follower_throttled("v", 0, in_sync=False)
    throttle.configure(UNLIMITED, UNLIMITED, {}, {}, now_ms=1)
    assert not throttle.active and not throttle.leader_throttled("t", 0, follower_in_sync=False)
