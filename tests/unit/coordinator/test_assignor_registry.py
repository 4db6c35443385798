"""The assignors by the names clients put in JoinGroup and in group.remote.assignor."""

from __future__ import annotations

from odradek.coordinator.group.assignors import (
    CLASSIC_ASSIGNORS,
    DEFAULT_SERVER_ASSIGNOR,
    SERVER_ASSIGNORS,
    RebalanceProtocol,
    cooperative_sticky,
    round_robin,
    server_range,
    sticky,
    uniform,
)
from odradek.coordinator.group.assignors import range as classic_range


def test_classic_names_and_protocols() -> None:
    assert sorted(CLASSIC_ASSIGNORS) == ["cooperative-sticky", "range", "roundrobin", "sticky"]
    assert CLASSIC_ASSIGNORS["range"].assign is classic_range.assign
    assert CLASSIC_ASSIGNORS["roundrobin"].assign is round_robin.assign
    assert CLASSIC_ASSIGNORS["sticky"].assign is sticky.assign
    assert CLASSIC_ASSIGNORS["cooperative-sticky"].assign is cooperative_sticky.assign
    eager = (RebalanceProtocol.EAGER,)
    assert [CLASSIC_ASSIGNORS[n].rebalance_protocols for n in ("range", "roundrobin", "sticky")] == [
        eager
    ] * 3
    assert CLASSIC_ASSIGNORS["cooperative-sticky"].rebalance_protocols == (
        RebalanceProtocol.COOPERATIVE,
        RebalanceProtocol.EAGER,
    )
    assert all(name == a.name for name, a in CLASSIC_ASSIGNORS.items())


def test_server_names() -> None:
    assert sorted(SERVER_ASSIGNORS) == ["range", "uniform"]
    assert SERVER_ASSIGNORS["uniform"].assign is uniform.assign
    assert SERVER_ASSIGNORS["range"].assign is server_range.assign
    assert DEFAULT_SERVER_ASSIGNOR == "uniform"
    assert all(name == a.name for name, a in SERVER_ASSIGNORS.items())
