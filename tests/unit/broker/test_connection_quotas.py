from __future__ import annotations

import pytest

from odradek.broker.connection_quotas import ConnectionLimits, ConnectionQuotas, parse_overrides


def test_the_creation_rate_is_a_bucket_of_one_second() -> None:
    quotas = ConnectionQuotas(ConnectionLimits(creation_rate=10), now=0.0)
    for _ in range(10):
        assert quotas.accept_delay(0.0) == 0
        assert quotas.admit("h")
    assert quotas.accept_delay(0.0) == pytest.approx(0.1)
    assert quotas.accept_delay(0.05) == pytest.approx(0.05)
    assert quotas.accept_delay(0.1) == 0
    assert quotas.accept_delay(100.0) == 0
    for _ in range(10):
        quotas.admit("h")
    assert quotas.accept_delay(100.0) > 0  # never more than one second's worth at once


def test_per_address_limits_and_overrides() -> None:
    limits = ConnectionLimits(
        max_connections_per_ip=2, per_ip_overrides=parse_overrides("10.0.0.9:1, [::1]:3")
    )
    quotas = ConnectionQuotas(limits, now=0.0)
    assert quotas.admit("10.0.0.1") and quotas.admit("10.0.0.1") and not quotas.admit("10.0.0.1")
    assert quotas.admit("10.0.0.9") and not quotas.admit("10.0.0.9")
    assert all(quotas.admit("::1") for _ in range(3)) and not quotas.admit("::1")
    assert quotas.count == 6
    quotas.release("10.0.0.1")
    assert quotas.admit("10.0.0.1") and quotas.count == 6


def test_capacity_counts_admitted_connections() -> None:
    quotas = ConnectionQuotas(ConnectionLimits(max_connections=2), now=0.0)
    quotas.admit("a")
    assert not quotas.at_capacity
    quotas.admit("b")
    assert quotas.at_capacity
    quotas.release("a")
    assert not quotas.at_capacity


@pytest.mark.parametrize("bad", ["host", "host:", ":3", "h:x"])
def test_bad_overrides_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_overrides(bad)
