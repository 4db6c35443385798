"""Kafka's connection limits (`connection_quotas.py`), on a fake clock: broker and listener limits,
the inter-broker listener's exemption, per-address limits and overrides, creation rates, and the
``ip`` entity's ``connection_creation_rate`` quota."""

from __future__ import annotations

import pytest

from odradek.broker.connection_quotas import (
    ConnectionLimits,
    ConnectionQuotas,
    IpCreationRates,
    Verdict,
    listener_overrides,
    parse_overrides,
)


def test_the_creation_rate_is_a_bucket_of_one_second() -> None:
    quotas = ConnectionQuotas(ConnectionLimits(creation_rate=10), now_ms=0)
    for _ in range(11):
        assert quotas.accept_delay("CLIENT", 0) == 0
        assert quotas.admit("CLIENT", "h", 0).verdict is Verdict.ACCEPT
    assert quotas.accept_delay("CLIENT", 0) == 100
    assert quotas.accept_delay("CLIENT", 50) == 50
    assert quotas.accept_delay("CLIENT", 100) == 0
    assert quotas.accept_delay("CLIENT", 100_000) == 0
    for _ in range(12):
        quotas.admit("CLIENT", "h", 100_000)
    assert quotas.accept_delay("CLIENT", 100_000) > 0  # never more than one second's worth at once


def test_listener_rates_and_the_inter_broker_exemption() -> None:
    limits = ConnectionLimits(
        creation_rate=2, creation_rate_per_listener={"INTERNAL": 5}, inter_broker_listener="INTERNAL"
    )
    quotas = ConnectionQuotas(limits, now_ms=0)
    for _ in range(3):
        quotas.admit("CLIENT", "c", 0)
    assert quotas.accept_delay("CLIENT", 0) > 0
    for _ in range(5):  # the broker-wide rate does not hold up the inter-broker listener
        assert quotas.accept_delay("INTERNAL", 0) == 0
        quotas.admit("INTERNAL", "b", 0)
    quotas.admit("INTERNAL", "b", 0)
    assert quotas.accept_delay("INTERNAL", 0) == 200  # its own listener rate does


def test_per_address_limits_and_overrides() -> None:
    limits = ConnectionLimits(
        max_connections_per_ip=2, per_ip_overrides=parse_overrides("10.0.0.9:1, [::1]:3")
    )
    quotas = ConnectionQuotas(limits, now_ms=0)

    def admit(host: str) -> bool:
        return quotas.admit("CLIENT", host, 0).verdict is Verdict.ACCEPT

    assert admit("10.0.0.1") and admit("10.0.0.1") and not admit("10.0.0.1")
    assert admit("10.0.0.9") and not admit("10.0.0.9")
    assert all(admit("::1") for _ in range(3)) and not admit("::1")
    assert quotas.count == 6
    assert "Too many connections from 10.0.0.1 (maximum = 2)" in quotas.admit("CLIENT", "10.0.0.1", 0).reason
    quotas.release("CLIENT", "10.0.0.1")
    assert admit("10.0.0.1") and quotas.count == 6


def test_broker_and_listener_capacity() -> None:
    limits = ConnectionLimits(
        max_connections=2, per_listener={"ADMIN": 1, "INTERNAL": 2}, inter_broker_listener="INTERNAL"
    )
    quotas = ConnectionQuotas(limits, now_ms=0)
    quotas.admit("ADMIN", "a", 0)
    assert quotas.at_capacity("ADMIN") and not quotas.at_capacity("CLIENT")
    quotas.admit("CLIENT", "b", 0)
    assert quotas.at_capacity("CLIENT")  # the broker is full
    assert not quotas.at_capacity("INTERNAL")  # ... but not for the brokers
    quotas.admit("INTERNAL", "c", 0)
    quotas.admit("INTERNAL", "c", 0)
    assert quotas.at_capacity("INTERNAL")  # its own listener limit applies
    quotas.release("ADMIN", "a")
    assert quotas.at_capacity("ADMIN") and quotas.at_capacity("CLIENT")  # 3 open (brokers' count), max 2
    quotas.release("INTERNAL", "c")
    quotas.release("INTERNAL", "c")
    assert not quotas.at_capacity("ADMIN") and not quotas.at_capacity("CLIENT")


def test_an_address_over_its_creation_rate_gets_a_delayed_close() -> None:
    rates: dict[frozenset[tuple[str, str | None]], dict[str, float]] = {
        frozenset({("ip", None)}): {"connection_creation_rate": 100.0}
    }
    rates[frozenset({("ip", "10.0.0.5")})] = {"connection_creation_rate": 1.0}
    rates[frozenset({("user", None)})] = {"producer_byte_rate": 1.0}
    quotas = ConnectionQuotas(ConnectionLimits(), now_ms=0, ip_rate=IpCreationRates(lambda: rates))
    results = [quotas.admit("CLIENT", "10.0.0.5", 0) for _ in range(3)]
    assert [r.verdict for r in results] == [Verdict.ACCEPT, Verdict.DELAYED_CLOSE, Verdict.DELAYED_CLOSE]
    assert results[1].delay_ms == 1000 and results[2].delay_ms == 2000
    assert "connection_creation_rate of 10.0.0.5 (1/s) exceeded" in results[1].reason
    assert quotas.by_ip["10.0.0.5"] == 3  # held until closed: release() each
    assert all(quotas.admit("CLIENT", "10.0.0.6", 0).verdict is Verdict.ACCEPT for _ in range(50))
    assert quotas.admit("CLIENT", "10.0.0.5", 3000).verdict is Verdict.ACCEPT  # the bucket refilled


def test_a_changed_quota_applies_to_the_next_connection() -> None:
    rates: dict[frozenset[tuple[str, str | None]], dict[str, float]] = {}
    current = [rates]
    quotas = ConnectionQuotas(ConnectionLimits(), now_ms=0, ip_rate=IpCreationRates(lambda: current[0]))
    assert all(quotas.admit("CLIENT", "h", 0).verdict is Verdict.ACCEPT for _ in range(5))
    current[0] = {frozenset({("ip", "h")}): {"connection_creation_rate": 1.0}}
    assert quotas.admit("CLIENT", "h", 0).verdict is Verdict.ACCEPT
    assert quotas.admit("CLIENT", "h", 0).verdict is Verdict.DELAYED_CLOSE


def test_listener_prefixed_settings() -> None:
    props = {
        "listener.name.client.max.connections": "10",
        "listener.name.internal.max.connections": "20",
        "max.connections": "5",
        "listener.name.client.max.connection.creation.rate": "3",
    }
    assert listener_overrides(props, "max.connections", int) == {"CLIENT": 10, "INTERNAL": 20}
    assert listener_overrides(props, "max.connection.creation.rate", float) == {"CLIENT": 3.0}
    with pytest.raises(ValueError, match=r"listener\.name\.client\.max\.connections"):
        listener_overrides({"listener.name.client.max.connections": "x"}, "max.connections", int)


@pytest.mark.parametrize("bad", ["host", "host:", ":3", "h:x"])
def test_bad_overrides_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_overrides(bad)
