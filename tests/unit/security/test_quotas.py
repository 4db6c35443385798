"""Quota math: Kafka's windowed rate, KIP-219 throttle times, precedence, token bucket."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.security.quotas.client_quotas import (
    ClientQuotaManager,
    ControllerMutationQuotaManager,
    QuotaEntity,
    effective_quota,
    entity,
    entity_error,
    quota_tags,
    value_error,
)
from odradek.security.quotas.rate import TokenBucket


def test_bucket_throttle_is_the_debt_over_the_rate() -> None:
    bucket = TokenBucket(rate=1000, now_ms=0, burst=1000)
    bucket.take(1000, 0)
    assert bucket.throttle_time_ms(0) == 0
    bucket.take(1500, 0)
    assert bucket.throttle_time_ms(0) == 1500
    assert bucket.throttle_time_ms(1000) == 500
    assert bucket.throttle_time_ms(1500) == 0
    bucket.take(-10_000, 1500)  # giving back never exceeds the burst
    assert bucket.tokens == 1000


@settings(max_examples=30, deadline=None)
@given(
    quota=st.integers(10_000, 10_000_000),
    requests_per_quota=st.integers(5, 60),
    offered=st.integers(2, 8),
)
def test_a_client_that_obeys_its_throttle_stays_within_quota(
    quota: int, requests_per_quota: int, offered: int
) -> None:
    """A producer offering `offered` x its quota that waits the throttle time it is given gets its
    quota within 5% over any 30 s, its first second's burst included (KIP-219's promise)."""
    manager = ClientQuotaManager({entity(user="u"): quota})
    size = quota // requests_per_quota
    interval = max(1, round(size / (quota * offered) * 1000))
    now = sent = 0
    while now < 30_000:
        throttle = manager.record("u", "c", size, now)
        sent += size
        now += max(interval, throttle)
    assert quota * 0.95 <= sent / 30 <= quota * 1.05


def test_precedence_table() -> None:
    quotas: dict[QuotaEntity, float] = {
        entity(user="alice", client_id="app"): 1,
        entity(user="alice", client_id=None): 2,
        entity(user="alice"): 3,
        entity(user=None, client_id="app"): 4,
        entity(user=None, client_id=None): 5,
        entity(user=None): 6,
        entity(client_id="app"): 7,
        entity(client_id=None): 8,
    }
    order = list(quotas)
    expectations = [("alice", "app", 1), ("alice", "other", 2), ("bob", "app", 4), ("bob", "other", 5)]
    for user, client, value in expectations:
        assert effective_quota(quotas, user, client) == value
    # remove levels one at a time: each lookup falls to the next level of Kafka's order
    for i, removed in enumerate(order[:-1]):
        del quotas[removed]
        assert effective_quota(quotas, "alice", "app") == quotas[order[i + 1]] or i + 1 in (1, 2)
    assert effective_quota({entity(client_id=None): 8}, "x", "y") == 8
    assert effective_quota({}, "x", "y") is None


def test_sharing_groups() -> None:
    assert quota_tags({entity(user="alice"): 1}, "alice", "c1") == ("alice", "")
    assert quota_tags({entity(user=None, client_id=None): 1}, "alice", "c1") == ("alice", "c1")
    assert quota_tags({entity(client_id="c1"): 1}, "alice", "c1") == ("", "c1")
    users_share = ClientQuotaManager({entity(client_id="shared"): 1000})
    users_share.record("alice", "shared", 20_000, 0)
    assert users_share.record("bob", "shared", 1, 1) > 0  # bob pays for alice's bytes: same client id
    separate = ClientQuotaManager({entity(user=None): 1000})
    separate.record("alice", "c", 20_000, 0)
    assert separate.record("bob", "c", 1, 1) == 0


def test_fetch_unrecord_and_max_value() -> None:
    manager = ClientQuotaManager({entity(user="u"): 1000})
    assert manager.record("u", "c", 50_000, 0) == 49_000
    manager.unrecord("u", "c", 50_000, 0)
    assert manager.record("u", "c", 100, 1) == 0
    assert manager.throttle_time_ms("u", "c", 1) == 0
    assert manager.max_value_in_window("u", "c") == 10_000
    assert manager.max_value_in_window("v", "c") is None


def test_idle_groups_expire() -> None:
    manager = ClientQuotaManager({entity(user=None): 1000})
    manager.record("u", "c", 1, 0)
    manager.record("v", "c", 1, 1_000_000)
    manager.expire(3_600_000)
    assert manager.tracked_groups() == 1


def test_entity_and_value_validation() -> None:
    assert entity_error(entity(user="a", client_id=None)) is None
    assert entity_error(frozenset({("ip", "10.0.0.1")})) is None
    assert entity_error(frozenset({("ip", None)})) is None
    assert entity_error(frozenset({("ip", "not-an-ip")}))
    assert entity_error(frozenset({("ip", "1.2.3.4"), ("user", "a")}))
    assert entity_error(frozenset({("group", "g")}))
    assert entity_error(frozenset())
    assert value_error(entity(user="a"), "producer_byte_rate", 1024) is None
    assert value_error(entity(user="a"), "producer_byte_rate", 10.5)
    assert value_error(entity(user="a"), "request_percentage", 10.5) is None
    assert value_error(entity(user="a"), "producer_byte_rate", 0)
    assert value_error(entity(user="a"), "connection_creation_rate", 5)
    assert value_error(frozenset({("ip", None)}), "connection_creation_rate", 5) is None
    assert value_error(entity(user="a"), "bogus", 5)


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=10, now_ms=0, burst=110)
    bucket.take(100, 0)
    assert not bucket.exhausted(0)
    bucket.take(30, 0)
    assert bucket.exhausted(0)
    assert bucket.throttle_time_ms(0) == 2000
    assert not bucket.exhausted(2000)


def test_controller_mutation_strict_and_permissive() -> None:
    manager = ControllerMutationQuotaManager({entity(user="u"): 5})  # burst 55
    assert manager.try_record("u", "c", 100, 0, strict=True)  # accepted, goes negative
    assert not manager.try_record("u", "c", 1, 0, strict=True)
    assert manager.throttle_time_ms("u", "c", 0) == 9000
    assert manager.try_record("u", "c", 1, 0, strict=False)
    assert manager.try_record("other", "c", 1000, 0, strict=True)  # no quota
